"""The fit of one run-time model: a resource's correction of its plugin's run-time figure, learned
from observed batches (`qtau.dreamer.runtime_model` keeps the observations and asks for fits).

The model, per resource and circuit format (what converting a task costs depends on the format it
comes in: a PennyLane tape for Aer goes through OpenQASM, a Qiskit circuit does not), says what a
backend call of k tasks of one shape costs: a fixed part (start-up, a transpiler pass, a device
built per call) and a part per task,

    call(k) = alone x (rho + k) / (rho + 1),   ln(alone / prior) = b0 + b4 first
                   + (1 - clifford) (b1 ln(shots+1 / 1001) + b2 (width - 4) + b3 ln(gates+1 / 11))
                   + clifford (b6 + b7 ln(shots+1 / 1001) + b5 (width - 4) + b8 ln(gates+1 / 11))

where `alone` is a task's time in a call of its own, so one member of a batch of k costs
alone x (1 + rho / k) / (1 + rho). Why this shape: a batch's time is, on
every simulator measured here, a call's fixed cost plus a cost per circuit (Bell pubs on
lightning.qubit: 2.1 ms alone, 0.94 ms each in fours, 0.55-0.7 ms each in hundreds; on Braket's
LocalSimulator 15 ms alone, 9-10 ms each in a batch), and ranking a burst needs exactly these two
numbers (`ranking.Plan`: a burst of k on a simulator costs call + k x task), which a power law in k
extrapolates badly from the small batches of a warm-up to the big ones of a sweep. rho, the fixed
part in units of one task, is one number per model, chosen on a grid (posterior mode, log-normal
prior around the plugin's `call_overhead_tasks`, else 2); seen in batches of one size only it
stays at its prior, and the model still gives that size's time. Other sizes' times, a burst's
above all, are the posterior means over rho's spread (`posterior_split`), not the mode's. Which is why the plugin states
it: a warm-up's tasks run alone or in twos, and a simulator whose calls cost nothing beyond their
circuits (BasicSimulator, Braket's local one) would otherwise be expected to run a burst three
times faster per task than alone, and be sent one.

The time alone is a correction of the plugin's figure in log space: run
times span orders of magnitude and their errors are multiplicative (a factor of two either way),
so residuals are compared as logs; the prior already carries the physics a plugin knows (shots,
2^n amplitudes, gate durations), so with no observations the correction is 0 and the estimate is
the plugin's; the intercept learns a constant factor from a handful of tasks, and the slopes
learn how the plugin's scaling in shots, width (a state vector doubles per qubit) and gate count
is off, but only as far as the data spread over shapes (a ridge prior keeps them near 0: a
workload of one shape moves mostly the intercept). `first` marks a cold call: one that paid for
creating its executor (importing the SDK, building the simulator) or its conversion path (a Qiskit
circuit's first trip to a PennyLane device imports PennyLane's Qiskit converter: 1.2 s, on a
device that was warm), as the worker that ran it saw (`Attempt.cold`; the worker runs one task
alone in such a call, so the rest of its batch is a warm observation):
estimates are made at first = 0, and b4's wide prior takes almost all of a first batch's excess,
so the first observation of a simulator whose SDK is slow to import does not make it look slow.
`clifford` marks a circuit of Clifford gates only (`CLIFFORD_GATES`): Aer's automatic method
simulates it as a stabilizer state, whose time hardly grows with the width (GHZ circuits of 2 and
12 qubits at 100 shots: about 1 ms each, measured here), while a state vector doubles per qubit
(rx layers of 12 and 16 qubits: 10-20 ms and 160-390 ms). One width slope for both makes a
workload that mixes them wrong for both, and so do one level and one slope in shots and gates
(a stabilizer state is sampled shot by shot, a state vector's shots come almost free after its
evolution; in a stream of both, one at a time, one shot slope for both left 20-30% of completions
within 20% of their estimates, one each 76-85%): Clifford circuits get terms of their own (b5,
b7, b8 beside b2, b1, b3, and an offset b6 of their level; their priors centre them on the
others', as on a simulator that does not switch methods).
The fit is the posterior mode under Gaussian priors on b (sd PRIOR_SD), by iteratively reweighted
least squares with Huber weights from a median start, and observations further than REJECT_SDS
robust deviations from the first such fit ignored: a first task that pays the SDK's import, or a
pause of the machine, must not make a simulator look slow for the next sixty tasks, while a new
kind of circuit, far from the median of what ran before, is fitted by its own terms at once.
A shape seen lately in a warm call (shots, width, gates, Clifford) also has what it took beyond
the terms, shrunk as a random effect (`shape_effects`): the terms are a few slopes, and a
simulator's fixed cost plus a state vector's is a knee no log-linear slope follows, and circuits
of one width and gate count differ more than the slopes say (a QFT against rx layers). Its
expected error is the predictive spread (noise plus the uncertainty of b at this shape) as a
relative error, exp(sd) - 1.
"""

