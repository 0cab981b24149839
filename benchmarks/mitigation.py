"""Error mitigation on noisy devices that run here: how much each technique lowers the error of
expectation values, at what shot overhead, where it makes things worse, and how `auto` compares
with the best (resource, technique) pair found by trying every pair.

    python benchmarks/mitigation.py [--shots 4000] [--repeats 3] [--seed 7] [--json out.json]
                                    [--resources fake_manila,fake_lima,aer_mild,aer_harsh,braket_dm]
                                    [--seeds 23,42,101 --seed-simulators]

`--seeds` runs the whole benchmark once per seed (new mirror circuits, and with `--seed-simulators`
new simulator seeds and, on the IBM fakes, transpiler seeds), each in a fresh service (nothing learned carries over), and reports `auto`
against the best pair of each run and the median over runs: one run's best pair is the least of
24 noisy medians picked after the fact, so one run says little. It also pools every run's errors:
one best pair over all runs' repeats, auto's median over all its tasks, the control reruns pooled,
with 90% bootstrap intervals (the least noisy comparison the runs allow).

Resources: IBM fake backends (qtau-ibmq: Runtime's local mode with the backends' calibration
data), Aer with a depolarising and readout noise model (two strengths), and Braket's local
density-matrix simulator with a noise model. Circuits (exact values computed noise-free with
Qiskit's Statevector): GHZ parities (3 and 4 qubits), mirror circuits (random layers followed by
their inverse: every Z-string is 1), and the energy of a 4-qubit transverse-field Ising chain in a
fixed variational state (Z and X bases measured as two tasks). Every observable is a sum of
Z-strings of a task's counts; errors are absolute errors of those sums.

For each resource and technique every circuit runs `--repeats` times (all tasks of one resource go
through `submit_quantum_tasks` as one batch per resource). Reported: median absolute error,
mitigated and unmitigated (the unmitigated value is the circuit as written in the same run, at the
task's shots), their ratio, and the technique's shot overhead. Then `mitigation="auto"`: QDREAMER's
choice of (resource, technique) per circuit, its median error against the best fixed pair (the
pair with the lowest median error over all circuits), and its shots against that pair's.

How far to trust that comparison: the best pair is the least of 24 noisy medians picked after the
fact, so it is also run again (the control) and auto is reported against that rerun, with 90%
bootstrap intervals (each pair's and auto's errors resampled within each circuit). Per circuit,
the benchmark prints how well the predicted errors rank the pairs (Spearman's rho against the
observed medians), the regret of the predicted best (its observed error over the observed best's)
and how often the observed best stays best when its repeats are resampled: a low share means the
pairs cannot be told apart at this many repeats. The JSON keeps every error and prediction.

The machine is shared: timings are not reported, only errors and shot counts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TECHNIQUES = ("none", "readout", "trex", "zne", "zne+readout", "zne+trex")
RESOURCES = {
    "fake_manila": {"executor": "ibmq_fake_manila"},
    "fake_lima": {"executor": "ibmq_fake_lima"},
    "aer_mild": {"executor": "qiskit_local",
                 "noise": {"depolarizing_1q": 0.001, "depolarizing_2q": 0.01, "readout": 0.02}},
    "aer_harsh": {"executor": "qiskit_local",
                  "noise": {"depolarizing_1q": 0.004, "depolarizing_2q": 0.04, "readout": 0.06}},
    "braket_dm": {"executor": "braket_local_dm",
                  "noise": {"depolarizing_1q": 0.002, "depolarizing_2q": 0.02, "readout": 0.04}},
}


# -- circuits and exact values -----------------------------------------------------------------


def ghz(n):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for i in range(n - 1):
        qc.cx(i, i + 1)
    return qc


def mirror(n, layers, seed):
    """Random layers of single-qubit rotations and CX, then their inverse: the identity."""
    from qiskit import QuantumCircuit

    rng = np.random.default_rng(seed)
    half = QuantumCircuit(n)
    for layer in range(layers):
        for q in range(n):
            half.u(*rng.uniform(0, np.pi, 3), q)
        for q in range(layer % 2, n - 1, 2):
            half.cx(q, q + 1)
    return half.compose(half.inverse())


def ising_state(n=4):
    """A fixed two-layer ansatz for the chain (not the ground state: the value is what it is)."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    for q in range(n):
        qc.ry(0.7 + 0.1 * q, q)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    for q in range(n):
        qc.ry(-0.3 + 0.05 * q, q)
    return qc


