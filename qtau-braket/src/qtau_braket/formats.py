"""The `braket` circuit format: summaries, and conversion to and from OpenQASM 3.

braket -> openqasm3 is Braket's own `to_ir(IRType.OPENQASM)`; openqasm3 -> braket is
`Circuit.from_ir`. A program a Circuit cannot hold (a measured qubit used again, a condition on a
measured bit, a reset after use) is read as a `qtau_braket.programs.BraketProgram`, which the local
simulators run as a program. OpenQASM from other SDKs (Qiskit's `qasm3.dumps`) includes `stdgates.inc`,
which Braket's parser cannot open and whose names (`cx`, `sdg`, `p`...) Braket spells differently,
so the include is replaced by definitions in terms of Braket's built-in gates; `from_ir` inlines
them, giving an ordinary Braket circuit. Measurements of one register are put in bit order, so
bit i of the result is `c[i]`.
"""

from __future__ import annotations

import re

from qtau.errors import CircuitConversionError, InvalidTaskError
from qtau.types import CircuitSummary, Converter

from qtau_braket.gate_names import canonical

#: OpenQASM 3 standard-library gates Braket does not define, written with Braket's built-ins.
STDGATES = {
    "cx": "gate cx a, b { cnot a, b; }",
    "CX": "gate CX a, b { cnot a, b; }",
    "ccx": "gate ccx a, b, c { ccnot a, b, c; }",
    "sdg": "gate sdg a { si a; }",
    "tdg": "gate tdg a { ti a; }",
    "sx": "gate sx a { v a; }",
    "sxdg": "gate sxdg a { vi a; }",
    "id": "gate id a { i a; }",
    "p": "gate p(l) a { phaseshift(l) a; }",
    "phase": "gate phase(l) a { phaseshift(l) a; }",
    "u1": "gate u1(l) a { phaseshift(l) a; }",
    "cp": "gate cp(l) a, b { cphaseshift(l) a, b; }",
    "cphase": "gate cphase(l) a, b { cphaseshift(l) a, b; }",
    "cu1": "gate cu1(l) a, b { cphaseshift(l) a, b; }",
    "u": "gate u(t, f, l) a { U(t, f, l) a; }",
    "u3": "gate u3(t, f, l) a { U(t, f, l) a; }",
    "u2": "gate u2(f, l) a { U(pi/2, f, l) a; }",
    # Written with cnot, not `ctrl @`: Braket's local simulator (amazon-braket-default-simulator
    # of this install) applied `ctrl @ rx/ry/rz/h/U` wrongly on entangled 5-qubit states (MQT
    # Bench's randomcircuit: overlap 0.27 with the exact state). These are qelib1.inc's definitions.
    "crx": "gate crx(t) a, b { phaseshift(pi/2) b; cnot a, b; U(-t/2, 0, 0) b; cnot a, b; U(t/2, -pi/2, 0) b; }",
    "cry": "gate cry(t) a, b { ry(t/2) b; cnot a, b; ry(-t/2) b; cnot a, b; }",
    "crz": "gate crz(t) a, b { rz(t/2) b; cnot a, b; rz(-t/2) b; cnot a, b; }",
    "ch": "gate ch a, b { h b; si b; cnot a, b; h b; t b; cnot a, b; t b; h b; s b; x b; s a; }",
    "cu": "gate cu(t, f, l, g) a, b { phaseshift(g) a; phaseshift((l+f)/2) a; phaseshift((l-f)/2) b; "
          "cnot a, b; U(-t/2, 0, -(f+l)/2) b; cnot a, b; U(t/2, f, 0) b; }",
    "rxx": "gate rxx(t) a, b { xx(t) a, b; }",
    "ryy": "gate ryy(t) a, b { yy(t) a, b; }",
    "rzz": "gate rzz(t) a, b { zz(t) a, b; }",
    "ccz": "gate ccz a, b, c { h c; ccnot a, b, c; h c; }",
}

