"""Estimates at placement that follow what LOCAL does (issue 26 item 4): the units sharing the pool,
the batch a gathered task completes with, the machine's recent pace and the hand-offs
(`qtau.engines.local_expected`, recorded by `LocalCoalescer`).

The coalescer's expectations are arithmetic on its clock: these tests give it a hand clock and an
engine that holds each unit until the test ends it (`HeldEngine`, a stand-in for the pool's
threads, whose timing a test cannot control), so no assertion depends on wall time. The last
test runs a real service (scripted plugin) and checks only what was recorded, not how long
anything took.
"""

from __future__ import annotations

import concurrent.futures as cf
import math

import attrs
import pytest
from qtau.engines.local_coalesce import LocalCoalescer
from qtau.engines.local_expected import (
    OVERDUE_SHARE,
    SLOWDOWN_STEP,
    SLOWDOWN_WEIGHT,
    Lifetime,
    Recent,
    expected_size,
    schedule,
)
from qtau.payloads import Placement, TaskPayload
from qtau.service import PilotComputeService
from qtau.types import Attempt, QuantumTask, Resource, Timings
from qtau_scripted.testing import host, pilot, resource, wait_idle
from qtau_test_circuits import x_on

pytestmark = pytest.mark.usefixtures("clean_script")

SIM = Resource("test:sim", "test", "test", "simulator", 5)
OTHER = Resource("test:other", "test", "test", "simulator", 5)
#: Every task's expected (call, task) alone-seconds in these tests.
COST = (0.1, 0.1)


class HeldEngine:
    """Units submitted are held until the test ends them (`finish`)."""

    def __init__(self, workers: int) -> None:
        self.max_workers = workers
        self.units: list[tuple[cf.Future, object]] = []

    def submit(self, fn, payload) -> cf.Future:
        future: cf.Future = cf.Future()
        self.units.append((future, payload))
        return future

    def finish(self, i: int, value: object = None) -> None:
        self.units[i][0].set_result(value)

    def finish_batch(self, i: int, started: float, ended: float) -> None:
        """End a gathered batch as the pool would: every member a Result whose one attempt ran
        from `started` to `ended`, then the unit."""
        for _, handle in self.units[i][1]:
            handle.set_running_or_notify_cancel()
            handle.set_result(_Finished(Timings(0.0, started, ended), (Attempt("test:sim", True, started, ended),)))
        self.finish(i)


def payload(name: str, at: float = 0.0, on: Resource = SIM) -> TaskPayload:
    return TaskPayload(None, QuantumTask(circuit="OPENQASM 2.0;", num_qubits=1, task_id=name),
                       (Placement(on),), at)


def coalescer(workers: int = 2, max_batch: int = 256) -> tuple[LocalCoalescer, HeldEngine, list[float]]:
    now = [0.0]
    engine = HeldEngine(workers)
    return LocalCoalescer(engine, max_batch=max_batch, clock=lambda: now[0], cores=1), engine, now


def test_processor_sharing_schedule():
    # two running units (1 and 3 alone-seconds left) share the machine: the first ends at 2; the
    # queued one starts then, beside the second's 2 seconds left, and both end 4 seconds later
    assert schedule([1.0, 3.0], [2.0], 2) == [(0.0, 2.0), (0.0, 6.0), (2.0, 6.0)]
    # a queued unit waits for a free worker: capacity 1 runs them one after another
    assert schedule([1.0], [2.0, 1.0], 1) == [(0.0, 1.0), (1.0, 3.0), (3.0, 4.0)]
    # on two cores, two units do not slow each other; three share them (each at 2/3)
    assert schedule([1.0, 3.0], [2.0], 2, cores=2) == [(0.0, 1.0), (0.0, 3.0), (1.0, 3.0)]
    assert schedule([1.0, 1.0, 1.0], [], 3, cores=2) == [(0.0, 1.5)] * 3


def test_expected_size_from_groups_that_grew_as_far():
    # no history: the members it has
    assert expected_size(3, [], math.inf) == 3
    # the median of the sizes of groups that reached 3 members (2 never did)
    assert expected_size(3, [2, 10, 20, 30], math.inf) == 20
    # but no more than the submissions expected before the group goes
    assert expected_size(3, [2, 10, 20, 30], 4.0) == 7
    # a group already larger than every earlier one: the members it has
    assert expected_size(40, [2, 10, 20, 30], math.inf) == 40


