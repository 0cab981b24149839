"""Budgets: service-wide and per-pilot limits, reserved atomically at placement, settled at
completion, never crossed by concurrent submitters; bad budget input fails before submission.

Resources are the real `scripted` plugin's (real BasicSimulator runs, scripted prices and queues).
"""

import math
import threading

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.budget import Budgets, parse_budget
from qtau.errors import BudgetExceededError, ConfigurationError, CurrencyError, QtauError
from qtau.types import Result
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell

#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def service(plugins, *resources, budget=None, **description):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(*resources, **description))
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity", **({"budget": budget} if budget else {})})
    return pcs


def settled(pcs):
    wait_idle(pcs)
    for _ in range(200):
        if not any(b["reserved"] for b in pcs.qdreamer.budget_info().values()):
            break
        threading.Event().wait(0.01)
    return pcs.qdreamer.budget_info()


def test_spend_is_reserved_then_settled_and_a_task_over_budget_fails_before_submission(plugins):
    with service(plugins, resource("a", per_task=1.0, per_shot=0.001), budget={"USD": 5}) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=1000)), timeout=30)
        assert result.cost == pytest.approx(2.0)
        info = settled(pcs)["service"]
        assert info["spent"] == pytest.approx(2.0) and info["reserved"] == 0 and info["left"] == pytest.approx(3.0)
        runs = state.runs["scripted:a"]
        with pytest.raises(BudgetExceededError) as caught:
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=3000))  # 4.0 > 3.0 left
        err = caught.value
        assert (err.budget, err.limit, err.spent, err.reserved, err.price) == ("service", 5.0, pytest.approx(2.0), 0.0,
                                                                              pytest.approx(4.0))
        assert "service budget 5 USD" in str(err) and "task price 4 USD" in str(err) and "Fix:" in str(err)
        assert state.runs["scripted:a"] == runs, "nothing may run once the budget refuses"
        assert pcs.qdreamer.in_flight()["scripted:a"] == 0, "a refused task leaves no in-flight count behind"


def test_over_budget_task_goes_to_an_affordable_resource_that_meets_its_constraints(plugins):
    pcs = service(
        plugins,
        resource("best", per_task=3.0, two_qubit_error=0.001),
        resource("cheap", per_task=0.6, two_qubit_error=0.01),
        resource("cheap_bad", per_task=0.1, two_qubit_error=0.2),
        budget={"USD": 1},
    )
    with pcs:
        task = QuantumTask(circuit=bell(), shots=100, min_fidelity=0.95)
        assert pcs.qdreamer.explain(task).chosen.resource_id == "scripted:best"
        result = pcs.get_result(pcs.submit_quantum_task(task), timeout=30)
        assert result.resource_id == "scripted:cheap", "affordable, and cheap_bad fails min_fidelity"
        assert settled(pcs)["service"]["spent"] == pytest.approx(0.6)
        with pytest.raises(BudgetExceededError):
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=100, min_fidelity=0.95))  # 0.4 left: none fits


def test_pilot_budget_limits_only_its_own_resources(plugins):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    with pcs:
        pcs.create_pilot(pilot(resource("paid", per_task=2.0, queue_wait_s=0), budget={"USD": 3}, name="paid"))
        pcs.create_pilot(pilot(resource("free", queue_wait_s=50), name="free"))
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        first = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert first.resource_id == "scripted:paid"
        assert settled(pcs)["pilot paid"]["spent"] == pytest.approx(2.0)
        second = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert second.resource_id == "scripted:free", "the paid pilot's budget has 1 USD left; free has no budget"
        assert "service" not in pcs.qdreamer.budget_info()