_INCLUDE = re.compile(r'^\s*include\s+"stdgates\.inc"\s*;[ \t]*$', re.MULTILINE)
_MEASURE = re.compile(r"^\s*(\w+)\[(\d+)\]\s*=\s*measure\s+[^;]+;\s*$")
_BITS = re.compile(r"^[ \t]*bit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)\s*;[ \t]*\n?", re.MULTILINE)
#: Declarations of classical bits: `bit c;`, `bit[n] c;`, `creg c[n];`, `creg c;`, each with an
#: optional initialiser (`bit[2] c = measure q;`), one statement a line (`_one_statement_a_line`).
_DECLARATIONS = re.compile(
    r"^[ \t]*(?:bit\s*(?P<bsize>\[\s*\d+\s*\])?\s+(?P<bname>\w+)|creg\s+(?P<cname>\w+)\s*(?P<csize>\[\s*\d+\s*\])?)"
    r"\s*(?P<init>=[^;]*)?;[ \t]*\n?", re.MULTILINE)
#: Strings (kept), then comments (dropped).
_STRING_OR_COMMENT = re.compile(r'("[^"\n]*")|//[^\n]*|/\*.*?\*/', re.DOTALL)
_GATE_DEFINITION = re.compile(r"\bgate\s[^{]*\{[^}]*\}")
#: The one classical register several registers are merged into for Braket.
MERGED = "qtau_bits"
#: Attribute a Circuit read from OpenQASM carries: the qubits the program declared. Its qubit q is
#: the program's qubit q, so an unmeasured program reads every declared qubit, as Qiskit's
#: measure_all does (`qtau_braket.outcomes`); a Circuit built with Braket's API has none.
DECLARED_QUBITS = "_qtau_declared_qubits"


def _one_statement_a_line(text: str) -> str:
    """`text` without comments and with each statement on its own line, so the line-based rewrites
    below also read programs written on one line or with a comment after a statement
    (`include "stdgates.inc"; // gates`)."""
    text = _STRING_OR_COMMENT.sub(lambda m: m.group(1) or "", text)
    parts = re.split(r'("[^"\n]*")', text)
    return "".join(part if i % 2 else re.sub(r";[ \t]*(?=\S)", ";\n", part) for i, part in enumerate(parts))


def _used(name: str, body: str) -> bool:
    called = re.search(rf"(^|[;{{@]|\n)\s*{re.escape(name)}\s*[(\s]", body)
    defined = re.search(rf"\bgate\s+{re.escape(name)}\b", body)
    return bool(called) and not defined


def _order_measurements(text: str) -> str:
    """Put one register's measurement statements in bit order (Braket lists bits as measured)."""
    lines = text.split("\n")
    spots = [(i, _MEASURE.match(line)) for i, line in enumerate(lines)]
    spots = [(i, m) for i, m in spots if m]
    if len(spots) < 2 or len({m[1] for _, m in spots}) != 1:
        return text
    indices = [i for i, _ in spots]
    if indices != list(range(indices[0], indices[0] + len(indices))):
        return text  # measurements interleaved with gates: keep the program's order
    ordered = sorted(spots, key=lambda s: int(s[1][2]))
    for slot, (_, m) in zip(indices, ordered, strict=True):
        lines[slot] = m.string
    return "\n".join(lines)


def _used_whole(name: str, body: str) -> bool:
    """Whether register `name` is used other than bit by bit in `body` (`c = measure q;`)."""
    return re.search(rf"\b{name}\b(?!\s*\[\s*\d+\s*\])", body) is not None


def _bit_use(name: str) -> re.Pattern:
    """`name[i]`, the index captured."""
    return re.compile(rf"\b{name}\s*\[\s*(\d+)\s*\]")


def _several_registers(reason: str, value: str) -> CircuitConversionError:
    return CircuitConversionError(
        f"Braket cannot read a program with several classical registers where {reason}: its reader "
        "numbers bits within each register, so bits of different registers would share a place",
        field="circuit", value=value,
        fix="declare one bit register and measure into its bits (c[i] = measure q[j];), or run the "
            "program on a resource that reads OpenQASM with Qiskit (Qiskit Aer, PennyLane)",
    )


