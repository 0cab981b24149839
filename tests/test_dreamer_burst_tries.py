"""What a simulator does in a burst is learned before it is given one.

- A trusted simulator seen only in calls of a task or two is tried with BURST_TRY tasks of a
  burst, and takes no more of it, before it may take a burst's bulk
  (`runtime_model.RuntimeModels.burst_quota`, `ranking.Plan.burst_explore`); bounded.
- Burst sizes survive a plan that a changed report rebuilt (`ranking.Bursts`): a burst's first
  task is still placed for the whole burst.
- A burst's tries run one simulator at a time (`qtau.dispatch`).
- A burst far beyond a simulator's largest warm call is an extrapolation for it, charged
  EXTRAPOLATED while another simulator has shown bursts that large (`ranking.Plan._extrapolated`).

The runtime models and the ranking are the real ones on hand-built candidates; the dispatch test
runs the installed plugins' simulators on the local engine. Nothing is mocked.
"""

from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.candidates import Candidate, Shape
from qtau.dreamer.ranking import EXTRAPOLATED, UNTRUSTED, Bursts, Plan
from qtau.dreamer.runtime_fit import RHO_KEY
from qtau.dreamer.runtime_model import BURST_TRY, RuntimeModels
from qtau.dreamer.terms import run_seconds
from qtau.types import CircuitSummary, Resource, ResourceStatus
from qtau_test_circuits import bell

SUMMARY = CircuitSummary(num_qubits=2, gate_counts={"h": 1, "cx": 1}, num_measured=2)
WEIGHTS = {"fidelity": 0.25, "speed": 0.5, "cost": 0.25}


def simulator(name: str, rho: float) -> Candidate:
    """A free local simulator of Bell circuits whose plugin states 1 ms a task and `rho`."""
    res = Resource(f"test:{name}", "test", "test", "simulator", 20, native_gates=("h", "cx"),
                   circuit_formats=("qiskit",), metadata={"seconds_per_task": 0.001, RHO_KEY: rho})
    return Candidate(res, {}, ResourceStatus(res.id, online=True, queue_depth=0, estimated_wait_s=0.0), None, None)


def call(models: RuntimeModels, name: str, start: float, tasks: int, seconds_each: float, first: bool = False) -> None:
    """One backend call of `tasks` Bell tasks on test:`name` that took `seconds_each` a task."""
    prior = run_seconds(simulator(name, 1.0).resource, 1000, SUMMARY)  # as the ranking computes it
    for _ in range(tasks):
        models.observe(f"test:{name}", start, start + tasks * seconds_each, prior, 1000, SUMMARY, "qiskit", first)


def plan(models: RuntimeModels, candidates: list[Candidate], bursts: Bursts | None = None) -> Plan:
    return Plan(candidates, Shape(SUMMARY, "qiskit", ("cx", "h"), 2, 1000), lambda fmt, res: ("qiskit",),
                runtime=models, bursts=bursts)


def place_burst(p: Plan, n: int) -> list[str]:
    """`n` tasks placed one after another as QDREAMER places a burst (each counted in flight)."""
    in_flight: dict[str, int] = {}
    chosen = []
    for _ in range(n):
        p.count_decision(in_flight)
        items, _ = p.scored(WEIGHTS, in_flight)
        rid = p.candidates[min(items)[2]].resource.id
        in_flight[rid] = in_flight.get(rid, 0) + 1
        chosen.append(rid.split(":")[1])
    return chosen


def warmed_up() -> RuntimeModels:
    """Two simulators after a warm-up burst (the figures of Bell pubs measured here): lightning took
    its bulk, 11 pubs at 0.4 ms in one call; Aer its tries, a cold pub and a warm one at 1.05 ms,
    which under Aer's stated rho of 2 looks like 0.35-0.4 ms a pub in a burst (it runs 0.45)."""
    models = RuntimeModels(None)
    call(models, "lightning", 100.0, 1, 0.3, first=True)
    call(models, "lightning", 101.0, 11, 0.0004)
    call(models, "aer", 102.0, 1, 0.3, first=True)
    call(models, "aer", 103.0, 1, 0.00105)
    return models