def test_concurrent_submitters_never_overspend_together(plugins):
    """16 threads race to submit 1.0 USD tasks against a 5 USD budget: exactly 5 are admitted."""
    pcs = service(plugins, resource("a", per_task=1.0, queue_wait_s=0), budget={"USD": 5})
    with pcs:
        state.script("scripted:a", behaviour="hang", hang_s=3)  # keep them reserved, not settled
        barrier = threading.Barrier(16)
        outcomes = []

        def submit():
            barrier.wait()
            try:
                pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))
                outcomes.append("ok")
            except BudgetExceededError:
                outcomes.append("refused")

        threads = [threading.Thread(target=submit) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert outcomes.count("ok") == 5 and outcomes.count("refused") == 11
        info = pcs.qdreamer.budget_info()["service"]
        assert info["spent"] + info["reserved"] <= 5.0 + 1e-9


def test_failed_task_releases_its_hold(plugins):
    with service(plugins, resource("a", per_task=1.0, behaviour="fail"), budget={"USD": 5}) as pcs:
        with pytest.raises(QtauError):
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        info = settled(pcs)["service"]
        assert info["spent"] == 0 and info["reserved"] == 0


def test_billed_cost_reported_by_a_provider_settles_instead_of_the_quote():
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    hold = budgets.reserve("t1", [("ibmq:ibm_x", 3.2, "USD")])
    assert budgets.info()["service"]["reserved"] == pytest.approx(3.2)
    from qtau.dreamer.admission import actual_costs

    result = Result("t1", "ibmq:ibm_x", "ibmq_x", 1000, cost=3.2, metadata={"billed_cost": 2.4})
    budgets.settle(hold, actual_costs(result, hold))
    assert budgets.info()["service"]["spent"] == pytest.approx(2.4)
    assert budgets.info()["service"]["reserved"] == 0


def test_mixed_currencies_need_a_rate(plugins):
    eur = resource("eu", per_task=1.0, currency="EUR")
    with service(plugins, eur, budget={"USD": 5}) as pcs:
        with pytest.raises(CurrencyError, match="priced in EUR but the budget is in USD") as caught:
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10))
        assert caught.value.field == "budget.rates"
        assert pcs.qdreamer.in_flight()["scripted:eu"] == 0
    with service(plugins, eur, budget={"USD": 5, "rates": {"EUR": 1.5}}) as pcs:
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert settled(pcs)["service"]["spent"] == pytest.approx(1.5)


@pytest.mark.parametrize("budget, field", [
    ({"USD": -5}, "budget.USD"),
    ({"USD": math.nan}, "budget.USD"),
    ({"USD": 0}, "budget.USD"),
    ({"XYZ": 5}, "budget.XYZ"),
    ({"USD": 5, "EUR": 3}, "budget"),
    ({"USD": 5, "rates": {"EUR": -1}}, "budget.rates.EUR"),
    ("50 USD", "budget"),
])
def test_bad_budgets_name_the_field(plugins, budget, field):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    with pcs:
        pcs.create_pilot(pilot(resource("a")))
        with pytest.raises(ConfigurationError) as caught:
            pcs.initialize_dreamer({"budget": budget})
        assert caught.value.field == field and "Fix:" in str(caught.value)
        with pytest.raises(ConfigurationError) as caught:
            pcs.create_pilot(pilot(resource("b"), budget=budget))
        assert caught.value.field == field


def test_budget_smaller_than_one_task_says_so(plugins):
    with service(plugins, resource("a", per_shot=0.01), budget={"USD": 1}) as pcs:
        with pytest.raises(BudgetExceededError, match="smaller than this one task"):
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=1000))


def test_batch_submission_reserves_per_task_and_undoes_everything_when_one_is_refused(plugins):
    with service(plugins, resource("a", per_task=1.0), budget={"USD": 2.5}) as pcs:
        with pytest.raises(BudgetExceededError):
            pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(3)])
        info = pcs.qdreamer.budget_info()["service"]
        assert info["reserved"] == 0 and info["spent"] == 0
        assert pcs.qdreamer.in_flight()["scripted:a"] == 0
        handles = pcs.submit_quantum_tasks([QuantumTask(circuit=bell(), shots=10) for _ in range(2)])
        assert len(pcs.get_results(handles, timeout=30)) == 2
        assert settled(pcs)["service"]["spent"] == pytest.approx(2.0)


def test_state_round_trips_through_a_store_so_spend_survives_a_restart():
    class MemoryStore:
        saved = None

        def load_budget_state(self):
            return self.saved

        def save_budget_state(self, state):
            self.saved = state

    store = MemoryStore()
    first = Budgets(store)
    first.set_service(parse_budget({"USD": 10}))
    first.settle(first.reserve("t1", [("r", 4.0, "USD")]), {"r": (4.0, "USD")})
    open_hold = first.reserve("t2", [("r", 1.0, "USD")])
    assert open_hold is not None
    first.settle(first.reserve("t3", [("r", 0.5, "USD")]), None)
    restarted = Budgets(store)
    restarted.set_service(parse_budget({"USD": 10}))
    info = restarted.info()["service"]
    assert info["spent"] == pytest.approx(4.0)
    assert info["reserved"] == pytest.approx(1.0), "a hold open at the last save may still be billed"
    assert info["left"] == pytest.approx(5.0)