def _outside_gates(text: str, rewrite) -> str:
    """`rewrite` applied to the parts of `text` outside gate definitions (whose parameters and
    qubit arguments may share a register's name)."""
    out, at = [], 0
    for m in _GATE_DEFINITION.finditer(text):
        out.extend((rewrite(text[at:m.start()]), m.group(0)))
        at = m.end()
    out.append(rewrite(text[at:]))
    return "".join(out)


def _one_bit_register(text: str) -> str:
    """Several classical registers as one, bits in declaration order (`ca[1]` of `bit[2] ca; bit[1] cb;`
    is bit 1, `cb[0]` bit 2), as Qiskit numbers them. Braket's reader keys measurements by the
    index within their register, so `ca[0]` and `cb[0]` landed on one bit and a qubit's result was
    lost. A register measured whole (`ca = measure a;`, `bit[2] ca = measure a;`, `measure a -> ca;`)
    becomes its slice of the one register, a single bit (`bit b0;`) its bit. A register used any
    other way (an index Braket's reader would have to compute, a whole register in a condition) is
    refused (CircuitConversionError) rather than read into the wrong bits."""
    declared = list(_DECLARATIONS.finditer(text))
    if len(declared) < 2 or re.search(rf"\b{MERGED}\b", text):
        return text
    offsets: dict[str, tuple[int, int, bool]] = {}  # name -> (first bit, size, declared as a single bit)
    offset = 0
    for m in declared:
        name = m.group("bname") or m.group("cname")
        size_text = m.group("bsize") or m.group("csize")
        size = int(size_text.strip("[] \t")) if size_text else 1
        if name in offsets:
            raise _several_registers(f"`{name}` is declared twice", name)
        offsets[name] = (offset, size, size_text is None)
        offset += size
    names = "|".join(re.escape(n) for n in offsets)
    use = re.compile(rf"\b({names})\b(\s*\[([^\]]*)\])?")

    def merged(m: re.Match, statement: str) -> str:
        first, size, single = offsets[m.group(1)]
        index = m.group(3)
        if index is None:  # the whole register
            if single:  # a single bit (`bit b0;`) is one bit wherever it is used (`if (b0)`)
                return f"{MERGED}[{first}]"
            if not re.search(r"\bmeasure\b", statement):
                raise _several_registers(f"register `{m.group(1)}` is used whole outside a measurement "
                                         f"(`{statement.strip()}`)", m.group(1))
            return f"{MERGED}[{first}]" if single else f"{MERGED}[{first}:{first + size - 1}]"
        bit = re.fullmatch(r"\s*(\d+)\s*", index)
        if bit:
            return f"{MERGED}[{first + int(bit.group(1))}]"
        span = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", index)
        if span:
            return f"{MERGED}[{first + int(span.group(1))}:{first + int(span.group(2))}]"
        raise _several_registers(f"register `{m.group(1)}` is indexed by `{index.strip()}`", m.group(1))

    def rewrite(part: str) -> str:
        # Statement by statement (each on its line), so a whole register is known to be measured.
        return re.sub(r"[^;{}]+", lambda s: use.sub(lambda m: merged(m, s.group(0)), s.group(0)), part)

    pieces, at = [], 0
    for m in declared:
        pieces.append(_outside_gates(text[at:m.start()], rewrite))
        if m is declared[0]:
            pieces.append(f"bit[{offset}] {MERGED};\n")
        init = m.group("init")
        if init:
            name = m.group("bname") or m.group("cname")
            pieces.append(_outside_gates(f"{name} {init};\n", rewrite))
        at = m.end()
    pieces.append(_outside_gates(text[at:], rewrite))
    return "".join(pieces)


_SPAN = r"\s*\[\s*(\d+)\s*:\s*(\d+)\s*\]"


