"""A cut plan: where to cut a circuit so every piece fits a resource QDREAMER can place it on, what
the pieces cost before anything is sent, and the subexperiments that carry it out.

The width a piece may have is the widest running resource that can measure mid-circuit (a cut
piece measures its cut qubits mid-circuit), or the `max_width` the user gives. Cuts are found by
qiskit-addon-cutting's cut finder (gate cuts by quasi-probability decomposition, wire cuts by
teleportation-free measure-and-prepare; the add-on picks the cheapest combination). The plan is
priced with the service's own `quote()` (the same ranking, prices and budgets each subexperiment
meets when it is submitted), one quote per piece: its most demanding subexperiment times the
piece's count. Planning generates no subexperiment circuit (`qtau.cutting.subexperiments`): they
are made when the plan runs, or when `tasks()` or `experiments` is first read.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol

import attrs

from qtau.cut_options import CutOptions, cut_options
from qtau.cut_search import find_cuts
from qtau.cutting.inputs import as_circuit, as_observables, require_sdk
from qtau.cutting.subexperiments import Subexperiments
from qtau.errors import NoSuitableResourceError
from qtau.types import QuantumTask, Resource


class CutService(Protocol):
    """What planning and running a cut asks of a `PilotComputeService` (submitting a task with
    observables also reads its `journal`, `durable` and `registry`)."""

    journal: Any
    durable: bool
    registry: Any

    @property
    def quantum_resources(self) -> dict[str, Resource]: ...
    def quote(self, tasks: Any) -> Any: ...
    def submit_quantum_tasks(self, tasks: Any) -> list[Any]: ...
    def get_results(self, tasks: Any, timeout: float | None = None, return_exceptions: bool = False) -> list[Any]: ...


@attrs.frozen(eq=False)
class CutPlan:
    """Where a circuit is cut and what running it costs, before anything runs.

    `cuts`: one dict per cut (`kind` "gate" or "wire", the instruction, its qubits).
    `sampling_overhead`: how many more shots the reconstruction needs for the same error (9 per
    cut CNOT). `subsystems`: each piece's label and width; `subexperiments`: how many circuits each
    piece runs. `placement`: where QDREAMER's quote puts those circuits now (resource id: count).
    `expected_error`: one standard error of the estimate of a unit-weight Pauli observable at
    `shots` per subexperiment (first-order error propagation over the pieces). Everything here is
    known before any subexperiment circuit exists; `tasks()`, `experiments`, `coefficients` and
    `subobservables` generate them on first use (`generated` says whether they were).
    """

    circuit_qubits: int
    width: int
    cuts: tuple[dict[str, Any], ...]
    sampling_overhead: float
    subsystems: dict[str, int]
    subexperiments: dict[str, int]
    shots: int
    placement: dict[str, int]
    price: dict[str, float]
    expected_wait_s: float
    expected_error: float
    reason: str
    search_seconds: float
    #: The fidelity QDREAMER expects of the whole estimate (product over the pieces).
    expected_fidelity: float = 1.0
    #: The subexperiments, described now and generated on first use (`Subexperiments`), and the
    #: observables as `SparsePauliOp`s: what `run_cut` submits and reconstructs from.
    source: Subexperiments | None = attrs.field(repr=False, default=None)
    observables: tuple[Any, ...] = attrs.field(repr=False, default=())
    paulis: Any = attrs.field(repr=False, default=None)

    @property
    def num_cuts(self) -> int:
        return len(self.cuts)

    @property
    def total_error(self) -> float:
        """Expected error of a unit Pauli estimate: the bias lost fidelity may cause (at most
        1 - fidelity) and the shot noise, added in quadrature."""
        return math.hypot(1.0 - self.expected_fidelity, self.expected_error)

    @property
    def num_circuits(self) -> int:
        return sum(self.subexperiments.values())

    @property
    def generated(self) -> bool:
        """Whether the subexperiment circuits exist yet (planning makes none; running makes them)."""
        return self.source is not None and self.source.generated

    @property
    def experiments(self) -> dict[Any, list[Any]]:
        """Piece label: its subexperiment circuits, in the add-on's order (generated on first use)."""
        return self._source().generate()[0]

    @property
    def coefficients(self) -> list[Any]:
        """The QPD coefficient of each term, as the add-on's reconstruction reads them."""
        return self._source().generate()[1]

    @property
    def subobservables(self) -> dict[Any, Any]:
        return self._source().generate()[2]

    @property
    def representatives(self) -> dict[Any, Any]:
        """Piece label: the one circuit each piece is priced with (`subexperiments.representative`)."""
        return self._source().representatives

    def _source(self) -> Subexperiments:
        if self.source is None:
            raise ValueError("this CutPlan was made without its subexperiments; plan it with plan_cut")
        return self.source

    def tasks(self) -> list[tuple[Any, int, QuantumTask]]:
        """(piece label, index, task) for every subexperiment, in the add-on's order (generating
        the circuits if they were not yet)."""
        return [(label, i, QuantumTask(circuit=c, num_qubits=c.num_qubits, shots=self.shots))
                for label, circuits in self.experiments.items() for i, c in enumerate(circuits)]

    def explain(self) -> str:
        """The plan in words: cuts, pieces, overhead, where the circuits go, price and error."""
        cuts = ", ".join(f"{c['kind']} cut at {c['gate']}{tuple(c['qubits'])}" for c in self.cuts) or "none"
        pieces = ", ".join(f"{k}: {w} qubits x {self.subexperiments[k]} circuits" for k, w in self.subsystems.items())
        where = ", ".join(f"{rid} {n}" for rid, n in sorted(self.placement.items())) or "-"
        price = ", ".join(f"{v:.4g} {c}" for c, v in sorted(self.price.items())) or "0"
        return (f"cut plan for {self.circuit_qubits} qubits, pieces of at most {self.width}: {self.reason}\n"
                f"  cuts ({self.num_cuts}): {cuts}\n"
                f"  sampling overhead {self.sampling_overhead:.4g}x; pieces {pieces}\n"
                f"  {self.num_circuits} circuits x {self.shots} shots, placed now on: {where}\n"
                f"  price {price}; expected wait {self.expected_wait_s:.3g} s; expected fidelity "
                f"{self.expected_fidelity:.3f}; expected error +/-{self.expected_error:.3g} per unit Pauli term "
                f"(total {self.total_error:.3g}); search {self.search_seconds * 1e3:.0f} ms")


