"""QTAU's own data: frozen attrs classes that cross hooks and Ray unchanged.

Users' circuit objects travel as given inside `QuantumTask.circuit`; native SDK results stay in
`Result.raw`. Everything else here is plain values.

Bit order: ONE convention for every backend. A counts key is a string of classical bits with
bit 0 as the rightmost character (Qiskit's order). An X on qubit 0 of three measured qubits reads
`001` whatever the backend.
"""

from __future__ import annotations

import functools
import math
import os
import random
from collections.abc import Callable
from typing import Any, Literal

import attrs

from qtau.cut_options import cut_options
from qtau.errors import InvalidTaskError
from qtau.gate_noise import unlisted_gate_error
from qtau.gates import DIRECTIVES, arity, normalize_gates
from qtau.mitigation_options import Mitigation, parse_mitigation
from qtau.plotting import plot_result
from qtau.qasm_header import qasm_format
from qtau.render_html import result_html
from qtau.resource_request import REQUEST_KEYS, check_request
from qtau.scalars import plain
from qtau.sdk_imports import module_names

ResourceKind = Literal["simulator", "qpu"]


#: A mapping field's converter: a dict copy of the value, {} for None (attrs' own converters).
_frozen_mapping = attrs.converters.pipe(attrs.converters.default_if_none(factory=dict), dict)


@attrs.frozen(eq=True, hash=False)
class Resource:
    """Something a plugin can run circuits on.

    `id` is stable across runs (`qiskit:aer_simulator`, `ibmq:ibm_brisbane`, `braket:<arn>`).
    `native_gates` are canonical names; `transpiles` says whether the backend's SDK rewrites logical
    gates into them (so a logical `h` is fine on an `rz, sx, ecr` device). `circuit_formats` lists
    the formats its executor accepts, best first. `remote` marks resources whose executor is a
    `RemoteExecutor` (a provider queue).
    """

    id: str
    provider: str
    executor: str
    kind: ResourceKind
    num_qubits: int
    native_gates: tuple[str, ...] = attrs.field(converter=normalize_gates, factory=tuple)
    circuit_formats: tuple[str, ...] = attrs.field(converter=tuple, factory=tuple)
    transpiles: bool = True
    coupling_map: tuple[tuple[int, int], ...] | None = attrs.field(
        default=None, converter=lambda v: None if v is None else tuple(tuple(e) for e in v)
    )
    supports_mid_circuit_measurement: bool = False
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    #: Jobs go to a provider queue (a RemoteExecutor): core's tracker waits for them, no worker does.
    remote: bool = False

    def __hash__(self) -> int:
        return hash(self.id)


@attrs.frozen
class ResourceStatus:
    """Whether a resource takes work now, and how long its provider queue is."""

    resource_id: str
    online: bool
    queue_depth: int = 0
    estimated_wait_s: float = 0.0
    message: str = ""
    checked_at: float = 0.0


@attrs.frozen
class CircuitSummary:
    """What QDREAMER needs to know about a circuit: width, gate counts, measurement shape.

    `classical_bits` is the number of classical bits of a format that has them (Qiskit, OpenQASM;
    None for formats whose results are read per measured qubit, such as Braket and PennyLane), and
    `measured_bits` the bits a measurement writes, ascending: together they say how counts keys are
    laid out, so keys read in a format without classical bits are put back at their bits.

    `returns_values`: the circuit asks for results other than counts (a PennyLane tape's expval,
    var, probs or samples; a Braket circuit's result types), which only a resource reading its own
    format computes (`Result.values`): a conversion to another SDK keeps the counts alone.
    """

    num_qubits: int
    gate_counts: dict[str, int] = attrs.field(factory=dict, converter=_frozen_mapping)
    depth: int = 0
    num_measured: int = 0
    mid_circuit_measurement: bool = False
    classical_control: bool = False
    classical_bits: int | None = None
    measured_bits: tuple[int, ...] = attrs.field(default=(), converter=tuple)
    returns_values: bool = False

    @property
    def gate_names(self) -> tuple[str, ...]:
        return normalize_gates(self.gate_counts)