def test_recent_rate_reads_the_burst_not_the_pause_before_it():
    recent = Recent()
    for t in (0.0, 10.0, 10.001, 10.002, 10.003):
        recent.arrivals.append(t)
    assert recent.rate() == pytest.approx(1000.0)


def test_gathered_task_expects_its_whole_batch():
    """A gathered task completes when its batch does: the first member of a burst expects the
    members that arrive after it, as many as earlier bursts' batches grew to."""
    c, engine, now = coalescer(workers=2)
    c.submit(payload("a"), COST)
    c.submit(payload("b"), COST)
    # a was alone when placed; b shares the machine with a from the start: both end at 0.4
    assert c.expected("a").seconds == pytest.approx(0.2)
    assert not c.expected("b").gathered and c.expected("b").seconds == pytest.approx(0.4)
    for i in range(6):
        c.submit(payload(f"c{i}"), COST)
    first, last = c.expected("c0"), c.expected("c5")
    # no history: the first expects a batch of itself, started when the first unit ends
    assert first.gathered and first.batch == 1 and first.seconds == pytest.approx(0.4 + 0.2)
    # the sixth knows of the five before it: call + 6 tasks
    assert last.members == 6 and last.seconds == pytest.approx(0.4 + 0.1 + 6 * 0.1)
    now[0] = 0.4
    engine.finish(0)
    engine.finish(1)
    assert c.batches == [6]
    now[0] = 1.1
    engine.finish(2)  # the batch: 0.7 s, as predicted, so the batches' pace stays 1
    assert c._recent.pace(True) == pytest.approx(1.0)
    # the next burst: its first gathered member expects a batch as big as the last one
    for name in ("d", "e", "f0"):
        c.submit(payload(name, 1.1), COST)
    nxt = c.expected("f0")
    assert nxt.batch == 6 and nxt.members == 1
    assert nxt.seconds == pytest.approx(0.4 + 0.1 + 6 * 0.1)
    # what the work ahead of it alone would have said
    assert nxt.as_is_s == pytest.approx(0.4 + 0.2)


def test_a_group_ahead_grows_too():
    """A group waiting ahead of a task's own goes first, at the size its key's groups grew to."""
    c, engine, now = coalescer(workers=1)
    c.submit(payload("a0"), COST)
    for i in range(4):
        c.submit(payload(f"x{i}"), COST)
    now[0] = 0.2
    engine.finish(0)  # a0 as predicted; the four go as one batch of 0.5 s
    now[0] = 0.7
    engine.finish(1)
    assert c.batches == [4] and c._recent.pace(True) == pytest.approx(1.0)
    c.submit(payload("a1", 0.7), COST)
    c.submit(payload("x", 0.7), COST)
    c.submit(payload("y", 0.7, on=OTHER), COST)
    # y's group goes when x's batch, expected at 4 members (0.5 s), ends after a1's 0.2 s
    assert c.expected("x").batch == 4
    y = c.expected("y")
    assert y.wait_s == pytest.approx(0.2 + 0.5) and y.seconds == pytest.approx(0.2 + 0.5 + 0.2)
    assert y.as_is_s == pytest.approx(0.2 + 0.2 + 0.2)


def test_a_unit_past_its_predicted_end_still_holds_its_worker():
    """A group behind an overdue unit is not expected to go at once: the unit needs a share of its
    work more (`OVERDUE_SHARE`), and the group grows meanwhile."""
    c, engine, now = coalescer(workers=1)
    c.submit(payload("a"), COST)
    now[0] = 0.5  # predicted to end at 0.2: overdue
    c.submit(payload("x", 0.5), COST)
    assert c.expected("x").wait_s == pytest.approx(OVERDUE_SHARE * 0.2)


def test_pace_of_the_machine_scales_what_follows():
    """A unit that took twice its predicted time makes the next expectations longer, by the
    running mean's weight, and by at most SLOWDOWN_STEP around the pace so far (one unit slowed by
    something that passed must not mislead the next ones: one rotation circuit that took 9 times
    its time moved the pace 1.39-fold and the next tasks were expected up to twice too late);
    a pace that lasts is followed, unit after unit (the machine is shared: its pace lasts for
    seconds)."""
    c, engine, now = coalescer(workers=1)
    c.submit(payload("a"), COST)
    now[0] = 0.4  # predicted 0.2 s
    engine.finish(0)
    slow = c._recent.pace(False)
    assert slow == pytest.approx(SLOWDOWN_STEP ** SLOWDOWN_WEIGHT)
    c.submit(payload("b", 0.4), COST)
    assert c.expected("b").seconds == pytest.approx(0.2 * slow)
    for i in range(30):  # every task twice as long as the model says, for a while
        now[0] += 0.2 * 2
        engine.finish(i + 1)
        c.submit(payload(f"c{i}", now[0]), COST)
    assert c._recent.pace(False) == pytest.approx(2.0, rel=0.02)


