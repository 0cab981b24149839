"""QDREAMER learns run times from results (dreamer/runtime_model.py): the model's maths on synthetic
observations, its persistence across services, ranking by the learned-fastest simulator, and what
explain(), get_cache_info() and clear_cache() show of it."""

import math
import random
import time

import attrs
import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer import runtime_fit, runtime_model, runtime_observations
from qtau.dreamer.runtime_model import EXPLORE_TRIES, RuntimeModels
from qtau.errors import ConfigurationError
from qtau.types import CircuitSummary, Resource
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource
from qtau_test_circuits import bell

SIM = Resource("test:sim", "test", "test", "simulator", 20)


def summary(width: int, gates: int = 10) -> CircuitSummary:
    return CircuitSummary(num_qubits=width, gate_counts={"h": gates}, num_measured=width)


def feed(models: RuntimeModels, seconds, n: int, width: int = 4, shots: int = 1000, prior: float = 0.002,
         seed: int = 1, start: float | None = None) -> float:
    """`n` single tasks whose run time is seconds(width) x lognormal noise (sd 0.2), started a second
    apart from `start` (epoch seconds; default: an hour ago); returns the next start."""
    rng = random.Random(seed)
    start = time.time() - 3600 if start is None else start
    for _ in range(n):
        took = seconds(width) * math.exp(rng.gauss(0, 0.2))
        models.observe(SIM.id, start, start + took, prior, shots, summary(width))
        start += 1.0
    return start


def test_without_observations_the_estimate_is_the_plugin_prior_with_a_wide_error():
    est = RuntimeModels(None).estimate(SIM, 0.002, 1000, summary(4))
    assert est.seconds == pytest.approx(0.002)
    assert est.source == "plugin prior" and est.observations == 0
    assert est.error > 2  # the prior is trusted within a factor of about 4.5 only
    assert est.describe().startswith("plugin prior, ±")


def test_the_estimate_converges_on_the_observed_run_time_and_its_error_shrinks():
    models = RuntimeModels(None)
    feed(models, lambda w: 0.010, 40)
    est = models.estimate(SIM, 0.002, 1000, summary(4))
    assert est.seconds == pytest.approx(0.010, rel=0.15)
    assert est.source == "learned" and est.observations == 40
    assert 0.1 < est.error < 0.5  # the noise fed was a log sd of 0.2
    assert est.describe() == f"learned from 40 tasks, ±{est.error:.0%}"


def test_the_model_learns_how_run_time_grows_with_width():
    models = RuntimeModels(None)
    start = 0.0
    for width in range(2, 11):  # a state vector: twice the time per qubit, the prior says flat
        start = feed(models, lambda w: 1e-4 * 2 ** w, 6, width=width, seed=width, start=start)
    wide = models.estimate(SIM, 0.002, 1000, summary(12)).seconds
    assert wide == pytest.approx(1e-4 * 2 ** 12, rel=0.5)
    assert models.estimate(SIM, 0.002, 1000, summary(3)).seconds == pytest.approx(1e-4 * 2 ** 3, rel=0.3)


def rotations(width: int) -> CircuitSummary:
    """A circuit that is not Clifford (rx layers and a cx chain): a simulator's state vector."""
    return CircuitSummary(num_qubits=width, gate_counts={"rx": 3 * width, "cx": 3 * width - 3}, num_measured=width)


def ghz(width: int) -> CircuitSummary:
    """A Clifford circuit: Aer simulates it as a stabilizer state, in about the same time at any width."""
    return CircuitSummary(num_qubits=width, gate_counts={"h": 1, "cx": width - 1}, num_measured=width)


def test_clifford_circuits_have_a_width_slope_of_their_own():
    """A stream that mixes GHZ circuits (flat in the width on Aer) and rotations (twice the time
    per qubit): each kind is estimated by its own scaling, not a compromise that is wrong for both
    (`runtime_fit.CLIFFORD_GATES`)."""
    models = RuntimeModels(None)
    rng = random.Random(3)
    start = 0.0
    for width in range(2, 11):
        for _ in range(4):
            for shape, took in ((ghz(width), 0.001), (rotations(width), 1e-4 * 2 ** width)):
                models.observe(SIM.id, start, start + took * math.exp(rng.gauss(0, 0.1)), 0.002, 1000, shape)
                start += 1.0
    assert models.estimate(SIM, 0.002, 1000, ghz(12)).seconds == pytest.approx(0.001, rel=0.3)
    assert models.estimate(SIM, 0.002, 1000, rotations(12)).seconds == pytest.approx(1e-4 * 2 ** 12, rel=0.4)
    assert runtime_fit.shape_of(1000, ghz(5))[3] == 1.0 and runtime_fit.shape_of(1000, rotations(5))[3] == 0.0