@attrs.frozen
class NoiseProfile:
    """Error rates of a resource, summarised robustly by its plugin.

    Errors are probabilities in [0, 1]; T1/T2 in microseconds. `flags` notes data the plugin
    distrusted and left out (e.g. a fake backend reporting an ECR error of 1.0).
    """

    resource_id: str
    one_qubit_error: float = 0.0
    two_qubit_error: float = 0.0
    readout_error: float = 0.0
    t1_us: float | None = None
    t2_us: float | None = None
    gate_errors: dict[str, float] = attrs.field(factory=dict, converter=_frozen_mapping)
    flags: tuple[str, ...] = attrs.field(factory=tuple, converter=tuple)
    source: str = ""

    def gate_error(self, gate: str) -> float:
        if gate in self.gate_errors:
            return self.gate_errors[gate]
        return unlisted_gate_error(gate, self.gate_errors, self.one_qubit_error, self.two_qubit_error)

    def estimate_fidelity(self, summary: CircuitSummary) -> float:
        """Probability that no error happens: product of (1 - error) over gates and readouts."""
        log_f = 0.0
        for gate, count in summary.gate_counts.items():
            if gate in DIRECTIVES:
                continue
            err = min(max(self.gate_error(gate), 0.0), 0.999999)
            log_f += count * math.log1p(-err)
        readouts = summary.num_measured or summary.num_qubits
        log_f += readouts * math.log1p(-min(max(self.readout_error, 0.0), 0.999999))
        return math.exp(log_f)


#: A noiseless resource (an ideal simulator).
def ideal_noise(resource_id: str) -> NoiseProfile:
    return NoiseProfile(resource_id=resource_id, source="ideal simulator")


#: Where a price comes from: a provider's API, a table shipped with a plugin (dated by `as_of`),
#: the user's override in a pilot description, or nothing to pay (local simulators).
PriceOrigin = Literal["provider", "table", "override", "free", ""]


@attrs.frozen
class CostEstimate:
    """Price of running on a resource: per task plus per shot (plus per second for time-billed).

    Time-billed devices (IBM) give `per_second`, the fixed device seconds of a task in
    `estimated_seconds`, and in `gate_seconds` the device time each gate adds to every shot
    (canonical gate names, or the fallbacks `1q`, `2q` and `measure`); `total(shots, summary)`
    then prices the circuit's own duration too. `origin` and `as_of` say where the price comes
    from and how old a shipped table is.
    """

    resource_id: str
    per_task: float = 0.0
    per_shot: float = 0.0
    per_second: float = 0.0
    estimated_seconds: float = 0.0
    currency: str = "USD"
    source: str = ""
    origin: PriceOrigin = ""
    as_of: str = ""
    gate_seconds: dict[str, float] = attrs.field(factory=dict, converter=_frozen_mapping)

    def circuit_seconds(self, summary: CircuitSummary | None) -> float:
        """Device time one shot of the circuit takes, from `gate_seconds` (0 without them).

        Gates on different qubits run in parallel: the summed gate time spread over the width is a
        lower bound, and the circuit's depth (less its measurement layer) times the mean gate time
        another; the larger one, plus one measurement, is the estimate. Without a depth, the gates'
        summed time (an upper bound).
        """
        if summary is None or not self.gate_seconds:
            return 0.0
        serial = 0.0
        gates = 0
        for gate, count in summary.gate_counts.items():
            if gate in DIRECTIVES or gate == "measure":
                continue
            seconds = self.gate_seconds.get(gate)
            if seconds is None:
                seconds = self.gate_seconds.get("2q" if arity(gate) >= 2 else "1q", 0.0)
            serial += count * seconds
            gates += count
        measured = summary.num_measured or summary.num_qubits
        measure = self.gate_seconds.get("measure", 0.0) if measured else 0.0
        if not summary.depth:
            # Depth unknown (OpenQASM text is summarised without it): every gate in sequence, an
            # upper bound, so a budget reserves enough.
            return serial + measure
        mean = serial / gates if gates else 0.0
        layered = max(summary.depth - 1, 0) * mean
        return max(serial / max(summary.num_qubits, 1), layered) + measure

    def total(self, shots: int, tasks: int = 1, summary: CircuitSummary | None = None) -> float:
        per_shot = self.per_shot
        if self.per_second and self.gate_seconds and summary is not None:
            per_shot += self.per_second * self.circuit_seconds(summary)
        return tasks * (self.per_task + self.per_second * self.estimated_seconds) + shots * tasks * per_shot


def free(resource_id: str) -> CostEstimate:
    return CostEstimate(resource_id=resource_id, source="local simulator", origin="free")


@attrs.frozen
class ExecutorInfo:
    """An executor name a plugin serves. With `prefix=True`, every name starting with it."""

    name: str
    provider: str
    description: str = ""
    prefix: bool = False

    def matches(self, executor: str) -> bool:
        return executor.startswith(self.name) if self.prefix else executor == self.name


