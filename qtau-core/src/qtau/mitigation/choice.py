"""QDREAMER's (resource, technique) pairs: predicted error after mitigation, overhead, price, time.

Mitigation helps as much as the device's noise allows (Russo et al., arXiv 2210.07194): the
resource and the technique are chosen together. For each feasible resource and each technique
the task allows, the error of a measured Z-string expectation is predicted from the resource's
noise profile, the way each technique acts on it:

- gates: a depolarised signal decays as F^scale (F: the gates' fidelity); ZNE's fit applied to
  those values leaves |1 - sum_i w_i F^s_i|; without ZNE the bias is 1 - F;
- readout: each measured bit multiplies the signal by (1 - 2r); readout correction and TREX remove
  all but a residual share (RESIDUAL: correlated errors, drift, layout), and their calibration's
  own shot noise adds to the statistical error;
- relaxation: where the resource publishes its links' thermal relaxation over a gate
  (`metadata["two_qubit_relaxation"]`, IBM's: T1/T2 and gate durations), the placement's links
  split their error into relaxation and a depolarising remainder. Amplitude damping (an excited
  qubit decays with probability 1 - exp(-t/T1)) costs a Z-string about 2 gamma x its excited
  share (1/2 unknown): the signal is multiplied by exp(-sum gamma); pure dephasing costs it nothing
  before measurement; the depolarising remainder is what the gates' fidelity F counts. Readout
  correction leaves all of the damping's bias, ZNE leaves RELAX_LEFT of it: its folded gates
  (U^-1 U) act on states less excited than the circuit's own, so the noise does not grow with the
  scale as the fit assumes. Without it (`fake_lima`'s T1 of 18 us on the qubit every 4-qubit
  chain needs) a readout-corrected GHZ on `fake_lima` was predicted 1.5x, and run 2x, the bias of
  `fake_manila`'s, and ZNE there was predicted to remove 80% of the bias where it removed ~55%.
- routing: on a device with a coupling map, the SWAPs the best placement of the circuit's
  interacting qubits needs (`qtau.mitigation.routing`) count as three more two-qubit gates each;
  where the resource publishes its links' errors (`metadata["two_qubit_errors"]`, IBM's) and a
  placement needs no SWAP, the two-qubit error is that of the best placement's links;
- shots: a +-1 outcome of mean s has variance 1 - s^2, at most 1, and a counts task does not say
  which Z-string will be read (those of value near 0 have variance 1): each scale's variance is
  taken at that bound, weighted by the fit's squared weights, over the shots per circuit, times
  the readout inverse's gain (1 / (1-2r)^bits) for readout corrections. Once a mitigated run of
  the same circuit (same OpenQASM 2 text) measured the spread of its local observables, the mean
  of 1 - <Z_S>^2 over its one- and two-qubit Z-strings (`distributions.local_spread`), that spread
  (at least SPREAD_FLOOR) replaces the bound: a GHZ state's ZZ terms, near +-1, vary far less.

Where the resource's plugin weighs its transpiler's optimisation levels (`qtau_optimisation_levels`:
qtau-ibmq with `optimization_level="auto"`), the gate fidelity of the circuit as transpiled at the
chosen level (`LevelEstimates.gate_fidelity`: placement, routing and cancellations already in it)
replaces the profile's estimate and the routing term.

Once a readout calibration ran on a resource in this process (readout, TREX), its measured readout
error replaces the profile's (`CalibrationStore.observed`); once ZNE runs there measured their
circuits' fidelity (`plan.observed_fidelity`), the profile's gate infidelity is scaled by the
median of what they showed against what the profile predicted for the gates as they ran
(`gate_scale`). The pair table says which source each prediction used.

The predicted error is the typical (median) absolute error, sqrt(bias^2 + (0.6745 statistical)^2):
exact without bias (the median of |N(0, s)| is 0.6745 s) and without shot noise. The RMS
sqrt(bias^2 + statistical^2) ranked a pair with a small bias and some shot noise (ZNE on a
simulator) above one with less shot noise and a larger bias more often than their errors justify.
"auto" takes the pair of least predicted
error, and among pairs within `TOLERANCE` of it the cheapest (then the fewest shots), a cheaper
pair weighed at the best pair's shots (`order`): never more cost for a gain the model cannot tell
apart, or that the same shots would buy a cheaper technique. The overhead's price is the resource's CostEstimate
over the technique's circuits and shots, without the readout calibration's when one is cached
for the resource or an earlier task of the same submission runs it (`calibration` column): a
calibration already paid for makes its technique cheaper to choose.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Collection, MutableSet, Sequence
from typing import Any

import attrs

from qtau.errors import QtauError
from qtau.gates import arity
from qtau.mitigation.as_run import cancelled_counts, cancelled_interactions, optimises
from qtau.mitigation.calibration import STORE, digest, stamp
from qtau.mitigation.extrapolation import weights
from qtau.mitigation.overhead import declared
from qtau.mitigation.plan import calibration_for, refusal
from qtau.mitigation.qasm_program import Program
from qtau.mitigation.routing import (
    extra_two_qubit_gates,
    interactions,
    link_sums,
    neglog,
    placed_links,
    placed_two_qubit_error,
)
from qtau.mitigation.trex import twirl_count
from qtau.mitigation_options import AUTO_CHOICES, Mitigation
from qtau.qasm_header import OPENQASM2
from qtau.tables import render
from qtau.types import CircuitSummary, NoiseProfile, QuantumTask

#: Share of the readout bias a correction leaves beyond its calibration's own shot noise
#: (correlated errors, drift, the transpiler's layout).
RESIDUAL = {"readout": 0.02, "trex": 0.02}
#: Share of the amplitude damping's bias zero-noise extrapolation leaves (see the module): from
#: exact density-matrix runs of the tuning circuits (GHZ 3/4, the Ising state; seeds 7 and 11) on
#: fake_manila and fake_lima, readout errors off, ZNE (1, 3, 5; Richardson) left 17-37% of it.
RELAX_LEFT = 0.3
#: A ZNE run whose gates the profile predicts under this infidelity is no witness of them.
WITNESS = 0.005
#: The median of |N(0, 1)|: a Gaussian error of deviation s is typically 0.6745 s in size.
MEDIAN_ABS = 0.6745
#: Pairs whose predicted error is within this factor of the best are told apart by price.
TOLERANCE = 1.1
#: The least spread (per-shot variance) a measured one stands for: a spread measured near 0 is
#: itself uncertain, and the task may read other strings than those measured.
SPREAD_FLOOR = 0.05


def gate_fidelity(noise: NoiseProfile | None, summary: CircuitSummary) -> float:
    if noise is None:
        return 1.0
    log_f = 0.0
    for gate, count in summary.gate_counts.items():
        if gate in ("measure", "barrier", "reset"):
            continue
        log_f += count * math.log1p(-min(max(noise.gate_error(gate), 0.0), 0.999999))
    return math.exp(log_f)


def gate_scale(noise: NoiseProfile | None, decays: Sequence[tuple], optimising: bool,
               place: Callable[[NoiseProfile, Counter], NoiseProfile] | None = None,
               damp: Callable[[Counter], float] | None = None) -> tuple[float, str]:
    """How many times the profile's log-infidelity the resource's gates showed in ZNE runs there:
    the median over runs of log(measured F) / log(predicted F), each predicted from the gates as
    they ran (`optimising`: inverse pairs cancelled). A run whose gates the profile predicts
    under WITNESS infidelity says nothing about them and is left out; the median is clamped to
    [0.2, 5]. (1, "profile") without a witness. `place(noise, pairs)`: the profile with the
    two-qubit error of the placement the run's circuit got (`placed`), as predictions use it;
    `damp(pairs)`: its amplitude damping (`relaxation`), of which folding scales 1 - RELAX_LEFT
    (what ZNE removes), so the decay per unit of scale a run shows holds that share of it too:
    left out, a device whose links' error is mostly relaxation showed decays its depolarising
    remainder cannot explain, and the scale inflated that remainder (fake_manila: ZNE chosen over
    TREX for GHZ-4 once its own ZNE runs had been seen)."""
    ratios = []
    for measured, written, as_run, *rest in decays:
        used, damping = noise, 0.0
        if place is not None and noise is not None and rest and optimising:
            pairs = Counter({(a, b): n for a, b, n in rest[0]})
            used = place(noise, pairs)
            damping = damp(pairs) if damp is not None else 0.0
        predicted = gate_fidelity(used, CircuitSummary(num_qubits=1, gate_counts=as_run if optimising else written))
        predicted *= math.exp(-(1 - RELAX_LEFT) * damping)
        if noise is not None and 0 < measured < 1 and 0 < predicted < 1 - WITNESS:
            ratios.append(math.log(measured) / math.log(predicted))
    if not ratios:
        return 1.0, "profile"
    scale = min(max(statistics.median(ratios), 0.2), 5.0)
    return scale, f"observed (x{scale:.2f}, {len(ratios)} runs)"


def predict(noise: NoiseProfile | None, summary: CircuitSummary, m: Mitigation, shots: int,
            routed: int = 0, readout_error: float | None = None, scale: float = 1.0,
            transpiled: float | None = None, spread: float = 1.0, damping: float = 0.0) -> tuple[float, float]:
    """(bias, statistical error) of a Z-string expectation under technique `m` (see the module).
    `routed`: two-qubit gates routing adds on the resource (`qtau.mitigation.routing`);
    `readout_error`: what a calibration measured there, in place of the profile's; `scale`: how
    many times the profile's gate infidelity the resource showed (`gate_scale`); `transpiled`: the
    gates' fidelity as the plugin's transpiler will run them (`LevelEstimates.gate_fidelity`), in
    place of the profile's estimate and `routed`; `spread`: the per-shot variance of a Z-string
    (1, the bound, unless a run of the circuit measured it); `damping`: the sum of the amplitude
    damping probabilities over the circuit's two-qubit gates (`relaxation`), 0 where unknown."""
    if transpiled is not None:
        fid = min(max(transpiled, 1e-12), 1.0)
    else:
        fid = gate_fidelity(noise, summary)
        if routed and noise is not None:
            fid *= (1 - min(max(noise.gate_error("cx"), 0.0), 0.999999)) ** routed
    fid **= scale
    if readout_error is None:
        readout_error = noise.readout_error if noise else 0.0
    r = min(max(readout_error, 0.0), 0.499)
    bits = summary.num_measured or summary.num_qubits
    raw_readout = (1 - 2 * r) ** bits
    readout_kept, gain = raw_readout, 1.0
    if m.readout:
        readout_kept = 1 - RESIDUAL[m.readout] * (1 - raw_readout)
        gain = 1 / max(raw_readout, 1e-6)
    overhead = declared(m, bits)
    scales = m.scale_factors if m.zne else (1.0,)
    w = weights(scales, m.fit) if m.zne else [1.0]
    signal = float(sum(wi * fid ** s for wi, s in zip(w, scales, strict=True)))
    lost = 1 - math.exp(-max(damping, 0.0))  # the amplitude damping's share of the signal
    kept = 1 - (RELAX_LEFT if m.zne else 1.0) * lost
    # A +-1 outcome of mean s has variance 1 - s^2, at most 1. A counts task does not say which
    # Z-string will be read, and those of value near 0 (a GHZ state's Z1, an Ising state's X
    # terms) have variance 1: each scale's variance is taken at that bound, weighted by the fit.
    variance = float(sum(wi ** 2 for wi in w)) * min(max(spread, SPREAD_FLOOR), 1.0)
    per_circuit = max(shots * overhead.shots_multiplier / overhead.circuits, 1.0)
    if m.readout == "trex":  # twirls share the shots: all of them together estimate one value
        per_circuit *= twirl_count(bits, m.twirls)
    stat = math.sqrt(variance / per_circuit) * gain
    if m.readout:
        # The calibration's shots estimate each bit's (1 - 2r) with variance 4 r (1 - r) / shots:
        # its relative error carries into the corrected value, once per measured bit.
        calibration = bits * 4 * r * (1 - r) / (max(shots, 1) * max(1 - 2 * r, 1e-3) ** 2)
        stat = math.hypot(stat, abs(signal) * math.sqrt(calibration))
    return abs(1 - signal * kept * readout_kept), stat