def test_a_simulator_seen_only_alone_gets_a_try_of_a_burst_and_not_its_bulk():
    models = warmed_up()
    candidates = [simulator("aer", 2.0), simulator("lightning", 2.6)]
    assert models.burst_quota("test:aer", "qiskit") == BURST_TRY
    assert models.burst_quota("test:lightning", "qiskit") == 0  # a call of 11 showed its burst
    p = plan(models, candidates, Bursts(this=20))  # the last burst of this shape had 20
    chosen = place_burst(p, 60)
    assert chosen.count("aer") == BURST_TRY and chosen.count("lightning") == 60 - BURST_TRY
    assert "untried in a burst" in p.rows(WEIGHTS, {})[0].run_source + p.rows(WEIGHTS, {})[1].run_source
    # Once its try ran as one call, it competes on what that call showed: 0.5 ms a pub in eights,
    # slower than lightning's, so the next burst is lightning's alone.
    assert models.info()["resources"]["test:aer <- qiskit"]["burst_try_due"] is True
    call(models, "aer", 104.0, BURST_TRY, 0.0005)
    assert models.burst_quota("test:aer", "qiskit") == 0
    assert models.info()["resources"]["test:aer <- qiskit"]["burst_try_due"] is False
    assert set(place_burst(plan(models, candidates, Bursts(this=60)), 60)) == {"lightning"}


def test_after_a_bursts_tries_its_bulk_goes_where_the_rest_of_the_burst_runs_fastest():
    """Lightning's call costs 1.8 ms beyond its 0.35 ms a pub (seen alone and in elevens); Aer's
    try took a burst's first 8 tasks. The ninth chooses for the rest of the burst: lightning's
    call shared over it, not charged whole to one task against a task joining the try's batch
    (which sent the whole burst after the try, to Aer, in one benchmark run of three)."""
    models = warmed_up()
    call(models, "lightning", 110.0, 1, 0.0021)  # alone: its call's fixed part is learned
    call(models, "lightning", 111.0, 11, 0.0005)
    p = plan(models, [simulator("aer", 2.0), simulator("lightning", 2.6)], Bursts(this=1000))
    lightning = p.estimates[1]
    assert lightning.call_seconds > (UNTRUSTED - 1) * p.estimates[0].task_seconds  # what made it follow
    chosen = place_burst(p, 1000)
    assert chosen.count("aer") == BURST_TRY and chosen.count("lightning") == 1000 - BURST_TRY


def test_one_simulator_is_tried_a_burst_the_most_promising_first():
    """Two simulators seen only alone and both within reach of lightning: the burst tries the one
    expected faster (a burst pays for one try), the next burst the other."""
    models = warmed_up()
    call(models, "basic", 107.0, 1, 0.3, first=True)
    call(models, "basic", 108.0, 1, 0.0009)  # 0.9 ms alone, rho 0.3: about 0.55 ms in a burst
    candidates = [simulator("basic", 0.3), simulator("aer", 2.0), simulator("lightning", 2.6)]
    p = plan(models, candidates, Bursts(this=20))
    assert sorted(p.ok_task)[1] == p.ok_task[1]  # aer's time in a burst is expected below basic's
    chosen = place_burst(p, 60)
    assert chosen.count("aer") == BURST_TRY and "basic" not in chosen
    call(models, "aer", 109.0, BURST_TRY, 0.0005)  # its try: slower than lightning in a burst
    chosen = place_burst(plan(models, candidates, Bursts(this=60)), 60)
    assert chosen.count("basic") == BURST_TRY and "aer" not in chosen
    assert chosen.count("lightning") == 60 - BURST_TRY


