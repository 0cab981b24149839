"""Each try of a task carries its number (`CircuitJob.attempt`), which remote backends turn into
an idempotency token: a failover, and the single-task retry after a failed batch call, must never
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
from qtau import ExecutorInfo, LocalExecutor, Outcome, Resource, hookimpl
from qtau.errors import ExecutionError

SEEN = []


class Numbered(LocalExecutor):
    def run(self, jobs):
        SEEN.append((self.resource.id, [(job.task_id, job.attempt) for job in jobs]))
        if self.resource.id == "num:a":
            raise ExecutionError("num:a fails every call")
        return [Outcome(counts={"0": job.shots}, metadata={"attempt": job.attempt}) for job in jobs]


@hookimpl
def qtau_executors():
    return [ExecutorInfo("numbered", "num")]


@hookimpl
def qtau_resources(executor, config):
    if executor != "numbered":
        return None
    return [Resource(f"num:{n}", "num", "numbered", "simulator", 2, ("h", "cx", "measure"), ("openqasm2",))
            for n in ("a", "b")]


@hookimpl
def qtau_create_executor(resource, config):
    return Numbered(resource, config) if resource.provider == "num" else None
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


def test_the_retry_after_a_failed_batch_call_does_not_reuse_its_number(numbered):
    from qtau import QuantumTask

    pcs, seen = numbered
    tasks = [QuantumTask(circuit=QASM, num_qubits=1, shots=5) for _ in range(4)]
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks))
    assert all(r.resource_id == "num:b" for r in results)
    tries: dict[str, list[tuple[str, int]]] = {}
    for rid, jobs in seen:
        for task_id, number in jobs:
            tries.setdefault(task_id, []).append((rid, number))
    # A task QDREAMER put on num:a first: the batch call there was attempt 1, and the batch failed
    # over as a batch to num:b as attempt 2 (never retried on the failing num:a). A task put on
    # num:b first ran there as attempt 1.
    shapes = {task.task_id: tries[task.task_id] for task in tasks}
    assert set(map(tuple, shapes.values())) <= {(("num:a", 1), ("num:b", 2)), (("num:b", 1),)}
    assert any(len(shape) == 2 for shape in shapes.values())
    by_id = {r.task_id: r.metadata["attempt"] for r in results}
    assert all(by_id[tid] == shape[-1][1] for tid, shape in shapes.items())
