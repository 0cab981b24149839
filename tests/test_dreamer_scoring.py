"""QDREAMER's score on small hand-built candidates: the trade between fidelity, wait and price,
and lateness of this service's own tasks (qtau.dreamer.ranking, terms, candidates and lateness).

Candidates are built directly from QTAU's data types (Resource, NoiseProfile, CostEstimate,
ResourceStatus) and ranked by the real `Plan`; the QDreamer tests go through the real scripted
plugin with an injected clock. Nothing is mocked.
"""

import math

import attrs
import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.candidates import Candidate, Shape
from qtau.dreamer.config import PRESETS, DreamerConfig
from qtau.dreamer.lateness import Lateness
from qtau.dreamer.ranking import Plan
from qtau.dreamer.terms import serial_wait
from qtau.errors import ConfigurationError
from qtau.types import CircuitSummary, CostEstimate, NoiseProfile, Resource, ResourceStatus
from qtau_scripted import state
from qtau_scripted.testing import hand_clock_dreamer, host, pilot, resource
from qtau_test_circuits import bell

#: Ten two-qubit gates and two readouts: the fidelity is (1 - e2)^10 with exact readout.
SUMMARY = CircuitSummary(num_qubits=2, gate_counts={"cx": 10}, depth=10, num_measured=2)


def qpu(name: str, fidelity: float, wait_s: float, price: float = 1.0) -> Candidate:
    """A QPU on which SUMMARY has estimated `fidelity`, with `wait_s` of provider queue, 1 s runs."""
    error = 1.0 - fidelity ** (1 / 10)
    res = Resource(id=f"test:{name}", provider="test", executor="test", kind="qpu", num_qubits=5,
                   native_gates=("cx",), circuit_formats=("qiskit",),
                   metadata={"seconds_per_task": 1.0, "seconds_per_shot": 0.0})
    return Candidate(
        res, {}, ResourceStatus(res.id, online=True, queue_depth=1 if wait_s else 0, estimated_wait_s=wait_s),
        NoiseProfile(res.id, two_qubit_error=error), CostEstimate(res.id, per_task=price), 1.0,
    )