def _dense_bits(text: str) -> str:
    """The classical bits a measurement writes, numbered 0, 1, ... in bit order (`bit[3] c;` written
    at c[0] and c[2] becomes `bit[2] c;` written at c[0] and c[1]; a slice `c[i:j]` writes bits i
    to j). Braket sizes its register by the measurements, so a bit left unwritten put a later one
    out of range and the program was refused; results list one bit per measurement, in bit order,
    as before. Core puts them back at their bits (`qtau.circuits.spread_counts`)."""
    declared = list(_BITS.finditer(text))
    if len(declared) != 1:
        return text
    name = declared[0].group(2)
    body = text[declared[0].end():]
    span = re.compile(rf"\b{name}{_SPAN}")
    if re.search(rf"\b{name}\b(?!\s*\[\s*\d+\s*(?::\s*\d+\s*)?\])", body):
        return text  # used whole
    use = _bit_use(name)
    used = {int(i) for i in use.findall(body)}
    for lo, hi in span.findall(body):
        used.update(range(int(lo), int(hi) + 1))
    used = sorted(used)
    size = int(declared[0].group(1) or 1)
    if not used or used == list(range(size)):
        return text
    rank = {bit: n for n, bit in enumerate(used)}
    body = span.sub(lambda m: f"{name}[{rank[int(m.group(1))]}:{rank[int(m.group(2))]}]", body)
    body = use.sub(lambda m: f"{name}[{rank[int(m.group(1))]}]", body)
    return text[:declared[0].start()] + f"bit[{len(used)}] {name};\n" + body


def for_braket(text: str) -> str:
    """OpenQASM 3 text that Braket's parser reads: stdgates replaced by Braket definitions."""
    text = _one_statement_a_line(text)
    if _INCLUDE.search(text):
        body = _INCLUDE.sub("", text)
        defs = "\n".join(d for name, d in STDGATES.items() if _used(name, body))
        text = _INCLUDE.sub(defs.replace("\\", "\\\\"), text, count=1)
        text = _INCLUDE.sub("", text)
    return _order_measurements(_dense_bits(_one_bit_register(text)))


#: What the fix of an unreadable program says: Braket reads its own gates, stdgates.inc's and the
#: program's `gate` definitions; Qiskit's reader (behind Qiskit Aer and PennyLane) reads more.
UNREADABLE_FIX = ("use gates of OpenQASM's stdgates.inc, Braket's built-in gates or gates the program defines, "
                  "or run the program on a resource that reads OpenQASM with Qiskit (Qiskit Aer, PennyLane)")


def _reading_context():
    """A BraketProgramContext that records `reset`, which Braket's Circuit has no instruction for
    (its context drops it): a reset of a qubit no instruction has touched yet leaves |0> as it was,
    so it may go; one after use changes the state, and is recorded for `from_openqasm3` to refuse."""
    from braket.circuits.braket_program_context import BraketProgramContext

    class Context(BraketProgramContext):
        def __init__(self) -> None:
            super().__init__()
            self.resets_after_use: list[int] = []

        def add_reset(self, target) -> None:
            used = {int(q) for ins in self.circuit.instructions
                    if ins.operator.name not in ("Barrier", "GPhase") for q in (*ins.target, *ins.control)}
            self.resets_after_use.extend(int(q) for q in target if int(q) in used)

    return Context()


def from_openqasm3(text: str):
    from braket.default_simulator.openqasm.interpreter import Interpreter

    if not isinstance(text, str):
        raise CircuitConversionError("OpenQASM 3 must be text", field="circuit", value=type(text).__name__,
                                     fix="pass the program as a string")
    source = for_braket(text)  # may refuse the program itself (CircuitConversionError)
    context = _reading_context()
    try:
        # What `Circuit.from_ir` does, with a context that sees resets.
        Interpreter(context).run(source, None, False)
    except Exception as err:
        unreadable = err
    else:
        unreadable = None
        if not context.resets_after_use:
            circuit = context.circuit
            setattr(circuit, DECLARED_QUBITS, int(context.num_qubits))
            return circuit
    # A Circuit cannot hold it: a measured qubit used again, a condition on a measured bit, a
    # reset after use run as a program on the local simulators (qtau_braket.programs).
    from qtau_braket.programs import read_program

    program = read_program(source)  # may refuse what the program path would get wrong
    if program is not None:
        return program
    if unreadable is not None:
        raise CircuitConversionError(
            f"Braket cannot read this OpenQASM 3 program: {type(unreadable).__name__}: {unreadable}",
            field="circuit", value="openqasm3", fix=UNREADABLE_FIX,
        ) from unreadable
    qubits = sorted(set(context.resets_after_use))
    raise CircuitConversionError(
        f"the program resets qubit(s) {qubits} after using them; a Braket Circuit has no reset "
        "instruction (Braket's reader drops it), so the circuit would run without it",
        field="circuit", value=f"reset of qubit(s) {qubits}",
        fix="run it on a resource that measures mid-circuit (Qiskit Aer, PennyLane), or use a fresh "
            "qubit instead of resetting a used one",
    )