from __future__ import annotations

import math

import attrs

from qtau.gates import DIRECTIVES
from qtau.types import CircuitSummary, Resource

#: Prior standard deviations of the correction's terms (log units): the plugin's figure is right
#: within a factor of e**1.5 (4.5) either way; its scaling per e-fold of shots and of gates within
#: e**0.5, per qubit within e**0.35 (for Clifford circuits and for the others each: a stabilizer
#: tableau grows as n**2, a state vector as 2**n); a first batch's excess is anything; Clifford
#: circuits' level differs from the others' within a factor of e (a stabilizer run's fixed costs
#: are not a state vector's).
PRIOR_SD = (1.5, 0.5, 0.35, 0.5, 6.0, 0.35, 1.0, 0.5, 0.5)
DIMS = len(PRIOR_SD)
#: The candidates for rho (a call's fixed cost in units of one task: 1/16 to 256) and its prior:
#: log-normal around the resource's `call_overhead_tasks` (the plugin's figure, `rho_prior`), else
#: RHO_PRIOR, within a factor of e**2 either way. Simulators differ by more than that prior's
#: width can learn from a warm-up's small batches (Bell tasks through QTAU, session 21, idle
#: 2-core machine, a call of k tasks = F + k x T: lightning.qubit 2.6, default.qubit 1.7, Aer about
#: 2, BasicSimulator 0.3, Braket's LocalSimulator under 0.1): with one prior for all, a simulator
#: seen only alone was expected to run a burst three times faster per task than alone, which is
#: true of lightning and false of BasicSimulator (1.4 ms alone, 1.0 ms a task in hundreds).
RHO_GRID = tuple(2.0 ** i for i in range(-4, 9))
RHO_PRIOR = 2.0
RHO_PRIOR_SD = 2.0
#: The resource metadata key of the plugin's rho prior.
RHO_KEY = "call_overhead_tasks"
#: Prior sd (log units) of what one shape takes beyond the fit's terms (`shape_effects`).
SHAPE_SD = 0.5
#: Noise (log sd) assumed before observations say otherwise, worth PRIOR_NOISE_WEIGHT observations.
PRIOR_NOISE_SD = 0.3
PRIOR_NOISE_WEIGHT = 2.0
MIN_NOISE_SD = 0.05
HUBER_K = 1.345
REJECT_SDS = 6.0


#: Gates of the Clifford group (with the directives and reset): a circuit of these only is what
#: Aer's automatic method simulates as a stabilizer state, whose cost grows with the qubits as a
#: polynomial, not as the 2**n amplitudes of a state vector (Qiskit Aer's `method="automatic"`).
CLIFFORD_GATES = frozenset({"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz", "swap",
                            "iswap", "ecr", "dcx", "reset"}) | DIRECTIVES


def shape_of(shots: int, summary: CircuitSummary | None) -> tuple[float, float, float, float]:
    """(shots, width, gates, clifford) of a task: what the model's features are computed from
    (clifford: 1 for a circuit of Clifford gates only, else 0)."""
    if summary is None:
        return float(shots), 0.0, 0.0, 0.0
    gates = sum(n for g, n in summary.gate_counts.items() if g not in DIRECTIVES)
    clifford = all(g in CLIFFORD_GATES for g in summary.gate_counts)
    return float(shots), float(summary.num_qubits), float(gates), 1.0 if clifford else 0.0


def features(shots: float, width: float, gates: float, clifford: float = 0.0, first: bool = False
             ) -> tuple[float, ...]:
    """The model's features: the width's slope is one for circuits that are not Clifford and
    another for those that are (each task has one of the two), and Clifford circuits' level is
    offset from the others' (the last term)."""
    other = 1.0 - clifford
    log_shots, log_gates = math.log((shots + 1) / 1001), math.log((gates + 1) / 11)
    return (1.0, other * log_shots, other * (width - 4.0), other * log_gates, 1.0 if first else 0.0,
            clifford * (width - 4.0), clifford, clifford * log_shots, clifford * log_gates)