def ranked(candidates, weights, in_flight=None, late=None, ahead=None, hedge=False) -> list[str]:
    plan = Plan(candidates, Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    items, _ = plan.scored(weights, in_flight or {}, None, late, ahead, hedge)
    return [plan.candidates[i].resource.id.split(":")[1] for _, _, i, _ in sorted(items)]


def test_fidelity_estimate_of_the_helper():
    plan = Plan([qpu("a", 0.8, 0)], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    assert plan.fid[0] == pytest.approx(0.8)


@pytest.mark.parametrize(("points", "slower", "chosen"), [
    # balanced: a candidate `points` below the best loses a factor 1 + points / 2 of its fidelity
    # term, at weight 1/4, which a completion `slower` times longer (plus 1 s each) loses on its
    # speed term, at weight 1/2: it waits up to sqrt(1 + points / 2) times as long.
    (6, 1.9, "good"),     # 6 points are worth waiting up to 2x as long
    (6, 2.1, "fast"),
    (20, 3.2, "good"),    # 20 points: up to 3.3x
    (20, 3.4, "fast"),
    (38, 4.4, "good"),    # 38 points: up to 4.5x (equal weights waited up to 20x)
    (38, 4.6, "fast"),
    (1, 1.2, "good"),     # 1 point: up to 1.22x
    (1, 1.25, "fast"),
])
def test_balanced_waits_longer_the_more_fidelity_it_gains(points, slower, chosen):
    fast = qpu("fast", 0.55, 0.0)  # completes in 1 s (+1 s offset: 2)
    good = qpu("good", 0.55 + points / 100, 2.0 * slower - 2.0)  # (wait + 1 s run + 1 s) = 2 x slower
    assert ranked([fast, good], PRESETS["balanced"])[0] == chosen


def test_a_fidelity_gain_no_longer_outweighs_any_wait_in_high_fidelity():
    """A weighted sum capped the speed term's loss at its weight (0.1): past some wait, a queue
    of a day cost no more than one of a minute, and high_fidelity sent everything to the best
    device. In the product, one point of fidelity is worth a wait up to 1.5^8 (26) times longer."""
    fast = qpu("fast", 0.90, 0.0)
    assert ranked([fast, qpu("good", 0.91, 2.0 * 20 - 2.0)], PRESETS["high_fidelity"])[0] == "good"
    assert ranked([fast, qpu("good", 0.91, 2.0 * 30 - 2.0)], PRESETS["high_fidelity"])[0] == "fast"
    assert ranked([fast, qpu("good", 0.91, 86400.0)], PRESETS["high_fidelity"])[0] == "fast"
    # Ten points are worth 6^8 (1.7 million) times: a day's queue against 2 s.
    assert ranked([fast, qpu("good", 1.0, 86400.0)], PRESETS["high_fidelity"])[0] == "good"


def test_score_is_the_weighted_product_of_the_terms():
    fast = qpu("fast", 0.70, 0.0, price=4.0)
    good = qpu("good", 0.76, 8.0, price=1.0)
    plan = Plan([fast, good], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    weights = {"fidelity": 0.5, "speed": 0.3, "cost": 0.2}
    rows = {r.resource_id: r for r in plan.rows(weights, {})}
    # fast: 6 points below (0.02 / 0.08), fastest, 4x the cheapest price.
    assert rows["test:fast"].score == pytest.approx(0.25 ** 0.5 * 1.0 * 0.25 ** 0.2)
    # good: best fidelity, (1 + 1) / (9 + 1) of the speed, cheapest.
    assert rows["test:good"].score == pytest.approx(1.0 * 0.2 ** 0.3 * 1.0)


def test_free_counts_as_half_the_cheapest_price():
    free = qpu("free", 0.9, 0.0, price=0.0)
    paid = qpu("paid", 0.9, 0.0, price=3.0)
    plan = Plan([free, paid], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    rows = {r.resource_id: r for r in plan.rows({"cost": 1.0}, {})}
    assert rows["test:free"].score == 1.0 and rows["test:paid"].score == pytest.approx(0.5)


def test_in_flight_work_spreads_equal_candidates_in_proportion_to_speed():
    a, b = qpu("a", 0.9, 0.0), qpu("b", 0.9, 0.0)
    assert ranked([a, b], PRESETS["balanced"], {"test:a": 2, "test:b": 1})[0] == "b"
    assert ranked([a, b], PRESETS["balanced"], {"test:a": 1, "test:b": 1})[0] == "a"  # tie: the first


def test_a_late_task_adds_its_lateness_to_the_expected_completion():
    a, b = qpu("a", 0.9, 0.0), qpu("b", 0.9, 0.0)
    assert ranked([a, b], PRESETS["high_speed"], {"test:a": 1, "test:b": 3})[0] == "a"
    # a's task should have finished 30 s ago: something unreported is ahead of it.
    assert ranked([a, b], PRESETS["high_speed"], {"test:a": 1, "test:b": 3}, {"test:a": 30.0})[0] == "b"


def test_lateness_tracks_the_oldest_task_per_resource():
    late = Lateness()
    late.started("r", now=0.0, expected_s=10.0)
    late.started("r", now=1.0, expected_s=20.0)
    late.started("s", now=0.0)  # no expectation: never late
    assert late.late(5.0) == {}
    assert late.late(15.0) == {"r": 5.0}
    late.finished("r")
    assert late.late(15.0) == {} and late.late(25.0) == {"r": 4.0}
    late.finished("r")
    late.finished("r")  # more finishes than starts: nothing to end
    assert late.late(1e9) == {}


def test_tasks_ahead_count_until_the_last_of_them_is_expected_to_complete():
    # Two of ours ahead on a resource with 10 s runs, the last expected to complete in 4 s.
    assert serial_wait(0.0, 2, 10.0, ahead=4.0) == 14.0
    assert serial_wait(0.0, 2, 10.0) == 30.0  # not known (a task without expectation): a run each
    assert serial_wait(20.0, 2, 10.0, ahead=4.0) == 30.0  # other users' reported queue is longer
    assert serial_wait(5.0, 0, 10.0, ahead=4.0) == 15.0  # none of ours ahead: the queue alone


def test_a_better_device_whose_task_ahead_is_nearly_done_is_not_charged_a_full_run_for_it():
    """One point of fidelity is worth up to 1.22x the completion under balanced. With one task
    of ours ahead on the better device, a full run time for it made the completion 1.5x the idle
    device's; that task is expected to complete in 0.1 s, so the wait is 1.05x (by default the
    ranking is by the expectation)."""
    fast, good = qpu("fast", 0.90, 0.0), qpu("good", 0.91, 0.0)
    assert ranked([fast, good], PRESETS["balanced"], {"test:good": 1})[0] == "fast"
    assert ranked([fast, good], PRESETS["balanced"], {"test:good": 1}, ahead={"test:good": 0.1})[0] == "good"


def test_with_the_stacking_hedge_ranking_counts_our_tasks_ahead_in_full_the_estimate_stays_the_expectation():
    """`stacking_hedge`: the same case, the estimate recorded for the better device is 0.1 + 1 s
    (1.1x the idle device's), but ranking counts the task ahead as a full run (2x) and keeps the
    idle device first: a hedge against one hidden job delaying every task stacked there
    (ranking by the expectation would pick "good", as the test above shows)."""
    fast, good = qpu("fast", 0.90, 0.0), qpu("good", 0.91, 0.0)
    assert ranked([fast, good], PRESETS["balanced"], {"test:good": 1}, ahead={"test:good": 0.1}, hedge=True)[0] == "fast"
    plan = Plan([fast, good], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    items, _ = plan.scored(PRESETS["balanced"], {"test:good": 1}, None, None, {"test:good": 0.1}, hedge=True)
    waits = {plan.candidates[i].resource.id: w for _, _, i, w in items}
    assert waits == {"test:fast": pytest.approx(1.0), "test:good": pytest.approx(1.1)}
    units = {plan.candidates[i].resource.id: u for u, _, i, _ in items}
    speed = PRESETS["balanced"]["speed"]  # good's speed units: log2((2 + 1) / (1 + 1)), not log2(2.1 / 2)
    assert units["test:good"] - units["test:fast"] == pytest.approx(
        speed * math.log2(3.0 / 2.0) - PRESETS["balanced"]["fidelity"] * math.log2(1 + 0.01 / 0.02))


def test_a_deadline_is_checked_against_the_expected_completion_not_the_ranking_wait():
    """Two of ours ahead with 1 s runs, the last expected to complete in 0.5 s: expected
    completion 1.5 s (within a 2 s deadline) although ranking counts 3 s."""
    plan = Plan([qpu("a", 0.9, 0.0)], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    for hedge in (False, True):
        items, rejected = plan.scored(PRESETS["balanced"], {"test:a": 2}, 2.0, None, {"test:a": 0.5}, hedge)
        assert rejected == {} and items[0][3] == pytest.approx(1.5)
    items, rejected = plan.scored(PRESETS["balanced"], {"test:a": 2}, 2.0, None, None)
    assert items == [] and rejected == {0: pytest.approx(3.0)}


def test_an_overdue_resource_counts_a_run_per_task_ahead_plus_its_lateness_once():
    """The last task's expectation was set while the resource was already overdue, so it holds
    the lateness `late` restates: counted from it, a stuck resource's wait grew twice as fast."""
    plan = Plan([qpu("a", 0.9, 0.0)], Shape(SUMMARY, "qiskit", ("cx",), 2, 1000), lambda fmt, res: ("qiskit",))
    items, _ = plan.scored(PRESETS["balanced"], {"test:a": 1}, None, {"test:a": 30.0}, {"test:a": 50.0})
    assert items[0][3] == pytest.approx(0.0 + 2 * 1.0 + 30.0)
    items, _ = plan.scored(PRESETS["balanced"], {"test:a": 1}, None, {}, {"test:a": 0.5})
    assert items[0][3] == pytest.approx(0.5 + 1.0)


def test_ahead_is_when_the_last_task_there_is_expected_to_complete():
    late = Lateness()
    late.started("r", now=0.0, expected_s=10.0)
    late.started("r", now=1.0, expected_s=20.0)
    late.started("s", now=0.0)  # no expectation: its end is unknown, the caller counts full runs
    assert late.ahead(5.0) == {"r": 16.0}
    assert late.ahead(30.0) == {"r": 0.0}
    late.finished("s")
    late.started("s", now=30.0, expected_s=3.0)
    assert late.ahead(31.0) == {"r": 0.0, "s": 2.0}


def test_only_a_task_first_in_line_hands_back_its_expectation():
    """A task placed behind others of ours waits for what they wait for: its lateness repeats
    theirs, and the wait model would count one hidden job several times."""
    late = Lateness()
    late.started("r", now=0.0, expected_s=10.0)
    late.started("r", now=1.0, expected_s=20.0)
    assert late.finished("r") == 10.0
    assert late.finished("r") == math.inf
    late.started("r", now=30.0, expected_s=5.0, n=2)  # a batch: its first task is first in line
    assert late.finished("r") == 35.0 and late.finished("r") == math.inf


@pytest.fixture
def stuck_pair():
    """Two equal scripted resources that report empty queues, under a QDreamer on a hand clock."""
    state.reset()
    plugins = host()
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", queue_wait_s=0), resource("b", queue_wait_s=0)))
        yield hand_clock_dreamer(pcs, plugins)
    state.reset()


def test_a_resource_whose_task_is_overdue_takes_no_more_tasks_until_it_finishes(stuck_pair):
    dreamer, now = stuck_pair
    task = QuantumTask(circuit=bell(), shots=10)
    first = dreamer.place(task, reserve=True)[0].resource.id
    second = dreamer.place(task, reserve=True)[0].resource.id
    assert {first, second} == {"scripted:a", "scripted:b"}
    dreamer.task_finished(second)  # the second resource is free again; the first is stuck
    now[0] = 120.0  # the first resource's task was expected within seconds
    assert dreamer.lateness.late(now[0]).keys() == {first}
    chosen = [dreamer.place(task, reserve=True)[0].resource.id for _ in range(5)]
    assert chosen == [second] * 5  # five queued behind nothing beat one stuck behind something
    rows = {r.resource_id: r for r in dreamer.explain(task).rows}
    assert rows[first].wait_s > 100.0
    dreamer.task_finished(first)
    assert dreamer.place(task, reserve=True)[0].resource.id == first


def test_tasks_counted_without_an_expectation_are_never_late(stuck_pair):
    dreamer, now = stuck_pair
    dreamer.task_started("scripted:a")  # e.g. re-attached by recovery
    now[0] = 1e6
    assert dreamer.lateness.late(now[0]) == {}
    assert math.isfinite(dreamer.explain(QuantumTask(circuit=bell())).rows[0].wait_s)


def test_the_expected_completion_behind_our_own_task_shrinks_as_that_task_runs(stuck_pair):
    dreamer, now = stuck_pair
    task = QuantumTask(circuit=bell(), shots=10)
    first = dreamer.place(task, reserve=True)[0].resource.id
    dreamer.task_started("scripted:b" if first == "scripted:a" else "scripted:a", n=3)  # the other is busier
    wait = {r.resource_id: r.wait_s for r in dreamer.explain(task).rows}[first]
    run = {r.resource_id: r.run_s for r in dreamer.explain(task).rows}[first]
    assert wait == pytest.approx(2 * run)  # one of ours ahead, just placed: a full run for it
    now[0] = 0.75 * run  # three quarters of it have passed
    later = {r.resource_id: r.wait_s for r in dreamer.explain(task).rows}[first]
    assert later == pytest.approx(1.25 * run)


@pytest.mark.parametrize(("hedge", "chosen"), [(False, "scripted:a"), (True, "scripted:b")])
def test_the_stacking_hedge_changes_the_choice_not_the_expected_completion(stuck_pair, hedge, chosen):
    """a: two of ours ahead, both expected to complete within a tenth of a run (expected
    completion 1.1 runs, 3 runs when each counts in full); b: one of ours without an expectation
    (2 runs either way). Ranking by the expectation takes a, the hedge b; explain() shows a's
    expectation either way."""
    dreamer, _ = stuck_pair
    dreamer.config = attrs.evolve(dreamer.config, stacking_hedge=hedge)
    task = QuantumTask(circuit=bell(), shots=10)
    run = {r.resource_id: r.run_s for r in dreamer.explain(task).rows}["scripted:a"]
    dreamer.task_started("scripted:a", n=2, expected_s=0.1 * run)
    dreamer.task_started("scripted:b")
    rows = {r.resource_id: r for r in dreamer.explain(task).rows}
    assert rows["scripted:a"].wait_s == pytest.approx(1.1 * run)
    assert rows["scripted:b"].wait_s == pytest.approx(2 * run)
    assert dreamer.place(task, reserve=True)[0].resource.id == chosen


@pytest.mark.parametrize("bad", ["yes", 1, "False"])
def test_stacking_hedge_takes_only_true_or_false(bad):
    with pytest.raises(ConfigurationError, match="stacking_hedge") as err:
        DreamerConfig.parse({"stacking_hedge": bad})
    assert err.value.field == "stacking_hedge"
    assert DreamerConfig.parse({"stacking_hedge": True}).stacking_hedge is True
    assert DreamerConfig.parse({"stacking_hedge": False}).stacking_hedge is False
    assert DreamerConfig.parse({}).stacking_hedge is True
    assert DreamerConfig.parse({"stacking_hedge": None}).stacking_hedge is True  # None: the default
