"""Circuit formats: recognise what a circuit object is, and find the cheapest conversion path.

Core knows OpenQASM text itself; plugins recognise their SDK's objects (`qtau_circuit_format`)
and offer conversion edges (`qtau_circuit_converters`). Conversion runs where the circuit runs
(on the worker), so the driver never needs an SDK it does not already use.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from qtau import path_hints
from qtau.errors import CircuitConversionError, InvalidTaskError
from qtau.plugins import PluginHost
from qtau.qasm_includes import check_includes
from qtau.qasm_limits import check_size
from qtau.types import CircuitSummary, Converter

OPENQASM2 = "openqasm2"
OPENQASM3 = "openqasm3"

_QASM_VERSION = re.compile(r"^\s*(?://[^\n]*\n\s*)*OPENQASM\s+(\d+)(?:\.\d+)?\s*;", re.IGNORECASE)


def qasm_format(text: str) -> str | None:
    match = _QASM_VERSION.match(text)
    if not match:
        return None
    return OPENQASM2 if match.group(1) == "2" else OPENQASM3


def detect_format(host: PluginHost, circuit: Any) -> str:
    """The format name of `circuit`, or InvalidTaskError naming what would recognise it."""
    if isinstance(circuit, str):
        fmt = qasm_format(circuit)
        if fmt:
            return fmt
        raise InvalidTaskError(
            "a circuit given as text must be OpenQASM 2 or 3 starting with `OPENQASM 2.0;` or `OPENQASM 3.0;`",
            field="circuit", value=circuit[:60],
            fix="pass OpenQASM text, or a circuit object of an installed SDK",
        )
    fmt = host.call("qtau_circuit_format", circuit=circuit)
    if fmt:
        return fmt
    kind = f"{type(circuit).__module__}.{type(circuit).__qualname__}"
    raise InvalidTaskError(
        f"unsupported circuit object of type {kind}",
        field="circuit", value=kind,
        fix="pass a Qiskit QuantumCircuit, Braket Circuit, PennyLane QNode or tape, or OpenQASM text, "
        "and install the QTAU plugin for that SDK (qtau-qiskit, qtau-braket, qtau-pennylane)",
    )


def shape_key(circuit: Any) -> Any:
    """A cheap key for what QDREAMER reads from a circuit (width, gate counts, measurements), or
    None when the object offers nothing cheap to read.

    Text is its own key. A Qiskit circuit's key is its width, instruction count and gate counts
    (`count_ops`, native code: microseconds, where pickling a large circuit takes milliseconds);
    a Braket circuit's and a PennyLane tape's are their instruction lists' lengths and ends. The key
    changes whenever a gate is added, removed or renamed, so a circuit mutated after one submission
    is summarised as it is now. Caches keyed by it also hold the object (its id is part of the key).
    """
    if isinstance(circuit, str):
        return circuit
    count_ops = getattr(circuit, "count_ops", None)
    if callable(count_ops) and hasattr(circuit, "data"):
        try:
            counts = tuple(sorted((str(k), int(v)) for k, v in count_ops().items()))
            return (id(circuit), circuit.num_qubits, getattr(circuit, "num_clbits", 0), len(circuit.data), counts)
        except Exception:
            return None
    for attr in ("instructions", "operations"):
        listed = getattr(circuit, attr, None)
        if isinstance(listed, (list, tuple)):
            ends = tuple(repr(x) for x in listed[-2:])
            extra = len(getattr(circuit, "measurements", ()) or ())
            return (id(circuit), attr, len(listed), ends, extra)
    return None


class ConversionGraph:
    """Directed graph of converters; `path` is Dijkstra over their costs."""

    def __init__(self, converters: Iterable[Converter]) -> None:
        self.edges: dict[str, list[Converter]] = {}
        for conv in converters:
            self.edges.setdefault(conv.source, []).append(conv)

    def formats(self) -> set[str]:
        found = set(self.edges)
        for convs in self.edges.values():
            found.update(c.target for c in convs)
        return found

    def path(self, source: str, targets: Sequence[str]) -> list[Converter] | None:
        """Cheapest converter chain from `source` to any of `targets` (earlier targets win ties)."""
        if source in targets:
            return []
        rank = {t: i for i, t in enumerate(targets)}
        queue: list[tuple[float, int, int, str, list[Converter]]] = [(0.0, 0, 0, source, [])]
        seen: set[str] = set()
        counter = 1
        while queue:
            cost, _, _, fmt, chain = heapq.heappop(queue)
            if fmt in seen:
                continue
            seen.add(fmt)
            if fmt in rank:
                return chain
            for conv in self.edges.get(fmt, ()):
                if conv.target not in seen:
                    tie = rank.get(conv.target, len(rank))
                    heapq.heappush(queue, (cost + conv.cost, tie, counter, conv.target, chain + [conv]))
                    counter += 1
        return None


class Circuits:
    """Format detection, summaries and cached conversion over one plugin host."""

    def __init__(self, host: PluginHost, cache_size: int = 512) -> None:
        self.host = host
        self._graph: ConversionGraph | None = None
        self._cache: OrderedDict[tuple, tuple[Any, tuple[str, ...]]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def graph(self) -> ConversionGraph:
        if self._graph is None:
            converters: list[Converter] = []
            for convs in self.host.call("qtau_circuit_converters") or ():
                converters.extend(convs or ())
            self._graph = ConversionGraph(converters)
        return self._graph

    def detect(self, circuit: Any) -> str:
        return detect_format(self.host, circuit)

    def summary(self, circuit: Any, fmt: str, declared: bool = False) -> CircuitSummary | None:
        """The circuit's summary, or None when no plugin summarises `fmt`.

        Core reads OpenQASM text itself (so no SDK plugin is needed just to rank a QASM task);
        other formats, and QASM constructs core does not follow, are asked of the plugins. When a
        plugin fails on a circuit whose format the user declared (`circuit_format=`), the circuit is
        what is wrong (InvalidTaskError naming the parse error); on a detected format it is the
        plugin's failure (PluginError naming the plugin).
        """
        if isinstance(circuit, str) and fmt in (OPENQASM2, OPENQASM3):
            from qtau.qasm_summary import summarize

            check_includes(circuit)
            check_size(circuit)

            try:
                return summarize(circuit, "2" if fmt == OPENQASM2 else "3")
            except ValueError:
                pass  # a construct core does not follow: the plugins may
        before = len(self.host.failures)
        found = self.host.call("qtau_circuit_summary", required=not declared, circuit=circuit, circuit_format=fmt)
        if found is None and declared:
            failed = [f for f in self.host.failures[before:] if f.stage == "qtau_circuit_summary"]
            if failed:
                from qtau.validation import unreadable_circuit

                raise unreadable_circuit(fmt, declared, failed[-1])
        return found

    def path_names(self, source: str, targets: Sequence[str]) -> tuple[str, ...] | None:
        chain = self.graph.path(source, targets)
        if chain is None:
            return None
        return (source, *(c.target for c in chain))

    def convert(self, circuit: Any, source: str, targets: Sequence[str]) -> tuple[Any, str, tuple[str, ...]]:
        """`circuit` in one of `targets`: (converted circuit, its format, the path of formats).

        Conversions of OpenQASM text are cached by the text; circuit objects, which can change
        after a submission, are converted each time they run.
        """
        if isinstance(circuit, str) and source in (OPENQASM2, OPENQASM3):
            check_includes(circuit)  # before any SDK, which would open the included path itself
            check_size(circuit)
        if source in targets:
            return circuit, source, (source,)
        content = circuit if isinstance(circuit, str) else None
        key = (content, source, tuple(targets))
        if content is not None:
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
                    return hit[0], hit[1][-1], hit[1]
        chain = self.graph.path(source, targets)
        if chain is None:
            raise missing_path(source, targets, self.graph)
        value = circuit
        for conv in chain:
            try:
                value = conv.convert(value)
            except CircuitConversionError:
                raise
            except Exception as err:
                raise CircuitConversionError(
                    f"converting {conv.source} to {conv.target} (plugin {conv.provider!r}) failed: "
                    f"{type(err).__name__}: {err}",
                    field="circuit", value=conv.source,
                    fix="check the circuit uses gates and measurements the target format can express",
                ) from err
        path = (source, *(c.target for c in chain))
        if content is not None:
            with self._lock:
                self._cache[key] = (value, path)
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return value, path[-1], path


def missing_path_hint(source: str, targets: Sequence[str], graph: ConversionGraph) -> str:
    """What to install (or load) for a path from `source` to `targets` (qtau.path_hints)."""
    return path_hints.missing_path_hint(source, targets, graph.edges, graph.formats())


def missing_path(source: str, targets: Sequence[str], graph: ConversionGraph) -> CircuitConversionError:
    return CircuitConversionError(
        f"no conversion path from {source} to any of {', '.join(targets)} with the installed plugins",
        field="circuit", value=source, fix=missing_path_hint(source, targets, graph),
    )