@attrs.frozen
class Pair:
    """One (resource, technique) pair as QDREAMER weighed it."""

    resource_id: str
    technique: str
    predicted_error: float
    bias: float
    statistical: float
    circuits: int
    shots_multiplier: float
    cost: float
    currency: str
    seconds: float
    #: Where the readout error came from: "profile" (the plugin's) or "observed (n calibrations)".
    readout_source: str = "profile"
    #: Where the gates' error came from: "profile", or "observed (xK, n runs)": ZNE runs there
    #: measured K times the infidelity the profile predicts.
    gates_source: str = "profile"
    #: Where the per-shot variance came from: "bound" (1), or "observed (v)": a run of the circuit.
    spread_source: str = "bound"
    #: The readout calibration as priced: "fresh" (its circuits counted in), "cached" (one kept
    #: from an earlier run there), "shared" (an earlier task of the same submission runs it), or
    #: "none" (the technique needs none).
    calibration: str = "none"


@attrs.frozen
class PairTable:
    """Every pair, best first (the order "auto" prefers); `chosen` is the first."""

    task_id: str
    pairs: tuple[Pair, ...]
    #: (resource id, technique) -> the store key of the calibration that pair would run fresh
    #: (`plan.calibration_for`, with the circuit's digest): what `resolve_auto` records as planned.
    fresh_keys: dict[tuple[str, str], tuple[str, ...]] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def chosen(self) -> Pair | None:
        return self.pairs[0] if self.pairs else None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [attrs.asdict(p) for p in self.pairs]

    def __str__(self) -> str:
        head = ("rank", "resource", "technique", "pred. error", "bias", "stat", "circuits", "shots x", "calibration",
                "cost", "time_s", "readout error from", "gate error from", "shot noise from")
        rows = [(str(i), p.resource_id, p.technique, f"{p.predicted_error:.4f}", f"{p.bias:.4f}", f"{p.statistical:.4f}",
                 str(p.circuits), f"{p.shots_multiplier:g}", p.calibration, f"{p.cost:.4g} {p.currency}",
                 f"{p.seconds:.3g}", p.readout_source, p.gates_source, p.spread_source)
                for i, p in enumerate(self.pairs, 1)]
        return render(head, rows, f"mitigation pairs for task {self.task_id} (predicted error of a Z-string expectation)")


