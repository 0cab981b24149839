"""Width, gate counts and measurement shape of OpenQASM 2/3 text, read by core itself.

QDREAMER needs a summary of every task before it can rank anything; for OpenQASM text that must
not depend on which SDK plugin happens to be installed. This is a statement-level reader, not a
compiler. It follows what the two specifications define:
- registers (`qreg q[3];`, `qubit[3] q;`, `qubit q;`) laid end to end, and physical qubits `$0`;
- gate applications with modifiers: `ctrl @` / `negctrl @` (also `ctrl(2) @`) add controls, so
  `ctrl @ x` is a `cx`; `inv @` and `pow(k) @` keep the gate's name;
- `gate` definitions: a defined gate counts as the gates of its body, at every use (a body that
  repeats `cx` counts every `cx`); an `opaque` gate has no definition and counts by its name, so
  QDREAMER accepts it only where it is native;
- the built-ins: `barrier` (no gate; OpenQASM 2 needs no definition of it), `reset` (counted once
  its qubit has been used, so that only resources that measure mid-circuit take it; a reset of a
  fresh qubit does nothing and is not counted; a reset of a measured qubit is qubit reuse, as a
  mid-circuit measurement), `delay` (a directive),
  `gphase` (no gate unless controlled, where it is a phase gate), `U`/`CX`;
- measurements in both dialects, `if` (classical control, OpenQASM 2 `if(c==1) x q[0];` and 3's
  blocks), classical declarations and assignments (no gates), `include` of `qelib1.inc` or
  `stdgates.inc` (their gates are the standard ones).
What it cannot follow (loops, subroutine calls with classical results, calibrations) it leaves
to the plugins' summaries by raising ValueError.
"""

from __future__ import annotations

import re

from qtau.errors import InvalidTaskError
from qtau.gates import STANDARD_GATES, normalize_gate
from qtau.types import CircuitSummary

#: Gates OpenQASM 2's qelib1.inc defines, plus the built-ins U and CX.
QELIB1 = frozenset({
    "u3", "u2", "u1", "cx", "id", "u0", "u", "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "rx", "ry",
    "rz", "sx", "sxdg", "cz", "cy", "swap", "ch", "ccx", "cswap", "crx", "cry", "crz", "cu1", "cp", "cu3",
    "csx", "cu", "rxx", "rzz", "rccx", "rc3x", "c3x", "c3sqrtx", "c4x", "ecr", "iswap", "ryy", "rzx",
})
#: The gates of qelib1.inc that are no standard gate, as the standard gates of their definitions
#: there (one level down: `c4x` is 4 h, 2 cu1, two c3x and a c3sqrtx).
QELIB1_DEFINED = {
    "u0": {"id": 1},
    "cu3": {"p": 2, "cx": 2, "u": 2},
    "csx": {"h": 2, "cp": 1},
    "rccx": {"u2": 2, "p": 4, "cx": 3},
    "rc3x": {"u2": 4, "p": 8, "cx": 6},
    "c3x": {"h": 2, "p": 15, "cx": 14},
    "c3sqrtx": {"h": 14, "cp": 7, "cx": 6},
    "c4x": {"h": 22, "cp": 9, "p": 30, "cx": 34},
}
#: OpenQASM 2 statements that are not gates and need no definition.
BUILTINS2 = frozenset({"barrier", "reset", "measure"})
KEYWORDS = frozenset({"openqasm", "include", "qreg", "creg", "qubit", "bit", "measure", "barrier", "reset",
                      "gate", "opaque", "if", "input", "output", "const", "int", "uint", "float", "angle",
                      "bool", "let", "defcalgrammar", "cal", "defcal", "def", "return", "while", "for",
                      "else", "pragma", "box", "delay", "durationof", "stretch", "extern", "end", "duration",
                      "complex", "array", "break", "continue", "switch", "case", "default"})
#: Statements that are gates in the counts' sense although their names are keywords.
COUNTED_KEYWORDS = frozenset({"barrier", "delay", "reset"})
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_QREG2 = re.compile(r"^qreg\s+(\w+)\s*\[\s*(\d+)\s*\]$")
_QREG3 = re.compile(r"^qubit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)$")
_CREG2 = re.compile(r"^creg\s+(\w+)\s*\[\s*(\d+)\s*\]$")
_BITS3 = re.compile(r"^bit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)\s*(?:=\s*(measure\s.+))?$")
_MEASURE_ARROW = re.compile(r"^measure\s+(.+?)\s*->\s*(.+)$")
_MEASURE_ASSIGN = re.compile(r"^(.+?)\s*=\s*measure\s+(.+)$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*\s*(?:\[[^\]]*\])?\s*(?:[-+*/%|&^]|<<|>>|\*\*)?=(?!=)")
_GATE_CALL = re.compile(r"^((?:(?:ctrl|negctrl|inv|pow)\s*(?:\([^)]*\))?\s*@\s*)*)([A-Za-z_]\w*)\s*(\([^)]*\))?\s*(.*)$")
_CONTROL = re.compile(r"(?:neg)?ctrl\s*(?:\(\s*(\d+)\s*\))?")
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