def test_clifford_circuits_have_a_level_and_shot_and_gate_slopes_of_their_own():
    """Aer samples a stabilizer state shot by shot, so a GHZ circuit's time grows with its shots,
    while a state vector's shots come almost free after its evolution, which doubles per qubit. A
    stream of both (benchmarks/estimates.py's `mixed`, one at a time: 20-30% of completions within
    20% of their estimates with one shot slope for both, 76-85% with one each) is estimated by each
    kind's own terms."""
    models = RuntimeModels(None)
    rng = random.Random(5)
    start = 0.0
    for _ in range(6):
        for shots in (100, 1000, 4000):
            for width in (4, 8):
                for shape, took in ((ghz(width), 0.0002 + 0.001 * shots / 1000), (rotations(width), 1e-4 * 2 ** width)):
                    models.observe(SIM.id, start, start + took * math.exp(rng.gauss(0, 0.05)), 0.002, shots, shape)
                    start += 1.0
    assert models.estimate(SIM, 0.002, 4000, ghz(6)).seconds == pytest.approx(0.0042, rel=0.3)
    assert models.estimate(SIM, 0.002, 100, ghz(6)).seconds == pytest.approx(0.0003, rel=0.3)
    for shots in (100, 4000):
        assert models.estimate(SIM, 0.002, shots, rotations(6)).seconds == pytest.approx(1e-4 * 2 ** 6, rel=0.3)


def test_a_shape_seen_before_is_expected_to_take_what_it_took_though_the_slopes_cannot_say_it():
    """A simulator's time is a fixed cost plus a state vector's, a knee that no log-linear slope
    in the width follows (here 1 ms up to about 12 qubits, then doubling per qubit): each width
    repeated (a sweep's parameters, a VQE's iterations) is expected at what it took, while the
    slopes alone miss some widths by more than 20%."""
    models = RuntimeModels(None)
    took = {w: 0.001 + 2.5e-7 * 2 ** w for w in range(2, 17, 2)}
    rng = random.Random(11)
    start = 0.0
    for _ in range(4):
        for width, seconds in took.items():
            models.observe(SIM.id, start, start + seconds * math.exp(rng.gauss(0, 0.05)), 0.002, 1000,
                           rotations(width))
            start += 1.0
    for width, seconds in took.items():
        assert models.estimate(SIM, 0.002, 1000, rotations(width)).seconds == pytest.approx(seconds, rel=0.2)
    fitted = models.info()  # fits the model; its slopes alone:
    assert fitted["resources"][SIM.id]["tasks"] == 4 * len(took)
    learned = next(iter(models._models.values())).fitted
    slopes = attrs.evolve(learned, shapes={})
    misses = [w for w, seconds in took.items() if abs(0.002 * math.exp(slopes.predict(
        runtime_fit.features(*runtime_fit.shape_of(1000, rotations(w))))[0]) - seconds) > 0.2 * seconds]
    assert misses, "the slopes fit the knee: this test no longer shows what shape effects add"
    # A shape never seen is the slopes' alone.
    odd = runtime_fit.features(*runtime_fit.shape_of(1000, rotations(9)))
    assert learned.predict(odd) == slopes.predict(odd)