@attrs.frozen
class Fit:
    """A resource's correction: coefficients, their covariance, the noise sd, tasks seen, and rho
    (a backend call's fixed cost in units of one task)."""

    coef: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    noise_sd: float
    tasks: int
    rho: float = RHO_PRIOR
    #: The posterior means of a task's time alone and of its marginal time in a call of many
    #: (call(k) = alone + (k - 1) x task), as factors of the time alone at `rho`, the mode
    #: (`posterior_split`).
    alone_factor: float = 1.0
    task_factor: float = 1.0 / (1.0 + RHO_PRIOR)
    #: What the shapes seen lately took beyond the fit's terms (`shape_effects`), by `shape_key`.
    shapes: dict[tuple[float, ...], float] = attrs.field(factory=dict, eq=False, hash=False)

    @classmethod
    def prior(cls, rho: float = RHO_PRIOR) -> Fit:
        weights = [math.exp(-_rho_penalty(c, rho)) for c in RHO_GRID]
        return cls((0.0,) * DIMS, tuple(tuple(sd * sd if i == j else 0.0 for j in range(DIMS))
                                     for i, sd in enumerate(PRIOR_SD)), PRIOR_NOISE_SD, 0, rho,
                   *posterior_split(weights, [0.0] * len(RHO_GRID)))

    def predict(self, x: tuple[float, ...]) -> tuple[float, float]:
        """(log correction of a task's time alone, its predictive sd) at features `x`."""
        mean = sum(c * v for c, v in zip(self.coef, x, strict=True))
        if self.shapes:
            mean += self.shapes.get(shape_key(x), 0.0)
        var = sum(x[i] * self.cov[i][j] * x[j] for i in range(DIMS) for j in range(DIMS))
        return mean, math.sqrt(max(var, 0.0) + self.noise_sd ** 2)

    def call_and_task(self, prior_s: float, x: tuple[float, ...]) -> tuple[float, float, float]:
        """(a backend call's fixed seconds, a task's marginal seconds, the predictive log sd) for
        a task at features `x` whose plugin prior is `prior_s`: k such tasks in one call take
        call + k x task."""
        mean, sd = self.predict(x)
        at_mode = max(prior_s, 1e-9) * math.exp(mean)  # a task alone, at the fit's rho
        task = at_mode * self.task_factor
        return max(at_mode * self.alone_factor - task, 0.0), task, sd


def shape_key(x: tuple[float, ...]) -> tuple[float, ...]:
    """A task's shape, as the features say it (shots, width, gates, Clifford), cold or warm alike."""
    return (*x[:4], 0.0, *x[5:])


def shape_effects(xs: list[tuple[float, ...]], resid: list[float], sd: float) -> dict[tuple[float, ...], float]:
    """Per shape seen in warm calls (rows `xs`), the mean of what its rows took beyond the fit
    (`resid`, the fit's log residuals), shrunk towards 0 as a random effect of prior sd SHAPE_SD under noise `sd`: n x SHAPE_SD**2 /
    (n x SHAPE_SD**2 + sd**2) of it. Rows the fit drops as outliers (REJECT_SDS) count for nothing.

    Why: the fit's terms are a handful of slopes, and circuits of one width, gate count and shots
    differ by more than they can say (on Aer at 14 qubits and 100 shots: rx layers with a cx chain,
    81 gates, 6 ms; a QFT, 140 gates, 16 ms, which the slopes learned from the first put at 7.6).
    Users repeat shapes (a sweep's parameters, a VQE's iterations, a Sampler's pubs), and what a
    shape took last time is the best guide to its next run; a shape not seen yet has the fit's."""
    sums: dict[tuple[float, ...], tuple[float, int]] = {}
    for x, r in zip(xs, resid, strict=True):
        if x[4]:
            continue  # a cold call: its excess is the first-call term's
        if abs(r) > REJECT_SDS * sd:
            continue
        key = shape_key(x)
        total, n = sums.get(key, (0.0, 0))
        sums[key] = (total + r, n + 1)
    prior = SHAPE_SD * SHAPE_SD
    return {key: total / n * (n * prior / (n * prior + sd * sd)) for key, (total, n) in sums.items()}


