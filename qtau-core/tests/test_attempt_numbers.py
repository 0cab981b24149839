"""Each try of a task carries its number (`CircuitJob.attempt`), which remote backends turn into
an idempotency token: a failover, and the next try of each member of a failed batch call, must never
reuse the number of an earlier try.

The plugin is a real module written to a temporary folder and loaded by the plugin host: resource
`num:a` fails every call, `num:b` succeeds; both record the attempt numbers they were given.
"""

from __future__ import annotations

import textwrap

import pytest
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService

PLUGIN = """
from qtau import Backend, Outcome, Resource, hookimpl
from qtau.errors import ExecutionError

SEEN = []


class Numbered(Backend):
    provider = "num"
    executor_names = ("numbered",)

    def resources(self, executor, config):
        return [Resource(f"num:{n}", "num", "numbered", "simulator", 2, ("h", "cx", "measure"), ("openqasm2",))
                for n in ("a", "b")]

    def run(self, resource, jobs):
        SEEN.append((resource.id, [(job.task_id, job.attempt) for job in jobs]))
        if resource.id == "num:a":
            raise ExecutionError("num:a fails every call")
        return [Outcome(counts={"0": job.shots}, metadata={"attempt": job.attempt}) for job in jobs]


@hookimpl
def qtau_backends():
    return [Numbered()]
"""

QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nmeasure q -> c;\n'


@pytest.fixture
def numbered(tmp_path, monkeypatch):
    (tmp_path / "qtau_t_numbered.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module("qtau_t_numbered")
    module.SEEN.clear()
    host = PluginHost(strict=True)
    host.register_module("num", "qtau_t_numbered")
    pcs = PilotComputeService(plugins=host)
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "numbered"}})
    pcs.initialize_dreamer({"optimization_mode": "balanced", "failure_cooldown_seconds": 0})
    yield pcs, module.SEEN
    pcs.close()


def test_failover_gives_the_next_try_the_next_number(numbered):
    from qtau import QuantumTask

    pcs, seen = numbered
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=QASM, num_qubits=1, shots=5)))
    assert result.resource_id == "num:b" and result.metadata["attempt"] == 2
    assert [(rid, [n for _, n in tries]) for rid, tries in seen] == [("num:a", [1]), ("num:b", [2])]


def test_members_of_a_failed_batch_call_get_new_numbers_on_their_next_try(numbered):
    from qtau import QuantumTask

    pcs, seen = numbered
    tasks = [QuantumTask(circuit=QASM, num_qubits=1, shots=5) for _ in range(4)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    assert all(r.resource_id == "num:b" for r in results)
    tries: dict[str, list[tuple[str, int]]] = {}
    for rid, jobs in seen:
        for task_id, number in jobs:
            tries.setdefault(task_id, []).append((rid, number))
    # Every try of a task has the next number: 1, 2, ... never one twice, whether it was a
    # member of a failed batch call or a try of its own; the last one succeeded on num:b.
    for shape in tries.values():
        assert [n for _, n in shape] == list(range(1, len(shape) + 1)) and shape[-1][0] == "num:b"
    assert any(len(shape) > 1 for shape in tries.values())
    shapes = {task.task_id: tries[task.task_id] for task in tasks}
    by_id = {r.task_id: r.metadata["attempt"] for r in results}
    assert all(by_id[tid] == shape[-1][1] for tid, shape in shapes.items())