def test_a_result_far_from_what_plans_were_told_reaches_them_at_once_and_a_steady_stream_does_not(monkeypatch):
    """Plans keep their estimates until the store's version moves, which a settled model moves
    rarely (`observe`'s schedule). After a GHZ workload, rotation circuits one at a time were
    estimated by what the model said before it saw one: a shape the last fit had not seen, or a
    result more than 20% (and three noise sds) from it, moves the version; known shapes that run as
    expected never do. (The fitting budget is lifted here: the test's runs last no time.)"""
    monkeypatch.setattr(runtime_model, "FIT_SHARE", math.inf)
    models = RuntimeModels(None)
    start = 0.0
    rng = random.Random(7)
    for _ in range(70):  # past the schedule's 64, short of its 128
        models.observe(SIM.id, start, start + 0.001 * math.exp(rng.gauss(0, 0.05)), 0.002, 1000,
                       ghz(rng.choice((4, 6, 8))))
        start += 1.0
    told = models.estimate(SIM, 0.002, 1000, rotations(12)).seconds  # what a plan was told
    version = models.version
    for _ in range(10):  # more of the same: nothing to tell
        models.observe(SIM.id, start, start + 0.001 * math.exp(rng.gauss(0, 0.05)), 0.002, 1000, ghz(6))
        start += 1.0
    assert models.version == version
    took = 0.05  # a state vector of 12 qubits: far from the GHZ circuits' millisecond
    assert not 0.5 * took < told < 2 * took
    news = []
    for _ in range(6):
        models.observe(SIM.id, start, start + took * math.exp(rng.gauss(0, 0.05)), 0.002, 1000, rotations(12))
        start += 1.0
        news.append(models.version != version)
        version = models.version
        models.estimate(SIM, 0.002, 1000, rotations(12))  # a plan refreshed: told the new fit
    assert news[0]  # a shape the fit had not seen: at once
    assert models.estimate(SIM, 0.002, 1000, rotations(12)).seconds == pytest.approx(took, rel=0.2)
    assert not news[-1]  # and once it is expected as it runs, no more
    for _ in range(5):  # the machine slows this shape down by half: news again
        models.observe(SIM.id, start, start + 1.6 * took, 0.002, 1000, rotations(12))
        start += 1.0
    assert models.version != version


def test_plans_are_told_of_surprises_only_while_fitting_costs_a_small_share_of_the_runs(monkeypatch):
    """A stream of shapes never seen before would refit the model after every task; what fitting
    has cost stays within FIT_SHARE of the run time observed (none here: no surprise is told)."""
    monkeypatch.setattr(runtime_model, "FIT_SHARE", 0.0)
    models = RuntimeModels(None)
    start = feed(models, lambda w: 0.001, 70)
    models.estimate(SIM, 0.002, 1000, rotations(12))
    version = models.version
    models.observe(SIM.id, start, start + 0.05, 0.002, 1000, rotations(12))
    assert models.version == version
    monkeypatch.setattr(runtime_model, "FIT_SHARE", math.inf)
    models.observe(SIM.id, start + 1, start + 1.05, 0.002, 1000, rotations(13))
    assert models.version != version


def test_an_outlier_such_as_a_first_run_importing_its_sdk_does_not_make_a_simulator_look_slow():
    models = RuntimeModels(None)
    models.observe(SIM.id, 0.0, 3.0, 0.002, 1000, summary(4))  # 3 s: importing the SDK
    feed(models, lambda w: 0.004, 4, start=10.0)
    assert models.estimate(SIM, 0.002, 1000, summary(4)).seconds == pytest.approx(0.004, rel=0.3)


def test_members_of_one_batch_share_its_time_and_a_burst_is_cheaper_per_task_than_one_alone():
    models = RuntimeModels(None)
    start = 0.0
    for i in range(12):  # a call costs 20 ms, each task 1 ms more: alone 21 ms, in a batch of 16 2.25 ms
        k = 1 if i % 2 else 16
        for _ in range(k):
            models.observe(SIM.id, start, start + 0.020 + 0.001 * k, 0.002, 1000, summary(4))
        start += 1.0
    info = models.info()["resources"][SIM.id]
    assert info["tasks"] == 6 * 17 and info["observations"] == 12
    alone = models.estimate(SIM, 0.002, 1000, summary(4)).seconds
    burst = models.estimate(SIM, 0.002, 1000, summary(4), batch=16).seconds
    assert alone == pytest.approx(0.021, rel=0.3)
    assert burst == pytest.approx(0.020 / 16 + 0.001, rel=0.3)


