"""One task's mitigation as circuits to run and a recipe, as plain values, and the recipe applied.

`build` turns a task's OpenQASM 2 program into the circuits its technique runs (folded copies,
twirled copies, calibration circuits unless a calibration is cached) and a recipe (a JSON-ready
dict). `finish` applies the recipe to the circuits' counts: corrected quasi-probabilities beside
the unmitigated counts, and the report results carry. The recipe is plain data so a remote job's
reference can carry it across a restart.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs

from qtau.circuits import spread_counts
from qtau.errors import MitigationError
from qtau.mitigation import readout, trex
from qtau.mitigation.as_run import cancelled_counts, cancelled_interactions
from qtau.mitigation.calibration import CalibrationStore, digest
from qtau.mitigation.distributions import clean_key, local_spread
from qtau.mitigation.extrapolation import extrapolate
from qtau.mitigation.folding import Folded, fold
from qtau.mitigation.overhead import Overhead
from qtau.mitigation.qasm_program import CALL, Program
from qtau.mitigation_options import Mitigation

#: Widest circuit whose local spread is measured (its cost grows as bits^2 x outcomes).
MAX_SPREAD_BITS = 24


def split_shots(shots: int, parts: int) -> list[int]:
    """Shots per twirl: the task's shots shared out exactly (the first `shots % parts` twirls take
    one more), so the twirls' merged counts are the task's shots (2500 shots over 8 twirls ran
    2496, and the Estimator and Sampler rightly refused a result short of its shots). Never more
    parts than shots: a twirl of no shots is not run."""
    parts = max(1, min(parts, shots))
    q, r = divmod(shots, parts)
    return [q + 1] * r + [q] * (parts - r)


def refusal(m: Mitigation, prog: Program) -> MitigationError | None:
    """Why `m` cannot run `prog` (None: it can). ZNE folds only circuits that measure at the end;
    TREX flips measured bits, so not in a circuit that reads a measured bit to choose what runs
    next (`if`): the twirl would change the branch. Readout correction runs any circuit."""
    if m.zne and prog.non_unitary:
        return MitigationError(
            f"zero-noise extrapolation folds circuits that only measure at the end; this one has "
            f"{prog.non_unitary[:60]!r}", field="mitigation", value=m.technique,
            fix="move measurements to the end and drop reset/if, or use mitigation='readout' / 'trex'")
    condition = next((st for st in prog.body if re.match(r"^if\s*\(", st)), None) if m.readout == "trex" else None
    if condition is not None:
        return MitigationError(
            f"TREX flips measured bits at random, and this circuit reads a measured bit to decide what "
            f"runs next ({condition[:60]!r}): the twirl would change the branch taken", field="mitigation",
            value=m.technique, fix="use mitigation='readout' (it runs the circuit as written)")
    return None


def build(m: Mitigation, text: str, shots: int, key: Sequence[str], store: CalibrationStore,
          per_circuit: bool = False, batch: set[tuple] | None = None) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """The circuits (OpenQASM 2, shots) that `m` runs for the program `text`, and its recipe.
    `key` identifies the resource's calibration (`calibration.stamp`). With `per_circuit` (a
    resource that lays each circuit out on its own qubits, its calibration following the task's
    layout) a calibration is kept for this circuit only: another may land on other qubits.
    `batch` holds the keys of the calibrations that earlier jobs of the same call run: a job
    needing one of them reads it from there (`finish(..., made=)`) instead of running it again
    (an Estimator pub's measurement bases all need the same one: on a device, each is paid)."""
    prog = Program.parse(text).ensure_measured()
    refused = refusal(m, prog)
    if refused is not None:
        raise refused
    bits = prog.num_clbits
    folded = [fold(prog, s, m.folding) for s in m.scale_factors] if m.zne else [Folded(list(prog.body), [], 1.0)]
    recipe: dict[str, Any] = {
        "resource": key[0] if key else "",
        "technique": m.technique, "auto": m.auto, "fit": m.fit, "folding": m.folding, "bits": bits,
        "scales": [f.scale for f in folded], "qubit_of_bit": prog.qubit_of_bit(), "task_shots": shots,
        "circuit": digest(text),
    }
    circuits: list[tuple[str, int]] = []
    method = m.readout
    cal = calibration_for(m, prog, shots, key, store, recipe["circuit"] if per_circuit else None, batch)
    if method == "trex":
        recipe["masks"] = list(cal.masks)
        pairs = list(zip(cal.masks, cal.each, strict=True))
        for f in folded:
            circuits += [(f.text(prog, _flips(mask)), n) for mask, n in pairs]
        cal_circuits = [(prog.text([], _flips(mask)), n) for mask, n in pairs]
    else:
        circuits = [(f.text(prog), shots) for f in folded]
        cal_circuits = list(zip(readout.calibration_programs(prog.num_qubits), (shots, shots), strict=True))
    recipe["main"] = len(circuits)
    if m.zne:  # what the measured decay is a witness of: the gates as written and as they run
        written = gate_counts(prog)
        recipe["gates"] = written
        recipe["gates_as_run"] = dict(cancelled_counts(text) or written)
        recipe["pairs_as_run"] = [[a, b, n] for (a, b), n in sorted((cancelled_interactions(text) or {}).items())]
    if cal is not None:
        recipe["width"] = prog.num_qubits
        if cal.state == "shared":
            recipe["calibration"] = {"fresh": False, "shared": True, "key": list(cal.key)}
        elif cal.state == "fresh":
            recipe["calibration"] = {"fresh": True, "key": list(cal.key), "count": len(cal_circuits)}
            circuits += cal_circuits
            if batch is not None:
                batch.add(cal.key)
        else:
            recipe["calibration"] = {"fresh": False, "counts": cal.counts}
    recipe["overhead"] = Overhead(len(circuits), sum(n for _, n in circuits) / shots).to_dict()
    return circuits, recipe


@attrs.frozen
class Calibration:
    """The calibration a task's readout correction needs on one resource: its `key` in the
    store, TREX's flip masks and their shots (empty for readout correction), and its `state`:
    "cached" (`counts` from the store), "shared" (an earlier job of the same call runs it) or
    "fresh" (this job runs it)."""

    key: tuple[str, ...]
    state: str
    masks: tuple[int, ...] = ()
    each: tuple[int, ...] = ()
    counts: Any = None


def calibration_for(m: Mitigation, prog: Program, shots: int, key: Sequence[str], store: CalibrationStore,
                    circuit: str | None = None, batch: Collection[tuple] | None = None,
                    peek: bool = False) -> Calibration | None:
    """The calibration `m` needs for `prog` at `shots` on the resource whose calibration `key`
    names (`calibration.stamp`), or None when `m` needs none. `circuit`: the program's digest on
    a resource that lays each circuit out on its own qubits (`build`'s `per_circuit`); `batch`:
    the calibrations earlier jobs of the same call run. TREX masks drawn at random (`seed=None`,
    more measured bits than twirls) are any random masks: a job takes those of a calibration of
    the same measurements that is cached or that this call runs, so tasks of one circuit share
    one calibration as seeded ones do. QDREAMER asks with `peek` (the store's hit count left as
    is) to price a calibration that is cached or that an earlier task of the same submission
    runs (`qtau.mitigation.choice`)."""
    if m.readout == "readout":
        found = (*key, "readout", str(prog.num_qubits), str(shots))
        masks: tuple[int, ...] = ()
        each: tuple[int, ...] = ()
    elif m.readout == "trex":
        written = written_bits(prog.qubit_of_bit())
        each = tuple(split_shots(shots, trex.twirl_count(len(written), m.twirls)))
        head = (*key, "trex", repr(prog.measures))
        known = _known_masks(head, str(list(each)), circuit, [*(batch or ()), *store.keys()]) \
            if trex.random_masks(len(written), m.twirls, m.seed) else None
        masks = known if known is not None else tuple(trex.masks_over(written, m.twirls, m.seed)[:len(each)])
        found = (*head, repr(list(masks)), str(list(each)))
    else:
        return None
    if circuit is not None:
        found = (*found, circuit)
    counts = store.peek(found) if peek else store.get(found)
    if counts is not None:
        return Calibration(found, "cached", masks, each, counts)
    return Calibration(found, "shared" if batch is not None and found in batch else "fresh", masks, each)


def _known_masks(head: tuple[str, ...], each: str, circuit: str | None, keys: Sequence[tuple]
                 ) -> tuple[int, ...] | None:
    """The masks of the first of `keys` that calibrates the measurements `head` names, with the
    shots `each` (and on the circuit `circuit`, where calibrations follow the layout)."""
    size = len(head) + 2 + (circuit is not None)
    for k in keys:
        if len(k) == size and k[:len(head)] == head and k[len(head) + 1] == each \
                and (circuit is None or k[-1] == circuit):
            return tuple(json.loads(k[len(head)]))
    return None


def _flips(mask: int) -> frozenset[int]:
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def _probabilities(counts: Mapping[str, float]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    out: dict[str, float] = {}
    for key, n in counts.items():
        k = clean_key(key)
        out[k] = out.get(k, 0.0) + n / total
    return out


def gate_counts(prog: Program) -> dict[str, int]:
    """How often each gate is called in the program's body, as written."""
    counts: dict[str, int] = {}
    for st in prog.gates():
        m = CALL.match(st.rstrip(";").strip())
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def observed_fidelity(scales: Sequence[float], dists: Sequence[Mapping[str, float]], bits: int) -> float | None:
    """The circuit's fidelity F as ZNE saw it: each scale's distribution, less the uniform one, is
    a_s times the first scale's (least squares), and log a_s = c + s log F (least squares: the
    intercept c takes what does not scale with folding, such as uncorrected readout error). None
    when the distributions carry no such signal."""
    uniform = 2.0 ** -bits
    first = dists[0]
    keys = set(first)
    norm = sum((first[k] - uniform) ** 2 for k in keys)
    if norm <= 1e-9:
        return None
    logs = []
    for dist in dists:
        a = sum((dist.get(k, 0.0) - uniform) * (first[k] - uniform) for k in keys) / norm
        if not 1e-3 < a <= 1.5:
            return None
        logs.append(math.log(a))
    mean_s = sum(scales) / len(scales)
    mean_l = sum(logs) / len(logs)
    den = sum((s - mean_s) ** 2 for s in scales)
    if den <= 0:
        return None
    slope = sum((s - mean_s) * (y - mean_l) for s, y in zip(scales, logs, strict=True)) / den
    return min(math.exp(slope), 1.0)


def _readout_error(recipe: Mapping[str, Any], calibration: list) -> float:
    """The mean per-bit readout error a calibration measured."""
    bits = recipe["bits"]
    if recipe.get("masks") is not None:  # TREX: f of a single bit is 1 - 2 r
        merged = trex.merged(calibration, recipe["masks"], bits)
        total = sum(merged.values()) or 1
        flips = [sum(n for k, n in merged.items() if k[-1 - b] == "1") / total for b in range(bits)]
        return sum(flips) / max(bits, 1)
    zeros, ones = calibration
    return sum(readout.Assignment.calibrate(zeros, ones, recipe["width"]).errors()) / max(recipe["width"], 1)


def _corrected(recipe: Mapping[str, Any], dist: Mapping[str, float], calibration: list) -> dict[str, float]:
    bits = recipe["bits"]
    if recipe.get("masks") is not None:
        f = trex.factors(trex.merged(calibration, recipe["masks"], bits), bits)
        return trex.correct(dist, f, bits)
    zeros, ones = calibration
    assignment = readout.Assignment.calibrate(zeros, ones, recipe["width"])
    return readout.mitigate(dist, assignment, recipe["qubit_of_bit"])


def written_bits(qubit_of_bit: Sequence[int | None] | None) -> tuple[int, ...]:
    """The classical bits a measurement writes (`Program.qubit_of_bit`: None for the others)."""
    return tuple(i for i, q in enumerate(qubit_of_bit or ()) if q is not None)


def _every_bit(runs: list[Mapping[str, int]], qubit_of_bit: Sequence[int | None] | None, bits: int
               ) -> list[Mapping[str, int]]:
    """Runs keyed over every classical bit: a backend that reads only the written bits (Braket, a
    PennyLane tape) returns keys as long as the measurements, and the correction, the twirls and
    the report are over the circuit's bits, unwritten ones 0, as the task's counts are
    (`spread_counts`). Runs already that wide are kept as they are."""
    written = written_bits(qubit_of_bit)
    if not written or len(written) == bits:
        return runs
    return [spread_counts(run, (bits, written)) for run in runs]


def finish(recipe: Mapping[str, Any], runs: Sequence[Mapping[str, int]], store: CalibrationStore,
           made: dict[tuple, list[dict[str, int]]] | None = None) -> tuple[dict[str, int], dict[str, Any]]:
    """The unmitigated counts (the circuit as written; twirls undone and added up) and the report:
    technique, overhead, quasi-probabilities, the unmitigated probabilities beside them. `made`
    collects the calibrations the recipes of one call ran, for the later recipes sharing them
    (finish them in the order `build` made them)."""
    scales = recipe["scales"]
    bits = recipe["bits"]
    main = _every_bit(list(runs[:recipe["main"]]), recipe.get("qubit_of_bit"), bits)
    mask_list = recipe.get("masks")
    if mask_list is not None:
        per = len(mask_list)
        measured = [trex.merged(main[i * per:(i + 1) * per], mask_list, bits) for i in range(len(scales))]
    else:
        measured = [{clean_key(k): int(n) for k, n in run.items()} for run in main]
    info = recipe.get("calibration")
    calibration = None
    if info is not None:
        if info["fresh"]:
            calibration = [dict(r) for r in runs[recipe["main"]:recipe["main"] + info["count"]]]
            if mask_list is not None:  # the task's measurements on an empty circuit: its keys too
                calibration = [dict(r) for r in _every_bit(calibration, recipe.get("qubit_of_bit"), bits)]
            store.put(tuple(info["key"]), calibration)
            store.observe(info["key"][0], _readout_error(recipe, calibration))
            if made is not None:
                made[tuple(info["key"])] = calibration
        elif info.get("shared"):
            if made is None or tuple(info["key"]) not in made:
                raise MitigationError(
                    "a recipe shares a calibration that no earlier recipe of its call ran", field="mitigation",
                    value=recipe["technique"], fix="finish a call's recipes together, in the order they were built")
            calibration = made[tuple(info["key"])]
        else:
            calibration = info["counts"]
    dists = [_probabilities(c) if calibration is None else _corrected(recipe, c, calibration) for c in measured]
    if len(dists) > 1:
        keys = sorted(set().union(*dists))
        mitigated = dict(zip(keys, extrapolate(scales, [[d.get(k, 0.0) for k in keys] for d in dists],
                                               recipe["fit"]), strict=True))
        decay = observed_fidelity(scales, dists, bits)
        if decay is not None and recipe.get("resource") and "gates" in recipe:
            store.observe_decay(recipe["resource"], decay, recipe["gates"], recipe["gates_as_run"],
                                recipe.get("pairs_as_run", []))
    else:
        mitigated = dists[0]
    spread = local_spread(mitigated, bits) if recipe.get("circuit") and bits <= MAX_SPREAD_BITS else None
    if spread is not None:
        store.observe_spread(recipe["circuit"], spread)
    raw = measured[0]
    report = {
        "technique": recipe["technique"],
        "auto": recipe.get("auto", False),
        "overhead": recipe["overhead"],
        "scale_factors": scales if len(scales) > 1 else None,
        "fit": recipe["fit"] if len(scales) > 1 else None,
        "calibration": None if info is None else (
            "fresh" if info["fresh"] else "shared" if info.get("shared") else "cached"),
        "quasi_probabilities": {k: v for k, v in mitigated.items() if abs(v) > 1e-12},
        "unmitigated_probabilities": _probabilities(raw),
    }
    return raw, report


def unmitigated(counts: Mapping[str, int]) -> dict[str, Any]:
    """The report of a task "auto" ran without mitigation (the predicted gain was not worth it)."""
    probs = _probabilities(counts)
    return {"technique": "none", "auto": True, "overhead": Overhead().to_dict(), "scale_factors": None,
            "fit": None, "calibration": None, "quasi_probabilities": probs, "unmitigated_probabilities": probs}


__all__ = ["build", "finish", "unmitigated"]