def _rejections(resources: list[Resource]) -> dict[str, str]:
    return {r.id: f"{r.num_qubits} qubits" + ("" if r.supports_mid_circuit_measurement
                                              else ", no mid-circuit measurement") for r in resources}


def _widths(resources: list[Resource]) -> tuple[int, int]:
    """(widest resource, widest resource that measures mid-circuit)."""
    return (max((r.num_qubits for r in resources), default=0),
            max((r.num_qubits for r in resources if r.supports_mid_circuit_measurement), default=0))


def _cut_width(opts: CutOptions, n: int, resources: list[Resource]) -> int | None:
    """The widest piece allowed, or None when the circuit runs whole."""
    widest, widest_mcm = _widths(resources)
    fits = n <= widest
    if opts.mode == "never" or (opts.mode == "auto" and fits):
        if not fits:
            raise NoSuitableResourceError(
                f"the circuit has {n} qubits and the widest resource {widest}; cutting is off",
                field="cut", value=False, fix="pass cut='auto' to cut it, or add a wider resource",
                rejections=_rejections(resources),
            )
        return None
    if widest_mcm < 1:
        raise NoSuitableResourceError(
            "the pieces of a cut circuit measure mid-circuit, and no running resource can",
            field="cut", value=opts.mode,
            fix="add a pilot whose simulator measures mid-circuit (e.g. qiskit_local or pennylane_default)",
            rejections=_rejections(resources),
        )
    width = min(opts.max_width or widest_mcm, widest_mcm)
    return min(width, n)