def test_the_time_per_task_of_a_big_burst_is_learned_from_its_batches_not_from_tasks_alone():
    models = RuntimeModels(None)
    start = 0.0
    for k in (1, 3, 1, 3, 500, 500):  # a call costs 2 ms, each task 0.6 ms more (lightning's figures)
        for _ in range(k):
            models.observe(SIM.id, start, start + 0.002 + 0.0006 * k, 0.003, 1000, summary(4))
        start += 10.0
    est = models.estimate(SIM, 0.003, 1000, summary(4), batch=500)
    assert est.task_seconds == pytest.approx(0.0006, rel=0.25)
    assert est.seconds == pytest.approx(0.002 / 500 + 0.0006, rel=0.25)
    assert models.estimate(SIM, 0.003, 1000, summary(4)).seconds == pytest.approx(0.0026, rel=0.3)


def test_a_formats_first_batch_on_a_warm_simulator_pays_its_conversion_path_and_barely_counts():
    models = RuntimeModels(None)
    feed(models, lambda w: 0.002, 6)  # the simulator is warm for tapes of one format...
    start = time.time()
    for _ in range(3):  # ...but the first batch of another format imports its converter: 1.2 s
        models.observe(SIM.id, start, start + 1.2, 0.002, 1000, summary(4), circuit_format="qiskit")
    assert models.explore_quota(SIM.id, "qiskit") == EXPLORE_TRIES  # tried again, in a later batch
    assert models.estimate(SIM, 0.002, 1000, summary(4), circuit_format="qiskit").seconds < 0.02
    models.observe(SIM.id, start + 5, start + 5.002, 0.002, 1000, summary(4), circuit_format="qiskit")
    assert models.explore_quota(SIM.id, "qiskit") == 0


def test_batches_that_ran_side_by_side_are_each_charged_their_share_of_the_workers():
    alone = runtime_observations.Observation(0.0, 1.0, 1, 1000, 4, 10, 0.002)
    beside = runtime_observations.Observation(0.5, 1.5, 1, 1000, 4, 10, 0.002)
    later = runtime_observations.Observation(2.0, 3.0, 1, 1000, 4, 10, 0.002)
    everything = [alone, beside, later]
    # Half of each ran beside the other: 0.5 s alone + 0.5 s / 2.
    assert runtime_observations.shared_seconds(alone, everything) == pytest.approx(0.75)
    assert runtime_observations.shared_seconds(beside, everything) == pytest.approx(0.75)
    assert runtime_observations.shared_seconds(later, everything) == pytest.approx(1.0)
    # The burst's wall time (1.5 s) is charged in full, no more.
    assert sum(runtime_observations.shared_seconds(o, everything) for o in everything[:2]) == pytest.approx(1.5)


def test_the_chunks_of_a_burst_that_ran_side_by_side_count_as_one_batch_of_the_bursts_time():
    """A burst split into a chunk per worker, whose chunks slowed each other unevenly (Aer's two
    chunks of 1000 pubs measured here: 0.64 and 1.21 ms a pub): a task costs the burst's wall
    time over its tasks (0.6 ms here), not the chunks' per-task times averaged as logs (0.52)."""
    models = RuntimeModels(None)
    for started, ended in ((10.0, 10.3), (10.001, 10.6)):
        for _ in range(500):
            models.observe(SIM.id, started, ended, 0.0006, 1000, summary(4), first=False)
    est = models.estimate(SIM, 0.0006, 1000, summary(4), batch=500)
    assert est.seconds == pytest.approx(0.6 / 1000, rel=0.05)
    # A batch that ran later is a row of its own.
    for _ in range(500):
        models.observe(SIM.id, 20.0, 20.3, 0.0006, 1000, summary(4), first=False)
    rows = models._rows(models._models[SIM.id])
    assert [k for _, _, k in rows] == [500, 500]


def _mean_share_in_a_burst(prior_rho: float) -> float:
    """E[1 / (1 + rho)] under rho's prior (log-normal around `prior_rho`, sd RHO_PRIOR_SD, on
    RHO_GRID): the share of its time alone a task seen only alone is expected to take in a burst."""
    weights = [math.exp(-0.5 * (math.log(c / prior_rho) / runtime_fit.RHO_PRIOR_SD) ** 2)
               for c in runtime_fit.RHO_GRID]
    return sum(w / (1 + c) for w, c in zip(weights, runtime_fit.RHO_GRID, strict=True)) / sum(weights)