def test_a_simulator_waiting_for_its_try_does_not_take_the_burst_meanwhile():
    """Two untried simulators whose one warm pub each makes them look faster in a burst than
    lightning (which ran a call of eleven): one is tried, and the other, whose try comes in a
    later burst, takes nothing of this one (it took a whole burst on that estimate once)."""
    models = RuntimeModels(None)
    call(models, "lightning", 100.0, 1, 0.3, first=True)
    call(models, "lightning", 101.0, 11, 0.0004)
    for name, start, alone in (("aer", 102.0, 0.0005), ("basic", 104.0, 0.00045)):
        call(models, name, start, 1, 0.3, first=True)
        call(models, name, start + 1, 1, alone)
    candidates = [simulator("basic", 0.3), simulator("aer", 2.0), simulator("lightning", 2.6)]
    p = plan(models, candidates, Bursts(this=20))
    assert max(p.ok_task[0], p.ok_task[1]) < p.ok_task[2]  # both look faster than lightning
    chosen = place_burst(p, 60)
    assert chosen.count("aer") == BURST_TRY and "basic" not in chosen
    assert "charged 4.5x in bursts until its try" in p.rows(WEIGHTS, {})[-1].run_source


def test_a_simulator_that_is_far_slower_is_not_tried_in_a_burst_and_no_try_without_bursts():
    models = warmed_up()
    call(models, "braket", 105.0, 1, 0.5, first=True)
    call(models, "braket", 106.0, 1, 0.009)  # 9 ms a task: no rho makes it a contender
    candidates = [simulator("aer", 2.0), simulator("lightning", 2.6), simulator("braket", 0.05)]
    chosen = place_burst(plan(models, candidates, Bursts(this=20)), 60)
    assert "braket" not in chosen and chosen.count("aer") == BURST_TRY
    # Tasks one at a time (no burst of this shape yet): no try is forced on anyone.
    p = plan(models, candidates)
    assert p.bursts.last == 1 and p.burst_explore  # due, but not taken outside a burst
    p.count_decision({})
    items, _ = p.scored(WEIGHTS, {"test:aer": BURST_TRY})
    untried = {p.candidates[i].resource.id: units for units, _, i, _ in items}
    assert untried["test:aer"] < untried["test:braket"]


def test_burst_tries_are_bounded_for_a_stream_of_small_calls():
    """A stream coalesced into calls of one and two tasks never makes a call of BURST_TRY: the try
    stays due until the simulator has run 2 x BURST_TRY steady tasks (one warm task in the warm-up
    and 15 here), then no longer."""
    models = warmed_up()
    for i in range(9):
        call(models, "aer", 200.0 + i, 1 + i % 2, 0.001)
    assert models.burst_quota("test:aer", "qiskit") == BURST_TRY  # 14 steady tasks
    call(models, "aer", 210.0, 2, 0.001)
    assert models.burst_quota("test:aer", "qiskit") == 0


def test_a_bursts_first_task_is_placed_for_the_burst_after_its_plan_was_rebuilt():
    """A call-heavy simulator that is fast per task (lightning: 2.1 ms alone, 0.5 ms each in
    elevens) and one whose calls cost nothing (BasicSimulator: 1 ms a task): a lone task goes to
    the second, a burst of 20 to the first. A plan rebuilt between two bursts (a changed report)
    keeps the shape's burst size, so the next burst's first task still goes where the burst runs
    fastest, and the burst follows it."""
    models = RuntimeModels(None)
    for i in range(3):
        call(models, "lightning", 10.0 * i, 1, 0.0021)
        call(models, "lightning", 10.0 * i + 1, 11, 0.0005)
        call(models, "basic", 10.0 * i + 2, 1, 0.001)
        call(models, "basic", 10.0 * i + 3, 11, 0.001)
    candidates = [simulator("basic", 0.3), simulator("lightning", 2.6)]
    bursts = Bursts()
    assert place_burst(plan(models, candidates, bursts), 1) == ["basic"]  # a lone task
    assert set(place_burst(plan(models, candidates, bursts), 20)) == {"basic"}  # the first burst follows it
    assert bursts.last == 1 and bursts.this == 20
    rebuilt = plan(models, candidates, bursts)
    assert set(place_burst(rebuilt, 20)) == {"lightning"} and bursts.last == 20
    # A plan that forgot it (as every rebuilt plan did) sends the burst after a lone task's choice.
    assert set(place_burst(plan(models, candidates), 20)) == {"basic"}