def placed(noise: NoiseProfile, error: float | None) -> NoiseProfile:
    """`noise` with `error` as every two-qubit gate's error (as is when None): the error of the
    links the circuit's placement uses (`routing.placed_two_qubit_error`)."""
    if error is None:
        return noise
    return attrs.evolve(noise, two_qubit_error=error,
                        gate_errors={g: (error if arity(g) >= 2 else e) for g, e in noise.gate_errors.items()})


def relaxation(pairs: Counter, links_known: Sequence, relax_rows: Sequence, size: int
               ) -> tuple[float | None, float, float]:
    """(depolarising two-qubit error, damping, thermal) of the circuit's interacting `pairs` on
    the SWAP-free placement of least error: the placement's mean two-qubit error less its
    thermal relaxation (per link (1 - err) / (1 - thermal)), the sum over its gates of their
    links' amplitude damping probabilities, and of -log(1 - thermal infidelity). (None, 0, 0)
    when the resource publishes no relaxation, or no placement avoids SWAPs."""
    links = placed_links(pairs, links_known, size) if relax_rows else None
    if links is None:
        return None, 0.0, 0.0
    errors = link_sums(links, [(a, b, neglog(e)) for a, b, e, *_ in links_known])
    sums = link_sums(links, [(a, b, damp, neglog(thermal)) for a, b, damp, thermal, *_ in relax_rows])
    if errors is None or sums is None or len(sums) < 2:
        return None, 0.0, 0.0
    damping, thermal = sums
    remainder = max(errors[0] - thermal, 0.0) / sum(links.values())
    return 1 - math.exp(-remainder), damping, thermal