def test_a_burst_is_extrapolated_from_tasks_alone_by_the_plugins_call_overhead():
    """Seen only alone (a warm-up's tries), a simulator's cost per task in a burst is its time alone
    times the mean of 1 / (1 + rho) under rho's prior around the plugin's `call_overhead_tasks`:
    BasicSimulator (Bell circuits, measured: 1.4 ms alone, 1.0 ms each in hundreds) states 0.3, and
    was expected at a third of its time alone under the one prior of 2 every simulator had, so a
    burst went to it and not to lightning. The mean, not the prior's mode: Aer seen alone at
    1.05 ms a pub was expected at 0.35 ms a pub in a burst by the mode (rho 2) and runs 0.45 ms."""
    pure_python = Resource("test:python", "test", "test", "simulator", 20,
                           metadata={runtime_fit.RHO_KEY: 0.3})
    unstated = Resource("test:unstated", "test", "test", "simulator", 20)
    models = RuntimeModels(None)
    for offset, rid in enumerate((pure_python.id, unstated.id)):
        for i in range(4):
            start = 100.0 + 2 * i + offset
            models.observe(rid, start, start + 0.0014, 0.002, 1000, summary(2), first=False)
    burst = models.estimate(pure_python, 0.002, 1000, summary(2), batch=1000)
    assert burst.seconds == pytest.approx(0.0014 * _mean_share_in_a_burst(0.3), rel=0.1)
    # What was seen alone stays what a task alone costs: the call's part and a task's add up to it.
    assert burst.call_seconds + burst.task_seconds == pytest.approx(0.0014, rel=0.1)
    assert models.estimate(unstated, 0.002, 1000, summary(2), batch=1000).seconds == pytest.approx(
        0.0014 * _mean_share_in_a_burst(runtime_fit.RHO_PRIOR), rel=0.1)
    assert _mean_share_in_a_burst(runtime_fit.RHO_PRIOR) > 1 / (1 + runtime_fit.RHO_PRIOR)  # above the mode's
    # The same before any observation (the prior's split), and a stated figure outside the grid is
    # clipped to it; one that is not a number is ignored.
    assert RuntimeModels(None).estimate(pure_python, 0.002, 1000, summary(2)).call_seconds == pytest.approx(
        0.002 * (1 - _mean_share_in_a_burst(0.3)))
    assert runtime_fit.rho_prior(Resource("t:z", "t", "t", "simulator", 2, metadata={runtime_fit.RHO_KEY: 0})
                                   ) == runtime_fit.RHO_GRID[0]
    assert runtime_fit.rho_prior(Resource("t:s", "t", "t", "simulator", 2, metadata={runtime_fit.RHO_KEY: "x"})
                                   ) == runtime_fit.RHO_PRIOR
    # Once batches of two sizes are seen, rho is learned from them whatever the plugin stated:
    # a call of k tasks of 1 ms each plus 4 ms (rho 4).
    for i, k in enumerate((1, 8, 64) * 3):
        for _ in range(k):
            models.observe(pure_python.id, 200.0 + i, 200.0 + i + 0.004 + 0.001 * k, 0.002, 1000, summary(2),
                           first=False)
    learned = models.estimate(pure_python, 0.002, 1000, summary(2), batch=1000)
    assert learned.task_seconds == pytest.approx(0.001, rel=0.35)


def test_a_simulator_tried_beside_a_slow_one_is_not_made_to_look_slow_by_it():
    models = RuntimeModels(None)
    other = Resource("test:other", "test", "test", "simulator", 20)
    for i in range(6):  # each 10 ms alone; the other simulator's batch runs beside it the whole time
        start = 10.0 * i
        models.observe(SIM.id, start, start + 0.020, 0.002, 1000, summary(4))
        models.observe(other.id, start, start + 0.020, 0.002, 1000, summary(4))
    assert models.estimate(SIM, 0.002, 1000, summary(4)).seconds == pytest.approx(0.010, rel=0.2)