def zstring(qubits, n):
    """The Pauli label (bit 0 rightmost) of Z on `qubits`, I elsewhere."""
    return "".join("Z" if n - 1 - i in qubits else "I" for i in range(n))


def workload(seed):
    """(name, circuit to measure, [(coefficient, Z label)], exact value) per observable task."""
    from qiskit.quantum_info import SparsePauliOp, Statevector

    out = []
    for n in (3, 4):
        qc = ghz(n)
        terms = [(1.0, zstring((i, i + 1), n)) for i in range(n - 1)]
        out.append((f"ghz{n}_zz", qc, terms, float(n - 1)))
        if n == 4:
            out.append(("ghz4_parity", qc, [(1.0, "ZZZZ")], 1.0))
    for i, (n, layers) in enumerate(((3, 4), (4, 3), (4, 5))):
        qc = mirror(n, layers, seed + i)
        terms = [(1.0 / n, zstring((q,), n)) for q in range(n)]
        out.append((f"mirror{n}x{layers}", qc, terms, 1.0))
    n, j, h = 4, 1.0, 0.7
    state = ising_state(n)
    zz = [(-j, zstring((q, q + 1), n)) for q in range(n - 1)]
    xs = [(-h, zstring((q,), n)) for q in range(n)]
    sv = Statevector(state)
    exact_zz = sum(c * sv.expectation_value(SparsePauliOp(label)).real for c, label in zz)
    exact_x = sum(c * sv.expectation_value(SparsePauliOp(label.replace("Z", "X"))).real for c, label in xs)
    rotated = state.copy()
    rotated.h(range(n))
    out.append(("ising4_zz", state, zz, float(exact_zz)))
    out.append(("ising4_x", rotated, xs, float(exact_x)))
    return out


def measured(qc):
    out = qc.copy()
    out.measure_all()
    return out


def value(dist, terms):
    from qtau.mitigation import z_expectation

    return sum(c * z_expectation(dist, label) for c, label in terms)


# -- running -----------------------------------------------------------------------------------


def make_service(names, seed):
    from qtau import PilotComputeService

    pcs = PilotComputeService(batch_chunks=1)
    made = []
    for name in names:
        quantum = dict(RESOURCES[name])
        if seed is not None:
            quantum["seed_simulator"] = seed
            if quantum["executor"].startswith("ibmq_"):
                # The transpiler's layout and routing are random too: seeded, a pair run twice
                # runs the same physical circuit (part of the noise floor otherwise).
                quantum["seed_transpiler"] = seed
        try:
            pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": quantum, "name": name})
        except Exception as err:  # a plugin this machine lacks: say so and go on without it
            print(f"skipping {name}: {type(err).__name__}: {str(err).splitlines()[0]}")
            continue
        made.append((name, pilot.resources[0].id))
    return pcs, made