def relaxations(links_known: Sequence, relax_rows: Sequence, size: int
                ) -> Callable[[Counter], tuple[float | None, float, float]]:
    """`relaxation` on one resource, each set of interacting pairs searched once: ranking asks for
    the same pairs' placement to place the profile, for its damping, and again per ZNE run."""
    memo: dict[frozenset, tuple[float | None, float, float]] = {}

    def of(pairs: Counter) -> tuple[float | None, float, float]:
        key = frozenset(pairs.items())
        if key not in memo:
            memo[key] = relaxation(pairs, links_known, relax_rows, size)
        return memo[key]

    return of


def at_shots(pair: Pair, shots_multiplier: float) -> float:
    """`pair`'s predicted error had it run `shots_multiplier` times the task's shots in all (its
    shot noise shrinks as 1 / sqrt(shots); its bias stays)."""
    grow = max(shots_multiplier, 1e-9) / max(pair.shots_multiplier, 1e-9)
    return math.hypot(pair.bias, MEDIAN_ABS * pair.statistical / math.sqrt(grow))


def order(pairs: Sequence[Pair]) -> list[Pair]:
    """Best first: the least predicted error, but the cheapest of those within TOLERANCE of it,
    each cheaper pair weighed at the best one's shots: a pair whose extra shots buy less than the
    same shots spent on a cheaper technique would is no better value (TREX at 2x against ZNE+TREX
    at 4x on `fake_manila`'s GHZ-4: 0.025 against 0.022 predicted, 0.024 at 4x), so it does not
    cost more for that. The best pair of equal predicted errors is the cheapest, then the one of
    fewest shots: weighed at the shots of whichever came first, the order depended on the order
    the pairs were listed in (a cached calibration moved ZNE+TREX, 4x, before ZNE+readout, 5x, of
    equal error on one resource, and another resource's pair stopped being within TOLERANCE)."""
    if not pairs:
        return []
    first = min(pairs, key=lambda p: (p.predicted_error, p.cost, p.shots_multiplier))
    best = first.predicted_error

    def near(p: Pair) -> bool:
        same = p.predicted_error if p.shots_multiplier >= first.shots_multiplier else \
            at_shots(p, first.shots_multiplier)
        return same <= best * TOLERANCE + 1e-12

    close = sorted((p for p in pairs if near(p)), key=lambda p: (p.cost, p.shots_multiplier, p.predicted_error))
    rest = sorted((p for p in pairs if p not in close), key=lambda p: (p.predicted_error, p.cost))
    return close + rest