def test_a_warm_batch_run_beside_another_executors_creation_counts_as_cold_and_is_tried_again():
    """qtau.qubit's warm-up measured lightning.qubit's 8 tapes while Aer and Braket were being
    imported (Python's lock held) at 3-30 ms a tape against about 1 alone; learned from, every later
    gradient went to a slower simulator. Such a batch is a cold one: the simulator is tried again."""
    models = RuntimeModels(None)
    other = Resource("test:other", "test", "test", "simulator", 20)
    models.observe(SIM.id, 0.0, 0.1, 0.002, 1000, summary(4), first=True)
    for _ in range(8):  # 8 tapes at 10 ms each, all inside the other's creation (0 - 1.5 s)
        models.observe(SIM.id, 0.1, 0.18, 0.002, 1000, summary(4), first=False)
    assert models.explore_quota(SIM.id) == 0  # trusted, until the other's cold call ends...
    version = models.version
    models.observe(other.id, 0.0, 1.5, 0.002, 1000, summary(4), first=True)
    assert models.version > version
    assert models.explore_quota(SIM.id) == EXPLORE_TRIES  # ...then tried again
    assert models.still_learning(SIM.id)
    for _ in range(2):  # warm and alone: 1 ms a tape in a call of two
        models.observe(SIM.id, 2.0, 2.002, 0.002, 1000, summary(4), first=False)
    assert models.explore_quota(SIM.id) == 0
    assert models.estimate(SIM, 0.002, 1000, summary(4), batch=2).seconds == pytest.approx(0.001, rel=0.3)
    # A warm batch that starts inside a cold call already observed is judged at once.
    models.observe(other.id, 3.0, 4.0, 0.002, 1000, summary(4), circuit_format="qiskit", first=True)
    for _ in range(2):
        models.observe(SIM.id, 3.5, 3.6, 0.002, 1000, summary(4), circuit_format="qiskit", first=False)
    assert models.still_learning(SIM.id, "qiskit")
    assert models.explore_quota(SIM.id, "qiskit") == EXPLORE_TRIES


def test_a_warm_batch_only_briefly_beside_a_cold_call_is_still_warm():
    models = RuntimeModels(None)
    other = Resource("test:other", "test", "test", "simulator", 20)
    models.observe(SIM.id, 0.0, 0.1, 0.002, 1000, summary(4), first=True)
    for _ in range(100):  # a 1 s burst; another simulator's 0.3 s creation beside its start
        models.observe(SIM.id, 1.0, 2.0, 0.002, 1000, summary(4), first=False)
    models.observe(other.id, 0.9, 1.3, 0.002, 1000, summary(4), first=True)
    assert models.explore_quota(SIM.id) == 0
    assert models.estimate(SIM, 0.002, 1000, summary(4), batch=100).seconds == pytest.approx(0.01, rel=0.3)


def test_models_persist_in_the_cache_directory_and_clear_forgets_them_there(tmp_path):
    first = RuntimeModels(tmp_path)
    feed(first, lambda w: 0.010, 10)
    first.save()
    again = RuntimeModels(tmp_path)
    assert again.estimate(SIM, 0.002, 1000, summary(4)) == first.estimate(SIM, 0.002, 1000, summary(4))
    assert again.info()["resources"][SIM.id]["tasks"] == 10
    again.clear([SIM.id])
    assert RuntimeModels(tmp_path).estimate(SIM, 0.002, 1000, summary(4)).source == "plugin prior"


def test_an_unreadable_cache_file_is_ignored_and_replaced(tmp_path):
    (tmp_path / runtime_model.FILE_NAME).write_text("{not json")
    models = RuntimeModels(tmp_path)
    feed(models, lambda w: 0.010, 3)
    models.save()
    assert RuntimeModels(tmp_path).info()["resources"][SIM.id]["tasks"] == 3


def test_models_a_failed_write_could_not_save_are_written_by_the_next_save(tmp_path):
    """The models are copied out under the lock and written after it; a write that fails (here the
    cache directory is a file) must leave them to be written again, not mark them saved."""
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the directory should be")
    models = RuntimeModels(blocked)
    feed(models, lambda w: 0.010, 4)
    models.save()
    assert not (blocked / runtime_model.FILE_NAME).exists()
    blocked.unlink()
    models.save()
    assert RuntimeModels(blocked).info()["resources"][SIM.id]["tasks"] == 4


def test_the_cache_directory_follows_qtau_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path))
    assert runtime_model.cache_directory() == tmp_path
    monkeypatch.setenv("QTAU_CACHE_DIR", "none")
    assert runtime_model.cache_directory() is None
    monkeypatch.delenv("QTAU_CACHE_DIR")
    assert "qtau" in str(runtime_model.cache_directory())


