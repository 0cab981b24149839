"""Soak: 10,000 tasks in one service on each engine, with faults from the scripted plugin (a resource
that fails, one that hangs past the tasks' timeout, one offline), one by one and in batches.

Every task must end exactly once, in a Result with the right shots or in a specific QtauError:
none missing, none twice. Driver memory (peak RSS) is printed for the record.
"""

from __future__ import annotations

import resource as rusage
import time

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.errors import QtauError
from qtau_scripted.testing import host, pilot
from qtau_scripted.testing import resource as scripted
from qtau_test_circuits import x_on

pytestmark = pytest.mark.slow

TOTAL = 10_000


def faulty_pilot():
    return pilot(
        scripted("good", qubits=3, one_qubit_error=0.001),
        scripted("also_good", qubits=3, one_qubit_error=0.002),
        scripted("flaky", qubits=3, behaviour="fail"),
        scripted("slow", qubits=3, behaviour="hang", hang_s=1.0),
        scripted("off", qubits=3, online=False),
    )


def tasks(n: int, start: int):
    made = []
    for i in range(start, start + n):
        if i % 500 == 7:
            made.append(QuantumTask(circuit=x_on(i % 3), shots=8, resource="scripted:flaky", task_id=f"t{i}"))
        elif i % 500 == 11:
            made.append(QuantumTask(circuit=x_on(i % 3), shots=8, resource="scripted:slow", timeout=0.2,
                                    task_id=f"t{i}"))
        else:
            made.append(QuantumTask(circuit=x_on(i % 3), shots=8, timeout=30, task_id=f"t{i}"))
    return made


@pytest.mark.parametrize("engine", [ExecutionEngine.LOCAL, pytest.param(ExecutionEngine.RAY, marks=pytest.mark.ray)])
def test_ten_thousand_tasks_with_faults_each_end_exactly_once(engine):
    started = time.monotonic()
    pcs = PilotComputeService(execution_engine=engine, plugins=host(), ray_init_options={"num_cpus": 2})
    try:
        pcs.create_pilot(faulty_pilot())
        pcs.initialize_dreamer({"optimization_mode": "balanced", "max_attempts": 3})
        outcomes: dict[str, object] = {}
        submitted: list[str] = []
        for chunk in range(0, TOTAL, 1000):
            batch = tasks(1000, chunk)
            submitted += [t.task_id for t in batch]
            if chunk % 2000 == 0:
                refs = pcs.submit_quantum_tasks(batch)
            else:
                refs = [pcs.submit_quantum_task(t) for t in batch]
            for task, value in zip(batch, pcs.get_results(refs, timeout=900, return_exceptions=True), strict=True):
                assert task.task_id not in outcomes, f"{task.task_id} ended twice"
                outcomes[task.task_id] = value
        assert len(outcomes) == TOTAL and set(outcomes) == set(submitted), "a task is missing"
        results = {tid: v for tid, v in outcomes.items() if not isinstance(v, BaseException)}
        errors = {tid: v for tid, v in outcomes.items() if isinstance(v, BaseException)}
        assert all(isinstance(e, QtauError) for e in errors.values()), {type(e) for e in errors.values()}
        for tid, result in results.items():
            i = int(tid[1:])
            assert result.task_id == tid and result.counts == {["001", "010", "100"][i % 3]: 8}
            assert result.resource_id in ("scripted:good", "scripted:also_good")
        pinned_bad = {f"t{i}" for i in range(TOTAL) if i % 500 in (7, 11)}
        assert set(errors) == pinned_bad, "only tasks pinned to a failing resource may fail"
        assert all("flaky" in str(errors[t]) or "slow" in str(errors[t]) for t in errors)
        peak_mb = rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nsoak {engine.value}: {TOTAL} tasks in {time.monotonic() - started:.1f} s, "
              f"{len(results)} results, {len(errors)} specific errors, driver peak RSS {peak_mb:.0f} MB")
    finally:
        pcs.close()