def _noise(size):
    """The robust noise sd of residuals from their sizes along the last axis (one sd per row of a
    2-D array), shrunk towards PRIOR_NOISE_SD while they are few."""
    np = load_numpy()
    m = size.shape[-1]
    mad = 1.4826 * np.median(size, axis=-1) if m else 0.0
    return np.maximum(np.sqrt((m * mad ** 2 + PRIOR_NOISE_WEIGHT * PRIOR_NOISE_SD ** 2) / (m + PRIOR_NOISE_WEIGHT)),
                      MIN_NOISE_SD)


def _huber_weights(size, sd):
    """Each residual's weight in a least-squares round: Huber's (1 within HUBER_K sds, falling as
    1 / size beyond), over the noise variance; `size` the residuals' sizes, `sd` broadcast to them."""
    np = load_numpy()
    return np.where(size > 0, np.minimum(1.0, HUBER_K * sd / np.where(size > 0, size, 1.0)), 1.0) / (sd * sd)


def load_numpy():
    """numpy, imported when a model is first fitted: a core dependency, but `import qtau` (a
    remote-only service, the CLI) does without it. A fit in arrays takes 0.6-1 ms where the same
    arithmetic in lists took 3-9 ms (64 rows, 9 terms, 13 values of rho), and what a fit costs
    decides how often plans can be told a new estimate."""
    import numpy

    return numpy


def _irls(xs, ys, rounds: int = 5):
    """The posterior mode of b for targets `ys` (coef, the normal matrix, noise sd, and the rows'
    residuals from coef); `xs`: the rows' features (arrays). Outliers are judged after the first round (`_grid` is that round for
    every rho at once)."""
    np = load_numpy()
    precision = np.diag(1.0 / np.asarray(PRIOR_SD) ** 2)
    resid = ys - float(np.median(ys))
    sd = float(_noise(np.abs(resid)))
    keep = np.ones(len(ys), dtype=bool)
    coef = np.zeros(DIMS)
    normal = precision
    for round_ in range(rounds):
        if round_ == 1:
            # Outliers are judged by their distance from the first (Huber-weighted) fit, not from
            # the median: a new kind of circuit whose times are far from the rest (rotation
            # circuits after GHZ ones) is explained by its own terms, not dropped as a pause.
            keep = np.abs(resid) <= REJECT_SDS * sd
        weighted = xs.T * np.where(keep, _huber_weights(np.abs(resid), sd), 0.0)
        normal = precision + weighted @ xs
        coef = np.linalg.solve(normal, weighted @ ys)
        resid = ys - xs @ coef
        sd = float(_noise(np.abs(resid[keep])))
    return coef, normal, sd, resid


def rho_prior(resource: Resource) -> float:
    """The mode of rho's prior on `resource`: its plugin's `call_overhead_tasks` (clipped to
    RHO_GRID's range), else RHO_PRIOR."""
    stated = resource.metadata.get(RHO_KEY)
    try:
        value = float(stated)
    except (TypeError, ValueError):
        return RHO_PRIOR
    return min(max(value, RHO_GRID[0]), RHO_GRID[-1]) if math.isfinite(value) else RHO_PRIOR


def _rho_penalty(candidate: float, prior_rho: float) -> float:
    """Minus the log of rho's prior density at `candidate` (log-normal around `prior_rho`)."""
    return 0.5 * (math.log(candidate / prior_rho) / RHO_PRIOR_SD) ** 2


def _alone_over_member(rho: float, k: float) -> float:
    """The log of a task's time alone over a member's time in a call of k, at `rho`."""
    return math.log1p(rho) - math.log1p(rho / k)


def posterior_split(weights: list[float], shifts: list[float]) -> tuple[float, float]:
    """(alone_factor, task_factor) of `Fit`: the posterior means over RHO_GRID (unnormalised
    `weights`) of a task's time alone (each candidate's log correction `shifts` away from the
    mode's) and of its marginal time in a burst, alone / (1 + rho).

    Why means and not the mode's split: a simulator seen only alone (a warm-up's tries) has its
    burst time extrapolated by 1 / (1 + rho), which its tries cannot tell, and the mode of rho's
    prior made that extrapolation a bet: Aer seen alone at 1.05 ms a Bell pub was expected at
    0.35 ms a pub in a burst (rho 2) and runs 0.45 ms there, below lightning's 0.38 ms learned from
    a batch of eleven, and took the burst. The mean over the prior's spread (0.38 of the time alone
    for a prior of 2, 0.61 for 0.3) is the expected time a burst will take, the number a ranking
    of expected completions needs; once batches of several sizes pin rho down, the two agree."""
    total = sum(weights)
    alone = sum(w * math.exp(d) for w, d in zip(weights, shifts, strict=True)) / total
    task = sum(w * math.exp(d) / (1.0 + c) for w, d, c in zip(weights, shifts, RHO_GRID, strict=True)) / total
    return alone, task


