"""`qtau demo`: a Bell task through QDREAMER on the installed local simulators, then a burst.

Prints the QDREAMER mode and its weights, the ranking the task was placed by (and, when resources
tie, the tie-break that chose), the chosen resource, the counts, and where a burst of tasks went (by the simulators' learned
speeds: a first run tries each one): the README's first command.
"""

from __future__ import annotations

import time

import typer

from qtau.cli.commands.run import print_choice
from qtau.cli.exit_codes import EXIT_OK
from qtau.cli.inputs import check_executors
from qtau.cli.session import (
    ENGINE_OPTION,
    EXECUTOR_OPTION,
    MODE_OPTION,
    SHOTS_OPTION,
    Engine,
    check_count,
    check_mode,
    decided_ranking,
    start_service,
)
from qtau.cli.ties import tie_note
from qtau.plugins import default_host
from qtau.types import QuantumTask

BELL_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""

def format_weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{name}={value:.2f}" for name, value in weights.items())


BURST_OPTION = typer.Option(12, "--burst", help="Tasks submitted together after the first (0 for none).")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        engine: Engine = ENGINE_OPTION,
        mode: str = MODE_OPTION,
        shots: int = SHOTS_OPTION,
        burst: int = BURST_OPTION,
        executor: list[str] | None = EXECUTOR_OPTION,
    ) -> int:
        """Run a Bell task through QDREAMER on local simulators, then a burst it spreads over them."""
        check_count(shots, "--shots", 1, "1000, for example")
        check_count(burst, "--burst", 0, "12, or --burst 0 for no burst")
        started = time.perf_counter()
        host = default_host()
        executors = check_executors(host, executor)
        check_mode(mode)
        with start_service(host, executors, engine, mode, echo=True) as pcs:
            print(f"service ready on {engine.value} in {time.perf_counter() - started:.2f} s\n")
            print(f"QDREAMER mode: {mode} (weights: {format_weights(pcs.qdreamer.config.weights)})")
            task = QuantumTask(circuit=BELL_QASM, num_qubits=2, gate_set=["h", "cnot"], shots=shots)
            handle = pcs.submit_quantum_task(task)
            explanation = decided_ranking(pcs, task)
            print(explanation)
            tie = tie_note(explanation)
            if tie:
                print(tie)
            pcs.wait_tasks([handle], timeout=300)
            result = pcs.get_result(handle)
            print()
            print_choice(explanation, result)
            print(f"counts (qubit 0 rightmost): {dict(sorted(result.get_counts().items()))}")
            print(f"ran in {result.timings.ran_s * 1000:.1f} ms; conversion path: {' -> '.join(result.conversion_path)}")
            if burst:
                handles = pcs.submit_quantum_tasks(
                    [QuantumTask(circuit=BELL_QASM, num_qubits=2, shots=shots) for _ in range(burst)])
                spread: dict[str, int] = {}
                for done in pcs.get_results(handles, timeout=600):
                    spread[done.resource_id] = spread.get(done.resource_id, 0) + 1
                print(f"a burst of {burst} tasks spread over: "
                      + ", ".join(f"{rid} {n}" for rid, n in sorted(spread.items(), key=lambda kv: -kv[1])))
        return EXIT_OK
