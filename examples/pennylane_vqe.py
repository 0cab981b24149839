"""VQE with PennyLane on `qtau.qubit`: QDREAMER (mode="high_speed") places every tape.

The QNode is ordinary PennyLane code; only the device name changes. Each optimisation step's
parameter-shift tapes go to QTAU as one batch, spread over the installed local simulators.

    python examples/pennylane_vqe.py [--steps 30] [--shots 2000]
"""

import argparse
from collections import Counter

import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=30)
parser.add_argument("--shots", type=int, default=2000)
args = parser.parse_args()

# A two-qubit Hamiltonian (the shape of H2 in a minimal basis after symmetry reduction).
H = qml.Hamiltonian([-0.4, 0.2, 0.2, 0.6], [qml.Z(0) @ qml.Z(1), qml.Z(0), qml.Z(1), qml.X(0) @ qml.X(1)])
exact = float(np.min(np.linalg.eigvalsh(qml.matrix(H, wire_order=[0, 1]))))

dev = qml.device("qtau.qubit", wires=2, mode="high_speed", seed=7)


@qml.set_shots(args.shots)
@qml.qnode(dev, diff_method="parameter-shift")
def energy(params):
    qml.RY(params[0], wires=0)
    qml.RY(params[1], wires=1)
    qml.CNOT(wires=[0, 1])
    qml.RY(params[2], wires=1)
    return qml.expval(H)


params = pnp.array([0.1, -0.2, 0.3], requires_grad=True)
opt = qml.AdamOptimizer(stepsize=0.2)
with qml.Tracker(dev) as tracker:
    for step in range(args.steps):
        params, value = opt.step_and_cost(energy, params)
        if step % 10 == 0:
            print(f"step {step:3d}: E = {float(value):+.4f}")
final = float(energy(params))
print(f"final: E = {final:+.4f} (exact ground energy {exact:+.4f})")
used = Counter(tracker.history["qtau_resource"])
print(f"{sum(used.values())} tapes ran on: " + ", ".join(f"{rid} x{n}" for rid, n in used.most_common()))