def run_pairs(pcs, made, cases, techniques, shots, repeats):
    """errors[(resource, technique)] -> list of (case, mitigated error, unmitigated error, shots run)."""
    from qtau import QuantumTask
    from qtau.mitigation import report

    errors = defaultdict(list)
    for name, rid in made:
        tasks, keys = [], []
        for r in range(repeats):
            for technique in techniques:
                for case, qc, terms, exact in cases:
                    m = {"technique": technique, "seed": r} if "trex" in technique else technique
                    tasks.append(QuantumTask(circuit=measured(qc), shots=shots, mitigation=m, resource=rid))
                    keys.append((technique, case, terms, exact))
        results = pcs.get_results(pcs.submit_quantum_tasks(tasks), return_exceptions=True)
        for (technique, case, terms, exact), result in zip(keys, results, strict=True):
            if isinstance(result, Exception):
                print(f"{name} {technique} {case}: {type(result).__name__}: {str(result).splitlines()[0]}")
                continue
            found = report(result)
            raw = abs(value(result.counts, terms) - exact)
            mit = abs(value(found["quasi_probabilities"], terms) - exact) if found else raw
            ran = shots * (found["overhead"]["shots_multiplier"] if found else 1.0)
            errors[name, technique].append((case, mit, raw, ran))
    return errors


def run_auto(pcs, cases, shots, repeats):
    """Per case: the pairs `auto` chose and their errors."""
    from qtau import QuantumTask
    from qtau.mitigation import report

    tasks, keys = [], []
    for _ in range(repeats):
        for case, qc, terms, exact in cases:
            tasks.append(QuantumTask(circuit=measured(qc), shots=shots, mitigation="auto"))
            keys.append((case, terms, exact))
    results = pcs.get_results(pcs.submit_quantum_tasks(tasks), return_exceptions=True)
    out = []
    for (case, terms, exact), result in zip(keys, results, strict=True):
        if isinstance(result, Exception):
            print(f"auto {case}: {type(result).__name__}: {str(result).splitlines()[0]}")
            continue
        found = report(result)
        dist = found["quasi_probabilities"] if found else result.counts
        ran = shots * (found["overhead"]["shots_multiplier"] if found else 1.0)
        out.append((case, result.resource_id, found["technique"] if found else "none",
                    abs(value(dist, terms) - exact), ran))
    return out


def predictions(pcs, made, cases, shots):
    """Per case: every (resource name, technique) pair's predicted error, as `auto` sees it now
    (after the pairs ran: what they taught the model is in it)."""
    from qtau import QuantumTask

    name_of = {rid: name for name, rid in made}
    out = {}
    for case, qc, _, _ in cases:
        table = pcs.qdreamer.explain(QuantumTask(circuit=measured(qc), shots=shots, mitigation="auto")).pairs
        out[case] = {f"{name_of.get(p.resource_id, p.resource_id)} {p.technique}": p.predicted_error
                     for p in (table.pairs if table is not None else ())}
        out[case + " (terms)"] = {f"{name_of.get(p.resource_id, p.resource_id)} {p.technique}":
                                  [p.bias, p.statistical, p.shots_multiplier, p.cost]
                                  for p in (table.pairs if table is not None else ())}
        out[case + " (chosen)"] = (f"{name_of.get(table.chosen.resource_id)} {table.chosen.technique}"
                                   if table is not None and table.chosen is not None else None)
    return out


