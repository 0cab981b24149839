"""SDK modules are imported one thread at a time, before a Backend's executor and before a
conversion: two threads importing one SDK at once can see it half-initialized (the demo's first
burst failed with "cannot import name 'build_expression' from partially initialized module
'opt_einsum.backends.dispatch'" when Braket's and PennyLane's first conversions imported it
together).

The SDKs here are real modules written to a temporary folder; each records, in a shared log, when
its import started and ended, and sleeps in between so that unserialized imports would overlap.
"""

import importlib
import sys
import textwrap
import threading
import time

import pytest
from qtau import Backend, Outcome, Resource, hookimpl, sdk_imports
from qtau.circuits import Circuits
from qtau.plugins import PluginHost, default_host
from qtau.sdk_imports import import_one_at_a_time
from qtau.types import Converter

SLOW_SDK = """
import time
import qtau_t_sdk_log as log

log.EVENTS.append(("start", __name__, time.perf_counter()))
time.sleep(0.25)
log.EVENTS.append(("end", __name__, time.perf_counter()))
"""


@pytest.fixture
def sdks(tmp_path, monkeypatch):
    """Three fresh slow SDK modules (qtau_t_sdk_a/b/c) and their shared log, none imported yet."""
    (tmp_path / "qtau_t_sdk_log.py").write_text("EVENTS = []\n")
    names = ["qtau_t_sdk_a", "qtau_t_sdk_b", "qtau_t_sdk_c"]
    for name in names:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(SLOW_SDK))
    for name in [*names, "qtau_t_sdk_log"]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.setattr(sdk_imports, "_imported", set())
    return importlib.import_module("qtau_t_sdk_log").EVENTS


def overlapping(events: list) -> list[tuple[str, str]]:
    """Pairs of modules whose imports ran at the same time."""
    spans = {}
    for kind, name, at in events:
        spans.setdefault(name, {})[kind] = at
    names = sorted(spans)
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if spans[a]["start"] < spans[b]["end"] and spans[b]["start"] < spans[a]["end"]]


def run_together(*calls) -> None:
    start = threading.Barrier(len(calls))
    errors = []

    def go(call):
        start.wait()
        try:
            call()
        except Exception as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=go, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


def test_imports_from_several_threads_run_one_after_another(sdks):
    run_together(lambda: import_one_at_a_time(["qtau_t_sdk_a"]), lambda: import_one_at_a_time(["qtau_t_sdk_b"]),
                 lambda: import_one_at_a_time(["qtau_t_sdk_c", "qtau_t_sdk_a"]))
    assert sorted(name for kind, name, _ in sdks if kind == "end") == ["qtau_t_sdk_a", "qtau_t_sdk_b", "qtau_t_sdk_c"]
    assert overlapping(sdks) == []


def test_the_same_imports_without_it_overlap(sdks):
    """The control: plain imports on three threads do run at once (so the test above can fail)."""
    run_together(*(lambda n=n: importlib.import_module(n) for n in ("qtau_t_sdk_a", "qtau_t_sdk_b", "qtau_t_sdk_c")))
    assert overlapping(sdks) != []


def test_a_module_that_is_not_installed_is_left_to_the_code_that_needs_it(sdks):
    import_one_at_a_time(["qtau_t_no_such_sdk", "qtau_t_sdk_a"])
    assert "qtau_t_sdk_a" in sys.modules
    started = time.perf_counter()
    import_one_at_a_time(["qtau_t_no_such_sdk", "qtau_t_sdk_a"])
    assert time.perf_counter() - started < 0.2, "each module is tried once per process, not on every call"
    assert [kind for kind, _, _ in sdks] == ["start", "end"]


