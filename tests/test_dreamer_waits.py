"""The wait providers do not report, learned from this user's tasks (qtau.dreamer.wait_model).

Unit tests drive `WaitModel` with explicit times; the service tests run remote tasks through core's
tracker against the scripted plugin's in-process provider (its jobs wait `job_delay_s` that the
provider's status never reports: another user's running job, as IBM's and Braket's queue depths
leave it out), with the per-user cache pointed at tmp_path.
"""

from __future__ import annotations

import json
import math

import pytest
from qtau.dreamer.wait_model import HALF_LIFE_S, WaitModel, default_path, hour_of_week
from qtau.service import PilotComputeService
from qtau.types import Attempt, QuantumTask
from qtau_scripted import state
from qtau_scripted.testing import hand_clock_dreamer, host, pilot, resource
from qtau_test_circuits import bell

pytestmark = pytest.mark.usefixtures("clean_script")


def remote(name: str, **values):
    return resource(name, remote=True, kind="qpu", **values)


def test_nothing_learned_means_the_report_and_the_lateness_rule_alone():
    model = WaitModel()
    assert model.expected("ibmq:a").extra_s == 0.0 and model.expected("ibmq:a").source == "provider report"
    assert model.expected("ibmq:a", late_s=7.0).extra_s == 7.0
    assert model.behind({"ibmq:a": 7.0}) == {"ibmq:a": 7.0}


def test_an_overdue_resource_is_expected_to_stay_behind_as_long_as_its_late_tasks_were():
    model = WaitModel(wall=lambda: 0.0)
    for k in range(20):  # every fourth task waited 40 s behind something the report missed
        model.observe("ibmq:a", 40.0 if k % 4 == 0 else 0.0, at=float(k))
    est = model.expected("ibmq:a", late_s=5.0, at=20.0)
    assert est.p_late == pytest.approx(0.25, abs=0.05)
    assert est.late_s == pytest.approx(40.0, rel=0.05)
    assert est.extra_s == pytest.approx(5.0 + est.late_s)
    assert est.source == "learned from 20 observations" and est.error_s > 0
    # Nothing overdue: the typical task there sees no hidden wait.
    assert model.expected("ibmq:a", at=20.0).extra_s == 0.0


def test_an_untried_resource_borrows_from_its_providers_others_not_from_other_providers():
    model = WaitModel(wall=lambda: 0.0)
    for _ in range(10):
        model.observe("ibmq:a", 30.0, at=0.0)
    borrowed = model.expected("ibmq:b", late_s=1.0, at=0.0)
    assert borrowed.extra_s == pytest.approx(31.0) and "other ibmq resources" in borrowed.source
    assert model.expected("braket:c", late_s=1.0, at=0.0).extra_s == 1.0


def test_observations_decay_so_a_device_whose_users_left_is_learned_again():
    model = WaitModel(wall=lambda: 0.0)
    for _ in range(30):
        model.observe("ibmq:a", 60.0, at=0.0)
    later = 20 * HALF_LIFE_S + 3600.0 * 168 * 5  # weeks later, the same hour of the week
    for _ in range(5):
        model.observe("ibmq:a", 4.0, at=later)
    assert model.expected("ibmq:a", late_s=1.0, at=later).late_s == pytest.approx(4.0, rel=0.1)


def test_waits_are_learned_per_hour_of_the_week():
    model = WaitModel(wall=lambda: 0.0)
    busy_hour, quiet_hour = 9 * 3600.0, 21 * 3600.0
    for week in range(3):
        for k in range(10):
            model.observe("ibmq:a", 90.0, at=busy_hour + week * 7 * 86400 + k)
            model.observe("ibmq:a", 3.0, at=quiet_hour + week * 7 * 86400 + k)
    at_busy = model.expected("ibmq:a", late_s=1.0, at=busy_hour + 3 * 7 * 86400).late_s
    at_quiet = model.expected("ibmq:a", late_s=1.0, at=quiet_hour + 3 * 7 * 86400).late_s
    assert at_busy > 60.0 and at_quiet < 20.0
    assert hour_of_week(busy_hour) == 9 and hour_of_week(busy_hour + 7 * 86400) == 9


def test_the_model_is_kept_per_user_and_survives_a_new_model(tmp_path, monkeypatch):
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path))
    path = default_path()
    assert path.parent == tmp_path
    first = WaitModel(path, wall=lambda: 0.0)
    for _ in range(4):
        first.observe("ibmq:a", 20.0, at=0.0)
    first.flush()
    second = WaitModel(path, wall=lambda: 0.0)
    assert second.expected("ibmq:a", late_s=1.0).late_s == pytest.approx(20.0)
    second.clear()
    assert WaitModel(path, wall=lambda: 0.0).info() == {}


@pytest.mark.parametrize("content", ["not json", json.dumps({"format": 1, "stats": {"a": "x"}}), "[1, 2]"])
def test_an_unreadable_cache_file_is_an_empty_model_not_an_error(tmp_path, content, caplog):
    path = tmp_path / "waits.json"
    path.write_text(content)
    model = WaitModel(path)
    assert model.info() == {} and model.expected("ibmq:a", late_s=2.0).extra_s == 2.0
    model.observe("ibmq:a", 10.0)  # and it is written over with what is learned next
    model.flush()
    assert "ibmq:a" in json.loads(path.read_text())["stats"]