def ranking_quality(errors, predicted):
    """How well the predictions rank the pairs, per case: Spearman's rho between predicted and
    observed median errors, and the regret of the predicted best (its observed median error over
    the observed best's). Also the repeats' spread: how often the observed best pair of a case is
    still the best when its repeats are resampled (bootstrap), which says whether the pairs can be
    told apart at all."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    by_case = defaultdict(dict)
    for (name, technique), entries in errors.items():
        for case, mit, _, _ in entries:
            by_case[case].setdefault(f"{name} {technique}", []).append(mit)
    out = {}
    for case, pairs in by_case.items():
        keys = [k for k in pairs if k in predicted.get(case, {})]
        if predicted.get(case + " (chosen)") not in keys:
            predicted = {**predicted, case + " (chosen)": None}
        if len(keys) < 3:
            continue
        observed = {k: statistics.median(pairs[k]) for k in keys}
        rho = spearmanr([predicted[case][k] for k in keys], [observed[k] for k in keys]).statistic
        chosen = predicted.get(case + " (chosen)") or min(keys, key=lambda k: predicted[case][k])
        best = min(keys, key=observed.get)
        stable = 0
        for _ in range(200):
            again = {k: statistics.median(rng.choice(pairs[k], len(pairs[k]))) for k in keys}
            stable += min(keys, key=again.get) == best
        out[case] = {"spearman": float(rho), "predicted_best": chosen, "observed_best": best,
                     "regret": observed[chosen] / observed[best] if observed[best] else float("inf"),
                     "best_kept_in_resamples": stable / 200}
    return out


def paired_auto(errors, auto, name_of):
    """Auto's choices judged on the pairs' own runs: the i-th auto task of a circuit gets the error
    the pair it chose had in that circuit's i-th repeat. Where auto chose the best pair its error
    is then exactly the pair's (common random numbers), so the comparison's noise is only that of
    the choices that differ; the pick of the best pair after the fact still favours the pair, so
    the ratio leans against auto. None when a chosen pair did not run."""
    by = defaultdict(lambda: defaultdict(list))
    for (name, technique), entries in errors.items():
        for case, mit, _, _ in entries:
            by[name, technique][case].append(mit)
    seen, out = defaultdict(int), []
    for case, rid, technique, _, _ in auto:
        values = by.get((name_of.get(rid, rid), technique), {}).get(case)
        if not values:
            return None
        out.append(values[seen[case] % len(values)])
        seen[case] += 1
    return out


def bootstrap_rerun(again, auto, samples=400, seed=0):
    """A 90% interval of auto's median error over the best pair's run again (no pick after the
    fact in it), resampling both within each case."""
    rng = np.random.default_rng(seed)
    pair, auto_cells = defaultdict(list), defaultdict(list)
    for case, mit, _, _ in again:
        pair[case].append(mit)
    for case, _, _, err, _ in auto:
        auto_cells[case].append(err)
    ratios = []
    for _ in range(samples):
        theirs = statistics.median(x for v in pair.values() for x in rng.choice(v, len(v)))
        mine = statistics.median(x for v in auto_cells.values() for x in rng.choice(v, len(v)))
        ratios.append(mine / theirs if theirs else float("inf"))
    return float(np.percentile(ratios, 5)), float(np.percentile(ratios, 95))


def bootstrap_ratio(errors, auto, samples=400, seed=0):
    """A 90% interval of auto's median error over the best fixed pair's, resampling each pair's
    and auto's errors within each case (the best pair is picked again in each resample)."""
    rng = np.random.default_rng(seed)
    cells = defaultdict(lambda: defaultdict(list))
    for key, entries in errors.items():
        for case, mit, _, _ in entries:
            cells[key][case].append(mit)
    auto_cells = defaultdict(list)
    for case, _, _, err, _ in auto:
        auto_cells[case].append(err)
    ratios = []
    for _ in range(samples):
        medians = []
        for by_case in cells.values():
            medians.append(statistics.median(x for v in by_case.values() for x in rng.choice(v, len(v))))
        best = min(medians)
        mine = statistics.median(x for v in auto_cells.values() for x in rng.choice(v, len(v)))
        ratios.append(mine / best if best else float("inf"))
    return float(np.percentile(ratios, 5)), float(np.percentile(ratios, 95))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="circuits' seed (and simulators' with --seed-simulators)")
    parser.add_argument("--seed-simulators", action="store_true", help="seed every simulator (and the IBM fakes' transpiler) with --seed")
    parser.add_argument("--resources", default=",".join(RESOURCES))
    parser.add_argument("--techniques", default=",".join(TECHNIQUES))
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds: one run per seed (see above)")
    args = parser.parse_args(argv)
    if args.seeds:
        return over_seeds(args, argv or sys.argv[1:])
    names = [n for n in args.resources.split(",") if n]
    unknown = [n for n in names if n not in RESOURCES]
    if unknown:
        sys.exit(f"unknown resources {unknown}; choose from {', '.join(RESOURCES)}")
    techniques = [t for t in args.techniques.split(",") if t]
    cases = workload(args.seed)
    pcs, made = make_service(names, args.seed if args.seed_simulators else None)
    with pcs:
        errors = run_pairs(pcs, made, cases, techniques, args.shots, args.repeats)
        predicted = predictions(pcs, made, cases, args.shots)
        auto = run_auto(pcs, cases, args.shots, args.repeats)
        # The control: the best fixed pair (known only now) run again as often. Its new median
        # against its first says how much of "auto against the best pair" is the noise of picking
        # the least of many noisy medians after the fact.
        firsts = {key: statistics.median(e[1] for e in entries) for key, entries in errors.items()}
        best_key = min(firsts, key=firsts.get) if firsts else None
        again = run_pairs(pcs, [m for m in made if m[0] == best_key[0]], cases, [best_key[1]], args.shots,
                          args.repeats) if best_key else {}
    rows = []
    print(f"{len(cases)} observables x {args.repeats} repeats, {args.shots} shots per circuit (shared 2-core machine)")
    print(f"{'resource':12} {'technique':12} {'median err':>10} {'unmitigated':>11} {'ratio':>6} {'shots x':>7}")
    for (name, technique), entries in sorted(errors.items()):
        mit = statistics.median(e[1] for e in entries)
        raw = statistics.median(e[2] for e in entries)
        over = statistics.median(e[3] for e in entries) / args.shots
        ratio = raw / mit if mit else float("inf")
        rows.append({"resource": name, "technique": technique, "median_error": mit, "median_unmitigated": raw,
                     "ratio": ratio, "shots_multiplier": over, "n": len(entries)})
        print(f"{name:12} {technique:12} {mit:10.4f} {raw:11.4f} {ratio:6.2f} {over:7.2f}")
    worse = [r for r in rows if r["technique"] != "none" and r["median_error"] > r["median_unmitigated"]]
    print("\nwhere mitigation made the median error worse:" if worse else "\nmitigation never made the median error worse")
    rid_of = dict(made)
    chosen_pairs = {(a[1], a[2]) for a in auto}
    for r in worse:
        picked = (rid_of.get(r["resource"]), r["technique"]) in chosen_pairs
        print(f"  {r['resource']} {r['technique']}: {r['median_error']:.4f} vs {r['median_unmitigated']:.4f} "
              f"unmitigated; auto {'chose it' if picked else 'never chose it'}")
    per_resource_none = {r["resource"]: r["median_error"] for r in rows if r["technique"] == "none"}
    best = min(rows, key=lambda r: r["median_error"])
    best_unmitigated = min(per_resource_none.values()) if per_resource_none else float("nan")
    summary = {"best_pair": best, "best_unmitigated_median": best_unmitigated}
    # The per-circuit oracle: for each circuit the pair with the lowest median error on it.
    per_case = defaultdict(lambda: defaultdict(list))
    for (name, technique), entries in errors.items():
        for case, mit, _, _ in entries:
            per_case[case][name, technique].append(mit)
    oracle = [min(statistics.median(v) for v in pairs.values()) for pairs in per_case.values()]
    if oracle:
        summary["oracle_median_error"] = statistics.median(oracle)
    if auto:
        auto_err = statistics.median(a[3] for a in auto)
        auto_shots = statistics.median(a[4] for a in auto) / args.shots
        choices = defaultdict(int)
        for _, rid, technique, _, _ in auto:
            choices[f"{rid} {technique}"] += 1
        summary.update({"auto_median_error": auto_err, "auto_shots_multiplier": auto_shots,
                        "auto_choices": dict(choices),
                        "auto_vs_best": auto_err / best["median_error"] if best["median_error"] else float("inf")})
        print(f"\nbest fixed pair: {best['resource']} {best['technique']}: median error {best['median_error']:.4f} "
              f"at {best['shots_multiplier']:.2f}x shots (best unmitigated: {best_unmitigated:.4f}, "
              f"{best_unmitigated / best['median_error']:.2f}x more)")
        print(f"auto: median error {auto_err:.4f} at {auto_shots:.2f}x shots = {summary['auto_vs_best']:.2f}x the "
              f"best pair's error; chose {dict(choices)}")
        if oracle:
            print(f"(the best pair of each circuit, chosen after the fact: median error {summary['oracle_median_error']:.4f})")
    judged = paired_auto(errors, auto, {rid: name for name, rid in made}) if auto else None
    if judged:
        summary["auto_paired_error"] = statistics.median(judged)
        summary["auto_paired_vs_best"] = summary["auto_paired_error"] / best["median_error"] \
            if best["median_error"] else float("inf")
        print(f"auto's choices judged on the pairs' own repeats (paired): median error {summary['auto_paired_error']:.4f}"
              f" = {summary['auto_paired_vs_best']:.2f}x the best pair's")
    if again.get(best_key):
        rerun = statistics.median(e[1] for e in again[best_key])
        summary["best_pair_rerun_error"] = rerun
        summary["best_pair_rerun_vs_best"] = rerun / best["median_error"] if best["median_error"] else float("inf")
        print(f"control: the best pair run again: median error {rerun:.4f} = {summary['best_pair_rerun_vs_best']:.2f}x "
              "its first median (the noise floor of auto against the best pair)")
    quality = ranking_quality(errors, predicted)
    if quality:
        summary["median_spearman"] = statistics.median(q["spearman"] for q in quality.values())
        summary["median_regret"] = statistics.median(q["regret"] for q in quality.values())
        print("\nper circuit: predicted vs observed ranking of the pairs (rho), the observed error of the predicted"
              " best over the observed best (regret), and how often the observed best stays best when its repeats"
              " are resampled")
        for case, q in quality.items():
            print(f"  {case:14} rho {q['spearman']:5.2f}  regret {q['regret']:5.2f}  best kept {q['best_kept_in_resamples']:4.0%}"
                  f"  predicted {q['predicted_best']:24} observed {q['observed_best']}")
    if auto and errors:
        low, high = bootstrap_ratio(errors, auto)
        summary["auto_vs_best_90"] = [low, high]
        print(f"auto / best pair, 90% bootstrap interval: {low:.2f}-{high:.2f}")
    if again.get(best_key) and auto:
        summary["auto_vs_best_rerun"] = summary["auto_median_error"] / summary["best_pair_rerun_error"] \
            if summary["best_pair_rerun_error"] else float("inf")
        low, high = bootstrap_rerun(again[best_key], auto)
        summary["auto_vs_best_rerun_90"] = [low, high]
        print(f"auto / the best pair run again (no after-the-fact pick): {summary['auto_vs_best_rerun']:.2f} "
              f"(90% bootstrap interval {low:.2f}-{high:.2f})")
    out = {"args": vars(args), "rows": rows, "summary": summary, "quality": quality, "predicted": predicted,
           "raw": {f"{n} {t}": entries for (n, t), entries in errors.items()},
           "per_case": {case: {f"{n} {t}": statistics.median(v) for (n, t), v in pairs.items()}
                        for case, pairs in per_case.items()},
           "auto": [{"case": a[0], "resource": a[1], "technique": a[2], "error": a[3], "shots": a[4]} for a in auto],
           "again": {f"{n} {t}": entries for (n, t), entries in again.items()},
           "resource_names": {rid: name for name, rid in made}}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return out


