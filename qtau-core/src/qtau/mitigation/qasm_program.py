"""OpenQASM 2 programs as QTAU's mitigation rewrites them: header, unitary body, final measurements.

Folding and twirling need the unitary part of a circuit and its terminal measurements apart, and
every gate's inverse. Circuits of any SDK reach here as OpenQASM 2 (the plugins' converters write
it), so one text rewriter serves every backend without importing an SDK.
"""

from __future__ import annotations

import re

import attrs

from qtau.errors import MitigationError

#: Gates that are their own inverse.
SELF_INVERSE = frozenset({"x", "y", "z", "h", "cx", "CX", "cy", "cz", "ch", "swap", "ccx", "cswap", "id",
                          "u0", "c3x", "c4x", "ecr", "barrier", "rccx"})
INVERSE_NAME = {"s": "sdg", "sdg": "s", "t": "tdg", "tdg": "t", "sx": "sxdg", "sxdg": "sx"}
#: Gates whose inverse negates every parameter.
NEGATE = frozenset({"rx", "ry", "rz", "p", "u1", "phase", "crx", "cry", "crz", "cu1", "cp", "rxx", "ryy",
                    "rzz", "rzx"})
#: Gates of qelib1.inc whose inverse is no gate of the library: their definitions (qelib1.inc's
#: own), inverted call by call where a circuit calls them (MQT Bench's random circuits do).
LIBRARY_BODIES = {
    "csx": ("a,b", "h b; cu1(pi/2) a,b; h b;"),
    "rc3x": ("a,b,c,d", "u2(0,pi) d; u1(pi/4) d; cx c,d; u1(-pi/4) d; u2(0,pi) d; cx a,d; u1(pi/4) d; cx b,d; "
                        "u1(-pi/4) d; cx a,d; u1(pi/4) d; cx b,d; u1(-pi/4) d; u2(0,pi) d; u1(pi/4) d; cx c,d; "
                        "u1(-pi/4) d; u2(0,pi) d;"),
    "c3sqrtx": ("a,b,c,d", "h d; cu1(pi/8) a,d; h d; cx a,b; h d; cu1(-pi/8) b,d; h d; cx a,b; h d; "
                           "cu1(pi/8) b,d; h d; cx b,c; h d; cu1(-pi/8) c,d; h d; cx a,c; h d; cu1(pi/8) c,d; "
                           "h d; cx b,c; h d; cu1(-pi/8) c,d; h d; cx a,c; h d; cu1(pi/8) c,d; h d;"),
}
CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*(.*)$", re.S)
_INDEXED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\[\s*(\d+)\s*\]$")


def _split_top(text: str) -> list[str]:
    """`text` split at commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def statements(text: str) -> list[str]:
    """The program's statements without comments; a gate definition is one statement."""
    text = re.sub(r"//[^\n]*", "", text)
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append(text[start:i + 1].strip())
                start = i + 1
        elif ch == ";" and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _unsupported(what: str, statement: str) -> MitigationError:
    return MitigationError(
        f"zero-noise extrapolation cannot fold this circuit: {what} ({statement[:60]!r})",
        field="mitigation", value="zne",
        fix="measure only at the end and use gates of qelib1.inc (or gates defined from them), or use "
        "mitigation='readout' / 'trex', which do not change the circuit's gates")


@attrs.frozen
class GateDef:
    params: tuple[str, ...]
    qargs: tuple[str, ...]
    body: tuple[str, ...]


