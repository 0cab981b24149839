"""Circuit formats: recognise what a circuit object is, find the cheapest conversion path, and
prepare a task's job for one resource (`prepare`: the one call a worker makes).

Core knows OpenQASM text itself; plugins recognise their SDK's objects (`qtau_circuit_format`)
and offer conversion edges (`qtau_circuit_converters`). Conversion runs where the circuit runs
(on the worker), so the driver never needs an SDK it does not already use.
"""

from __future__ import annotations

import heapq
import signal
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from qtau import path_hints
from qtau.errors import (
    CircuitConversionError,
    CircuitFunctionExitError,
    CircuitFunctionTimeoutError,
    CircuitWidthError,
    InvalidTaskError,
    QtauError,
    sdk_panic,
)
from qtau.executor import CircuitJob
from qtau.mitigation_options import NONE as NO_MITIGATION
from qtau.plugins import HostSpec, PluginHost, host_for
from qtau.qasm_header import OPENQASM2, OPENQASM3, qasm_format
from qtau.qasm_includes import check_includes
from qtau.qasm_limits import check_size
from qtau.qasm_summary import summarize
from qtau.sdk_imports import import_one_at_a_time
from qtau.secrets import redact
from qtau.threads import CallTimedOut, call_with_timeout
from qtau.types import CircuitSummary, Converter, QuantumTask, Resource
from qtau.validation import unreadable_circuit


def detect_format(host: PluginHost, circuit: Any) -> str:
    """The format name of `circuit`, or InvalidTaskError naming what would recognise it."""
    if isinstance(circuit, str):
        fmt = qasm_format(circuit)
        if fmt:
            return fmt
        raise InvalidTaskError(
            "a circuit given as text must be OpenQASM 2 or 3 starting with `OPENQASM 2.0;` or `OPENQASM 3.0;` "
            "(after any comments)",
            field="circuit", value=circuit[:60],
            fix="pass OpenQASM text, or a circuit object of an installed SDK",
        )
    fmt = host.call("qtau_circuit_format", circuit=circuit)
    if fmt:
        return fmt
    raise unsupported_circuit(circuit)


def unsupported_circuit(circuit: Any) -> InvalidTaskError:
    """The error for a circuit object no installed plugin recognises."""
    kind = f"{type(circuit).__module__}.{type(circuit).__qualname__}"
    return InvalidTaskError(
        f"unsupported circuit object of type {kind}",
        field="circuit", value=kind,
        fix="pass a Qiskit QuantumCircuit, Braket Circuit, PennyLane QNode or tape, or OpenQASM text, "
        "and install the QTAU plugin for that SDK (qtau-qiskit, qtau-braket, qtau-pennylane)",
    )


def shape_key(circuit: Any) -> Any:
    """A cheap key for what QDREAMER reads from a circuit (width, gate counts, measurements), or
    None when the object offers nothing cheap to read.

    Text is its own key. A Qiskit circuit's key is its width, instruction count, gate counts
    (`count_ops`, native code: microseconds, where pickling a large circuit takes milliseconds) and
    which qubit each measurement reads into which bit (`_measure_targets`); a Braket circuit's and a
    PennyLane tape's are their instruction lists' lengths and ends. The key changes whenever a gate
    is added, removed or renamed, or a measurement is pointed at another bit, so a circuit mutated
    after one submission is summarised, and its counts keyed, as it is now. Caches keyed by it also
    hold the object (its id is part of the key).
    """
    if isinstance(circuit, str):
        return circuit
    count_ops = getattr(circuit, "count_ops", None)
    if callable(count_ops) and hasattr(circuit, "data"):
        try:
            found = count_ops()
            counts = tuple(sorted((str(k), int(v)) for k, v in found.items()))
            return (id(circuit), circuit.num_qubits, getattr(circuit, "num_clbits", 0), len(circuit.data), counts,
                    _measure_targets(circuit, int(found.get("measure", 0))))
        except Exception:
            return None
    for attr in ("instructions", "operations"):
        listed = getattr(circuit, attr, None)
        if isinstance(listed, (list, tuple)):
            ends = tuple(repr(x) for x in listed[-2:])
            extra = len(getattr(circuit, "measurements", ()) or ())
            return (id(circuit), attr, len(listed), ends, extra)
    return None


