"""Quotes: every candidate's price, wait, fidelity and price source, the resource QDREAMER would
choose and totals, before anything is submitted; price overrides and the age of shipped tables.

Scripted resources stand in for providers (real hook calls); IBM prices come from qtau-ibmq's
table applied to a fake backend's Target (`price_as_device`), Braket's from its table.
"""

import datetime as dt
import json

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.prices import stale_tables
from qtau.dreamer.quote import Quote
from qtau.errors import ConfigurationError, CurrencyError, InvalidTaskError
from qtau.plugins import PluginHost
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource
from qtau_test_circuits import bell

BELL_QASM = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def three(plugins, **init):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(
        resource("fast", per_task=1.0, per_shot=0.001, queue_wait_s=1, two_qubit_error=0.02),
        resource("good", per_task=0.3, per_shot=0.002, queue_wait_s=60, two_qubit_error=0.001),
        resource("small", qubits=1),
        prices={"scripted:good": {"per_shot": 0.0005}},
    ))
    pcs.initialize_dreamer({"optimization_mode": "high_fidelity", **init})
    return pcs


def test_quote_lists_every_candidate_with_price_wait_fidelity_and_source_and_submits_nothing(plugins):
    with three(plugins) as pcs:
        quote = pcs.quote([QuantumTask(circuit=bell(), shots=1000), QuantumTask(circuit=bell(), shots=2000)])
        assert isinstance(quote, Quote) and len(quote.tasks) == 2
        first = quote.tasks[0]
        lines = {line.resource_id: line for line in first.lines}
        assert lines["scripted:fast"].price == pytest.approx(2.0) and lines["scripted:fast"].origin == "provider"
        assert lines["scripted:good"].price == pytest.approx(0.8), "the override replaced per_shot only"
        assert lines["scripted:good"].origin == "override" and "pilot description override" in lines["scripted:good"].source
        assert lines["scripted:good"].wait_s > lines["scripted:fast"].wait_s
        assert lines["scripted:good"].fidelity > lines["scripted:fast"].fidelity
        assert not lines["scripted:small"].feasible and "needs 2 qubits" in lines["scripted:small"].reason
        assert first.chosen == pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=1000)).chosen.resource_id
        assert first.chosen == "scripted:good"
        assert quote.totals == {"USD": pytest.approx(0.8 + 1.3)}
        assert [(r.resource_id, r.tasks, r.shots) for r in quote.resources] == [("scripted:good", 2, 3000)]
        assert sum(state.runs.values()) == 0, "a quote runs nothing"
        assert all(n == 0 for n in pcs.qdreamer.in_flight().values()), "and counts nothing in flight"
        text = str(quote)
        assert "scripted:good" in text and "user override" in text and "total: 2.1 USD" in text
        html = quote._repr_html_()
        assert html.startswith("<table>") and "<b>scripted:good</b>" in html
        assert json.loads(json.dumps(quote.to_dict()))["totals"] == {"USD": pytest.approx(2.1)}


def test_quote_follows_the_policy_and_the_budget(plugins):
    with three(plugins) as pcs:
        pcs.initialize_dreamer({"optimization_mode": "high_speed"})
        assert pcs.quote(QuantumTask(circuit=bell())).tasks[0].chosen == "scripted:fast"
        pcs.initialize_dreamer({"optimization_mode": "high_speed", "budget": {"USD": 1}})
        quote = pcs.quote(QuantumTask(circuit=bell()))
        assert quote.tasks[0].chosen == "scripted:good", "fast costs 2 USD, over the 1 USD budget"
        assert not {x.resource_id: x for x in quote.tasks[0].lines}["scripted:fast"].affordable
        assert quote.budgets["service"]["left"] == 1
        many = pcs.quote([QuantumTask(circuit=bell()) for _ in range(3)])
        assert any("more than the service budget has left" in w for w in many.warnings)


def test_a_split_task_is_quoted_as_its_parts(plugins):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    with pcs:
        pcs.create_pilot(pilot(resource("a", per_shot=0.001), resource("b", per_shot=0.001)))
        pcs.initialize_dreamer()
        [tq] = pcs.quote(QuantumTask(circuit=bell(), shots=3000, split=True)).tasks
        assert [(p.resource_id, p.shots) for p in tq.parts] == [("scripted:a", 1500), ("scripted:b", 1500)]
        assert tq.price == pytest.approx(3.0) and tq.chosen == "scripted:a+scripted:b"