@attrs.define
class Program:
    """A parsed OpenQASM 2 program: `header` (version, includes, registers, definitions), `body`
    (gate calls and barriers in order), `measures` ((qubit ref, clbit ref) pairs, in order), and
    `ordered`: the body's statements and the measurements as they came (a measurement followed by
    more operations must stay where it was: moved to the end, it reads another state)."""

    header: list[str]
    body: list[str]
    measures: list[tuple[str, str]]
    qregs: list[tuple[str, int]]
    cregs: list[tuple[str, int]]
    defs: dict[str, GateDef]
    #: A statement that is neither unitary nor a final measurement (reset, if, measure then gate).
    non_unitary: str = ""
    ordered: list[str | tuple[str, str]] = attrs.field(factory=list)

    @classmethod
    def parse(cls, text: str) -> Program:
        prog = cls([], [], [], [], [], {})
        for st in statements(text):
            word = st.split(None, 1)[0].split("(", 1)[0]
            if word in ("OPENQASM", "include"):
                prog.header.append(st + ";")
            elif word in ("qreg", "creg"):
                m = re.match(r"^[qc]reg\s+([A-Za-z_][A-Za-z0-9_]*)\s*\[\s*(\d+)\s*\]$", st)
                if not m:
                    raise MitigationError(f"cannot read the register declaration {st!r}", field="circuit", value=st,
                                          fix="declare registers as qreg q[2]; creg c[2];")
                (prog.qregs if word == "qreg" else prog.cregs).append((m.group(1), int(m.group(2))))
                prog.header.append(st + ";")
            elif word == "gate":
                prog.header.append(st)
                prog._define(st)
            elif word == "opaque":
                prog.header.append(st + ";")
            elif word == "measure":
                before = len(prog.measures)
                prog._measure(st)
                prog.ordered.extend(prog.measures[before:])
            elif word in ("reset", "if"):
                prog.non_unitary = prog.non_unitary or st
                prog._step(st)
            elif prog.measures and word != "barrier":
                prog.non_unitary = prog.non_unitary or st
                prog._step(st)
            elif word == "barrier" and prog.measures:
                prog.ordered.append(st + ";")  # orders nothing among final measurements; kept in place
            else:
                prog._step(st)
        return prog

    def _step(self, st: str) -> None:
        self.body.append(st + ";")
        self.ordered.append(st + ";")

    def _define(self, st: str) -> None:
        m = re.match(r"^gate\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?\s*([^{]*)\{(.*)\}$", st, re.S)
        if m:
            params = tuple(p.strip() for p in (m.group(2) or "").split(",") if p.strip())
            qargs = tuple(q.strip() for q in m.group(3).split(",") if q.strip())
            self.defs[m.group(1)] = GateDef(params, qargs, tuple(statements(m.group(4))))

    def _register(self, regs: list[tuple[str, int]], name: str) -> tuple[int, int]:
        offset = 0
        for reg, size in regs:
            if reg == name:
                return offset, size
            offset += size
        raise MitigationError(f"register {name!r} is not declared", field="circuit", value=name,
                              fix="declare every register the program uses")

    def _measure(self, st: str) -> None:
        m = re.match(r"^measure\s+(.+?)\s*->\s*(.+)$", st)
        if not m:
            raise MitigationError(f"cannot read the measurement {st!r}", field="circuit", value=st,
                                  fix="write measurements as measure q[0] -> c[0];")
        qref, cref = m.group(1).strip(), m.group(2).strip()
        if _INDEXED.match(qref) and _INDEXED.match(cref):
            self.measures.append((qref, cref))
            return
        _, qsize = self._register(self.qregs, qref)
        _, csize = self._register(self.cregs, cref)
        self.measures.extend((f"{qref}[{i}]", f"{cref}[{i}]") for i in range(min(qsize, csize)))

    # -- what the techniques read ----------------------------------------------------------------

    @property
    def num_qubits(self) -> int:
        return sum(size for _, size in self.qregs)

    @property
    def num_clbits(self) -> int:
        return sum(size for _, size in self.cregs)

    def index(self, ref: str, quantum: bool) -> int:
        """A `reg[i]` reference as a global index (registers in declaration order)."""
        m = _INDEXED.match(ref)
        offset, _ = self._register(self.qregs if quantum else self.cregs, m.group(1))
        return offset + int(m.group(2))

    def qubit_of_bit(self) -> list[int | None]:
        """For each classical bit, the qubit measured into it last (None: never written)."""
        out: list[int | None] = [None] * self.num_clbits
        for qref, cref in self.measures:
            out[self.index(cref, False)] = self.index(qref, True)
        return out

    def ensure_measured(self) -> Program:
        """The program itself when it measures; else with every qubit measured into a new register
        `meas` (what the executors do with a circuit that measures nothing)."""
        if self.measures:
            return self
        width = self.num_qubits
        header = [*self.header, f"creg meas[{width}];"]
        refs = [(name, i) for name, size in self.qregs for i in range(size)]
        measures = [(f"{name}[{i}]", f"meas[{k}]") for k, (name, i) in enumerate(refs)]
        return Program(header, list(self.body), measures, list(self.qregs), [*self.cregs, ("meas", width)],
                       dict(self.defs), self.non_unitary, [*self.body, *measures])

    def gates(self) -> list[str]:
        """The body's gate calls (barriers left out): what folding counts."""
        return [st for st in self.body if not st.startswith("barrier")]

    def all_qubits(self) -> str:
        return ",".join(name for name, _ in self.qregs)

    # -- writing ---------------------------------------------------------------------------------

    def text(self, body: list[str], flips: set[int] = frozenset(), extra_defs: list[str] = ()) -> str:
        """The program with `body` as its unitary part, an X before the measurement of each classical
        bit in `flips` (a twirl), and `extra_defs` (inverse gate definitions) after the header.

        A program that measures before it is done (`non_unitary`; never folded) is written in its
        own order, its body as it is, and a twirled measurement there is undone on the qubit
        after it (X, measure, X) so that what follows sees the state it would have."""
        if self.non_unitary and body == self.body and self.ordered:
            steps = list(self.ordered)
        else:
            steps = [*body, *([f"barrier {self.all_qubits()};"] if flips else []), *self.measures]
        lines = [*self.header, *extra_defs]
        for n, step in enumerate(steps):
            if isinstance(step, str):
                lines.append(step)
                continue
            qref, cref = step
            flip = self.index(cref, False) in flips
            # Undone where something follows on the qubit: a gate, a reset, or another reading.
            undo = flip and (bool(self.non_unitary) or any(
                not isinstance(later, str) and later[0] == qref for later in steps[n + 1:]))
            lines += [f"x {qref};"] * flip + [f"measure {qref} -> {cref};"] + [f"x {qref};"] * undo
        return "\n".join(lines) + "\n"

    # -- inverses --------------------------------------------------------------------------------

    def inverse(self, st: str, needed: dict[str, str]) -> str:
        """The inverse of one gate call; a defined gate's inverse definition goes into `needed`."""
        return invert_call(st, self.defs, needed)