def to_openqasm3(circuit) -> str:
    from braket.circuits.serialization import IRType

    from qtau_braket.programs import BraketProgram

    if isinstance(circuit, BraketProgram):
        return circuit.source
    return circuit.to_ir(IRType.OPENQASM).source


def measured_qubits(circuit) -> list[int]:
    """Qubits the circuit measures in bit order; all of them when none is measured (Braket's implicit measure-all)."""
    explicit = [int(q) for ins in circuit.instructions if ins.operator.name == "Measure" for q in ins.target]
    return explicit or sorted(int(q) for q in circuit.qubits)


def summary(circuit, circuit_format: str) -> CircuitSummary:
    from qtau_braket.programs import BraketProgram

    if circuit_format == "openqasm3":
        circuit = from_openqasm3(circuit)
    if isinstance(circuit, BraketProgram):
        # Counted on the path where every measurement reads 0; measured qubits: those it touches.
        return CircuitSummary(
            num_qubits=circuit.qubit_count, gate_counts=circuit.gate_counts, num_measured=circuit.qubit_count,
            mid_circuit_measurement="mid-circuit measurement" in circuit.needs,
            classical_control="classical control" in circuit.needs,
        )
    free = sorted(str(p) for p in getattr(circuit, "parameters", ()) or ())
    if free:
        # A task carries no parameter values: Braket's simulator failed on it ("Missing input
        # variable"), and every other backend its own way.
        raise InvalidTaskError(
            f"the circuit has unbound FreeParameters {free[:5]}{' ...' if len(free) > 5 else ''}, and a "
            "QuantumTask passes no parameter values", field="circuit", value=", ".join(free[:5]),
            fix="bind them first: circuit.make_bound_circuit({'theta': 0.5, ...})",
        )
    from braket.circuits.noise import Noise

    counts: dict[str, int] = {}
    measured: set[int] = set()
    mid = False
    for ins in circuit.instructions:
        op = ins.operator
        if isinstance(op, Noise):
            continue
        if op.name == "Measure":
            measured.update(int(q) for q in ins.target)
            key = "measure"
        else:
            if any(int(q) in measured for q in (*ins.target, *ins.control)):
                mid = True
            key = canonical(op.name, len(ins.control))
            if key == "gphase":
                continue  # a global phase, no gate (as core reads OpenQASM 3)
        counts[key] = counts.get(key, 0) + 1
    return CircuitSummary(
        num_qubits=circuit.qubit_count, gate_counts=counts, depth=int(circuit.depth),
        num_measured=len(measured) or circuit.qubit_count, mid_circuit_measurement=mid,
        returns_values=bool(circuit.result_types),  # only Braket computes them (Result.values)
    )


#: What the converters import (`Converter.sdk_modules`): `braket.circuits` imports the local
#: simulator and opt_einsum, which `import pennylane` imports too.
SDK_MODULES = ("braket.circuits", "braket.ir.openqasm")


def converters(provider: str) -> list[Converter]:
    return [
        Converter("braket", "openqasm3", to_openqasm3, provider, 1.0, SDK_MODULES),
        Converter("openqasm3", "braket", from_openqasm3, provider, 1.0, SDK_MODULES),
    ]
