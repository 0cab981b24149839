"""OpenQASM 3 dialects: Amazon Braket's programs made readable by standard-library importers.

Braket's programs use its built-in gate names (`cnot`, `si`, `phaseshift`, `xx`...) and no
`include "stdgates.inc"`. Qiskit's importer (used by qtau-qiskit and by PennyLane's `from_qasm`)
knows only the standard library, so the include is added and each Braket-only name used gets a
definition in standard gates, all on the header's line, so a parser's line numbers are still the
user's; not to a program that declares a name of the standard library itself (its own `gate h`,
a register `s`), which the include would clash with. Plain text work: no SDK is imported.
"""

from __future__ import annotations

import re
from typing import Any

BRAKET_GATES = {
    "i": "gate i a { id a; }",
    "cnot": "gate cnot a, b { cx a, b; }",
    "ccnot": "gate ccnot a, b, c { ccx a, b, c; }",
    "si": "gate si a { sdg a; }",
    "ti": "gate ti a { tdg a; }",
    "v": "gate v a { sx a; }",
    # stdgates.inc has sx but no sxdg: sxdg = H Sdg H (exactly, as sx = H S H).
    "vi": "gate vi a { h a; sdg a; h a; }",
    # Not in stdgates.inc; Qiskit's definition of ECR (the same matrix as Braket's).
    "ecr": "gate ecr a, b { s a; sx b; cx a, b; x a; }",
    "phaseshift": "gate phaseshift(l) a { p(l) a; }",
    "cphaseshift": "gate cphaseshift(l) a, b { cp(l) a, b; }",
    "xx": "gate xx(t) a, b { h a; h b; cx a, b; rz(t) b; cx a, b; h a; h b; }",
    "yy": "gate yy(t) a, b { rx(pi/2) a; rx(pi/2) b; cx a, b; rz(t) b; cx a, b; rx(-pi/2) a; rx(-pi/2) b; }",
    "zz": "gate zz(t) a, b { cx a, b; rz(t) b; cx a, b; }",
    "iswap": "gate iswap a, b { s a; s b; h a; cx a, b; cx b, a; h b; }",
    # Braket's gates no other SDK has, by their matrices in Braket's documentation (a global
    # phase aside): native gates of IonQ's (gpi, gpi2, ms) and IQM's (prx) devices, and others.
    "gpi": "gate gpi(f) a { U(pi, f, pi - f) a; }",
    "gpi2": "gate gpi2(f) a { U(pi/2, f - pi/2, pi/2 - f) a; }",
    "prx": "gate prx(t, f) a { U(t, f - pi/2, pi/2 - f) a; }",
    "cv": "gate cv a, b { h b; cp(pi/2) a, b; h b; }",
    "pswap": "gate pswap(t) a, b { swap a, b; cx a, b; p(t) b; cx a, b; }",
    "cphaseshift00": "gate cphaseshift00(t) a, b { x a; x b; cp(t) a, b; x a; x b; }",
    "cphaseshift01": "gate cphaseshift01(t) a, b { x a; cp(t) a, b; x a; }",
    "cphaseshift10": "gate cphaseshift10(t) a, b { x b; cp(t) a, b; x b; }",
    # exp(i t/4 (XX + YY)): xx(-t/2) then yy(-t/2), written out as above.
    "xy": "gate xy(t) a, b { h a; h b; cx a, b; rz(-t/2) b; cx a, b; h a; h b; "
          "rx(pi/2) a; rx(pi/2) b; cx a, b; rz(-t/2) b; cx a, b; rx(-pi/2) a; rx(-pi/2) b; }",
    # xx(t) between rotations of X to cos(f) X + sin(f) Y on each qubit.
    "ms": "gate ms(f0, f1, t) a, b { rz(-f0) a; rz(-f1) b; h a; h b; cx a, b; rz(t) b; cx a, b; h a; h b; "
          "rz(f0) a; rz(f1) b; }",
}
#: The version statement, after any `//` lines and `/* ... */` blocks, each block ending at its
#: first `*/` (the rule of `qtau.qasm_header.LEADING_COMMENTS`: a sibling layer, so not imported).
_HEADER = re.compile(r"^\s*(?:(?://[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)\s*)*OPENQASM\s+3(?:\.\d+)?\s*;",
                     re.IGNORECASE)