def _neg(expr: str) -> str:
    return f"-({expr})"


def invert_call(st: str, defs: dict[str, GateDef], needed: dict[str, str]) -> str:
    body = st.rstrip(";").strip()
    m = CALL.match(body)
    if not m:
        raise _unsupported("a statement QTAU cannot read", st)
    name, params, args = m.group(1), _split_top(m.group(2) or ""), m.group(3).strip()
    if name in ("reset", "measure", "if"):
        raise _unsupported("a non-unitary operation", st)
    if name in LIBRARY_BODIES and name not in defs:
        qargs, text = LIBRARY_BODIES[name]
        defs = {**defs, name: GateDef((), tuple(qargs.split(",")), tuple(statements(text)))}
    if name in SELF_INVERSE and name not in defs:
        return st if st.endswith(";") else st + ";"
    call = None
    if name in INVERSE_NAME and name not in defs:
        call = INVERSE_NAME[name]
    elif name in NEGATE and name not in defs:
        call = f"{name}({', '.join(_neg(p) for p in params)})"
    elif name in ("u3", "u", "U", "cu3") and name not in defs and len(params) == 3:
        th, ph, la = params
        call = f"{name}({_neg(th)}, {_neg(la)}, {_neg(ph)})"
    elif name == "u2" and name not in defs and len(params) == 2:
        ph, la = params
        call = f"u3(-pi/2, {_neg(la)}, {_neg(ph)})"
    elif name == "cu" and name not in defs and len(params) == 4:
        th, ph, la, ga = params
        call = f"cu({_neg(th)}, {_neg(la)}, {_neg(ph)}, {_neg(ga)})"
    elif name in defs:
        inv = f"{name}_qtau_inv"
        if inv not in needed:
            needed[inv] = ""  # reserve first: a recursive definition is impossible in OpenQASM 2
            gdef = defs[name]
            inner = [invert_call(s, defs, needed) for s in reversed(gdef.body)]
            plist = f"({', '.join(gdef.params)})" if gdef.params else ""
            needed.pop(inv)  # re-added last: every definition it calls comes before it
            needed[inv] = f"gate {inv}{plist} {', '.join(gdef.qargs)} {{ {' '.join(inner)} }}"
        call = f"{inv}({', '.join(params)})" if params else inv
    if call is None:
        raise _unsupported(f"the inverse of gate {name!r} is unknown", st)
    return f"{call} {args};"


def ordered_defs(needed: dict[str, str]) -> list[str]:
    """Inverse definitions in the order they were completed: each after those it calls."""
    return [d for d in needed.values() if d]