def test_a_twin_is_estimated_by_its_twins_trusted_model_until_its_own_is_trusted():
    twin = Resource("test:sim@p2", "test", "test", "simulator", 20)
    models = RuntimeModels(None)
    models.twin(twin.id, SIM.id)
    # The twin's model is not trusted yet either: the twin is the plugin prior, and explored.
    assert models.estimate(twin, 0.002, 1000, summary(4)).source == "plugin prior"
    assert models.explore_quota(twin.id) == EXPLORE_TRIES
    feed(models, lambda w: 0.010, 20)
    borrowed = models.estimate(twin, 0.002, 1000, summary(4))
    assert borrowed.seconds == pytest.approx(models.estimate(SIM, 0.002, 1000, summary(4)).seconds)
    assert borrowed.twin == SIM.id and borrowed.describe().startswith(f"learned from 20 tasks of its twin {SIM.id}")
    assert models.explore_quota(twin.id) == 0 and not models.still_learning(twin.id)
    # Once its own runs are past their first tries, its own model speaks (twice as slow here).
    start = time.time() - 600
    for i in range(6):
        models.observe(twin.id, start + i, start + i + 0.020, 0.002, 1000, summary(4))
    own = models.estimate(twin, 0.002, 1000, summary(4))
    assert own.twin == "" and own.seconds > 1.5 * borrowed.seconds


def test_cache_info_says_a_twin_borrowing_a_formats_model_is_not_exploring_it():
    models = RuntimeModels(None)
    models.twin("test:sim@p2", SIM.id)
    start = time.time() - 600
    for i in range(6):
        models.observe(SIM.id, start + i, start + i + 0.01, 0.002, 1000, summary(4), "qiskit")
    models.observe("test:sim@p2", start + 10, start + 10.01, 0.002, 1000, summary(4), "qiskit")  # its first try
    assert models.explore_quota("test:sim@p2", "qiskit") == 0
    assert models.info()["resources"]["test:sim@p2 <- qiskit"]["exploring"] is False


def test_exploration_tries_each_simulator_then_rechecks_rarely():
    models = RuntimeModels(None)
    assert models.explore_quota(SIM.id) == EXPLORE_TRIES
    for _ in range(EXPLORE_TRIES):  # one batch: the process's first, which paid for the executor too
        models.observe(SIM.id, 5.0, 5.1, 0.002, 1000, summary(4))
    assert models.explore_quota(SIM.id) == EXPLORE_TRIES  # every try paid for the executor: again, later
    feed(models, lambda w: 0.01, 1)
    assert models.explore_quota(SIM.id) == 0  # at most EXPLORE_TRIES + 1 tasks, then exploited
    other = Resource("test:other", "test", "test", "simulator", 20)
    for i in range(runtime_model.RECHECK_EVERY):
        models.observe(other.id, float(i), i + 0.001, 0.002, 1000, summary(4))
    assert models.explore_quota(SIM.id) == 1


# -- through a service: the scripted plugin's local simulators, one slowed by call_delay_s -------------

pytestmark = pytest.mark.usefixtures("clean_script")


def service(plugins):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(resource("slow", kind="simulator"), resource("fast", kind="simulator")))
    state.script("scripted:slow", call_delay_s=0.05)
    return pcs


def model_of(info: dict, resource_id: str) -> dict:
    """The one model of `resource_id` in `info` (models are per resource and circuit format)."""
    [found] = [m for key, m in info["resources"].items() if key.split(runtime_model.KEY_SEP)[0] == resource_id]
    return found


def run_one_by_one(pcs, n: int) -> list[str]:
    return [pcs.get_results([pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))])[0].resource_id
            for _ in range(n)]


def test_after_trying_both_simulators_every_task_goes_to_the_learned_fastest(plugins):
    with service(plugins) as pcs:
        warm = run_one_by_one(pcs, 2 * EXPLORE_TRIES)
        assert warm.count("scripted:slow") == EXPLORE_TRIES  # tried, although its plugin says nothing
        assert run_one_by_one(pcs, 10) == ["scripted:fast"] * 10
        # A burst too: the simulators share the machine, so the slow one's idle time is no gain.
        burst = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(20)]))
        assert {r.resource_id for r in burst} == {"scripted:fast"}
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=10)).rows}
        assert rows["scripted:slow"].run_s > 0.03 > rows["scripted:fast"].run_s
        assert rows["scripted:fast"].run_source.startswith("learned from ")
        assert "run_s (source, error)" in str(pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=10)))
        est = pcs.qdreamer.run_estimate(QuantumTask(circuit=bell(), shots=10), "scripted:slow")
        assert est.source == "learned" and est.observations == EXPLORE_TRIES and est.seconds > 0.03