def _find(qc: Any, opts: CutOptions, width: int, resources: list[Resource]) -> tuple[Any, list[dict[str, Any]], float, bool]:
    try:
        cut, meta = find_cuts(qc, width, gate_cuts=opts.gate_cuts, wire_cuts=opts.wire_cuts,
                              max_overhead=opts.max_overhead, seed=opts.seed, max_backjumps=opts.max_backjumps)
    except ValueError as err:
        raise NoSuitableResourceError(
            f"no cuts into pieces of {width} qubits were found within the limits: {err}", field="cut",
            value={"max_width": width, "max_overhead": opts.max_overhead},
            fix="allow a larger max_overhead or wire cuts, or add wider resources",
            rejections=_rejections(resources),
        ) from err
    overhead = float(meta["sampling_overhead"])
    if opts.max_overhead is not None and overhead > opts.max_overhead:
        raise NoSuitableResourceError(
            f"the cheapest cuts found need {overhead:.4g}x more shots, over max_overhead={opts.max_overhead}",
            field="cut.max_overhead", value=opts.max_overhead, fix="raise max_overhead or add wider resources",
            rejections=_rejections(resources),
        )
    cuts = []
    for kind, index in meta["cuts"]:
        inst = qc.data[index] if kind == "Gate Cut" else cut.data[index]
        cuts.append({"kind": "gate" if kind == "Gate Cut" else "wire", "index": int(index),
                     "gate": inst.operation.name, "qubits": tuple(qc.find_bit(q).index for q in inst.qubits)
                     if kind == "Gate Cut" else tuple(cut.find_bit(q).index for q in inst.qubits)})
    return cut, cuts, overhead, bool(meta.get("minimum_reached"))


def _error(squared_coefficients: float, pieces: int, shots: int) -> float:
    return math.sqrt(squared_coefficients * pieces / shots)


def piece_quote(service: CutService, plan: CutPlan, task_for: Callable[[Any], QuantumTask]) -> list[tuple[Any, int, Any]]:
    """(piece label, its number of circuits, the quote of its representative circuit made a task
    by `task_for`): one quote per piece, standing for all of its subexperiments."""
    labels = list(plan.representatives)
    quote = service.quote([task_for(plan.representatives[label]) for label in labels])
    return [(label, plan.subexperiments[str(label)], tq) for label, tq in zip(labels, quote.tasks, strict=True)]


def _priced(service: CutService, plan: CutPlan) -> CutPlan:
    """`plan` with the service's quote of its pieces: where their circuits go now, their price and
    wait, and the fidelity QDREAMER expects (per piece its chosen resource's, multiplied over the
    pieces). Each piece is quoted once, with its most demanding subexperiment, times its count:
    the price and wait are an upper bound, the fidelity a lower one."""
    placement: Counter[str] = Counter()
    price: dict[str, float] = {}
    fidelities, waits = [], []
    for _, count, tq in piece_quote(service, plan, lambda c: QuantumTask(circuit=c, num_qubits=c.num_qubits,
                                                                           shots=plan.shots)):
        line = next((x for x in tq.lines if x.resource_id == tq.chosen), None)
        fidelities.append(line.fidelity if line is not None else 0.0)
        waits.append(tq.wait_s)
        if tq.chosen:
            placement[tq.chosen] += count
            price[tq.currency] = price.get(tq.currency, 0.0) + tq.price * count
    return attrs.evolve(plan, placement=dict(placement), price=price, expected_wait_s=max(waits, default=0.0),
                        expected_fidelity=math.prod(fidelities) if fidelities else 0.0)