def test_charge_replays_spend_such_as_a_journals_attempts():
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10, "rates": {"EUR": 2.0}}))
    budgets.add_pilot("p", parse_budget({"EUR": 3}), ["braket:x"])
    budgets.charge("braket:x", 1.0, "EUR")
    info = budgets.info()
    assert info["service"]["spent"] == pytest.approx(2.0) and info["pilot p"]["spent"] == pytest.approx(1.0)
    with pytest.raises(CurrencyError):
        budgets.charge("braket:x", 1.0, "GBP")
    assert budgets.info()["service"]["spent"] == pytest.approx(2.0), "a refused charge changes nothing"


def test_split_flag_must_be_a_bool():
    from qtau.errors import InvalidTaskError

    with pytest.raises(InvalidTaskError) as caught:
        QuantumTask(circuit=bell(), split="yes")
    assert caught.value.field == "split"


# -- issue 23: behaviours a mutation once changed unnoticed ----------------------------------------


def test_failover_never_goes_to_a_resource_dearer_than_the_reservation(plugins):
    """0.1 USD reserved on the best resource, which fails; the only other one costs 5.0 USD. The
    task must not fail over there (it would spend 50 times what was reserved): it fails, nothing
    is spent, and the dear resource never runs anything."""
    with service(plugins, resource("cheap", per_task=0.1, behaviour="fail"),
                 resource("dear", per_task=5.0, two_qubit_error=0.05), budget={"USD": 100}) as pcs:
        task = QuantumTask(circuit=bell(), shots=10)
        assert pcs.qdreamer.explain(task).chosen.resource_id == "scripted:cheap"
        with pytest.raises(QtauError):
            pcs.get_result(pcs.submit_quantum_task(task), timeout=30)
        info = settled(pcs)["service"]
        assert info["spent"] == 0 and info["reserved"] == 0
        assert state.runs["scripted:dear"] == 0


def test_a_bill_in_a_currency_without_a_rate_is_not_free():
    """A provider bills in JPY, which the USD budget has no rate for: the money reserved for the
    task (2.0 USD) counts as spent, never nothing."""
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    hold = budgets.reserve("t1", [("braket:x", 2.0, "USD")])
    budgets.settle(hold, {"braket:x": (300.0, "JPY")})
    info = budgets.info()["service"]
    assert info["spent"] == pytest.approx(2.0) and info["reserved"] == 0 and info["left"] == pytest.approx(8.0)


def test_carried_reservations_of_an_earlier_service_settle_once():
    """Jobs an earlier service left at a provider stay reserved in budgets set later (service and
    pilot), and settle once, at the billed cost, through the hold the re-attached job takes."""
    budgets = Budgets()
    budgets.carry([("t1", "braket:x", 1.1, "USD"), ("t2", "braket:x", 1.1, "USD"), ("t3", "braket:y", 0.0, "USD")])
    budgets.set_service(parse_budget({"USD": 5.5}))
    budgets.add_pilot("p", parse_budget({"USD": 3}), ["braket:x"])
    info = budgets.info()
    assert info["service"]["reserved"] == pytest.approx(2.2) and info["service"]["open_holds"] == 2
    assert info["pilot p"]["reserved"] == pytest.approx(2.2) and info["pilot p"]["left"] == pytest.approx(0.8)
    hold = budgets.take_carried("t1")
    assert budgets.take_carried("t1") is None and budgets.take_carried("t3") is None
    budgets.settle(hold, {"braket:x": (1.0, "USD")})
    info = budgets.info()
    assert info["service"]["spent"] == pytest.approx(1.0) and info["service"]["reserved"] == pytest.approx(1.1)
    assert info["pilot p"]["spent"] == pytest.approx(1.0) and info["pilot p"]["reserved"] == pytest.approx(1.1)


