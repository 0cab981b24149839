"""Numbers users pass from numpy (or any library that registers its scalars with Python's
`numbers` ABCs) as Python's own, before QTAU's checks read them.

Shots, widths, budgets and flags are often computed with numpy (`np.int64(1000)`, `np.float32(0.9)`,
`np.bool_(True)`), and Qiskit, Aer, PennyLane and Braket accept them; a check written as
`isinstance(value, int)` refused them as bad input. Checks call `plain` first: an integer scalar
becomes an `int`, a real one a `float`, a boolean one a `bool`; anything else (strings, None,
containers, Python's own numbers) comes back unchanged for the check to judge.
"""

from __future__ import annotations

import numbers
from typing import Any


def plain(value: Any) -> Any:
    """`value` as Python's own bool, int or float when it is another library's scalar of that kind."""
    kind = type(value)
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return bool(value) if isinstance(value, bool) else int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    dtype = getattr(value, "dtype", None)  # numpy's bool_ is not registered with `numbers`
    if getattr(dtype, "kind", None) == "b" and getattr(value, "ndim", None) == 0:
        return bool(value)
    return value