class SlowSdkBackend(Backend):
    provider = "slowsdk"
    executor_names = ("slowsdk_local",)
    sdk_modules = ("qtau_t_sdk_a",)

    def resources(self, executor, config):
        return [Resource("slowsdk:one", "slowsdk", executor, "simulator", 2, circuit_formats=("slowfmt",))]

    def run(self, resource, jobs):
        return [Outcome(counts={"00": job.shots}) for job in jobs]

    def sdk_modules_for(self, resource):
        return (*self.sdk_modules, "qtau_t_sdk_c")  # what only this resource needs

    def executor(self, resource, config):
        self.seen = {"qtau_t_sdk_a", "qtau_t_sdk_c"} <= set(sys.modules)
        return super().executor(resource, config)


class SlowSdkPlugin:
    def __init__(self, backend):
        self.backend = backend

    @hookimpl
    def qtau_backends(self):
        return [self.backend]

    @hookimpl
    def qtau_circuit_converters(self):
        def to_slowfmt(text):
            assert "qtau_t_sdk_b" in sys.modules, "the converter's SDK was imported before it ran"
            return ("slowfmt", text)

        return [Converter("openqasm2", "slowfmt", to_slowfmt, "slowsdk", sdk_modules=("qtau_t_sdk_b",))]


def test_a_backend_and_a_converter_get_their_sdk_before_their_first_call(sdks):
    backend = SlowSdkBackend()
    host = PluginHost(strict=True)
    host.pm.register(SlowSdkPlugin(backend), name="slowsdk")
    converted, fmt, path = Circuits(host).convert("OPENQASM 2.0;\nqreg q[1];\n", "openqasm2", ["slowfmt"])
    assert fmt == "slowfmt" and path == ("openqasm2", "slowfmt")
    assert "qtau_t_sdk_a" not in sys.modules, "a conversion imports its converter's modules only"
    [resource] = host.resources("slowsdk_local", {})
    host.create_executor(resource, {})
    assert backend.seen


def test_the_installed_plugins_name_modules_that_exist():
    """A misspelt name would make the serialization a silent no-op: every name the installed
    plugins give, for their Backends and their Converters, is an importable module here."""
    host = default_host()
    named = {m for backend in host.backends().values() for m in backend.sdk_modules}
    for executor in ("qiskit_local", "braket_local", "pennylane_default", "pennylane_lightning", "pennylane_qiskit",
                     "ibmq_fake_manila"):
        for res in host.resources(executor, {}):
            named |= set(host.backend(res.provider).sdk_modules_for(res))
    for convs in host.call("qtau_circuit_converters") or ():
        named |= {m for conv in convs for m in conv.sdk_modules}
    assert named, "no installed plugin names its SDK modules"
    missing = [name for name in sorted(named) if importlib.util.find_spec(name) is None]
    assert missing == []


def test_one_module_given_as_a_string_is_that_module_not_its_letters(sdks):
    assert Converter("a", "b", str, sdk_modules="qtau_t_sdk_a").sdk_modules == ("qtau_t_sdk_a",)
    import_one_at_a_time("qtau_t_sdk_b")
    assert "qtau_t_sdk_b" in sys.modules and "q" not in sdk_imports._imported


class LevelsPlugin(SlowSdkPlugin):
    """Also weighs optimisation levels: a hook about a resource that is not a Backend method, called
    on the thread that ranks (which may import beside the workers)."""

    seen_in_hook = None

    @hookimpl
    def qtau_optimisation_levels(self, resource, config, circuit, circuit_format):
        LevelsPlugin.seen_in_hook = "qtau_t_sdk_a" in sys.modules
        return None


def test_the_levels_hook_gets_its_backends_sdk_first(sdks):
    from types import SimpleNamespace

    from qtau.dreamer import levels
    from qtau.types import QuantumTask

    host = PluginHost(strict=True)
    host.pm.register(LevelsPlugin(SlowSdkBackend()), name="slowsdk")
    [resource] = host.resources("slowsdk_local", {})
    task = QuantumTask(circuit="OPENQASM 2.0;\nqreg q[1];\n", num_qubits=1)
    ask = levels.asker(host, Circuits(host), task)
    assert ask(SimpleNamespace(resource=resource, config={})) is None
    assert LevelsPlugin.seen_in_hook is True