@attrs.frozen
class Converter:
    """One edge of the circuit-format graph: `convert(circuit) -> circuit` from `source` to `target`.

    `cost` orders paths (lower is better; 1.0 for a direct translation). `sdk_modules`: the modules
    `convert` imports, which core imports one thread at a time before its first call in a process
    (`qtau.sdk_imports`: two threads importing one SDK at once can see it half-initialized).
    """

    source: str
    target: str
    convert: Callable[[Any], Any] = attrs.field(eq=False)
    provider: str = ""
    cost: float = 1.0
    sdk_modules: tuple[str, ...] = attrs.field(default=(), converter=module_names)


def _check_shots(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidTaskError(
            "shots must be a positive integer", field="shots", value=value, fix="pass shots=1000, for example"
        )


def _check_qubits(instance, attribute, value):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidTaskError(
            "num_qubits must be a positive integer", field="num_qubits", value=value,
            fix="pass the number of qubits the circuit uses, or leave it out to read it from the circuit",
        )


def _check_optional_number(low: float, high: float | None):
    def check(instance, attribute, value):
        if value is None:
            return
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low and math.isfinite(value)
        if ok and high is not None:
            ok = value <= high
        if not ok:
            bound = f"between {low} and {high}" if high is not None else f"at least {low} and finite"
            raise InvalidTaskError(
                f"{attribute.name} must be a number {bound}", field=attribute.name, value=value,
                fix=f"pass {attribute.name}=None to drop the constraint",
            )

    return check


def _check_flag(instance, attribute, value):
    if not isinstance(value, bool):
        raise InvalidTaskError(
            f"{attribute.name} must be True or False", field=attribute.name, value=value,
            fix=f"pass {attribute.name}=True or leave it out",
        )


def _gate_set(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return normalize_gates(value)


#: Keys `resource_config` understands; anything else is a mistake worth naming.
RESOURCE_CONFIG_KEYS = ("resource", *REQUEST_KEYS)


def _pin(value: Any) -> str | None:
    """A pin as plain text: a resource id, an executor name, or a pilot (object or name)."""
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    name = getattr(value, "name", None)
    if isinstance(name, str) and hasattr(value, "resources"):
        return name
    raise InvalidTaskError(
        f"resource must be a resource id, an executor name or a pilot, not {type(value).__name__}",
        field="resource", value=value,
        fix="pass e.g. resource='qiskit:aer_simulator', resource='qiskit_local' or resource=pilot",
    )


def _check_resource_config(instance, attribute, value):
    import difflib

    for key in value:
        if key not in RESOURCE_CONFIG_KEYS:
            close = difflib.get_close_matches(str(key), RESOURCE_CONFIG_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InvalidTaskError(
                f"resource_config has an unknown key {key!r}", field=f"resource_config.{key}", value=value[key],
                fix=f"{hint}resource_config understands {', '.join(RESOURCE_CONFIG_KEYS)}; pin a task with "
                "QuantumTask(resource=...)",
            )
    if "resource" in value:
        _pin(value["resource"])
    for key in REQUEST_KEYS:
        if key in value:
            check_request(key, value[key])


def _observables(value: Any) -> tuple[Any, ...] | None:
    """Observables as a tuple: Pauli strings (I, X, Y, Z) or objects with `paulis` (SparsePauliOp)."""
    if value is None:
        return None
    items = (value,) if isinstance(value, str) or hasattr(value, "paulis") else value
    try:
        items = tuple(items)
    except TypeError:
        items = ()
    bad = next((o for o in items if not (hasattr(o, "paulis") or (
        isinstance(o, str) and o and set(o) <= set("IXYZ")))), None) if items else value
    if not items or bad is not None:
        raise InvalidTaskError(
            f"observables must be Pauli strings or SparsePauliOps, got {bad!r}", field="observables",
            value=bad, fix="pass e.g. observables=['ZZII', 'IXXI'] (bit 0 rightmost)",
        )
    return items


#: Task ids: 64 random bits from a generator of this process's own, seeded from the OS (reseeded in
#: a forked child, never by the user's `random.seed`). `uuid4` reads `os.urandom` on every call,
#: which releases the GIL: with pool threads busy, the submitting thread then waits up to a switch
#: interval (5 ms) to get it back, the largest single cost of a one-by-one submission.
_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))


def _new_task_id() -> str:
    return f"{_ids.getrandbits(64):016x}"


@attrs.frozen(eq=False)
class QuantumTask:
    """A circuit to run, with what it needs (Pilot-Quantum compatible).

    `circuit` is a circuit object (Qiskit, Braket, PennyLane QNode/tape, OpenQASM text) or a
    callable returning one, called with `args`/`kwargs` on the worker. `gate_set` names logical
    gates (aliases such as `cnot` are normalised). Constraints: `max_cost` (in the resource's
    currency), `min_fidelity` (0..1), `deadline` (seconds from submission), `timeout` (per attempt,
    seconds). `policy` overrides QDREAMER's optimisation mode for this task. `resource` pins the
    task to a resource id, an executor name or a pilot (object or name): QDREAMER then ranks and
    fails over only among the matching resources. `mitigation` asks for error mitigation
    (docs/mitigation.md).
    """

    circuit: Any
    num_qubits: int | None = attrs.field(default=None, converter=plain, validator=_check_qubits)
    gate_set: tuple[str, ...] = attrs.field(default=(), converter=_gate_set)
    resource_config: dict[str, Any] = attrs.field(
        factory=dict, converter=_frozen_mapping, validator=_check_resource_config)
    shots: int = attrs.field(default=1000, converter=plain, validator=_check_shots)
    args: tuple = attrs.field(default=(), converter=tuple)
    kwargs: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    max_cost: float | None = attrs.field(default=None, converter=plain, validator=_check_optional_number(0.0, None))
    min_fidelity: float | None = attrs.field(default=None, converter=plain, validator=_check_optional_number(0.0, 1.0))
    deadline: float | None = attrs.field(default=None, converter=plain, validator=_check_optional_number(0.0, None))
    timeout: float | None = attrs.field(default=None, converter=plain, validator=_check_optional_number(0.0, None))
    policy: str | dict[str, float] | None = None
    circuit_format: str | None = None
    task_id: str = attrs.field(factory=_new_task_id)
    resource: str | None = attrs.field(default=None, converter=_pin)
    #: Split the shots over resources QDREAMER ranks as interchangeable (see docs/dreamer.md).
    split: bool = attrs.field(default=False, converter=plain, validator=_check_flag)
    #: Pauli observables (strings such as "ZIZ", bit 0 rightmost, or SparsePauliOps): the result's
    #: `values` are their expectation values, measured by QTAU (docs/cutting.md).
    observables: tuple[Any, ...] | None = attrs.field(default=None, converter=_observables)
    #: How a task with observables may be cut: "auto" (only when no resource is wide enough),
    #: True, False, or a dict of options (`qtau.cut_options`).
    cut: Any = attrs.field(default="auto", converter=plain, validator=lambda _i, _a, value: cut_options(value))
    #: Error mitigation: "none" (the default: the task runs as written, as in Pilot-Quantum),
    #: "auto", "readout", "trex", "zne", "zne+readout", "zne+trex" or a dict of settings
    #: (qtau.mitigation_options; docs/mitigation.md).
    mitigation: Mitigation = attrs.field(default="none", converter=parse_mitigation)

    @property
    def pin(self) -> str | None:
        """The resource id, executor name or pilot name this task is pinned to, if any."""
        return self.resource or _pin(self.resource_config.get("resource"))

    def __reduce__(self):
        # Pickled as the fields that differ from their defaults: a task is pickled for every
        # journaled submission and every Ray payload, and attrs' own state named and pickled all
        # 20 fields (the default Mitigation's settings included), which made the pickle 2.5 times
        # longer and slower to write and to check for secrets. Rebuilt without running the
        # converters and validators again, as attrs' own pickle is.
        return _task_from_fields, (_changed_fields(self),)

    def __attrs_post_init__(self) -> None:
        if self.circuit is None:
            raise InvalidTaskError(
                "a QuantumTask needs a circuit", field="circuit", value=None,
                fix="pass a Qiskit/Braket/PennyLane circuit, OpenQASM text, or a function returning one",
            )
        if self.split and self.mitigation.active:
            raise InvalidTaskError(
                "split=True cannot be combined with mitigation: each part would be mitigated on its own "
                "resource, and the parts' corrections cannot be merged", field="split", value=True,
                fix="drop split=True, or pass mitigation='none'",
            )
        if isinstance(self.circuit, str) and self.circuit_format in ("openqasm2", "openqasm3"):
            written = qasm_format(self.circuit)
            if written is not None and written != self.circuit_format:
                raise InvalidTaskError(
                    f"circuit_format={self.circuit_format!r}, but the program's header says {written}",
                    field="circuit_format", value=self.circuit_format,
                    fix=f"pass circuit_format={written!r}, or leave it out to read the header",
                )


@functools.cache
def _task_defaults() -> dict[str, Any]:
    """Every QuantumTask field but `circuit` and `task_id` as a task built with no arguments has it."""
    template = QuantumTask(circuit="template")
    return {f.name: getattr(template, f.name) for f in attrs.fields(QuantumTask)
            if f.name not in ("circuit", "task_id")}


def _changed_fields(task: QuantumTask) -> dict[str, Any]:
    """`task`'s circuit, id and every field that differs from its default (a value of another type
    than the default's counts as different, so it comes back as the type it was)."""
    fields = {"circuit": task.circuit, "task_id": task.task_id}
    for name, default in _task_defaults().items():
        value = getattr(task, name)
        if value is not default and (type(value) is not type(default) or value != default):
            fields[name] = value
    return fields


def _task_from_fields(fields: dict[str, Any]) -> QuantumTask:
    """The task `_changed_fields` read: its defaults (a fresh dict where the default is one), then `fields`."""
    task = object.__new__(QuantumTask)
    for name, default in _task_defaults().items():
        object.__setattr__(task, name, {} if type(default) is dict else default)
    for name, value in fields.items():
        object.__setattr__(task, name, value)
    return task


@attrs.frozen
class Attempt:
    """One try of a task on one resource: the failover record kept in every Result."""

    resource_id: str
    ok: bool
    started_at: float
    ended_at: float
    error_type: str = ""
    message: str = ""
    #: The provider's job reference (JSON text) for remote attempts: what recovery re-attaches.
    job: str = ""
    #: The call ran before or beside this process's first completed call of its executor and
    #: circuit format (`qtau.attempt.cold`): it paid for creating them, which later calls do not.
    cold: bool = False


@attrs.frozen
class Timings:
    """Wall-clock times (epoch seconds) and the durations users ask about."""

    submitted_at: float
    started_at: float
    finished_at: float

    @property
    def queued_s(self) -> float:
        return max(self.started_at - self.submitted_at, 0.0)

    @property
    def ran_s(self) -> float:
        return max(self.finished_at - self.started_at, 0.0)


@attrs.frozen(eq=False)
class ResultPart:
    """One part of a split task: where it ran, how many shots, what it counted and cost."""

    resource_id: str
    shots: int
    counts: dict[str, int] = attrs.field(factory=dict, converter=_frozen_mapping)
    cost: float = 0.0
    currency: str = "USD"
    attempts: tuple[Attempt, ...] = attrs.field(factory=tuple, converter=tuple)


@attrs.frozen(eq=False)
class Result:
    """What a task produced, in QTAU's common shape.

    `counts` keys have bit 0 rightmost. `values` holds returned measurements (PennyLane QNodes) as
    floats or float arrays. `raw` is the native SDK result, untouched. `attempts` records every
    resource tried, in order (failover provenance).
    """

    task_id: str
    resource_id: str
    executor: str
    shots: int
    counts: dict[str, int] = attrs.field(factory=dict, converter=_frozen_mapping)
    values: Any = None
    timings: Timings | None = None
    cost: float = 0.0
    currency: str = "USD"
    attempts: tuple[Attempt, ...] = attrs.field(factory=tuple, converter=tuple)
    conversion_path: tuple[str, ...] = attrs.field(factory=tuple, converter=tuple)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    raw: Any = attrs.field(default=None, repr=False)
    #: A split task's parts: each part's resource, shots, counts and cost (empty otherwise).
    parts: tuple[ResultPart, ...] = attrs.field(factory=tuple, converter=tuple)

    def get_counts(self) -> dict[str, int]:
        """Counts as Qiskit users expect them: `{'00': 503, '11': 497}`, bit 0 rightmost."""
        return dict(self.counts)

    def get_probabilities(self) -> dict[str, float]:
        total = sum(self.counts.values()) or 1
        return {key: n / total for key, n in self.counts.items()}

    def plot(self, path: str | None = None, title: str | None = None) -> Any:
        """A counts histogram, bit order labelled (a matplotlib Figure; `qtau-core[plot]`), saved to `path` if given."""
        return plot_result(self, path, title)

    def _repr_html_(self) -> str:
        return result_html(self)


#: What a plugin's executor returns for one circuit; the worker turns it into a Result.
@attrs.frozen(eq=False)
class Outcome:
    counts: dict[str, int] = attrs.field(factory=dict, converter=_frozen_mapping)
    values: Any = None
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_frozen_mapping)
    raw: Any = attrs.field(default=None, repr=False)
