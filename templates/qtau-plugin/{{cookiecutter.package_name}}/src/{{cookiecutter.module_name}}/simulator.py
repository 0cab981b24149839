"""The executor: a pure-Python state-vector simulator standing in for {{ cookiecutter.sdk_name }}.

Replace `simulate()` with a call to your SDK (import it inside the function). Keep the contract:
`run(jobs)` returns one Outcome per job, in order; counts keys have classical bit 0 rightmost.
`run` is called from several threads at once on the LOCAL engine, so it keeps no shared mutable
state (each call makes its own random generator).
"""

from __future__ import annotations

import cmath
import math
import random
from collections.abc import Sequence

from qtau import LocalExecutor, Outcome
from qtau.errors import InvalidTaskError

from {{ cookiecutter.module_name }}.qasm import Program, parse

_S2 = 1 / math.sqrt(2)


def _matrix(name: str, params: tuple[float, ...]) -> tuple[complex, complex, complex, complex]:
    """The 2x2 unitary of a one-qubit gate, row-major."""
    if name in ("rx", "ry", "rz", "p"):
        theta = params[0]
        c, s = math.cos(theta / 2), math.sin(theta / 2)
        return {
            "rx": (c, -1j * s, -1j * s, c),
            "ry": (c, -s, s, c),
            "rz": (cmath.exp(-0.5j * theta), 0, 0, cmath.exp(0.5j * theta)),
            "p": (1, 0, 0, cmath.exp(1j * theta)),
        }[name]
    return {
        "id": (1, 0, 0, 1), "x": (0, 1, 1, 0), "y": (0, -1j, 1j, 0), "z": (1, 0, 0, -1),
        "h": (_S2, _S2, _S2, -_S2), "s": (1, 0, 0, 1j), "sdg": (1, 0, 0, -1j),
        "t": (1, 0, 0, cmath.exp(0.25j * math.pi)), "tdg": (1, 0, 0, cmath.exp(-0.25j * math.pi)),
        "sx": (0.5 + 0.5j, 0.5 - 0.5j, 0.5 - 0.5j, 0.5 + 0.5j),
    }[name]


def statevector(program: Program) -> list[complex]:
    """The final state; amplitude index bit q is qubit q."""
    state = [0j] * (1 << program.num_qubits)
    state[0] = 1
    for name, params, qubits in program.gates:
        if len(qubits) == 1:
            a, b, c, d = _matrix(name, params)
            bit = 1 << qubits[0]
            for i in range(len(state)):
                if not i & bit:
                    x, y = state[i], state[i | bit]
                    state[i], state[i | bit] = a * x + b * y, c * x + d * y
        else:
            q0, q1 = (1 << qubits[0]), (1 << qubits[1])
            for i in range(len(state)):
                if name == "cx" and i & q0 and not i & q1:
                    state[i], state[i | q1] = state[i | q1], state[i]
                elif name == "cz" and i & q0 and i & q1:
                    state[i] = -state[i]
                elif name == "swap" and i & q0 and not i & q1:
                    j = (i & ~q0) | q1
                    state[i], state[j] = state[j], state[i]
    return state


def simulate(program: Program, shots: int, rng: random.Random, width: int | None = None) -> dict[str, int]:
    """Sample `shots` outcomes; keys have one character per classical bit, bit 0 rightmost, and
    bits nothing was measured into read 0. A program without measurements measures every qubit
    into bit = qubit, with keys `width` (the task's qubit count) characters long."""
    measurements = program.measurements or tuple((q, q) for q in range(program.num_qubits))
    width = program.num_clbits if program.measurements else max(width or 0, program.num_qubits)
    probabilities = [abs(a) ** 2 for a in statevector(program)]
    counts: dict[str, int] = {}
    for index in rng.choices(range(len(probabilities)), weights=probabilities, k=shots):
        bits = ["0"] * width
        for qubit, clbit in measurements:
            bits[width - 1 - clbit] = "1" if index >> qubit & 1 else "0"
        key = "".join(bits)
        counts[key] = counts.get(key, 0) + 1
    return counts


class StatevectorExecutor(LocalExecutor):
    """Runs OpenQASM jobs on the reference simulator (one call per batch)."""

    def run(self, jobs: Sequence) -> list[Outcome]:
        rng = random.Random(self.config.get("seed"))
        outcomes = []
        for job in jobs:
            try:
                program = parse(job.circuit)
            except ValueError as err:
                raise InvalidTaskError(
                    f"{self.resource.id} cannot run this circuit: {err}", field="circuit", value=job.circuit_format,
                    fix="use the gates listed in the resource's native_gates",
                ) from None
            if program.mid_circuit_measurement:
                raise InvalidTaskError(
                    f"{self.resource.id} measures only at the end of a circuit", field="circuit",
                    value="mid-circuit measurement", fix="move every measurement to the end",
                )
            outcomes.append(Outcome(counts=simulate(program, job.shots, rng, job.width),
                                    metadata={"measured": [q for q, _ in program.measurements]}))
        return outcomes