def controls(modifiers: str) -> int:
    """How many control qubits `ctrl @`, `negctrl @` and `ctrl(n) @` modifiers add."""
    return sum(int(n) if n else 1 for n in _CONTROL.findall(modifiers))


def controlled(gate: str, k: int) -> dict[str, int]:
    """Gate counts of canonical `gate` with `k` more controls.

    A controlled standard gate keeps the standard library's name (`ctrl @ x` is `cx`, `ctrl @ cx`
    is `ccx`, `ctrl @ rz` is `crz`); past what the library names, a multi-controlled gate counts
    as the V-chain construction transpilers use: 2(k-1) Toffolis computing and uncomputing the
    AND of its k controls, and one singly controlled gate. A controlled global phase is a phase
    gate on the controls. A gate without a definition stays one gate of its own controlled name.
    """
    if gate == "gphase":
        return {} if k == 0 else controlled("p", k - 1)
    if k == 0 or gate in COUNTED_KEYWORDS:
        return {gate: 1}
    base, total = gate, k
    while base.startswith("c") and base[1:] in STANDARD_GATES:
        base, total = base[1:], total + 1
    name = normalize_gate("c" * total + base)
    if name in STANDARD_GATES or base not in STANDARD_GATES:
        return {name: 1}
    single = normalize_gate("c" + base)
    return {"ccx": 2 * (total - 1), single if single in STANDARD_GATES else "cu": 1}


def _add(into: dict[str, int], counts: dict[str, int], times: int = 1) -> None:
    for name, n in counts.items():
        into[name] = into.get(name, 0) + n * times


class _Reader:
    def __init__(self, version: str) -> None:
        self.version = version
        self.registers: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.bit_registers: dict[str, tuple[int, int]] = {}  # classical: name -> (offset, size)
        self.bits = 0
        self.written: set[int] = set()  # classical bits a measurement writes
        self.physical = -1
        self.counts: dict[str, int] = {}
        self.measured: set[int] = set()
        self.mid = False
        self.classical = False
        #: Qubits a gate or measurement has used: a reset before that does nothing (`apply`).
        self.used: set[int] = set()
        #: gate name -> gate counts of its body; None for an `opaque` gate (no definition).
        self.defined: dict[str, dict[str, int] | None] = dict(QELIB1_DEFINED) if version == "2" else {}

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

    def declare_bits(self, name: str, size: int) -> None:
        """A classical register: Qiskit's readers number bits in declaration order, as here."""
        self.bit_registers[name] = (self.bits, size)
        self.bits += size

    def measure(self, operand: str, target: str | None = None) -> None:
        qubits = self.qubits(operand)
        if self.measured.intersection(qubits):
            self.mid = True  # a qubit read twice: the first reading is a mid-circuit measurement
        self.measured.update(qubits)
        self.used.update(qubits)
        match = _OPERAND.match(target.strip()) if target else None
        if match and match.group(1) in self.bit_registers:
            offset, size = self.bit_registers[match.group(1)]
            index = match.group(2)
            self.written.update(range(offset, offset + size) if index is None else [offset + int(index)])

    def gate_counts(self, gate: str, k: int, statement: str) -> dict[str, int]:
        """The gate counts one application of `gate` with `k` added controls stands for."""
        low = gate.lower()
        if low in COUNTED_KEYWORDS:
            return {low: 1}
        if self.version == "2" and low not in QELIB1 and gate not in self.defined:
            raise InvalidTaskError(
                f"OpenQASM 2 gate {gate!r} is used but not defined (statement `{statement}`)",
                field="circuit", value=gate,
                fix=f"define `gate {gate} ...` before using it, or include \"qelib1.inc\" for the standard gates",
            )
        if gate in self.defined and self.defined[gate] is not None:
            body: dict[str, int] = {}
            for inner, n in self.defined[gate].items():  # type: ignore[union-attr]
                _add(body, controlled(inner, k) if k else {inner: 1}, n)
            return body
        return controlled(normalize_gate(gate), k)

    def call(self, statement: str) -> tuple[dict[str, int], str] | None:
        """(gate counts, operands) of a gate application, or None for a statement that is no gate."""
        if _ASSIGNMENT.match(statement):
            return None  # a classical assignment such as `x = 1` or `c[0] = measure q[0]`
        match = _GATE_CALL.match(statement)
        if not match:
            raise ValueError(f"cannot read the OpenQASM statement `{statement}`")
        gate = match.group(2)
        if gate.lower() in KEYWORDS and gate.lower() not in COUNTED_KEYWORDS:
            return None
        return self.gate_counts(gate, controls(match.group(1)), statement), match.group(4)

    def apply(self, statement: str) -> None:
        found = self.call(statement)
        if found is None:
            return
        counts, operands = found
        counts = {g: n for g, n in counts.items() if g != "barrier"}
        if not counts:
            return  # a barrier is a directive for compilers: neither a gate nor a use of its qubits
        targets = [q for op in operands.split(",") for q in self.qubits(op)] if operands else []
        if counts == {"reset": 1} and targets and not self.used.intersection(targets):
            return  # every qubit starts in |0>: a reset before its first use does nothing
        self.used.update(targets)
        if self.measured.intersection(targets):
            self.mid = True
        _add(self.counts, counts)