def test_ibm_time_priced_quote_uses_the_backend_target_durations():
    """IBM's local estimate: 2 s per sub-job + shots x (rep_delay + circuit duration), priced per
    second; fake_manila's Target carries the durations, `price_as_device` prices it like the device."""
    plugins = PluginHost(strict=True)
    plugins.load_entry_points(allow={"ibmq", "qiskit"})
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    with pcs:
        pcs.create_pilot({"quantum": {"executor": "ibmq_fake_manila", "pricing": {"price_as_device": True}}})
        pcs.initialize_dreamer()
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2

        target = FakeManilaV2().target
        cx = sum(p.duration for p in target["cx"].values()) / len(target["cx"])
        sx = sum(p.duration for p in target["sx"].values()) / len(target["sx"])
        measure = sum(p.duration for p in target["measure"].values()) / len(target["measure"])
        rep_delay = FakeManilaV2().configuration().default_rep_delay
        circuit = sx + cx + measure  # h (one sx pulse) then cx, then a measurement layer
        lines = {}
        for shots in (1000, 4000):
            [line] = pcs.quote(QuantumTask(circuit=BELL_QASM, shots=shots)).tasks[0].lines
            lines[shots] = line
            assert line.price == pytest.approx(1.6 * (2.0 + shots * (rep_delay + circuit)), rel=1e-6)
            assert line.origin == "table" and line.as_of == "2025-12-31" and line.currency == "USD"
        assert lines[4000].price > lines[1000].price
        from qtau_ibmq.pricing import usage_seconds

        res = pcs.qdreamer.resources[0]
        summary, _ = pcs.qdreamer.summarize(QuantumTask(circuit=BELL_QASM))
        assert usage_seconds(res, {"pricing": {"price_as_device": True}}, 1000, summary) == pytest.approx(
            2.0 + 1000 * (rep_delay + circuit))


def test_braket_quote_names_its_table_and_date():
    from qtau.types import Resource
    from qtau_braket.pricing import estimate

    arn = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
    res = Resource(id=f"braket:{arn}", provider="braket", executor="braket_ionq", kind="qpu", num_qubits=36,
                   metadata={"arn": arn})
    cost = estimate(res, {}, 1000)
    assert cost.total(1000) == pytest.approx(0.30 + 1000 * 0.08)
    assert (cost.origin, cost.as_of) == ("table", "2025-12-31")
    overridden = estimate(res, {"pricing": {"per_shot": 0.05}}, 1000)
    assert overridden.origin == "override" and overridden.total(1000) == pytest.approx(50.3)


def test_price_override_for_a_resource_the_pilot_does_not_offer_is_refused(plugins):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    with pcs:
        with pytest.raises(ConfigurationError) as caught:
            pcs.create_pilot(pilot(resource("a"), prices={"scripted:nope": {"per_shot": 0.1}}))
        assert caught.value.field == "prices.scripted:nope" and "scripted:a" in str(caught.value)
        for bad, field in (({"scripted:a": {"per_shot": -1}}, "prices.scripted:a.per_shot"),
                           ({"scripted:a": {"per_shoot": 1}}, "prices.scripted:a.per_shoot"),
                           ({"scripted:a": {"currency": "ZZZ"}}, "prices.scripted:a.currency")):
            with pytest.raises(ConfigurationError) as caught:
                pcs.create_pilot(pilot(resource("a"), prices=bad))
            assert caught.value.field == field
        assert pcs.get_pilots() == [], "a refused description creates no pilot"
        with pytest.raises(CurrencyError):
            pcs.create_pilot(pilot(resource("a"), prices={"scripted:a": {"currency": "ZZZ"}}))


def test_quote_takes_only_tasks(plugins):
    with three(plugins) as pcs:
        with pytest.raises(InvalidTaskError) as caught:
            pcs.quote(["not a task"])
        assert caught.value.field == "tasks"


def test_doctor_warns_about_tables_older_than_180_days():
    today = dt.date(2026, 12, 1)
    tables = [{"name": "old", "source": "s", "as_of": "2025-12-31"}, {"name": "new", "source": "s", "as_of": "2026-11-01"},
              {"name": "undated", "source": "s", "as_of": "sometime"}]
    warnings = stale_tables(tables, today)
    assert len(warnings) == 2 and "old is 335 days old" in warnings[0] and "undated has no as_of" in warnings[1]


def test_shipped_tables_carry_source_and_date():
    from qtau_braket.pricing import price_table as braket_table
    from qtau_ibmq.pricing import price_table as ibm_table

    for table in (ibm_table(), braket_table()):
        assert table["source"].startswith("https://") and dt.date.fromisoformat(table["as_of"])