def test_the_same_task_submitted_twice_reserves_and_settles_twice(plugins):
    """Two submissions of one task object are two tasks to pay for: each holds its own money and
    in-flight slot, and each settles (nothing stays reserved or in flight afterwards)."""
    with service(plugins, resource("a", per_task=1.0, call_delay_s=0.2), budget={"USD": 5}) as pcs:
        task = QuantumTask(circuit=bell(), shots=10)
        handles = [pcs.submit_quantum_task(task), pcs.submit_quantum_task(task)]
        assert pcs.qdreamer.budget_info()["service"]["reserved"] == pytest.approx(2.0)
        pcs.get_results(handles, timeout=30)
        info = settled(pcs)["service"]
        assert info["spent"] == pytest.approx(2.0) and info["reserved"] == 0 and info["open_holds"] == 0
        assert pcs.qdreamer.in_flight()["scripted:a"] == 0


def test_failover_goes_to_an_equally_priced_resource_in_the_same_budget(plugins):
    """The resource reserved for fails; the next one costs the same, in the same currency and
    pilot budget: the task fails over there and spends its price once."""
    with service(plugins, resource("a", per_task=1.0, behaviour="fail"),
                 resource("b", per_task=1.0, two_qubit_error=0.05), budget={"USD": 10}) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert result.resource_id == "scripted:b" and [a.ok for a in result.attempts] == [False, True]
        assert settled(pcs)["service"]["spent"] == pytest.approx(1.0)


def test_a_task_moved_to_an_affordable_resource_fails_over_among_affordable_ones(plugins):
    """Over budget on the best resource, the task moves to an affordable one, which fails; it then
    fails over to the other affordable resource, never back to the one that failed."""
    with service(plugins, resource("best", per_task=5.0, two_qubit_error=0.001),
                 resource("cheap", per_task=0.5, two_qubit_error=0.01, behaviour="fail"),
                 resource("cheap2", per_task=0.5, two_qubit_error=0.02), budget={"USD": 1}) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert [a.resource_id for a in result.attempts] == ["scripted:cheap", "scripted:cheap2"]
        assert settled(pcs)["service"]["spent"] == pytest.approx(0.5)


def test_a_budget_with_spend_cannot_change_currency():
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    budgets.settle(budgets.reserve("t1", [("r", 1.0, "USD")]), {"r": (1.0, "USD")})
    assert budgets.info()["service"]["reserved"] == 0
    with pytest.raises(CurrencyError, match="cannot change currency"):
        budgets.set_service(parse_budget({"EUR": 10}))


def test_shortfall_boundaries():
    """A price exactly what is left fits; a free resource fits even a budget overspent by a bill
    larger than its quote; a refusal names the resource (one part) or the number of parts."""
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 2}))
    assert budgets.shortfall("r", 2.0, "USD") is None
    assert budgets.shortfall("r", 2.5, "USD") is not None
    with pytest.raises(BudgetExceededError, match="on braket:x would exceed"):
        budgets.reserve("t0", [("braket:x", 3.0, "USD")])
    with pytest.raises(BudgetExceededError, match="on 2 parts would exceed"):
        budgets.reserve("t0", [("braket:x", 1.5, "USD"), ("braket:y", 1.5, "USD")])
    budgets.settle(budgets.reserve("t1", [("r", 1.0, "USD")]), {"r": (2.5, "USD")})
    assert budgets.info()["service"]["left"] == pytest.approx(-0.5)
    assert budgets.shortfall("free", 0.0, "USD") is None


def test_holds_of_one_task_submitted_three_times_round_trip_through_state():
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    for price in (1.0, 2.0, 3.0):
        budgets.reserve("t", [("r", price, "USD")])
    restored = Budgets()
    restored.restore(budgets.state())
    assert restored.info()["service"]["reserved"] == pytest.approx(6.0)
    assert restored.info()["service"]["open_holds"] == 3
    assert sorted(restored.state()["holds"]) == sorted(budgets.state()["holds"]) == ["t", "t#dup1", "t#dup2"]


def test_a_split_task_settles_the_sum_of_its_parts_per_resource():
    from qtau.dreamer.admission import actual_costs
    from qtau.types import ResultPart

    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    hold = budgets.reserve("t", [("a", 1.0, "USD"), ("b", 1.0, "USD")])
    result = Result("t", "a", "x", 30, parts=[ResultPart("a", 10, cost=1.0), ResultPart("b", 10, cost=1.0),
                                              ResultPart("a", 10, cost=0.5)])
    assert actual_costs(result, hold) == {"a": (1.5, "USD"), "b": (1.0, "USD")}
