"""A QNode together with the arguments it is to be called with: `bind(qnode, *args, **kwargs)`.

The worker calls a plain circuit *function* with the task's `args`/`kwargs`, but it passes a QNode
through as a circuit (a QNode is callable; calling it would execute it on its own device). A QNode
that takes arguments therefore travels bound to them: `QuantumTask(circuit=bind(circuit, 0.3))`
builds the QNode's tape as `circuit(0.3)` would, then runs that tape on the chosen resource. The
binding is a plain picklable object, so it crosses Ray like the QNode itself.
"""

from __future__ import annotations

from typing import Any


class BoundQNode:
    """`qnode` with the positional and keyword arguments its tape is built with."""

    __slots__ = ("qnode", "args", "kwargs")

    def __init__(self, qnode: Any, args: tuple = (), kwargs: dict | None = None) -> None:
        self.qnode = qnode
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    def __repr__(self) -> str:
        name = getattr(getattr(self.qnode, "func", None), "__name__", type(self.qnode).__name__)
        return f"BoundQNode({name}, args={len(self.args)}, kwargs={sorted(self.kwargs)})"

    def __getstate__(self):
        return (self.qnode, self.args, self.kwargs)

    def __setstate__(self, state) -> None:
        self.qnode, self.args, self.kwargs = state


def bind(qnode: Any, *args: Any, **kwargs: Any) -> BoundQNode:
    """A QNode bound to the arguments its circuit is built with (its format: `pennylane_qnode`)."""
    if isinstance(qnode, BoundQNode):
        return BoundQNode(qnode.qnode, qnode.args + args, {**qnode.kwargs, **kwargs})
    return BoundQNode(qnode, args, kwargs)
