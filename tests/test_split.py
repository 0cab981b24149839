"""Shot splitting: `split=True` divides a task's shots over interchangeable resources in
proportion to their throughput, merges counts, keeps every part in `Result.parts`, fails over per
part, and a deadline no single resource meets triggers a split that meets it.

Resources are the real `scripted` plugin's: counts come from BasicSimulator runs.
"""

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.dreamer.ranking import Row
from qtau.dreamer.split_rules import SplitConfig, allocate, interchangeable
from qtau.errors import (
    ConfigurationError,
    ExecutionError,
    InvalidTaskError,
    NoSuitableResourceError,
)
from qtau_scripted import state
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell, x_on

#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def service(plugins, *resources, **init):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(*resources))
    pcs.initialize_dreamer({"optimization_mode": "balanced", **init})
    return pcs


def test_split_over_equal_resources_merges_counts_and_keeps_each_part(plugins):
    with service(plugins, resource("a", per_shot=0.001), resource("b", per_shot=0.001),
                 resource("c", per_shot=0.001)) as pcs:
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=3000, split=True)),
                                timeout=60)
        assert sorted(p.resource_id for p in result.parts) == ["scripted:a", "scripted:b", "scripted:c"]
        assert [p.shots for p in result.parts] == [1000, 1000, 1000]
        for part in result.parts:
            assert sum(part.counts.values()) == part.shots and set(part.counts) <= {"00", "11"}
            assert part.cost == pytest.approx(1.0) and part.attempts[-1].ok
            assert state.runs[part.resource_id] == 1
        assert result.shots == 3000 and sum(result.counts.values()) == 3000
        assert result.counts == {k: sum(p.counts.get(k, 0) for p in result.parts) for k in result.counts}
        assert result.cost == pytest.approx(3.0)
        assert abs(result.counts["00"] - 1500) < 5 * (3000 * 0.25) ** 0.5
        assert wait_idle(pcs) == {"scripted:a": 0, "scripted:b": 0, "scripted:c": 0}


def test_shots_follow_expected_throughput_and_worse_resources_are_left_out(plugins):
    pcs = service(
        plugins,
        resource("fast", seconds_per_task=0.1, seconds_per_shot=0.001),
        resource("slow", seconds_per_task=0.1, seconds_per_shot=0.003),
        resource("noisy", two_qubit_error=0.3),
        split={"score_margin": 0.6},
    )
    with pcs:
        rows = pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=4000)).rows
        ids = [r.resource_id for r in interchangeable(rows, pcs.qdreamer.config.split)]
        assert "scripted:noisy" not in ids, "fidelity outside the bound"
        [tq] = pcs.quote(QuantumTask(circuit=bell(), shots=4000, split=True)).tasks
        shares = {p.resource_id: p.shots for p in tq.parts}
        assert set(shares) == {"scripted:fast", "scripted:slow"}
        assert shares["scripted:fast"] > 2 * shares["scripted:slow"], "about 3x the throughput"


def test_allocate_is_proportional_exact_and_drops_tiny_shares():
    assert allocate(30000, [1, 1, 1]) == [10000, 10000, 10000]
    assert sum(allocate(1001, [3, 1, 1])) == 1001
    assert allocate(1000, [100, 1], min_part_shots=100) == [1000, 0]


def test_a_failing_part_fails_over_to_another_split_resource(plugins):
    with service(plugins, resource("a"), resource("b"), resource("c")) as pcs:
        state.script("scripted:b", behaviour="fail")
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=x_on(0), shots=3000, split=True)),
                                timeout=60)
        assert result.counts == {"001": 3000}
        moved = [p for p in result.parts if p.attempts[0].resource_id == "scripted:b"]
        assert len(moved) == 1 and not moved[0].attempts[0].ok and moved[0].resource_id != "scripted:b"


def test_all_parts_failing_is_one_execution_error_with_every_attempt(plugins):
    with service(plugins, resource("a"), resource("b")) as pcs:
        state.script("scripted:a", behaviour="fail")
        state.script("scripted:b", behaviour="fail")
        with pytest.raises(ExecutionError) as caught:
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=1000, split=True)), timeout=60)
        err = caught.value
        assert err.field == "split" and "all 2 parts" in str(err) and "Fix:" in str(err)
        assert {a.resource_id for a in err.attempts} == {"scripted:a", "scripted:b"}


def test_split_with_one_candidate_is_refused_before_submission(plugins):
    with service(plugins, resource("a"), resource("tiny", qubits=1)) as pcs:
        with pytest.raises(InvalidTaskError) as caught:
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=1000, split=True))
        assert caught.value.field == "split" and "only scripted:a qualifies" in str(caught.value)
        assert sum(state.runs.values()) == 0


def test_deadline_no_single_resource_meets_triggers_a_split_that_meets_it(plugins):
    slow = dict(queue_wait_s=1, seconds_per_task=0.1, seconds_per_shot=0.001)
    with service(plugins, resource("a", **slow), resource("b", **slow), resource("c", **slow)) as pcs:
        whole = pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=3000)).rows[0].wait_s
        assert whole == pytest.approx(4.1)
        task = QuantumTask(circuit=bell(), shots=3000, deadline=2.5)
        result = pcs.get_result(pcs.submit_quantum_task(task), timeout=60)
        assert len(result.parts) == 3 and result.shots == 3000 and result.metadata["split"]
        with pytest.raises(NoSuitableResourceError):
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=3000, deadline=1.5))  # even split: 2.1 s


def test_split_reserves_every_part_within_the_budget(plugins):
    with service(plugins, resource("a", per_task=1.0), resource("b", per_task=1.0), budget={"USD": 1.5}) as pcs:
        from qtau.errors import BudgetExceededError

        with pytest.raises(BudgetExceededError):
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=1000, split=True))
        assert pcs.qdreamer.budget_info()["service"]["reserved"] == 0
        assert all(n == 0 for n in pcs.qdreamer.in_flight().values())