def over_seeds(args, argv) -> dict:
    """One run per seed (each its own service), then auto against each run's best pair."""
    seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    base = []
    skip = False
    for item in argv:  # the arguments of one run: without --seeds, --seed and --json
        if skip:
            skip = False
            continue
        if item in ("--seeds", "--seed", "--json"):
            skip = True
            continue
        if not item.startswith(("--seeds=", "--seed=", "--json=")):
            base.append(item)
    runs, rows, details = {}, {}, {}
    from qtau.mitigation.calibration import STORE

    for seed in seeds:
        print(f"\n== seed {seed} ==")
        STORE.clear()  # calibrations and what was learned stay in the process: start each run bare
        one = main([*base, "--seed", str(seed)])
        runs[seed], rows[seed] = one["summary"], one["rows"]
        details[seed] = {k: one[k] for k in ("quality", "predicted", "raw", "auto", "per_case", "again",
                                             "resource_names")}
    print("\nseed   auto/best (90%)        auto/rerun (90%)       auto shots x  best pair (shots x)            "
          "best pair again/best")
    for seed, summary in runs.items():
        best = summary["best_pair"]
        pair = f"{best['resource']} {best['technique']} ({best['shots_multiplier']:.2f})"
        ci = summary.get("auto_vs_best_90", [float("nan")] * 2)
        fair = summary.get("auto_vs_best_rerun", float("nan"))
        ci2 = summary.get("auto_vs_best_rerun_90", [float("nan")] * 2)
        print(f"{seed:<6} {summary.get('auto_vs_best', float('nan')):5.2f} ({ci[0]:.2f}-{ci[1]:.2f})    "
              f"{fair:5.2f} ({ci2[0]:.2f}-{ci2[1]:.2f})    {summary.get('auto_shots_multiplier', 0):12.2f}"
              f"  {pair:32} {summary.get('best_pair_rerun_vs_best', float('nan')):6.2f}")
    ratios = [s["auto_vs_best"] for s in runs.values() if "auto_vs_best" in s]
    fair = [s["auto_vs_best_rerun"] for s in runs.values() if "auto_vs_best_rerun" in s]
    control = [s["best_pair_rerun_vs_best"] for s in runs.values() if "best_pair_rerun_vs_best" in s]
    out = {"args": vars(args), "runs": {str(k): v for k, v in runs.items()},
           "rows": {str(k): v for k, v in rows.items()}, "details": {str(k): v for k, v in details.items()},
           "median_auto_vs_best": statistics.median(ratios) if ratios else None,
           "median_best_pair_rerun_vs_best": statistics.median(control) if control else None,
           "median_auto_vs_best_rerun": statistics.median(fair) if fair else None}
    if ratios:
        print(f"median over {len(ratios)} runs: auto = {out['median_auto_vs_best']:.2f}x the best pair's error")
    if fair:
        print(f"median over {len(fair)} runs: auto = {out['median_auto_vs_best_rerun']:.2f}x the best pair's error "
              "when that pair is run again (no after-the-fact pick)")
    if control:
        print(f"median over {len(control)} runs: the best pair run again = "
              f"{out['median_best_pair_rerun_vs_best']:.2f}x its own first error")
    out["pooled"] = pooled(details, args.shots)
    if out["pooled"]:
        p = out["pooled"]
        print(f"pooled over the {len(seeds)} runs ({p['n_auto']} auto tasks): best fixed pair {p['best_pair']} "
              f"{p['best_pair_error']:.4f}; auto {p['auto_error']:.4f} = {p['auto_vs_best']:.2f}x "
              f"(90% {p['auto_vs_best_90'][0]:.2f}-{p['auto_vs_best_90'][1]:.2f}) at {p['auto_shots']:.2f}x shots "
              f"(the pair's {p['best_pair_shots']:.2f}x); the pair run again: {p['rerun_error']:.4f} = "
              f"{p['rerun_vs_first']:.2f}x its first; auto / rerun {p['auto_vs_rerun']:.2f}x "
              f"(90% {p['auto_vs_rerun_90'][0]:.2f}-{p['auto_vs_rerun_90'][1]:.2f}); unmitigated (best resource) "
              f"{p['unmitigated_error']:.4f} = {p['unmitigated_vs_auto']:.1f}x auto's")
        if "auto_paired_vs_best" in p:
            print(f"pooled, auto's choices judged on the pairs' own repeats: {p['auto_paired_error']:.4f} = "
                  f"{p['auto_paired_vs_best']:.2f}x the best pair's")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float))
    return out


