"""The `braket` circuit format: summaries, and conversion to and from OpenQASM 3.

braket -> openqasm3 is Braket's own `to_ir(IRType.OPENQASM)`; openqasm3 -> braket is
`Circuit.from_ir`. OpenQASM from other SDKs (Qiskit's `qasm3.dumps`) includes `stdgates.inc`,
which Braket's parser cannot open and whose names (`cx`, `sdg`, `p`...) Braket spells differently,
so the include is replaced by definitions in terms of Braket's built-in gates; `from_ir` inlines
them, giving an ordinary Braket circuit. Measurements of one register are put in bit order, so
bit i of the result is `c[i]`.
"""

from __future__ import annotations

import re

from qtau.errors import CircuitConversionError
from qtau.gates import normalize_gate
from qtau.types import CircuitSummary, Converter

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
#: Braket spellings QTAU's gate aliases do not cover.
BRAKET_NAMES = {
    "phaseshift": "p", "cphaseshift": "cp", "ccnot": "ccx", "v": "sx", "vi": "sxdg", "xx": "rxx",
    "yy": "ryy", "zz": "rzz", "i": "id",
}

_INCLUDE = re.compile(r'^\s*include\s+"stdgates\.inc"\s*;\s*$', re.MULTILINE)
_MEASURE = re.compile(r"^\s*(\w+)\[(\d+)\]\s*=\s*measure\s+[^;]+;\s*$")
_BITS = re.compile(r"^[ \t]*bit\s*(?:\[\s*(\d+)\s*\])?\s+(\w+)\s*;[ \t]*\n?", re.MULTILINE)
#: The one classical register several registers are merged into for Braket.
MERGED = "qtau_bits"


def canonical(name: str, controls: int = 0) -> str:
    base = BRAKET_NAMES.get(name.lower(), name.lower())
    return normalize_gate("c" * controls + base)


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


def _one_bit_register(text: str) -> str:
    """Several classical registers as one, bits in declaration order (`ca[1]` of `bit[2] ca; bit[1] cb;`
    is bit 1, `cb[0]` bit 2), as Qiskit numbers them. Braket's reader keys measurements by the
    index within their register, so `ca[0]` and `cb[0]` landed on one bit and a qubit's result was
    lost. Left as it is when a register is used other than bit by bit (`c = measure q;`)."""
    declared = [(m.group(2), int(m.group(1) or 1)) for m in _BITS.finditer(text)]
    if len(declared) < 2 or MERGED in text:
        return text
    body = _BITS.sub("", text)
    if any(_used_whole(name, body) for name, _ in declared):
        return text
    offset = 0
    for name, size in declared:
        body = _bit_use(name).sub(lambda m, o=offset: f"{MERGED}[{o + int(m.group(1))}]", body)
        offset += size
    first = _BITS.search(text)
    return text[:first.start()] + f"bit[{offset}] {MERGED};\n" + body[first.start():]


def _dense_bits(text: str) -> str:
    """The classical bits a measurement writes, numbered 0, 1, ... in bit order (`bit[3] c;` written
    at c[0] and c[2] becomes `bit[2] c;` written at c[0] and c[1]). Braket sizes its register by
    the measurements, so a bit left unwritten put a later one out of range and the program was
    refused; results list one bit per measurement, in bit order, as before. Core puts them back at
    their bits (`qtau.circuits.spread_counts`)."""
    declared = list(_BITS.finditer(text))
    if len(declared) != 1:
        return text
    name = declared[0].group(2)
    body = text[declared[0].end():]
    if _used_whole(name, body):
        return text
    use = _bit_use(name)
    used = sorted({int(i) for i in use.findall(body)})
    size = int(declared[0].group(1) or 1)
    if not used or used == list(range(size)):
        return text
    rank = {bit: n for n, bit in enumerate(used)}
    body = use.sub(lambda m: f"{name}[{rank[int(m.group(1))]}]", body)
    return text[:declared[0].start()] + f"bit[{len(used)}] {name};\n" + body


def for_braket(text: str) -> str:
    """OpenQASM 3 text that Braket's parser reads: stdgates replaced by Braket definitions."""
    if _INCLUDE.search(text):
        body = _INCLUDE.sub("", text)
        defs = "\n".join(d for name, d in STDGATES.items() if _used(name, body))
        text = _INCLUDE.sub(defs.replace("\\", "\\\\"), text, count=1)
        text = _INCLUDE.sub("", text)
    return _order_measurements(_dense_bits(_one_bit_register(text)))


def from_openqasm3(text: str):
    from braket.circuits import Circuit

    if not isinstance(text, str):
        raise CircuitConversionError("OpenQASM 3 must be text", field="circuit", value=type(text).__name__,
                                     fix="pass the program as a string")
    try:
        return Circuit.from_ir(for_braket(text))
    except Exception as err:
        raise CircuitConversionError(
            f"Braket cannot read this OpenQASM 3 program: {type(err).__name__}: {err}",
            field="circuit", value="openqasm3",
            fix="use gates of OpenQASM's stdgates.inc or Braket's built-ins, without reset or classical control",
        ) from err


def to_openqasm3(circuit) -> str:
    from braket.circuits.serialization import IRType

    return circuit.to_ir(IRType.OPENQASM).source


def measured_qubits(circuit) -> list[int]:
    """Qubits the circuit measures in bit order; all of them when none is measured (Braket's implicit measure-all)."""
    explicit = [int(q) for ins in circuit.instructions if ins.operator.name == "Measure" for q in ins.target]
    return explicit or sorted(int(q) for q in circuit.qubits)


def summary(circuit, circuit_format: str) -> CircuitSummary:
    if circuit_format == "openqasm3":
        circuit = from_openqasm3(circuit)
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
        counts[key] = counts.get(key, 0) + 1
    return CircuitSummary(
        num_qubits=circuit.qubit_count, gate_counts=counts, depth=int(circuit.depth),
        num_measured=len(measured) or circuit.qubit_count, mid_circuit_measurement=mid,
    )


#: What the converters import (`Converter.sdk_modules`): `braket.circuits` imports the local
#: simulator and opt_einsum, which `import pennylane` imports too.
SDK_MODULES = ("braket.circuits", "braket.ir.openqasm")


def converters(provider: str) -> list[Converter]:
    return [
        Converter("braket", "openqasm3", to_openqasm3, provider, 1.0, SDK_MODULES),
        Converter("openqasm3", "braket", from_openqasm3, provider, 1.0, SDK_MODULES),
    ]