def _grid(xs, targets, ks) -> tuple[list[float], list[float]]:
    """For every rho on RHO_GRID at once, `_irls`'s first round on that rho's targets (a member's
    time in a call of k made a task's time alone): the penalised robust loss that compares the fits
    (outliers left out) and the intercept. One round of all thirteen as arrays: a fit of 64 batches of three sizes took 0.9 ms
    here with it, 2.7 ms with thirteen `_irls` calls one after another (9.6 ms in lists)."""
    np = load_numpy()
    grid = np.asarray(RHO_GRID)[:, None]
    ys = targets[None, :] - np.log1p(grid / ks[None, :]) + np.log1p(grid)  # (rho, row)
    size = np.abs(ys - np.median(ys, axis=1, keepdims=True))
    weights = _huber_weights(size, _noise(size)[:, None])
    normal = np.diag(1.0 / np.asarray(PRIOR_SD) ** 2)[None] + np.einsum("cn,ni,nj->cij", weights, xs, xs)
    coef = np.linalg.solve(normal, np.einsum("cn,ni->ci", weights * ys, xs)[..., None])[..., 0]
    resid = ys - coef @ xs.T
    sd = _noise(np.abs(resid))[:, None]
    used = np.abs(resid) / sd
    keep = used <= REJECT_SDS  # the loss leaves the outliers out
    huber = np.where(used <= HUBER_K, 0.5 * used * used, HUBER_K * (used - 0.5 * HUBER_K))
    loss = (np.sum(np.where(keep, huber, 0.0), axis=1) + keep.sum(axis=1) * np.log(sd[:, 0])
            + 0.5 * np.sum((coef / np.asarray(PRIOR_SD)) ** 2, axis=1))
    return loss.tolist(), coef[:, 0].tolist()


def fit(rows: list[tuple[tuple[float, ...], float, float]], tasks: int, prior_rho: float = RHO_PRIOR) -> Fit:
    """The model given (features, log of a member's time over the prior, batch size) rows (see
    the module docstring): for each rho on RHO_GRID the correction of a task's time alone; the
    rho whose fit (with rho's own prior, of mode `prior_rho`) explains the rows best, its fit,
    and the posterior means of a task's time alone and in a burst (`posterior_split`)."""
    if not rows:
        return Fit.prior(prior_rho)
    np = load_numpy()
    xs = np.array([x for x, _, _ in rows], dtype=float)
    targets = np.array([y for _, y, _ in rows], dtype=float)
    ks = np.array([k for _, _, k in rows], dtype=float)
    sizes = {k for _, _, k in rows}
    if len(sizes) > 1:
        losses, intercepts = _grid(xs, targets, ks)
        losses = [loss + _rho_penalty(c, prior_rho) for loss, c in zip(losses, RHO_GRID, strict=True)]
        mode = min(range(len(RHO_GRID)), key=losses.__getitem__)
        rho = RHO_GRID[mode]
        least = losses[mode]
        alone, task = posterior_split([math.exp(least - loss) for loss in losses],
                                      [c - intercepts[mode] for c in intercepts])
    else:
        # Batches of one size k say nothing of rho: its prior's mode (off the grid, perhaps), and
        # over its prior a task alone is (1 + rho) / (1 + rho / k) times a member's time.
        (k,) = sizes
        rho = prior_rho
        weights = [math.exp(-_rho_penalty(c, prior_rho)) for c in RHO_GRID]
        alone, task = posterior_split(weights, [_alone_over_member(c, k) - _alone_over_member(rho, k)
                                                for c in RHO_GRID])
    ys = targets - np.log1p(rho / ks) + math.log1p(rho)
    coef, normal, sd, resid = _irls(xs, ys)
    cov = np.linalg.inv(normal)
    return Fit(tuple(float(c) for c in coef), tuple(tuple(float(v) for v in row) for row in cov), sd, tasks,
               rho, alone, task, shape_effects([x for x, _, _ in rows], resid.tolist(), sd))
