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


V1_FULL = """
# A plugin written against the v1 hooks: each answers None for what is not its own.
from qtau import ExecutorInfo, LocalExecutor, Outcome, Resource, hookimpl


class CoinExecutor(LocalExecutor):
    def run(self, jobs):
        return [Outcome(counts={"0" * (job.width or 1): job.shots}) for job in jobs]


@hookimpl
def qtau_executors():
    return [ExecutorInfo("v1_exec", "v1coin")]


@hookimpl
def qtau_resources(executor, config):
    if executor != "v1_exec":
        return None
    return [Resource("v1coin:zero", "v1coin", "v1_exec", "simulator", 4, circuit_formats=("openqasm2",))]


@hookimpl
def qtau_create_executor(resource, config):
    if resource.provider != "v1coin":
        return None
    return CoinExecutor(resource, config)


@hookimpl
def qtau_cost_estimate(resource, shots):
    from qtau import CostEstimate

    if resource.provider != "v1coin":
        return None
    return CostEstimate(resource.id, per_shot=0.001)
"""

BROKEN_BACKEND = """
from qtau import Backend, Resource, hookimpl


class Broken(Backend):
    provider = "broken"
    executor_names = ("broken_exec",)

    def resources(self, executor, config):
        return [Resource(f"broken:{n}", "broken", executor, "simulator", 2, circuit_formats=("openqasm2",))
                for n in "ab"]

    def status(self, resource, config):
        if resource.id == "broken:b":
            raise KeyError("status bug")

    def run(self, resource, jobs):
        raise ZeroDivisionError("run bug")


@hookimpl
def qtau_backends():
    return [Broken()]
"""

BROKEN_SUMMARY = """
from qtau import hookimpl


@hookimpl
def qtau_circuit_format(circuit):
    return "widget" if type(circuit).__name__ == "Widget" else None


@hookimpl
def qtau_circuit_summary(circuit, circuit_format):
    if circuit_format == "widget":
        raise ValueError("widget summary bug")
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
                       "qtau_t_misspelled": MISSPELLED, "qtau_t_v1_full": V1_FULL,
                       "qtau_t_broken_backend": BROKEN_BACKEND, "qtau_t_broken_summary": BROKEN_SUMMARY}.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.fixture(autouse=True)
def private_qtau_cache(monkeypatch, tmp_path_factory):
    """QDREAMER's learned run times and waits never come from or go to the user's cache."""
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path_factory.mktemp("qtau-cache")))

