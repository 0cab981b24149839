"""Width, gate counts and measurement shape of OpenQASM 2/3 text, read by core itself.

QDREAMER needs a summary of every task before it can rank anything; for OpenQASM text that must
not depend on which SDK plugin happens to be installed. This is a statement-level reader, not a
compiler: it follows register declarations (`qreg q[3];`, `qubit[3] q;`, physical `$0`), gate
applications (with modifiers such as `ctrl @`), measurements in both dialects, `if` (classical
control) and gate definitions (their bodies are not counted). What it cannot follow (loops,
subroutines) it leaves to the plugins' summaries.
"""

from __future__ import annotations

import re

from qtau.errors import InvalidTaskError
from qtau.gates import normalize_gate
from qtau.types import CircuitSummary

#: Gates OpenQASM 2's qelib1.inc defines, plus the built-ins U and CX.
QELIB1 = frozenset({
    "u3", "u2", "u1", "cx", "id", "u0", "u", "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "rx", "ry",
    "rz", "sx", "sxdg", "cz", "cy", "swap", "ch", "ccx", "cswap", "crx", "cry", "crz", "cu1", "cp", "cu3",
    "csx", "cu", "rxx", "rzz", "rccx", "rc3x", "c3x", "c3sqrtx", "c4x", "ecr", "iswap", "ryy", "rzx",
})
KEYWORDS = frozenset({"openqasm", "include", "qreg", "creg", "qubit", "bit", "measure", "barrier", "reset",
                      "gate", "opaque", "if", "input", "output", "const", "int", "uint", "float", "angle",
                      "bool", "let", "defcalgrammar", "cal", "defcal", "def", "return", "while", "for",
                      "else", "pragma", "box", "delay", "durationof", "stretch", "extern", "end", "duration"})
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_QREG2 = re.compile(r"^qreg\s+(\w+)\s*\[\s*(\d+)\s*\]$")
_QREG3 = re.compile(r"^qubit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)$")
_MEASURE_ARROW = re.compile(r"^measure\s+(.+?)\s*->\s*(.+)$")
_MEASURE_ASSIGN = re.compile(r"^(.+?)\s*=\s*measure\s+(.+)$")
_GATE_CALL = re.compile(r"^((?:(?:ctrl|negctrl|inv|pow)\s*(?:\([^)]*\))?\s*@\s*)*)([A-Za-z_]\w*)\s*(\([^)]*\))?\s*(.*)$")
_HEAD = re.compile(r"#?[a-z_]\w*")
_OPERAND = re.compile(r"^(\$\d+|\w+)(?:\s*\[\s*(\d+)\s*\])?$")


def _statements(text: str) -> list[str]:
    body = _COMMENTS.sub("", text)
    out = []
    for part in body.replace("{", ";{;").replace("}", ";};").split(";"):
        part = " ".join(part.split())
        if part:
            out.append(part)
    return out


class _Reader:
    def __init__(self, version: str) -> None:
        self.version = version
        self.registers: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.physical = -1
        self.counts: dict[str, int] = {}
        self.measured: set[int] = set()
        self.mid = False
        self.classical = False
        self.defined: dict[str, dict[str, int]] = {}  # gate name -> gate counts of its body

    @property
    def width(self) -> int:
        return max(sum(size for _, size in self.registers.values()), self.physical + 1)

    def qubits(self, operand: str) -> list[int]:
        match = _OPERAND.match(operand.strip())
        if not match:
            return []
        name, index = match.group(1), match.group(2)
        if name.startswith("$"):
            q = int(name[1:])
            self.physical = max(self.physical, q)
            return [q + 10_000]  # physical qubits: their own index space
        if name not in self.registers:
            return []
        offset, size = self.registers[name]
        if index is None:
            return list(range(offset, offset + size))
        return [offset + int(index)]

    def measure(self, operand: str) -> None:
        self.measured.update(self.qubits(operand))

    def apply(self, gate: str, operands: str, statement: str, controls: int = 0) -> None:
        name = normalize_gate("c" * controls + gate)
        if self.version == "2" and gate.lower() not in QELIB1 and gate not in self.defined:
            raise InvalidTaskError(
                f"OpenQASM 2 gate {gate!r} is used but not defined (statement `{statement}`)",
                field="circuit", value=gate,
                fix=f"define `gate {gate} ...` before using it, or include \"qelib1.inc\" for the standard gates",
            )
        targets = [q for op in operands.split(",") for q in self.qubits(op)] if operands else []
        if name == "barrier":
            return
        if self.measured.intersection(targets):
            self.mid = True
        body = self.defined.get(gate)
        if body:  # a defined gate counts as the gates it is made of
            for inner, n in body.items():
                self.counts[inner] = self.counts.get(inner, 0) + n
            return
        self.counts[name] = self.counts.get(name, 0) + 1