@attrs.frozen(eq=False)
class Prepared:
    """A task's job for one resource, the conversion path of formats that produced it, and where
    a conversion left a format with classical bits for one without, `(classical bits, measured
    bits)` of the task's circuit (`key_layout`), to put the result's keys back at those bits."""

    job: CircuitJob
    path: tuple[str, ...]
    bits: tuple[int, tuple[int, ...]] | None = None


def _stopping_the_process(err: BaseException) -> bool:
    """Whether `err` was raised by the process's own SIGTERM handler, not by a circuit function.

    An engine that stops a worker sends it SIGTERM, and a worker process may turn that into
    SystemExit in whatever its main thread runs (Ray's workers do, when their node is removed): a
    circuit function running there then raises a SystemExit it never called. Read as the task's
    own `sys.exit()`, it failed the task as bad input, with no other try: a task lost with the node
    (tests/test_ray_faults.py). Raised from the handler, it is let through, and the engine's own
    recovery (Ray's retry of a task whose worker died) runs the task again."""
    handler = signal.getsignal(signal.SIGTERM)
    code = getattr(handler, "__code__", None)
    if code is None:
        return False
    frame = err.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code is code:
            return True
        frame = frame.tb_next
    return False


def _call_factory(task: QuantumTask, factory: Any) -> Any:
    """The circuit a task's circuit function returns for the task's args, within its timeout."""
    name = getattr(factory, "__name__", type(factory).__name__)

    def call() -> Any:
        try:
            return factory(*task.args, **task.kwargs)
        except (QtauError, KeyboardInterrupt):
            raise  # Ctrl-C is the user stopping their own program: it must still stop it
        except Exception as err:
            raise InvalidTaskError(
                f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                field="circuit", value=name, fix="fix the function so it returns a circuit for these args",
            ) from err
        except BaseException as err:  # SystemExit, GeneratorExit: fail the task, not the caller
            if _stopping_the_process(err):
                raise  # the worker is being stopped while the function ran: the task is not at fault
            raise CircuitFunctionExitError(
                f"the circuit function {name}() raised {type(err).__name__}: {redact(str(err))}",
                field="circuit", value=name,
                fix="return a circuit or raise an exception instead of calling sys.exit()",
            ) from err

    try:
        circuit = call_with_timeout(call, task.timeout)
    except CallTimedOut:
        # The function is the task's own input: another resource would hang again.
        raise CircuitFunctionTimeoutError(
            f"the circuit function {name}() did not return within the task's timeout of {task.timeout} s",
            field="timeout", value=task.timeout,
            fix="make the function return sooner, or raise QuantumTask(timeout=...)",
        ) from None
    if circuit is None:
        raise InvalidTaskError(
            f"the circuit function {name}() returned None",
            field="circuit", value=name, fix="return the circuit object from the function",
        )
    return circuit


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
        #: (shape_key, format) -> (key layout, the circuit, held so its id is not reused)
        self._layouts: OrderedDict[tuple, tuple[tuple[int, tuple[int, ...]] | None, Any]] = OrderedDict()
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
                raise unreadable_circuit(fmt, declared, failed[-1])
        return found

    def key_layout(self, circuit: Any, fmt: str) -> tuple[int, tuple[int, ...]] | None:
        """`key_layout` of the circuit's summary (None where no plugin can tell), cached by
        `shape_key` (a sampler sends one circuit object many times; its summary costs more than
        the key)."""
        key = shape_key(circuit)
        with self._lock:
            hit = self._layouts.get((key, fmt)) if key is not None else None
        if hit is not None:
            return hit[0]
        try:
            found = key_layout(self.summary(circuit, fmt))
        except QtauError:
            found = None
        if key is None:
            return found
        with self._lock:
            self._layouts[(key, fmt)] = (found, circuit)
            if len(self._layouts) > self._cache_size:
                self._layouts.popitem(last=False)
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
            import_one_at_a_time(conv.sdk_modules)
            try:
                value = conv.convert(value)
            except CircuitConversionError:
                raise
            except BaseException as err:
                if not isinstance(err, Exception) and not sdk_panic(err):
                    raise
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

    def resolve(self, task: QuantumTask) -> tuple[Any, str]:
        """The task's circuit object and its format, calling a circuit factory if one was given."""
        circuit = task.circuit
        if isinstance(circuit, str):
            return circuit, task.circuit_format or self.detect(circuit)
        fmt = task.circuit_format or self.host.call("qtau_circuit_format", circuit=circuit)
        if fmt:
            return circuit, fmt
        if callable(circuit):
            circuit = _call_factory(task, circuit)
        return circuit, self.detect(circuit)

    def width(self, circuit: Any, fmt: str) -> int | None:
        """The width of `circuit` from its summary (OpenQASM text core reads itself, other formats
        the plugins' `qtau_circuit_summary`), or None when neither can tell."""
        try:
            summary = self.summary(circuit, fmt)
        except QtauError:
            return None
        return summary.num_qubits if summary is not None else None