def test_batches_and_tasks_sent_alone_keep_a_pace_each():
    """A batch that took twice its predicted time makes later gathered tasks expect a slower batch,
    not later tasks sent alone; and a batch is expected at the alone pace before any has ended
    (measured: a burst's batches ran 1.4-2.4x the model while tasks sent alone ran 0.5-1.5x)."""
    c, engine, now = coalescer(workers=1)
    c.submit(payload("a"), COST)
    now[0] = 0.4  # predicted 0.2 s: the alone pace becomes 1.5 ** 0.3 (one unit's step)
    engine.finish(0)
    alone = c._recent.pace(False)
    assert c._recent.pace(True) == pytest.approx(alone)  # no batch yet: the alone pace
    c.submit(payload("b", 0.4), COST)
    for i in range(3):
        c.submit(payload(f"x{i}", 0.4), COST)
    now[0] = 0.4 + 0.2 * alone  # b as expected: the alone pace stays; the batch of 3 goes
    engine.finish(1)
    assert c._recent.pace(False) == pytest.approx(alone)
    started = now[0]
    now[0] = started + 2 * alone * 0.4  # the batch (0.1 + 3 x 0.1) took twice its expectation
    engine.finish(2)
    batch = c._recent.pace(True)
    assert batch == pytest.approx(alone * SLOWDOWN_STEP ** SLOWDOWN_WEIGHT)
    assert c._recent.pace(False) == pytest.approx(alone)
    # one worker, idle: a task sent alone expects the alone pace
    c.submit(payload("c", now[0]), COST)
    assert c.expected("c").seconds == pytest.approx(0.2 * alone)
    assert c.expected("c").slowdown == pytest.approx(alone)
    # the worker is busy now: a gathered task (a key with no history: a group of one) waits for c
    # at its pace, then runs at the batches'
    c.submit(payload("y", now[0], on=OTHER), COST)
    y = c.expected("y")
    assert y.gathered and y.slowdown == pytest.approx(batch)
    assert y.wait_s == pytest.approx(0.2 * alone)
    assert y.run_s == pytest.approx(0.2 * batch)


def one_burst(members: int, ended: float, max_batch: int = 256) -> tuple[LocalCoalescer, HeldEngine, list[float]]:
    """One worker: a0 alone, then `members` tasks gathered at 0 (a group opened at 0); a0 ends at
    0.2 as predicted, the batch starts then and ends at `ended` (every member a Result)."""
    c, engine, now = coalescer(workers=1, max_batch=max_batch)
    c.submit(payload("a0"), COST)
    for i in range(members):
        c.submit(payload(f"x{i}"), COST)
    now[0] = 0.2
    engine.finish(0)
    now[0] = ended
    engine.finish_batch(1, 0.2, ended)
    return c, engine, now


def test_gathered_tasks_expect_what_their_keys_groups_took():
    """Once groups of a key have run, a gathered task of that key expects what they took from their
    first member's arrival to their batch's end (the median over those that grew to its members),
    less the time its own group has been open; the model's estimate is kept beside it."""
    c, engine, now = one_burst(4, ended=0.9)  # a group of 4 lived 0.9 s, 0.2 of them waiting
    assert list(c._recent.lifetimes[(SIM.id, None)]) == [
        Lifetime(4, pytest.approx(0.2), pytest.approx(0.7), pytest.approx(0.2))]
    # the next burst: a1 alone, then a group that opens at 1.0
    now[0] = 1.0
    c.submit(payload("a1", 1.0), COST)
    c.submit(payload("y0", 1.0), COST)
    now[0] = 1.05
    c.submit(payload("y1", 1.0), COST)  # submitted at 1.0, reaches the coalescer at 1.05
    first, second = c.expected("y0"), c.expected("y1")
    assert first.groups == 1 and first.seconds == pytest.approx(0.9) and first.batch == 4
    assert first.wait_s == pytest.approx(0.2) and first.run_s == pytest.approx(0.7) and first.handoff_s == 0
    # the group has been open 0.05 s when y1 arrives; y1 was submitted 0.05 s before that
    assert second.groups == 1 and second.seconds == pytest.approx(0.05 + 0.9 - 0.05)
    # the model's estimate beside it: a1's 0.2 s, then a batch of the 4 members groups grew to
    # at the batches' learned pace (the last one took 0.7 s of a predicted 0.5)
    assert first.model.groups == 0 and first.model.batch == 4
    assert first.model.seconds == pytest.approx(0.2 + c._recent.pace(True) * 0.5)
    assert "comparable groups" in first.source and "model" in first.model.source


