"""Size limits on OpenQASM text, checked in core before any SDK parses or expands it.

A 1 KB program of 30 gate definitions, each calling the previous one twice, expands to 2**30
gates: an SDK would expand it for minutes on a full core, outside the task's timeout, and grow
until memory runs out. The expanded gate count is computed here from the definitions alone
(memoised, so the count itself is linear in the text) and a program over `MAX_EXPANDED_GATES`
is a `QasmLimitError`, as is text over `MAX_QASM_CHARS`.
"""

from __future__ import annotations

import re

from qtau.errors import QasmLimitError

MAX_QASM_CHARS = 50_000_000
MAX_EXPANDED_GATES = 10_000_000
_GATE_DEF = re.compile(r"\bgate\s+([A-Za-z_]\w*)[^{;]*\{([^}]*)\}")
_CALL = re.compile(r"^\s*([A-Za-z_]\w*)")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
#: OpenQASM 3 gate modifiers (`ctrl @`, `negctrl(2) @`, `inv @`, `pow(3) @`): the gate after them
#: is the one expanded, so they are removed before calls are counted.
_MODIFIERS = re.compile(r"\b(?:ctrl|negctrl|inv|pow)\s*(?:\([^)]*\))?\s*@\s*")


def check_size(text: str) -> None:
    """Raise QasmLimitError when `text` is too long or its gates expand past the limit."""
    if len(text) > MAX_QASM_CHARS:
        raise QasmLimitError(
            f"the OpenQASM program is {len(text)} characters, over the limit of {MAX_QASM_CHARS}",
            field="circuit", value=len(text), fix="split the program into smaller circuits",
        )
    if "gate" not in text:
        return
    text = _MODIFIERS.sub("", _COMMENTS.sub("", text))
    bodies = {name: [m.group(1) for s in body.split(";") if (m := _CALL.match(s))]
              for name, body in _GATE_DEF.findall(text)}
    sizes: dict[str, int] = {}
    for name in bodies:  # definitions precede their use in OpenQASM, so callees are sized first
        sizes[name] = sum(sizes.get(callee, 1) for callee in bodies[name])
    program = _GATE_DEF.sub("", text)
    total = sum(sizes.get(m.group(1), 1) for s in program.split(";") if (m := _CALL.match(s)))
    if total > MAX_EXPANDED_GATES:
        raise QasmLimitError(
            f"the OpenQASM program's gate definitions expand to {total} gates, over the limit of "
            f"{MAX_EXPANDED_GATES}", field="circuit", value=total,
            fix="define gates that expand to fewer operations, or split the circuit",
        )