def test_qdreamer_keeps_burst_sizes_across_rebuilt_plans():
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=100) for _ in range(24)]))
        q = pcs.qdreamer
        task = QuantumTask(circuit=bell(), shots=100)
        before, _ = q._plan(q._snapshot(), task)
        q.place(task)  # nothing in flight: the burst of 24 is over
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})  # new candidates
        after, _ = q._plan(q._snapshot(), task)
        assert after is not before and after.bursts is before.bursts and after.bursts.last == 24


def test_a_bursts_tries_run_one_simulator_at_a_time():
    """Tries on simulators still being learned run before the bulk and one simulator at a time, so
    one simulator's try is never timed beside another's (a one-millisecond try beside another
    simulator's was charged half its time and looked twice as fast as it runs a burst). Tries of
    one simulator are one call, or two when its first task pays for the executor."""
    import qtau.dispatch

    saved = qtau.dispatch.TRIALS_FIRST_S
    qtau.dispatch.TRIALS_FIRST_S = 60.0  # a slow machine must not decide the test
    try:
        with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
            for executor in ("qiskit_local", "braket_local"):
                pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
            results = pcs.get_results(pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=100)
                                                                for _ in range(30)]))
    finally:
        qtau.dispatch.TRIALS_FIRST_S = saved
    by_resource: dict[str, list] = {}
    for result in results:
        by_resource.setdefault(result.resource_id, []).append(result.timings)
    bulk = max(by_resource, key=lambda rid: len(by_resource[rid]))
    tries = [(rid, t) for rid, timings in by_resource.items() if rid != bulk for t in timings]
    assert len({rid for rid, _ in tries}) >= 2, by_resource.keys()
    for rid, t in tries:
        assert t.finished_at <= min(b.started_at for b in by_resource[bulk])
        for other, u in tries:
            apart = t.finished_at <= u.started_at or u.finished_at <= t.started_at
            assert apart or (rid == other and t.started_at == u.started_at), (rid, other)


def test_a_burst_stays_with_the_simulator_that_showed_its_bursts_on_a_close_extrapolated_call():
    """Bell pubs measured here: lightning ran 992-pub bursts at 1.0-1.1 ms a pub; Aer's 8-pub try
    with its calls of one put it level or a little ahead in a burst (here 4 ms alone and 1.2 ms a
    pub in eights: 0.94 ms a pub expected in a burst), and it then ran a burst at 1.6-3 ms a pub.
    Charged EXTRAPOLATED times its time per task in a burst beyond EXTRAPOLATION_RANGE times its
    largest call, it no longer takes the burst; a simulator whose try shows a clear gain still does."""
    models = RuntimeModels(None)
    call(models, "lightning", 100.0, 1, 0.3, first=True)
    call(models, "lightning", 101.0, 11, 0.0011)
    call(models, "lightning", 102.0, 992, 0.00105)
    call(models, "aer", 110.0, 1, 0.3, first=True)
    call(models, "aer", 111.0, 1, 0.004)
    call(models, "aer", 112.0, BURST_TRY, 0.0012)
    candidates = [simulator("aer", 2.0), simulator("lightning", 2.6)]
    p = plan(models, candidates, Bursts(this=1000))
    assert p.ok_task[0] <= p.ok_task[1] * EXTRAPOLATED  # close: Aer within the margin
    assert p.ok_task[0] + p.ok_call[0] / 1000 < p.ok_task[1] + p.ok_call[1] / 1000  # and ahead without it
    assert set(place_burst(p, 1000)) == {"lightning"}
    rows = {r.resource_id: r for r in p.rows(WEIGHTS, {})}
    assert "extrapolated from calls of 8 or fewer" in rows["test:aer"].run_source
    assert "extrapolated" not in rows["test:lightning"].run_source
    # Bursts no simulator has shown are not charged: the same choice as without the margin.
    small = plan(models, candidates, Bursts(this=8))
    assert not any(small._extrapolated(8))
    # A try that shows a clear gain (0.4 ms a pub in eights) still moves the burst.
    call(models, "basic", 120.0, 1, 0.3, first=True)
    call(models, "basic", 121.0, 1, 0.0012)
    call(models, "basic", 122.0, BURST_TRY, 0.0004)
    chosen = place_burst(plan(models, candidates + [simulator("basic", 0.3)], Bursts(this=1000)), 1000)
    assert chosen.count("basic") > 900
