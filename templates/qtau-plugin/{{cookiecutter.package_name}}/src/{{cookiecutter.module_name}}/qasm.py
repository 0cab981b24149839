"""A small reader of OpenQASM 2 and 3 programs: registers, gates, measurements.

Enough for the reference simulator; a backend wrapping an SDK lets the SDK parse OpenQASM instead.
"""

from __future__ import annotations

import math
import re

import attrs

#: Gates the reference simulator applies (canonical QTAU names, see qtau.gates).
ONE_QUBIT = ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "p")
TWO_QUBIT = ("cx", "cz", "swap")
ALIASES = {"cnot": "cx", "u1": "p", "phase": "p"}

_DECLARE2 = re.compile(r"^(qreg|creg)\s+(\w+)\s*\[\s*(\d+)\s*\]$")
_DECLARE3 = re.compile(r"^(qubit|bit)\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)$")
_MEASURE2 = re.compile(r"^measure\s+(.+?)\s*->\s*(.+)$")
_MEASURE3 = re.compile(r"^(.+?)\s*=\s*measure\s+(.+)$")
_GATE = re.compile(r"^(\w+)\s*(?:\((.*)\))?\s+(.+)$")
_OPERAND = re.compile(r"^(\w+)\s*(?:\[\s*(\d+)\s*\])?$")
_NUMBER = re.compile(r"^[0-9.eE+\-*/() pi]+$")


@attrs.frozen
class Program:
    """A parsed program: qubit and bit counts, gates in order, and (qubit, bit) measurements."""

    num_qubits: int
    num_clbits: int
    gates: tuple[tuple[str, tuple[float, ...], tuple[int, ...]], ...]
    measurements: tuple[tuple[int, int], ...]
    mid_circuit_measurement: bool = False


def parse(text: str) -> Program:
    """Parse OpenQASM 2/3 text; ValueError names the first statement it cannot read."""
    qregs: dict[str, tuple[int, int]] = {}
    cregs: dict[str, tuple[int, int]] = {}
    gates: list[tuple[str, tuple[float, ...], tuple[int, ...]]] = []
    measurements: list[tuple[int, int]] = []
    measured_qubits: set[int] = set()
    mid = False
    body = re.sub(r"//[^\n]*", "", text)
    for statement in (s.strip() for s in body.split(";")):
        if not statement or statement.startswith(("OPENQASM", "include")) or statement.startswith("barrier"):
            continue
        if m := _DECLARE2.match(statement):
            kind, name, size = m.group(1), m.group(2), int(m.group(3))
            table = qregs if kind == "qreg" else cregs
            table[name] = (sum(n for _, n in table.values()), size)
            continue
        if m := _DECLARE3.match(statement):
            kind, size, name = m.group(1), int(m.group(2) or 1), m.group(3)
            table = qregs if kind == "qubit" else cregs
            table[name] = (sum(n for _, n in table.values()), size)
            continue
        if (m := _MEASURE2.match(statement)) or (m := _MEASURE3.match(statement)):
            qubits_text, bits_text = (m.group(1), m.group(2)) if statement.startswith("measure") else (m.group(2), m.group(1))
            qubits, bits = _operands(qubits_text, qregs), _operands(bits_text, cregs)
            if len(qubits) != len(bits):
                raise ValueError(f"measure {statement!r}: {len(qubits)} qubits into {len(bits)} bits")
            measurements.extend(zip(qubits, bits, strict=True))
            measured_qubits.update(qubits)
            continue
        if m := _GATE.match(statement):
            name = ALIASES.get(m.group(1).lower(), m.group(1).lower())
            if name not in ONE_QUBIT + TWO_QUBIT:
                raise ValueError(f"gate {name!r} is not supported (supported: {', '.join(ONE_QUBIT + TWO_QUBIT)})")
            params = tuple(_number(p) for p in m.group(2).split(",")) if m.group(2) else ()
            targets = [_operands(op, qregs) for op in m.group(3).split(",")]
            if any(q in measured_qubits for t in targets for q in t):
                mid = True
            if name in ONE_QUBIT and len(targets) == 1:
                gates.extend((name, params, (q,)) for q in targets[0])   # a register operand broadcasts
            elif name in TWO_QUBIT and len(targets) == 2 and len(targets[0]) == len(targets[1]):
                gates.extend((name, params, pair) for pair in zip(targets[0], targets[1], strict=True))
            else:
                raise ValueError(f"gate {statement!r} has the wrong number of operands")
            continue
        raise ValueError(f"cannot read the statement {statement!r}")
    num_qubits = sum(n for _, n in qregs.values())
    if not num_qubits:
        raise ValueError("the program declares no qubits")
    return Program(num_qubits, sum(n for _, n in cregs.values()), tuple(gates), tuple(measurements), mid)


def _operands(text: str, registers: dict[str, tuple[int, int]]) -> list[int]:
    m = _OPERAND.match(text.strip())
    if not m or m.group(1) not in registers:
        raise ValueError(f"unknown register operand {text.strip()!r}")
    start, size = registers[m.group(1)]
    if m.group(2) is None:
        return list(range(start, start + size))
    index = int(m.group(2))
    if index >= size:
        raise ValueError(f"{text.strip()!r} is out of range (size {size})")
    return [start + index]


def _number(text: str) -> float:
    text = text.strip()
    if not _NUMBER.match(text):
        raise ValueError(f"cannot read the parameter {text!r}")
    return float(eval(text, {"__builtins__": {}}, {"pi": math.pi}))  # noqa: S307 - digits, pi and + - * / only