#: The names `stdgates.inc` defines: a program that declares one itself (its own `gate h`, a
#: register named `s`) cannot take the include, which Qiskit's importer then refuses ("'h' is
#: already defined", "Symbol 's' already inserted") although the program is valid as written.
STDGATES = frozenset({
    "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "cx", "cy", "cz", "cp",
    "crx", "cry", "crz", "ch", "swap", "ccx", "cswap", "cu", "CX", "phase", "cphase", "id", "u1", "u2", "u3",
})
_DECLARED = re.compile(
    r"\b(?:gate|opaque|def)\s+([A-Za-z_]\w*)"
    r"|\b(?:qubit|bit|qreg|creg|int|uint|float|angle|bool|complex|duration|stretch)\b\s*(?:\[[^\]]*\])?\s+([A-Za-z_]\w*)"
    r"|\blet\s+([A-Za-z_]\w*)")


def with_standard_gates(text: str) -> str:
    """`text` with `include "stdgates.inc"` and definitions of the Braket built-ins it uses, where
    it has no include and declares none of the standard library's names itself."""
    if "stdgates.inc" in text:
        return text
    header = _HEADER.match(text)
    if header is None:
        return text
    body = text[header.end():]
    declared = {name for match in _DECLARED.finditer(body) for name in match.groups() if name}
    if declared & STDGATES:
        return text
    defs = [d for name, d in BRAKET_GATES.items() if re.search(rf"(?m)^\s*{name}\b\s*[\s(]", body)]
    # One line: a parse error's line number must point into the user's own text.
    return " ".join([header.group(0).strip(), 'include "stdgates.inc";', *defs]) + body


#: A `gate` definition with parameters: its parameter list (group 1) and body. Gate bodies hold
#: no braces (as `qtau.qasm_limits` reads them too).
_GATE_WITH_PARAMETERS = re.compile(r"\bgate\s+[A-Za-z_]\w*\s*\(([^)]*)\)[^{;]*\{[^}]*\}")


def ordered_gate_parameters(text: str) -> str:
    """`text` with each `gate` definition's parameters renamed so that their alphabetical order is
    their declared order.

    Qiskit's OpenQASM 3 importer (qiskit-qasm3-import 0.6) binds a defined gate's parameters in
    alphabetical order of their names: `gate g(b, a) q { rx(a) q; }` applied as `g(0, pi)` ran
    rx(0), and `gate myrot(theta, phi)` swapped its angles, on every Qiskit-read path (Aer,
    BasicSimulator, IBM, PennyLane through Qiskit) while Braket read it right. The names become
    `_qtau_p00`, `_qtau_p01`, ... in the definition's head and body (an identifier there followed by
    an argument list or a qubit operand is a gate call, never a parameter, and keeps its name).
    Definitions already in order are left as written."""
    return _GATE_WITH_PARAMETERS.sub(_in_declared_order, text)


def _in_declared_order(definition: re.Match) -> str:
    names = [n.strip() for n in definition.group(1).split(",") if n.strip()]
    if names == sorted(names) or not all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
        return definition.group(0)
    width = max(2, len(str(len(names) - 1)))
    renamed = {name: f"_qtau_p{i:0{width}d}" for i, name in enumerate(names)}
    used = re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?!\w)(?!\s*\()(?!\s+[A-Za-z_$])")
    text, at = definition.group(0), definition.start()
    return (text[:definition.start(1) - at] + ", ".join(renamed[n] for n in names)
            + used.sub(lambda m: renamed[m.group(1)], text[definition.end(1) - at:]))


def readable_by_qiskit(text: str) -> str:
    """OpenQASM 3 `text` as Qiskit's importer reads it right: the standard library where the
    program needs it (`with_standard_gates`), and defined gates' parameters in an order the
    importer binds correctly (`ordered_gate_parameters`)."""
    return ordered_gate_parameters(with_standard_gates(text))


def unboxed(circuit: Any) -> Any:
    """A Qiskit circuit (duck-typed: no SDK import here) with each `box` (OpenQASM 3's, Qiskit's
    BoxOp) replaced by its body, boxes within it too; the circuit itself when it has none.

    A box scopes instructions for a compiler (timing, annotations) and changes nothing a simulator
    computes, but Aer's and BasicSimulator's transpilers refuse it ("The control-flow construct
    'box' is not supported by the backend") and pennylane-qiskit fails on it (AttributeError), so
    qtau-qiskit and qtau-pennylane run its body in its place."""
    if not any(inst.operation.name == "box" for inst in circuit.data):
        return circuit
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        if inst.operation.name == "box":
            out.compose(unboxed(inst.operation.blocks[0]), qubits=inst.qubits, clbits=inst.clbits, inplace=True)
        else:
            out.append(inst)
    return out