def unbound_input(statement: str) -> InvalidTaskError:
    """The error of an OpenQASM 3 `input` declaration: a QuantumTask carries no input values, so
    each backend failed on it its own way (Aer: "parameter_binds is not specified", Braket:
    "Missing input variable", PennyLane: "Missing required argument")."""
    name = statement.split()[-1].split("=")[0].strip() if statement.split() else statement
    return InvalidTaskError(
        f"the OpenQASM 3 program declares `{statement}`, and a QuantumTask passes no input values",
        field="circuit", value=name,
        fix=f"write {name}'s value into the program, or bind it before exporting the program "
            "(Qiskit: circuit.assign_parameters; Braket: circuit.make_bound_circuit)",
    )


def _after_condition(statement: str) -> str:
    """What an `if (...)` guards: the text after the condition's closing parenthesis."""
    depth = 0
    for i, char in enumerate(statement):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return statement[i + 1:].strip()
    return ""


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
            found = reader.call(statement)
            if found is not None:
                _add(body, found[0])
            continue
        low = statement.lower()
        match = _HEAD.match(low)
        head = match.group(0) if match else low
        if head in ("gate", "opaque", "def"):
            parts = statement.split(" ", 2)
            if len(parts) < 2:
                raise ValueError(f"cannot read the OpenQASM statement `{statement}`: a {head} without a name")
            name = parts[1].split("(", 1)[0]
            body = {}
            reader.defined[name] = None if head == "opaque" else body
            body_next = head != "opaque"
            continue
        if head == "creg" and (match := _CREG2.match(statement)):
            reader.declare_bits(match.group(1), int(match.group(2)))
            continue
        if head == "bit" and (match := _BITS3.match(statement)):
            reader.declare_bits(match.group(2), int(match.group(1) or 1))
            if match.group(3):  # `bit[2] c = measure q;`
                reader.measure(match.group(3)[8:], match.group(2))
            continue
        if head == "input":
            raise unbound_input(statement)
        if head in ("openqasm", "include", "creg", "bit", "output", "const", "int", "uint", "float",
                    "angle", "bool", "complex", "pragma", "duration", "stretch") or low.startswith("#pragma"):
            continue
        if head in ("for", "while", "box", "cal", "defcal", "extern", "let", "defcalgrammar", "switch"):
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
            rest = _after_condition(statement) if head == "if" else statement[4:].strip()
            if rest:
                _one(reader, rest)
            continue
        _one(reader, statement)
    return CircuitSummary(
        num_qubits=reader.width, gate_counts=reader.counts, depth=0, num_measured=len(reader.measured),
        mid_circuit_measurement=reader.mid, classical_control=reader.classical,
        classical_bits=reader.bits, measured_bits=tuple(sorted(b for b in reader.written if b < reader.bits)),
    )


def _one(reader: _Reader, statement: str) -> None:
    match = _MEASURE_ARROW.match(statement)
    if match and statement.lower().startswith("measure"):
        reader.measure(match.group(1), match.group(2))
        return
    match = _MEASURE_ASSIGN.match(statement)
    if match:
        reader.measure(match.group(2), match.group(1))
        return
    if statement.lower().startswith("measure "):
        reader.measure(statement[8:])
        return
    reader.apply(statement)