def test_a_model_that_cannot_learn_logs_why_and_the_results_stand(plugins, monkeypatch, caplog):
    """The store's observe is replaced by one that raises (a stand-in for a bug in the model; no
    real input makes it fail): the tasks still complete, and the error reaches `qtau.dreamer`'s
    log with the task it was learning from."""
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a model bug")

    with service(plugins) as pcs:
        monkeypatch.setattr(pcs.qdreamer.runtime, "observe", broken)
        with caplog.at_level("ERROR", logger="qtau.dreamer"):
            results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10)
                                                                for _ in range(3)]))
            deadline = time.monotonic() + 10  # a done-callback on a worker thread may still be learning
            while len([r for r in caplog.records if r.name == "qtau.dreamer"]) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert [sum(r.counts.values()) for r in results] == [10, 10, 10]
        logged = [r for r in caplog.records if r.name == "qtau.dreamer"]
        assert len(logged) == 3 and "could not learn the run time of task" in logged[0].getMessage()
        assert logged[0].exc_info[0] is ZeroDivisionError


def test_cache_info_shows_the_models_and_clear_cache_forgets_them_only_when_asked(plugins):
    with service(plugins) as pcs:
        run_one_by_one(pcs, 2 * EXPLORE_TRIES)
        info = pcs.qdreamer.get_cache_info()["runtime_models"]
        assert [key.split(runtime_model.KEY_SEP)[1] for key in info["resources"]] == ["qiskit", "qiskit"]
        assert model_of(info, "scripted:slow")["tasks"] == model_of(info, "scripted:fast")["tasks"] == EXPLORE_TRIES
        assert model_of(info, "scripted:slow")["last_seconds_per_task"] > 0.04
        pcs.qdreamer.clear_cache()
        assert pcs.qdreamer.get_cache_info()["runtime_models"]["resources"]
        with pytest.raises(ConfigurationError, match="runtime_models"):
            pcs.qdreamer.clear_cache(runtime_models="yes")
        pcs.qdreamer.clear_cache(runtime_models=True)
        assert pcs.qdreamer.get_cache_info()["runtime_models"]["resources"] == {}
        row = pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=10)).rows[0]
        assert row.run_source.startswith("plugin prior")
        assert f"untried: ranked as fast as the fastest for {EXPLORE_TRIES} more task(s)" in row.run_source


def test_a_new_service_in_a_new_process_starts_from_what_earlier_ones_learned(plugins, monkeypatch):
    with service(plugins) as pcs:
        run_one_by_one(pcs, 2 * EXPLORE_TRIES)
        pcs.qdreamer.runtime.save()
    monkeypatch.setattr(runtime_model, "_stores", {})  # as a new process: the store is read from the file
    with service(plugins) as pcs:
        assert model_of(pcs.qdreamer.runtime.info(), "scripted:slow")["tasks"] == EXPLORE_TRIES
        assert run_one_by_one(pcs, 5) == ["scripted:fast"] * 5


def test_a_bursts_tries_on_simulators_still_being_learned_run_before_its_bulk(monkeypatch):
    """In a burst, the tasks QDREAMER sends to a simulator it is still learning run (up to
    `TRIALS_FIRST_S`, raised here so a slow machine cannot decide the test) before the rest start,
    so their run times are measured alone and not beside the bulk on the same cores."""
    import qtau.dispatch

    monkeypatch.setattr(qtau.dispatch, "TRIALS_FIRST_S", 60.0)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=100)
                                                            for _ in range(24)]))
    by_resource: dict[str, list] = {}
    for result in results:
        by_resource.setdefault(result.resource_id, []).append(result.timings)
    assert len(by_resource) == 2, by_resource.keys()  # a bulk, and tries on the other simulator
    tries, bulk = sorted(by_resource.values(), key=len)
    assert len(tries) <= EXPLORE_TRIES < len(bulk)
    assert max(t.finished_at for t in tries) <= min(t.started_at for t in bulk)