def rank_pairs(dreamer: Any, task: QuantumTask, rows: Sequence[Any],
               run_seconds: Callable[[Any, int, CircuitSummary], float],
               planned: Collection[tuple] | None = None) -> PairTable:
    """The pairs of `task` over the feasible rows of its explanation; `run_seconds(resource, shots,
    summary)` is QDREAMER's run-time estimate (given by QDREAMER, which this module sits beside).
    A pair's readout calibration is priced at nothing when one is cached for the resource or in
    `planned` (the calibrations earlier tasks of the same submission were planned to run: tasks of
    one backend call share it); the worst case (every calibration fresh) is what quotes and
    budgets hold."""
    m = task.mitigation
    techniques = m.choices if m.technique == "auto" else (m.technique,)
    summary, _ = dreamer.summarize(task)
    candidates = dreamer.candidates()
    bits = summary.num_measured or summary.num_qubits
    pairs = []
    text = _qasm(dreamer, task)
    prog = _program(text)
    if m.technique == "auto" and prog is not None:  # only techniques that can run the circuit
        techniques = tuple(t for t in techniques if refusal(m.with_technique(t), prog) is None)
    fresh_keys: dict[tuple[str, str], tuple[str, ...]] = {}
    links = interactions(text) if text else Counter()
    # On resources whose transpiler optimises, the gates that run are those left once inverse
    # pairs cancel (`qtau.mitigation.as_run`): a mirror circuit runs almost no gates there.
    as_run = (cancelled_counts(text), cancelled_interactions(text)) if text else (None, None)
    # The rows' times already hold the task's own technique's overhead (none for "auto").
    priced = declared(m, bits).shots_multiplier
    seen_spread = STORE.observed_spread(digest(text)) if text else None
    spread = 1.0 if seen_spread is None else seen_spread
    spread_source = "bound" if seen_spread is None else f"observed ({seen_spread:.2f})"
    for row in rows:
        cand = candidates.get(row.resource_id)
        if not row.feasible or cand is None:
            continue
        res = cand.resource
        # Fakes of devices are simulators with the device's coupling map: they route too.
        shape, pairs_run = summary, links
        if as_run[0] is not None and optimises(res.metadata):
            shape = attrs.evolve(summary, gate_counts=dict(as_run[0]))
            pairs_run = as_run[1]
        routed = extra_two_qubit_gates(pairs_run, res.coupling_map, res.num_qubits)
        links_known = res.metadata.get("two_qubit_errors") or ()
        relax_rows = res.metadata.get("two_qubit_relaxation") or ()

        relaxed = relaxations(links_known, relax_rows, res.num_qubits)

        def place(noise: NoiseProfile, pairs: Counter, links_known=links_known, size=res.num_qubits,
                  relaxed=relaxed) -> NoiseProfile:
            remainder = relaxed(pairs)[0]
            return placed(noise, placed_two_qubit_error(pairs, links_known, size) if remainder is None else remainder)

        def damp(pairs: Counter, relaxed=relaxed) -> float:
            return relaxed(pairs)[1]

        noise = place(cand.noise, pairs_run) if cand.noise is not None and not routed else cand.noise
        _, damping, thermal = relaxed(pairs_run) if not routed else (None, 0.0, 0.0)
        seen = STORE.observed(res.id)
        measured = None if seen is None else seen[0]
        source = "profile" if seen is None else f"observed ({seen[1]} calibrations)"

        scale, gates_source = gate_scale(cand.noise, STORE.observed_decays(res.id), optimises(res.metadata), place,
                                         damp)
        levels = getattr(row, "levels", None)
        # The transpiled estimate counts the relaxation in its calibrated errors: `damping` counts it.
        transpiled = None if levels is None else min(levels.gate_fidelity * math.exp(thermal), 1.0)
        if transpiled is not None:
            gates_source = f"transpiled at level {levels.chosen}" + ("" if scale == 1.0 else f"; {gates_source}")
        for technique in techniques:
            tm = m.with_technique(technique)
            calibration, key = _calibration(tm, prog, task.shots, res, cand.config, text, planned)
            if key is not None:
                fresh_keys[row.resource_id, technique] = key
            over = declared(tm, bits, calibrated=calibration in ("cached", "shared"))
            bias, stat = predict(noise, shape, tm, task.shots, routed, measured, scale, transpiled, spread, damping)
            cost = over.price(cand.cost, task.shots, summary) if cand.cost else 0.0
            if task.max_cost is not None and cost > task.max_cost:
                continue
            more = over.shots_multiplier - priced
            seconds = row.wait_s + (run_seconds(res, int(task.shots * more), summary) if more > 0 else 0.0)
            pairs.append(Pair(row.resource_id, technique, math.hypot(bias, MEDIAN_ABS * stat), bias, stat, over.circuits,
                              over.shots_multiplier, cost, row.currency, seconds, source, gates_source,
                              spread_source, calibration))
    return PairTable(task.task_id, tuple(order(pairs)), fresh_keys)