def _plan(service: CutService, qc: Any, ops: list[Any], opts: CutOptions, width: int | None,
          resources: list[Resource], shots: int, why: str | None = None) -> CutPlan:
    """The priced plan for pieces of at most `width` qubits (None: the circuit whole)."""
    from qiskit.quantum_info import PauliList

    widest, widest_mcm = _widths(resources)
    started = time.perf_counter()
    if width is None:
        cut_circuit, cuts, overhead = None, [], 1.0
        reason = f"no cut: a resource is {widest} qubits wide"
    else:
        cut_circuit, cuts, overhead, proven = _find(qc, opts, width, resources)
        reason = (why or (f"the widest resource has {widest} qubits" if qc.num_qubits > widest
                          else "cutting asked for")) + (f"; pieces measure mid-circuit (at most {widest_mcm} qubits); "
                  + ("cheapest cuts proven" if proven else "cheapest cuts found within the search limit"))
    searched = time.perf_counter() - started
    paulis = PauliList(sorted({p.to_label() for op in ops for p in op.paulis}))
    source = Subexperiments(qc, cut_circuit, paulis)  # described now, generated when the plan runs
    plan = CutPlan(
        circuit_qubits=qc.num_qubits, width=width or qc.num_qubits, cuts=tuple(cuts),
        sampling_overhead=overhead, subsystems={str(k): w for k, w in source.widths.items()},
        subexperiments={str(k): n for k, n in source.counts.items()}, shots=shots,
        placement={}, price={}, expected_wait_s=0.0,
        expected_error=_error(source.squared_coefficients, len(source.labels), shots), reason=reason,
        search_seconds=searched, source=source, observables=tuple(ops), paulis=paulis,
    )
    return _priced(service, plan)


#: "auto" cuts a circuit that fits only when cutting's expected total error is at most this share
#: of running it whole (the models behind both are rough: cut only when clearly better).
CUT_WHEN_BETTER = 0.8


def _better_cut(service: CutService, qc: Any, ops: list[Any], opts: CutOptions, whole: CutPlan,
                resources: list[Resource], shots: int) -> CutPlan | None:
    """For "auto" with a circuit that fits: a plan on narrower, better resources whose expected
    total error (bias from fidelity, and shot noise grown by the sampling overhead) is clearly
    below running whole, or None. Tried only when the whole circuit is expected to lose fidelity."""
    if whole.expected_fidelity >= 0.999:
        return None
    narrower = [r.num_qubits for r in resources if r.supports_mid_circuit_measurement and r.num_qubits < qc.num_qubits]
    if not narrower:
        return None
    narrow = [r for r in resources if r.num_qubits <= max(narrower)]
    try:
        cut = _plan(service, qc, ops, attrs.evolve(opts, mode="always"), max(narrower), narrow, shots,
                    why=f"cut on the {len(narrow)} narrower resource(s) although one is wide enough")
    except NoSuitableResourceError:
        return None
    if cut.total_error > CUT_WHEN_BETTER * whole.total_error:
        return None
    return attrs.evolve(cut, reason=(
        f"{cut.reason}; expected error {cut.total_error:.3g} (fidelity {cut.expected_fidelity:.3f}, "
        f"overhead {cut.sampling_overhead:.4g}x) against {whole.total_error:.3g} whole (fidelity "
        f"{whole.expected_fidelity:.3f})"))


def plan_cut(service: CutService, circuit: Any, observables: Any, *, shots: int = 4000,
             cut: Any = "auto") -> CutPlan:
    """Plan `circuit`'s expectation values of `observables` over the service's running resources.

    `cut`: "auto" cuts when no resource is wide enough, or when pieces on narrower resources are
    expected to be clearly more accurate (`CUT_WHEN_BETTER`); True or a dict (`max_width`,
    `gate_cuts`, `wire_cuts`, `max_overhead`, `seed`, `max_backjumps`) always plans; False never
    cuts. Nothing is submitted and no subexperiment circuit is made: each piece is quoted once with
    `service.quote` (its most demanding subexperiment, times its count).
    """
    opts = cut_options(cut)
    require_sdk()
    qc = as_circuit(circuit)
    ops = as_observables(observables, qc.num_qubits)
    resources = list(service.quantum_resources.values())
    if not resources:
        raise NoSuitableResourceError("no pilot is running", field="pilots", value=0,
                                      fix="create_pilot({...}) before cutting a circuit", rejections={})
    width = _cut_width(opts, qc.num_qubits, resources)
    plan = _plan(service, qc, ops, opts, width, resources, shots)
    if width is None and opts.mode == "auto":
        return _better_cut(service, qc, ops, opts, plan, resources, shots) or plan
    return plan