@pytest.mark.parametrize("bad", [{"score_margin": 2}, {"max_parts": 1}, {"min_part_shots": 0}, {"parts": 3}])
def test_bad_split_settings_name_the_field(bad):
    with pytest.raises(ConfigurationError) as caught:
        SplitConfig.parse(bad)
    assert caught.value.field == f"split.{next(iter(bad))}"


def test_the_journal_records_a_split_task_once_with_its_merged_cost(plugins, tmp_path):
    from qtau.journal import Journal

    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins, working_directory=str(tmp_path))
    with pcs:
        pcs.create_pilot(pilot(resource("a", per_task=1.0), resource("b", per_task=1.0)))
        pcs.initialize_dreamer()
        task = QuantumTask(circuit=bell(), shots=1000, split=True)
        assert pcs.get_result(pcs.submit_quantum_task(task), timeout=60).cost == pytest.approx(2.0)
    with Journal.open(str(tmp_path), readonly=True) as journal:
        assert [(t.task_id, t.state) for t in journal.tasks()] == [(task.task_id, "done")]
        assert journal.spend() == {"USD": pytest.approx(2.0)}


def _row(rid, score, fidelity=1.0, twin_group=""):
    return Row(rid, "x", True, "", fidelity, 0.1, 0.0, score, twin_group=twin_group or rid)


def test_twins_of_the_best_share_shots_whatever_their_scores_others_need_the_margin():
    rows = [_row("aer", 1.0), _row("aer@p2", 0.4, twin_group="aer"), _row("basic", 0.4),
            _row("aer@p3", 0.4, fidelity=0.9, twin_group="aer")]
    assert [r.resource_id for r in interchangeable(rows, SplitConfig())] == ["aer", "aer@p2"]
    # A twin of another resource, not of the best, needs the margin like any other.
    rows = [_row("basic", 1.0), _row("aer", 0.4), _row("aer@p2", 0.4, twin_group="aer")]
    assert [r.resource_id for r in interchangeable(rows, SplitConfig())] == ["basic"]


def test_a_second_pilot_of_a_learned_simulator_is_its_twin_estimated_and_split_as_equal():
    """Two pilots of Aer with the same settings: the second's resources are the first's twins,
    estimated by the first's learned run times (not explored as untried, not the plugin prior),
    and a split shares the shots between the two Aer resources equally. Before, the untried twin
    was ranked as fast as the fastest and split against the learned one by that guess, or the two
    scored apart and the split was refused."""
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL) as pcs:
        pcs.create_pilot({"quantum": {"executor": "qiskit_local"}})
        pcs.initialize_dreamer({"optimization_mode": "balanced"})
        for _ in range(3):  # three bursts: past the first tries (executor start-up), then trusted
            pcs.wait_tasks([pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=100)) for _ in range(4)])
        second = pcs.create_pilot({"quantum": {"executor": "qiskit_local"}})
        twin = next(r for r in second.resources if r.metadata.get("offered_as") == "qiskit:aer_simulator")
        assert twin.metadata["twin_of"] == "qiskit:aer_simulator"
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=4000)).rows}
        assert "of its twin qiskit:aer_simulator" in rows[twin.id].run_source
        assert "untried" not in rows[twin.id].run_source
        assert rows[twin.id].run_s == pytest.approx(rows["qiskit:aer_simulator"].run_s)
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=4000, split=True)),
                                timeout=60)
        shares = {p.resource_id: p.shots for p in result.parts}
        assert shares["qiskit:aer_simulator"] == shares[twin.id]
        assert sum(result.counts.values()) == 4000


def test_pilots_are_twins_only_with_the_same_executor_and_settings(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        first = pcs.create_pilot(pilot(resource("a"), resource("b")))
        same = pcs.create_pilot(pilot(resource("a"), resource("b")))
        other = pcs.create_pilot(pilot(resource("a", two_qubit_error=0.1)))
        third = pcs.create_pilot(pilot(resource("a"), resource("b")))
        assert [r.id for r in first.resources] == ["scripted:a", "scripted:b"]
        assert [r.metadata["twin_of"] for r in same.resources] == ["scripted:a", "scripted:b"]
        assert [r.metadata["twin_of"] for r in third.resources] == ["scripted:a", "scripted:b"]
        [noisy] = other.resources
        assert noisy.metadata["offered_as"] == "scripted:a" and "twin_of" not in noisy.metadata
        rows = {r.resource_id: r for r in pcs.qdreamer.explain(QuantumTask(circuit=bell(), shots=100)).rows}
        assert rows[same.resources[0].id].twin_group == "scripted:a" == rows["scripted:a"].twin_group
        assert rows[noisy.id].twin_group == noisy.id


@pytest.mark.parametrize("durable", [True, False])
def test_a_split_task_is_journaled_as_the_service_is_durable(plugins, tmp_path, payload_spy, durable):
    """A split task is journaled whole (recovery runs it again whole): on disk before the submission
    returns in a durable service, only queued in one created with durable=False (its payload made
    later by the journal's writer), as a task that is not split."""
    task = QuantumTask(circuit=bell(), shots=2000, split=True)
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins,
                             working_directory=str(tmp_path), durable=durable) as pcs:
        pcs.create_pilot(pilot(resource("a", per_shot=0.001), resource("b", per_shot=0.001)))
        with payload_spy.submitting():
            handle = pcs.submit_quantum_task(task)
        result = pcs.get_result(handle, timeout=60)
    assert len(result.parts) == 2 and sum(result.counts.values()) == 2000
    assert payload_spy.made == ([task.task_id] if durable else [])