def _program(text: str | None) -> Program | None:
    """The program `text` as the techniques read it; None when there is none or it is unreadable
    (a task that is left to fail where it runs, with the reader's error)."""
    if text is None:
        return None
    try:
        return Program.parse(text).ensure_measured()
    except QtauError:
        return None


def _calibration(m: Mitigation, prog: Program | None, shots: int, res: Any, config: Any, text: str | None,
                 planned: Collection[tuple] | None) -> tuple[str, tuple[str, ...] | None]:
    """How the readout calibration `m` needs on `res` would be paid, and the key it would be run
    under when fresh (kept per circuit: a submission's planned calibrations are priced as shared
    only for the same circuit, since resources that lay out each circuit on its own qubits keep
    one per circuit). The store's own entries are looked up under both keys, a calibration kept
    for every circuit (width and shots) and one kept for this circuit: a resource uses one."""
    if prog is None or text is None or m.readout is None:
        return ("none" if m.readout is None else "fresh"), None
    key = (res.id, stamp(res, config))
    circuit = digest(text)
    per_circuit = calibration_for(m, prog, shots, key, STORE, circuit, planned, peek=True)
    if per_circuit is None:
        return "none", None
    if per_circuit.state != "fresh":
        return per_circuit.state, None
    shared = calibration_for(m, prog, shots, key, STORE, None, None, peek=True)
    if shared is not None and shared.state == "cached":
        return "cached", None
    return "fresh", per_circuit.key