_circuits: dict[int, Circuits] = {}
_circuits_lock = threading.Lock()


def circuits_for(host: PluginHost) -> Circuits:
    """The process's `Circuits` of a plugin host (one per host, so its conversion cache is shared)."""
    with _circuits_lock:
        found = _circuits.get(id(host))
        if found is None or found.host is not host:  # an id reused by a newer host
            found = _circuits[id(host)] = Circuits(host)
        return found


# -- a task's job for one resource ---------------------------------------------------------------


def prepare(task: QuantumTask, resource: Resource, host: HostSpec, attempt: int = 1) -> Prepared:
    """The task as a job in a format `resource` accepts, with the conversion path taken: the one
    call a worker or the remote-job tracker makes per attempt.

    The circuit is resolved (a circuit function called within the task's timeout) and the plugins
    of `host` (this process's host rebuilt from the payload's spec) are asked once for its format
    and width (`PluginHost.read_circuit`); the width is checked against the task's `num_qubits`,
    and the circuit converted (`Circuits.convert`, cached per host). A task without mitigation
    carries none in its job, so nothing on its way touches the mitigation modules.
    """
    plugins, circuit, fmt, real = _read(task, host)
    if real is None:
        real = circuits_for(plugins).width(circuit, fmt)
    if task.num_qubits and real is not None and real > task.num_qubits:
        raise CircuitWidthError(
            f"task {task.task_id} declared num_qubits={task.num_qubits} but its circuit has {real} qubits",
            field="num_qubits", value=real,
            fix=f"declare num_qubits={real} (or more) or return a circuit of at most {task.num_qubits} qubits",
        )
    width = task.num_qubits or real
    native, native_fmt, path = circuits_for(plugins).convert(circuit, fmt, resource.circuit_formats)
    mitigation = mitigation_of(task)
    source = (circuit, fmt) if mitigation is not None else None
    bits = circuits_for(plugins).key_layout(circuit, fmt) if len(path) > 1 else None
    if circuit is task.circuit:  # not a factory: the circuit object itself takes the arguments
        return Prepared(CircuitJob(task.task_id, native, native_fmt, task.shots, task.args,
                                   dict(task.kwargs), width, attempt, mitigation, source), path, bits)
    return Prepared(CircuitJob(task.task_id, native, native_fmt, task.shots, width=width,
                               attempt=attempt, mitigation=mitigation, source=source), path, bits)