def pooled(details, base_shots, samples=400, seed=0) -> dict:
    """Auto against the best fixed pair with every run's errors pooled: the pair of least median
    error over all runs' tasks (one pick over the pooled repeats, less of a winner's curse than a
    pick per run), auto's median over all its tasks, the pair's control reruns pooled the same
    way, and 90% bootstrap intervals (resampling within each run and circuit). Runs whose best
    pair was another one ran no rerun of this one; the rerun uses the runs that did."""
    rng = np.random.default_rng(seed)
    cells = defaultdict(lambda: defaultdict(list))  # pair -> (run, case) -> errors
    auto_cells, again_cells, raw_none = defaultdict(list), defaultdict(list), defaultdict(list)
    shots = defaultdict(list)
    for run, det in details.items():
        for key, entries in det["raw"].items():
            for case, mit, raw, ran in entries:
                cells[key][run, case].append(mit)
                shots[key].append(ran)
                if key.endswith(" none"):
                    raw_none[key].append(raw)
        for a in det["auto"]:
            auto_cells[run, a["case"]].append(a["error"])
            shots["auto"].append(a["shots"])
        for key, entries in det.get("again", {}).items():
            for case, mit, _, _ in entries:
                again_cells[key, run, case].append(mit)
    if not cells or not auto_cells:
        return {}

    def median_of(by_cell, draw=False):
        values = [x for v in by_cell.values() for x in (rng.choice(v, len(v)) if draw else v)]
        return statistics.median(values)

    medians = {key: median_of(by) for key, by in cells.items()}
    best = min(medians, key=medians.get)
    auto = median_of(auto_cells)
    again = {(run, case): v for (key, run, case), v in again_cells.items() if key == best}
    runs_again = {run for run, _ in again}
    first_same = {cell: v for cell, v in cells[best].items() if cell[0] in runs_again}
    out = {"best_pair": best, "best_pair_error": medians[best], "auto_error": auto, "n_auto": sum(map(len, auto_cells.values())),
           "auto_vs_best": auto / medians[best],
           "auto_shots": statistics.median(shots["auto"]) / base_shots,
           "best_pair_shots": statistics.median(shots[best]) / base_shots,
           "unmitigated_error": min(statistics.median(v) for v in raw_none.values()) if raw_none else float("nan")}
    out["unmitigated_vs_auto"] = out["unmitigated_error"] / auto if auto else float("inf")
    judged = []
    for det in details.values():
        names = det.get("resource_names") or {a["resource"]: a["resource"].split(":")[-1] for a in det["auto"]}
        errors = {tuple(key.split(" ", 1)): entries for key, entries in det["raw"].items()}
        one = paired_auto(errors, [(a["case"], a["resource"], a["technique"], a["error"], a["shots"]) for a in det["auto"]],
                          names)
        if one is None:
            judged = None
            break
        judged.extend(one)
    if judged:
        out["auto_paired_error"] = statistics.median(judged)
        out["auto_paired_vs_best"] = out["auto_paired_error"] / medians[best]
    ratios, fair = [], []
    for _ in range(samples):
        drawn = {key: median_of(by, True) for key, by in cells.items()}
        mine = median_of(auto_cells, True)
        ratios.append(mine / min(drawn.values()))
        if again:
            fair.append(mine / median_of(again, True))
    out["auto_vs_best_90"] = [float(np.percentile(ratios, 5)), float(np.percentile(ratios, 95))]
    if again:
        rerun = median_of(again)
        out.update({"rerun_error": rerun, "rerun_vs_first": rerun / median_of(first_same), "auto_vs_rerun": auto / rerun,
                    "auto_vs_rerun_90": [float(np.percentile(fair, 5)), float(np.percentile(fair, 95))],
                    "rerun_runs": sorted(runs_again)})
    else:
        out.update({"rerun_error": float("nan"), "rerun_vs_first": float("nan"), "auto_vs_rerun": float("nan"),
                    "auto_vs_rerun_90": [float("nan")] * 2, "rerun_runs": []})
    return out


if __name__ == "__main__":
    main()