def summarize(text: str, version: str) -> CircuitSummary:
    """The summary of OpenQASM `version` ("2" or "3") text, or InvalidTaskError naming the problem.

    Raises ValueError for constructs it does not follow (a plugin's summary may); the caller
    decides.
    """
    reader = _Reader(version)
    skipping = 0  # depth inside a gate/subroutine definition's body (counted per use, not here)
    body_next = False
    body: dict[str, int] = {}
    for statement in _statements(text):
        if statement == "{":
            if skipping or body_next:
                skipping += 1
                body_next = False
            continue
        if statement == "}":
            skipping = max(skipping - 1, 0)
            continue
        if skipping:
            match = _GATE_CALL.match(statement)
            if match and match.group(2).lower() not in KEYWORDS:
                inner = reader.defined.get(match.group(2))
                for name, n in (inner or {normalize_gate(match.group(2)): 1}).items():
                    body[name] = body.get(name, 0) + n
            continue
        low = statement.lower()
        match = _HEAD.match(low)
        head = match.group(0) if match else low
        if head in ("gate", "opaque", "def"):
            parts = statement.split(" ", 2)
            if len(parts) > 1:
                body = reader.defined[parts[1].split("(", 1)[0]] = {}
            body_next = head != "opaque"
            continue
        if head in ("openqasm", "include", "creg", "bit", "input", "output", "const", "int", "uint", "float",
                    "angle", "bool", "pragma", "reset") or low.startswith("#pragma"):
            continue
        if head in ("for", "while", "box", "cal", "defcal", "extern", "let", "defcalgrammar"):
            raise ValueError(f"OpenQASM construct `{head}` is not followed by core's reader")
        if head == "qreg":
            match = _QREG2.match(statement)
            if match:
                reader.registers[match.group(1)] = (reader.width, int(match.group(2)))
            continue
        if head == "qubit":
            match = _QREG3.match(statement)
            if match:
                reader.registers[match.group(2)] = (reader.width, int(match.group(1) or 1))
            continue
        if head in ("if", "else"):
            reader.classical = True
            rest = statement[statement.find(")") + 1:].strip() if head == "if" else statement[4:].strip()
            if rest:
                _one(reader, rest, statement)
            continue
        _one(reader, statement, statement)
    return CircuitSummary(
        num_qubits=reader.width, gate_counts=reader.counts, depth=0, num_measured=len(reader.measured),
        mid_circuit_measurement=reader.mid, classical_control=reader.classical,
    )


def _one(reader: _Reader, statement: str, whole: str) -> None:
    match = _MEASURE_ARROW.match(statement)
    if match and statement.lower().startswith("measure"):
        reader.measure(match.group(1))
        return
    match = _MEASURE_ASSIGN.match(statement)
    if match:
        reader.measure(match.group(2))
        return
    if statement.lower().startswith("measure "):
        reader.measure(statement[8:])
        return
    match = _GATE_CALL.match(statement)
    if not match:
        raise ValueError(f"cannot read the OpenQASM statement `{whole}`")
    gate, operands = match.group(2), match.group(4)
    if gate.lower() in KEYWORDS and gate.lower() not in ("barrier", "delay"):
        return
    reader.apply(gate, operands, whole, match.group(1).count("ctrl"))