def mitigation_of(task: QuantumTask) -> Any:
    """The mitigation a task's job carries: None when it has none to do."""
    m = task.mitigation  # most tasks carry the default (== NONE); only another setting is asked
    return None if m == NO_MITIGATION or not (m.active or m.auto) else m


def key_layout(summary: CircuitSummary | None) -> tuple[int, tuple[int, ...]] | None:
    """`(classical bits, measured bits)` of a circuit whose measurements leave some of its classical
    bits unwritten (`creg c[3]` of which a measurement writes c[0] and c[2]), from its summary;
    None when its bits are all written or its format has none.

    A format without classical bits (Braket, a PennyLane tape) reads one bit per measured bit, in
    bit order; Qiskit reads every bit, an unwritten one as 0. The layout lets `spread_counts` give
    the task's results Qiskit's keys wherever they ran."""
    if summary is None or not summary.classical_bits or not summary.measured_bits:
        return None
    if summary.measured_bits == tuple(range(summary.classical_bits)):
        return None
    return summary.classical_bits, summary.measured_bits


def _measure_targets(circuit: Any, measures: int) -> tuple[tuple[int, int], ...]:
    """(qubit, bit) of each of a Qiskit circuit's `measures` top-level measurements: what its
    counts' keys are laid out by. Read from the last `measures` instructions when they are all
    measurements (most circuits: a few instructions, microseconds), else from a scan of them all."""
    if not measures:
        return ()
    data = circuit.data
    tail = data[-measures:]
    picked = tail if all(ins.operation.name == "measure" for ins in tail) else \
        [ins for ins in data if ins.operation.name == "measure"]
    return tuple((circuit.find_bit(ins.qubits[0]).index, circuit.find_bit(ins.clbits[0]).index) for ins in picked)


def spread_counts(counts: Mapping[str, int], bits: tuple[int, tuple[int, ...]]) -> dict[str, int]:
    """Counts keyed by the measured bits only (bit order, the lowest rightmost) as keys over every
    classical bit, unwritten ones 0. Keys of any other length (a backend that already read every
    bit) are returned as they are."""
    width, measured = bits
    if any(len(key) != len(measured) for key in counts):
        return dict(counts)
    out: dict[str, int] = {}
    for key, n in counts.items():
        chars = ["0"] * width
        for j, bit in enumerate(measured):
            chars[width - 1 - bit] = key[len(key) - 1 - j]
        full = "".join(chars)
        out[full] = out.get(full, 0) + n
    return out


def _read(task: QuantumTask, host: HostSpec) -> tuple[PluginHost, Any, str, int | None]:
    """This process's host of `host`, the task's circuit (a circuit function called), its format,
    and its width where a plugin reads it cheaply (None: from the summary, or unknown). OpenQASM
    text is read by core."""
    plugins = host_for(host)
    circuit = task.circuit
    if isinstance(circuit, str):
        return plugins, circuit, task.circuit_format or detect_format(plugins, circuit), None
    fmt, width = plugins.read_circuit(circuit, task.circuit_format)
    if fmt is not None:
        return plugins, circuit, fmt, width
    if not callable(circuit):
        raise unsupported_circuit(circuit)
    circuit = _call_factory(task, circuit)
    if isinstance(circuit, str):
        return plugins, circuit, detect_format(plugins, circuit), None
    fmt, width = plugins.read_circuit(circuit)
    if fmt is None:
        raise unsupported_circuit(circuit)
    return plugins, circuit, fmt, width


def missing_path_hint(source: str, targets: Sequence[str], graph: ConversionGraph) -> str:
    """What to install (or load) for a path from `source` to `targets` (qtau.path_hints)."""
    return path_hints.missing_path_hint(source, targets, graph.edges, graph.formats())


def missing_path(source: str, targets: Sequence[str], graph: ConversionGraph) -> CircuitConversionError:
    return CircuitConversionError(
        f"no conversion path from {source} to any of {', '.join(targets)} with the installed plugins",
        field="circuit", value=source, fix=missing_path_hint(source, targets, graph),
    )
