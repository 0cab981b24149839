"""A Qiskit parameter sweep through `QtauSampler`, spread by QDREAMER over Aer, Braket's local
simulator and PennyLane's lightning.qubit.

The pub is ordinary Qiskit SamplerV2 input: one parametrised circuit, an array of parameter
values, two classical registers. Each binding is one QTAU task; the answer has the shape
StatevectorSampler gives, and each binding's metadata says where it ran.

    python examples/qiskit_sweep.py [--points 12] [--shots 2000]
"""

import argparse
import math
from collections import Counter

import numpy as np
from qiskit.circuit import ClassicalRegister, Parameter, QuantumCircuit, QuantumRegister
from qtau_qiskit.primitives import QtauSampler

parser = argparse.ArgumentParser()
parser.add_argument("--points", type=int, default=12)
parser.add_argument("--shots", type=int, default=2000)
args = parser.parse_args()

theta = Parameter("theta")
qreg, first, second = QuantumRegister(2), ClassicalRegister(1, "first"), ClassicalRegister(1, "second")
circuit = QuantumCircuit(qreg, first, second)
circuit.ry(theta, 0)
circuit.cx(0, 1)
circuit.measure(0, first[0])
circuit.measure(1, second[0])

thetas = np.linspace(0, math.pi, args.points)
sampler = QtauSampler(executors=["qiskit_local", "braket_local", "pennylane_lightning"], seed=11)
[result] = sampler.run([(circuit, thetas)], shots=args.shots).result()

print(f"first: {result.data.first.shape} bindings x {result.data.first.num_shots} shots; "
      f"second: {result.data.second.num_bits} bit")
for i, t in enumerate(thetas):
    p_first = result.data.first.get_counts(i).get("1", 0) / args.shots
    agree = float(np.mean(result.data.first.array[i] == result.data.second.array[i]))
    task = result.qtau["tasks"][i]
    print(f"theta={t:.3f} P(first=1)={p_first:.3f} exact={math.sin(t / 2) ** 2:.3f} "
          f"agree={agree:.3f} on {task['resource']}")
print("resources: " + ", ".join(f"{rid} x{n}" for rid, n in Counter(result.qtau["resources"]).items()))