def test_the_model_where_no_comparable_group_ran():
    """A group larger than any its key ran before, a key with no history and a group open longer
    than comparable groups lived are estimated by the model (`groups` 0, no `model` beside it)."""
    c, engine, now = one_burst(2, ended=0.5)  # a group of 2 lived 0.5 s
    now[0] = 1.0
    c.submit(payload("a1", 1.0), COST)
    for i in range(3):
        c.submit(payload(f"y{i}", 1.0), COST)
    c.submit(payload("z", 1.0, on=OTHER), COST)
    assert c.expected("y1").groups == 1
    third = c.expected("y2")  # a third member: no group of the key grew to 3
    assert third.groups == 0 and third.model is None and third.members == 3
    assert c.expected("z").groups == 0  # OTHER has no history
    now[0] = 1.6  # the group opened at 1.0 has been open longer than the 0.5 s groups lived
    c.submit(payload("y3", 1.6), COST)
    assert c.expected("y3").groups == 0


def test_groups_of_other_circuits_are_not_compared():
    """A resource's groups of short circuits say nothing of a group of circuits the run-time model
    expects four times longer: that group is estimated by the model."""
    c, engine, now = one_burst(2, ended=0.5)
    now[0] = 1.0
    c.submit(payload("a1", 1.0), COST)
    c.submit(payload("long", 1.0), (0.1, 0.4))
    assert c.expected("long").groups == 0


def test_a_group_split_at_the_batch_limit_teaches_no_lifetime():
    """A group larger than the batch limit goes in parts; neither part lived as one group."""
    c, engine, now = one_burst(3, ended=0.5, max_batch=2)  # x0, x1 went; x2 goes at 0.5
    now[0] = 0.7
    engine.finish_batch(2, 0.5, 0.7)
    assert c.batches == [2, 1] and not c._recent.lifetimes


def test_hand_off_is_added():
    """What a task sent alone spent outside its run (queue, start, the Result) is added to later
    expectations: the median of recent ones."""
    c, engine, now = coalescer(workers=1)
    c.submit(payload("a"), COST)
    result = _Finished(Timings(0.0, 0.05, 0.25), (Attempt("test:sim", True, 0.05, 0.2),))
    now[0] = 0.25
    engine.finish(0, result)
    assert c._recent.handoff() == pytest.approx(0.1)
    c.submit(payload("b", 0.25), COST)
    exp = c.expected("b")
    assert exp.handoff_s == pytest.approx(0.1)
    assert exp.seconds == pytest.approx(exp.slowdown * 0.2 + 0.1)


@attrs.frozen
class _Finished:
    """The parts of a Result the coalescer reads (timings, attempts)."""

    timings: Timings
    attempts: tuple[Attempt, ...]


def test_service_records_an_expectation_for_every_coalesced_task():
    """Through a real service: every task sent through the coalescer has an expectation at
    placement, tasks gathered while the pool was busy expect their batch, and what was learned
    from the units that ended (pace, hand-off) is finite."""
    with PilotComputeService(plugins=host(), max_workers=1) as pcs:
        pcs.create_pilot(pilot(resource("busy", call_delay_s=0.05)))
        tasks = [QuantumTask(circuit=x_on(0), shots=100, task_id=f"t{i}") for i in range(8)]
        handles = [pcs.submit_quantum_task(t) for t in tasks]
        pcs.get_results(handles, timeout=60)
        wait_idle(pcs)
        expected = [pcs.dispatch.expected(t.task_id) for t in tasks]
        assert all(e is not None and e.seconds > 0 for e in expected)
        assert not expected[0].gathered
        gathered = [e for e in expected if e.gathered]
        assert gathered, "one worker, eight tasks: some were gathered"
        assert all(e.batch >= e.members and e.wait_s <= e.seconds for e in gathered)
        assert pcs._coalescer._recent.paces and all(math.isfinite(p) for p in pcs._coalescer._recent.paces.values())


