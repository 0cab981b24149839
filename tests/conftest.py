"""Cross-package tests: every plugin installed. Hosts are built explicitly, never autoloaded."""

import contextlib
import os
import tempfile
import threading

import pytest
from qtau.plugins import PluginHost

# Test-only plugins (tests/plugins/qtau-scripted) stay hidden from users' installs unless this is
# set (qtau.test_plugins); the suite and the `qtau` subprocesses its tests start use them.
os.environ.setdefault("QTAU_TEST_PLUGINS", "1")
# QDREAMER's learned run times (dreamer/runtime_model.py) never come from or go to the user's cache.
os.environ["QTAU_CACHE_DIR"] = tempfile.mkdtemp(prefix="qtau-runtime-models-")


@pytest.fixture(autouse=True)
def private_runtime_models(monkeypatch, tmp_path_factory):
    """Each test's new services start from an empty store of learned run times."""
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path_factory.mktemp("runtime-models")))


@pytest.fixture(scope="session", autouse=True)
def private_ray_tmpdir():
    # Each test run gets its own Ray temp dir, so it never joins or disturbs another program's Ray.
    path = tempfile.mkdtemp(prefix="qtau-ray-")
    os.environ.setdefault("RAY_TMPDIR", path)
    os.environ.pop("RAY_ADDRESS", None)
    yield path


@pytest.fixture(scope="session")
def qiskit_host() -> PluginHost:
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    return host


@pytest.fixture
def clean_script():
    """The scripted test plugin's process-wide script (queues, faults, calls made) empty before and
    after a test; modules that use the plugin ask for it with `pytest.mark.usefixtures`."""
    from qtau_scripted import state

    state.reset()
    yield
    state.reset()


@pytest.fixture(scope="module")
def plugins() -> PluginHost:
    """A strict host holding only the scripted test plugin, one per test module (a module that
    needs other plugins defines its own `plugins`)."""
    from qtau_scripted.testing import host

    return host()


class PayloadSpy:
    """Task ids whose journal payload (what recovery runs again) the test's own thread made while
    inside `submitting()`: a durable submission makes it before it returns, a queued one leaves it
    to the journal's writer thread."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.watching = False
        self.thread = threading.get_ident()

    @contextlib.contextmanager
    def submitting(self):
        self.watching = True
        try:
            yield
        finally:
            self.watching = False


@pytest.fixture
def payload_spy(monkeypatch) -> PayloadSpy:
    """`qtau.journal.service_journal.task_blob` wrapped to record who called it (a spy: the real
    function still makes every payload)."""
    import qtau.journal.service_journal as service_journal

    spy, real = PayloadSpy(), service_journal.task_blob

    def recorded(task, forms=None):
        if spy.watching and threading.get_ident() == spy.thread:
            spy.made.append(task.task_id)
        return real(task, forms)

    monkeypatch.setattr(service_journal, "task_blob", recorded)
    return spy
