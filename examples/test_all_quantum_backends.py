"""Run a fixed set of circuits on every installed executor, from every circuit format, and compare.

For each executor whose plugin is installed, a service with a pilot for that executor runs Bell,
GHZ-5, X on qubit 1 of three, and a small random circuit, each written once in OpenQASM 2 and
converted by QTAU into every input format the installed plugins know (Qiskit, OpenQASM 2/3, Braket,
PennyLane tape). The table shows the backend, the input format, the status, the time and the total
variation distance (TVD) of the counts from the exact distribution. Executors that need credentials
or services that are not here are listed as skipped, with the reason.

    python examples/test_all_quantum_backends.py [--shots 2000] [--executor NAME ...] [--plot tvd.png]

`--plot` writes a heat map of the worst TVD over the circuits, per backend x input format
(needs qtau-core[plot]).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time

from qtau import ExecutionEngine, PilotComputeService, QtauError, QuantumTask
from qtau.circuits import Circuits
from qtau.plugins import default_host

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""

GHZ5 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[5];
creg c[5];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
cx q[2],q[3];
cx q[3],q[4];
measure q -> c;
"""

# Not symmetric under reversing the qubits: a reversed bit order reads 100 instead of 010.
X1 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
x q[1];
measure q -> c;
"""


def random_circuit(width: int = 3, layers: int = 4, seed: int = 7) -> str:
    """A reproducible random circuit of rotations and CNOTs, as OpenQASM 2."""
    rng = random.Random(seed)
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{width}];", f"creg c[{width}];"]
    for _ in range(layers):
        for q in range(width):
            gate = rng.choice(["rx", "ry", "rz"])
            lines.append(f"{gate}({rng.uniform(0, math.pi):.6f}) q[{q}];")
        a, b = rng.sample(range(width), 2)
        lines.append(f"cx q[{a}],q[{b}];")
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


CIRCUITS = {"bell": BELL, "ghz5": GHZ5, "x_on_q1": X1, "random3": random_circuit()}

#: Executors worth trying locally, beside every exactly-named executor the plugins declare.
LOCAL_PREFIXED = ("braket_local", "braket_local_dm", "ibmq_fake_manila", "ibmq_qasm_simulator")
CLOUD_EXAMPLES = ("braket_sv1", "ibmq_brisbane")
FORMATS = ("openqasm2", "openqasm3", "qiskit", "braket", "pennylane_tape")


def exact_distribution(qasm: str) -> dict[str, float]:
    """Exact outcome probabilities (bit 0 rightmost) from Qiskit's statevector."""
    from qiskit import qasm2
    from qiskit.quantum_info import Statevector

    qc = qasm2.loads(qasm).remove_final_measurements(inplace=False)
    probs = Statevector(qc).probabilities_dict()
    return {k: v for k, v in probs.items() if v > 1e-12}


def tvd(counts: dict[str, int], exact: dict[str, float]) -> float:
    total = sum(counts.values()) or 1
    keys = set(counts) | set(exact)
    return 0.5 * sum(abs(counts.get(k, 0) / total - exact.get(k, 0.0)) for k in keys)


def executors_to_try(host) -> list[str]:
    names = [i.name for i in host.executors() if not i.prefix]
    prefixes = [i.name for i in host.executors() if i.prefix]
    for name in LOCAL_PREFIXED + CLOUD_EXAMPLES:
        if any(name.startswith(p) for p in prefixes) and name not in names:
            names.append(name)
    return names


def inputs_for(circuits: Circuits, qasm: str) -> dict[str, object]:
    """The same circuit in every format the installed plugins can convert OpenQASM 2 into."""
    found = {}
    for fmt in FORMATS:
        try:
            found[fmt] = circuits.convert(qasm, "openqasm2", [fmt])[0]
        except QtauError:
            continue
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--executor", action="append", help="only these executors (repeatable)")
    parser.add_argument("--plot", metavar="PNG", help="write a heat map of TVD per backend x input format")
    args = parser.parse_args()
    host = default_host()
    circuits = Circuits(host)
    exact = {name: exact_distribution(q) for name, q in CIRCUITS.items()}
    variants = {name: inputs_for(circuits, q) for name, q in CIRCUITS.items()}
    rows = [("executor", "resource", "circuit", "input format", "status", "time_ms", "tvd")]
    failures = 0
    worst: dict[tuple[str, str], float] = {}
    for executor in args.executor or executors_to_try(host):
        pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host)
        try:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
        except QtauError as err:
            rows.append((executor, "-", "-", "-", f"skipped: {str(err).splitlines()[0][:90]}", "-", "-"))
            pcs.close()
            continue
        for name, formats in variants.items():
            for fmt, circuit in formats.items():
                start = time.perf_counter()
                try:
                    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=args.shots)), timeout=600)
                except QtauError as err:
                    failures += 1
                    rows.append((executor, "-", name, fmt, f"error: {type(err).__name__}: {str(err).splitlines()[0][:70]}", "-", "-"))
                    continue
                elapsed = (time.perf_counter() - start) * 1000
                distance = tvd(result.counts, exact[name])
                worst[executor, fmt] = max(worst.get((executor, fmt), 0.0), distance)
                rows.append((executor, result.resource_id, name, fmt, "ok", f"{elapsed:.0f}",
                             f"{distance:.3f}"))
        pcs.close()
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if args.plot:
        from qtau.plotting import plot_matrix

        plot_matrix(worst, "backend (executor)", "input format",
                    f"worst TVD from the exact distribution over {len(CIRCUITS)} circuits, {args.shots} shots",
                    args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
