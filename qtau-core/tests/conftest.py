"""Plugin modules written to a temporary folder: real modules loaded the way entry points load them."""

import textwrap

import pytest

GOOD = """
from qtau import ExecutorInfo, hookimpl

@hookimpl
def qtau_executors():
    return [ExecutorInfo("good_exec", "good")]
"""

BROKEN_IMPORT = """
raise ImportError("this plugin's SDK is missing")
"""

BROKEN_HOOK = """
from qtau import hookimpl

@hookimpl
def qtau_executors():
    raise RuntimeError("plugin bug")
"""


MISSPELLED = """
from qtau import hookimpl

@hookimpl
def qtau_resource(executor, config):
    return []
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    for name, body in {"qtau_t_good": GOOD, "qtau_t_broken_import": BROKEN_IMPORT, "qtau_t_broken_hook": BROKEN_HOOK,
                       "qtau_t_misspelled": MISSPELLED}.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path