def _qasm(dreamer: Any, task: QuantumTask) -> str | None:
    """The circuit as OpenQASM 2 (None when it has no such form or is a circuit function, which
    runs only where the task runs)."""
    circuit = task.circuit
    if callable(circuit) and not isinstance(circuit, str) and task.circuit_format is None \
            and not dreamer.host.call("qtau_circuit_format", circuit=circuit):
        return None
    try:
        circuit, fmt = dreamer.circuits.resolve(task)
        text, _, _ = dreamer.circuits.convert(circuit, fmt, [OPENQASM2])
    except QtauError:
        return None
    return text if isinstance(text, str) else None


def resolve_auto(dreamer: Any, task: QuantumTask, planned: MutableSet[tuple] | None = None) -> QuantumTask:
    """`task` with "auto" replaced by the best pair's technique, pinned to its resource unless the
    task was pinned already (QDREAMER ranks only among the pin then). Other tasks as given.
    `planned`: the calibrations earlier tasks of the same submission will run (priced as shared),
    to which the chosen pair's fresh calibration is added."""
    if task.mitigation.technique != "auto":
        return task
    table = dreamer.explain(task, planned=planned).pairs
    best = table.chosen
    if planned is not None and best is not None and (best.resource_id, best.technique) in table.fresh_keys:
        planned.add(table.fresh_keys[best.resource_id, best.technique])
    if best is None:  # nothing feasible: placement raises NoSuitableResourceError with the reasons
        return attrs.evolve(task, mitigation=task.mitigation.with_technique("none"))
    pin = task.resource if task.pin is not None else best.resource_id
    return attrs.evolve(task, mitigation=task.mitigation.with_technique(best.technique), resource=pin)


__all__ = ["AUTO_CHOICES", "Pair", "PairTable", "predict", "rank_pairs", "resolve_auto"]