def test_a_later_burst_rests_on_an_earlier_bursts_groups():
    """Through a real service: after a burst whose gathered group ran, the next burst's gathered
    tasks are estimated from that group's lifetime, with the model's estimate kept beside it.
    Tasks one at a time first, as a user's stream would: groups compare by the run-time model's
    price of their members, which its first observations still move by factors."""
    with PilotComputeService(plugins=host(), max_workers=1) as pcs:
        pcs.create_pilot(pilot(resource("busy", call_delay_s=0.05)))
        for _ in range(20):
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=100)), timeout=60)
        for burst in range(2):
            tasks = [QuantumTask(circuit=x_on(0), shots=100, task_id=f"b{burst}t{i}") for i in range(6)]
            pcs.get_results([pcs.submit_quantum_task(t) for t in tasks], timeout=60)
            wait_idle(pcs)
        lives = [life for lives in pcs._coalescer._recent.lifetimes.values() for life in lives]
        assert lives and all(life.size >= 1 and life.waited >= 0 and life.ran > 0 for life in lives)
        second = [pcs.dispatch.expected(f"b1t{i}") for i in range(6)]
        rested = [e for e in second if e.gathered and e.groups]
        assert rested, "the second burst's gathered tasks had the first burst's group to go by"
        assert all(e.model is not None and e.model.groups == 0 and e.seconds > 0 for e in rested)


def test_the_benchmark_reports_every_column_per_workload_and_mode():
    """benchmarks/estimates.py on a few tasks: one row per workload and mode, each column a share
    (what the shares are depends on the machine; that they are reported does not)."""
    pytest.importorskip("qiskit_aer")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import estimates

    rows = estimates.local_runs(["ghz"], tasks=3, rounds=2)
    assert [(r["workload"], r["mode"]) for r in rows] == [("ghz", m) for m in estimates.MODES]
    for row in rows:
        assert row["tasks"] == 3
        assert all(0.0 <= row[c] <= 1.0 for c in estimates.COLUMNS)
    assert 0.0 <= rows[0]["model"] <= 1.0 and 0.0 <= rows[0]["-clifford"] <= 1.0


def test_the_benchmark_reports_the_median_and_spread_of_repeated_runs():
    """`repeated` runs the local part again in new services (models empty each time) and reports,
    per workload and mode, each share's median over the runs and the expected column's lowest and
    highest run: the median lies between them, and the tasks of every run are counted."""
    pytest.importorskip("qiskit_aer")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import estimates

    rows = estimates.repeated(["ghz"], tasks=3, rounds=2, repeats=2)
    assert [(r["workload"], r["mode"]) for r in rows] == [("ghz", m) for m in estimates.MODES]
    for row in rows:
        assert row["repeats"] == 2 and row["tasks"] == 6
        assert 0.0 <= row["low"] <= row["expected"] <= row["high"] <= 1.0
        assert all(0.0 <= row[c] <= 1.0 for c in estimates.COLUMNS)


def test_the_estimate_a_task_was_placed_by_is_kept_not_refitted():
    """`placed_estimate` returns the run estimate the ranking used at placement, even after later
    observations changed the model (asking it must not refit the model on every submission: that
    refit was half of the submitting thread's time one by one); `run_estimate` follows the model."""
    with PilotComputeService(plugins=host()) as pcs:
        pcs.create_pilot(pilot(resource("kept")))
        task = QuantumTask(circuit=x_on(0), shots=100, task_id="kept-task")
        placement = pcs.qdreamer.place(task)[0]
        rid = placement.resource.id
        placed = pcs.qdreamer.placed_estimate(task.task_id, rid)
        assert placed is not None and placed.seconds == pcs.qdreamer.run_estimate(task, rid).seconds
        summary, shots, fmt, _ = pcs.qdreamer._shapes[task.task_id]
        start = 1_000.0
        for i in range(6):  # much slower runs than the prior: the model moves
            pcs.qdreamer.runtime.observe(rid, start + i * 10, start + i * 10 + 50.0, placed.seconds, shots, summary,
                                         circuit_format=fmt)
        assert pcs.qdreamer.run_estimate(task, rid).seconds > 2 * placed.seconds
        assert pcs.qdreamer.placed_estimate(task.task_id, rid) == placed
        assert pcs.qdreamer.placed_estimate(task.task_id, "no-such-resource") is None