def test_non_finite_observations_are_ignored():
    model = WaitModel()
    model.observe("ibmq:a", math.nan)
    model.observe("ibmq:a", math.inf)
    assert model.info() == {}


@pytest.fixture
def hand_clock_pair():
    """Two equal scripted remote resources reporting empty queues, under a QDreamer on a hand clock."""
    plugins = host()
    with PilotComputeService(execution_engine="local", plugins=plugins) as pcs:
        pcs.create_pilot(pilot(remote("a"), remote("b")))
        yield hand_clock_dreamer(pcs, plugins)


def test_a_dreamer_on_an_injected_clock_keeps_its_model_in_memory(hand_clock_pair):
    dreamer, _ = hand_clock_pair
    assert dreamer.waits.path is None


def test_only_succeeded_tasks_with_an_expectation_teach_the_model(hand_clock_pair):
    dreamer, now = hand_clock_pair
    task = QuantumTask(circuit=bell(), shots=10)
    rid = dreamer.place(task, reserve=True)[0].resource.id
    now[0] = 50.0
    dreamer.task_finished(rid)  # no attempts: failed, cancelled or undone; nothing learned
    dreamer.task_started(rid)  # no expectation (recovery): nothing learned either
    now[0] = 100.0
    dreamer.task_finished(rid, (Attempt(rid, True, 50.0, 100.0),))
    rid = dreamer.place(task, reserve=True)[0].resource.id
    now[0] = 130.0
    dreamer.task_finished(rid, (Attempt(rid, False, 100.0, 130.0, "ExecutionError"),))
    assert dreamer.waits.info() == {}


def test_tasks_placed_behind_our_own_teach_the_model_nothing_new(hand_clock_pair):
    """Three tasks stacked on a behind one hidden job end 60 s late together: one observation of
    that job, not three."""
    dreamer, now = hand_clock_pair
    task = QuantumTask(circuit=bell(), shots=10)
    dreamer.task_started("scripted:b", n=10)  # b is far busier: every task goes to a
    placed = [dreamer.place(task, reserve=True)[0].resource.id for _ in range(3)]
    assert placed == ["scripted:a"] * 3
    now[0] = 60.0
    for _ in placed:
        dreamer.task_finished("scripted:a", (Attempt("scripted:a", True, 0.0, now[0]),))
    learned = dreamer.waits.info()["scripted:a"]
    assert learned["observations"] == pytest.approx(1.0)


def test_a_learned_hidden_wait_keeps_tasks_off_an_overdue_resource(hand_clock_pair):
    dreamer, now = hand_clock_pair
    task = QuantumTask(circuit=bell(), shots=10)
    for _ in range(5):  # tasks on a ended 60 s after they were expected
        rid = dreamer.place(task, reserve=True)[0].resource.id
        dreamer.task_started("scripted:b")  # keeps b busier, so a is chosen
        now[0] += 60.0
        dreamer.task_finished(rid, (Attempt(rid, True, now[0] - 60.0, now[0]),))
        dreamer.task_finished("scripted:b")
    learned = dreamer.waits.info()["scripted:a"]
    assert learned["p_late"] > 0.5 and learned["late_s"] == pytest.approx(60.0, rel=0.1)
    first = dreamer.place(task, reserve=True)[0].resource.id
    assert first == "scripted:a"
    now[0] += 5.0  # a's task (expected in about 2 s) is 3 s overdue: the lateness rule alone adds 3 s
    rows = {r.resource_id: r for r in dreamer.explain(task).rows}
    assert rows["scripted:a"].wait_s > 60.0 > rows["scripted:b"].wait_s
    assert dreamer.place(task, reserve=True)[0].resource.id == "scripted:b"
    info = dreamer.get_cache_info()["waits"]
    assert info["scripted:a"]["source"].startswith("learned from")
    dreamer.clear_cache()
    assert dreamer.get_cache_info()["waits"] == {}


def test_remote_tasks_through_the_tracker_teach_the_per_user_model(tmp_path, monkeypatch):
    """The scripted provider reports an empty queue while each job waits 0.8 s (job_delay_s):
    three real remote tasks, and the next service starts from what this one learned."""
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path))
    with PilotComputeService(execution_engine="local", plugins=host()) as pcs:
        pcs.create_pilot(pilot(remote("q", job_delay_s=0.8, seconds_per_task=0.01, seconds_per_shot=0.0)))
        for _ in range(3):
            pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        learned = pcs.qdreamer.waits.info()["scripted:q"]
        assert learned["observations"] == pytest.approx(3.0, abs=0.01)
        assert learned["p_late"] > 0.5 and 0.6 < learned["late_s"] < 5.0
        pcs.qdreamer.waits.flush()
    assert (tmp_path / "waits.json").exists()
    state.reset()
    with PilotComputeService(execution_engine="local", plugins=host()) as again:
        again.create_pilot(pilot(remote("q")))
        assert again.qdreamer.waits.info()["scripted:q"]["source"] == "learned from 3 observations"
