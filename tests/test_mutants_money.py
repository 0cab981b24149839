"""Budgets and admission: the cases that mutations of `qtau.dreamer.budget` and
`qtau.dreamer.admission` survived (issue 23 item 7; scripts/mutation.py's `@budget` and
`@admission` mutants). Each test names the wrong behaviour it catches.

Services run the real `scripted` plugin (real BasicSimulator runs, scripted prices and failures);
the `Budgets` books are used directly where the case is pure bookkeeping. Nothing is mocked.
"""

import threading

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.admission import actual_costs
from qtau.dreamer.budget import Budgets, parse_budget
from qtau.errors import QtauError
from qtau.types import Result
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell

pytestmark = pytest.mark.usefixtures("clean_script")


def settled(pcs):
    wait_idle(pcs)
    for _ in range(300):
        if not any(b["reserved"] for b in pcs.qdreamer.budget_info().values()):
            break
        threading.Event().wait(0.01)
    return pcs.qdreamer.budget_info()


def test_a_hold_settled_twice_is_charged_once():
    """Catches: a second settlement of one hold (a done-callback and a cancel racing) charging
    again and releasing money another task reserved."""
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    hold = budgets.reserve("t1", [("r", 2.0, "USD")])
    other = budgets.reserve("t2", [("r", 3.0, "USD")])
    budgets.settle(hold, {"r": (2.0, "USD")})
    budgets.settle(hold, {"r": (2.0, "USD")})
    info = budgets.info()["service"]
    assert info["spent"] == pytest.approx(2.0), "one task, one bill"
    assert info["reserved"] == pytest.approx(3.0), "the other task's reservation is untouched"
    assert info["open_holds"] == 1
    budgets.settle(other, None)
    assert budgets.info()["service"]["reserved"] == 0


def test_an_earlier_services_spend_counts_in_the_pilot_budget_of_its_resource():
    """Catches: spend replayed from the journal counted only in the service budget, so a pilot
    budget starts afresh after every restart."""
    budgets = Budgets()
    budgets.add_pilot("p", parse_budget({"USD": 3}), ["braket:x"])
    budgets.set_service(parse_budget({"USD": 10}))
    budgets.replay([("braket:x", 1.0, "USD"), ("braket:y", 2.0, "USD")])
    info = budgets.info()
    assert info["pilot p"]["spent"] == pytest.approx(1.0), "braket:y is not the pilot's resource"
    assert info["service"]["spent"] == pytest.approx(3.0)
    # A pilot budget set after the replay counts it too.
    later = Budgets()
    later.replay([("braket:x", 1.0, "USD")])
    later.add_pilot("q", parse_budget({"USD": 3}), ["braket:x"])
    assert later.info()["pilot q"]["spent"] == pytest.approx(1.0)


def test_jobs_carried_in_two_calls_are_each_reserved_once():
    """Catches: a second `carry()` (more jobs read from the journal) reserving the first call's
    jobs again."""
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10}))
    budgets.carry([("t1", "braket:x", 1.0, "USD")])
    budgets.carry([("t2", "braket:x", 2.0, "USD")])
    info = budgets.info()["service"]
    assert info["reserved"] == pytest.approx(3.0) and info["open_holds"] == 2


def test_a_bill_in_its_own_currency_is_converted_at_the_budgets_rate():
    """Catches: a provider's bill read in the quote's currency (2 EUR billed counted as 2 USD)."""
    budgets = Budgets()
    budgets.set_service(parse_budget({"USD": 10, "rates": {"EUR": 1.5}}))
    hold = budgets.reserve("t1", [("ibmq:x", 2.0, "USD")])
    result = Result("t1", "ibmq:x", "ibmq_x", 100, cost=2.0, currency="USD",
                    metadata={"billed_cost": 2.0, "billed_currency": "EUR"})
    assert actual_costs(result, hold) == {"ibmq:x": (2.0, "EUR")}
    budgets.settle(hold, actual_costs(result, hold))
    assert budgets.info()["service"]["spent"] == pytest.approx(3.0)


def test_failover_never_enters_a_pilot_budget_that_reserved_nothing(plugins):
    """The task reserved in pilot `a`'s budget; its resource fails. Pilot `b`'s resource costs
    the same, but its budget (0.5 USD) cannot pay for it and reserved nothing: failing over
    there would spend 1.0 USD against a 0.5 USD budget. Catches: failover ignoring the budget scope."""
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", per_task=1.0, behaviour="fail", two_qubit_error=0.001),
                               budget={"USD": 10}, name="a"))
        pcs.create_pilot(pilot(resource("b", per_task=1.0, two_qubit_error=0.05), budget={"USD": 0.5}, name="b"))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        with pytest.raises(QtauError) as caught:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        info = settled(pcs)
        assert [a.resource_id for a in caught.value.attempts] == ["scripted:a"]
        assert state.runs["scripted:b"] == 0
        assert info["pilot b"]["spent"] == 0 and info["pilot a"]["spent"] == 0


def test_failover_never_goes_to_a_resource_priced_in_another_currency(plugins):
    """1.0 USD reserved; the other resource's price, 0.9 EUR, is 1.35 USD at the budget's rate.
    Catches: failover comparing prices in different currencies as numbers."""
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("usd", per_task=1.0, behaviour="fail", two_qubit_error=0.001),
                               resource("eur", per_task=0.9, currency="EUR", two_qubit_error=0.05)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity",
                                "budget": {"USD": 10, "rates": {"EUR": 1.5}}})
        task = QuantumTask(circuit=bell(), shots=10)
        assert pcs.qdreamer.explain(task).chosen.resource_id == "scripted:usd"
        with pytest.raises(QtauError) as caught:
            pcs.get_result(pcs.submit_quantum_task(task), timeout=30)
        info = settled(pcs)["service"]
        assert [a.resource_id for a in caught.value.attempts] == ["scripted:usd"]
        assert state.runs["scripted:eur"] == 0
        assert info["spent"] == 0 and info["reserved"] == 0


def test_a_task_moved_by_the_budget_fails_over_only_to_what_its_reservation_pays_for(plugins):
    """Over budget on `best` (5.0), the task moves to `cheap` (0.5 reserved), which fails. `mid`
    (0.8) is affordable but dearer than the reservation, `best` is not affordable: the task fails,
    nothing is spent. Catches: a moved task's failover list not filtered by its new reservation."""
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("best", per_task=5.0, two_qubit_error=0.001),
                               resource("cheap", per_task=0.5, two_qubit_error=0.01, behaviour="fail"),
                               resource("mid", per_task=0.8, two_qubit_error=0.02)))
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity", "budget": {"USD": 1}})
        with pytest.raises(QtauError) as caught:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        assert wait_idle(pcs, timeout=5) == {"scripted:best": 0, "scripted:cheap": 0, "scripted:mid": 0}, \
            "the move took the task's in-flight count from `best` to `cheap`"
        info = settled(pcs)["service"]
        assert [a.resource_id for a in caught.value.attempts] == ["scripted:cheap"]
        assert state.runs["scripted:best"] == 0 and state.runs["scripted:mid"] == 0
        assert info["spent"] == 0 and info["reserved"] == 0
