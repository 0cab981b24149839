"""Expected wait counts this service's own queued tasks once (found by benchmarks/scheduling.py).

A provider's queue depth includes the tasks QDREAMER itself sent there and that are still waiting;
the speed term adds them again as in-flight work. Counting them twice, at the provider's per-job
rate (IBM: 30 s a queued job) instead of their own run time, made a resource QDREAMER had just sent
a burst to look many times slower than it was until its next status report. The scripted plugin
reports exactly the depth and wait it is given.
"""

import pytest
from qtau import QuantumTask
from qtau.circuits import Circuits
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.dreamer.terms import provider_wait
from qtau.types import ResourceStatus
from qtau_scripted import state
from qtau_scripted.script import resources
from qtau_scripted.testing import host, resource
from qtau_test_circuits import bell

RUN = 2.0 + 1e-3 * 1000  # QDREAMER's QPU run-time default for 1000 shots


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")


def dreamer(*specs):
    plugins = host()
    config = {"executor": "scripted", "resources": list(specs)}
    now = [0.0]
    built = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"cache_ttl_seconds": 30}),
                     clock=lambda: now[0])
    built.add_resources(resources(config), config)
    return built, now


def waits(d: QDreamer) -> dict[str, float]:
    return {r.resource_id: r.wait_s for r in d.explain(QuantumTask(circuit=bell())).rows}


def test_own_queued_tasks_in_the_reported_depth_are_not_counted_twice():
    d, now = dreamer(resource("a", queue_depth=4, queue_wait_s=120), resource("b", queue_depth=1, queue_wait_s=30))
    d.task_started("scripted:a", 3)
    now[0] = 31.0  # the next status report sees our 3 tasks among a's 4 queued jobs
    got = waits(d)
    assert got["scripted:a"] == pytest.approx(1 * 30 + 3 * RUN + RUN)  # one other job, our three, this one
    assert got["scripted:b"] == pytest.approx(30 + RUN)


def test_tasks_sent_after_the_report_are_counted_as_in_flight_only():
    d, now = dreamer(resource("a", queue_depth=2, queue_wait_s=60))
    assert waits(d)["scripted:a"] == pytest.approx(60 + RUN)  # report fetched with nothing in flight
    d.task_started("scripted:a", 2)
    # Same report (within the TTL): the provider's 2 jobs are other users'; ours come on top.
    assert waits(d)["scripted:a"] == pytest.approx(60 + 2 * RUN + RUN)


def test_a_status_without_a_depth_is_used_as_given():
    status = ResourceStatus("x", online=True, queue_depth=0, estimated_wait_s=50.0)
    assert provider_wait(status, in_flight_at_report=5) == 50.0
    assert provider_wait(ResourceStatus("x", online=True, queue_depth=3, estimated_wait_s=90.0), 5) == 0.0
    assert provider_wait(None, 2) == 0.0


def test_a_status_refresh_reuses_the_plan_with_the_new_queues_and_a_noise_change_replans():
    d, now = dreamer(resource("a", queue_depth=1, queue_wait_s=30, two_qubit_error=0.01))
    first = d.explain(QuantumTask(circuit=bell())).rows[0]
    state.script("scripted:a", queue_depth=3, queue_wait_s=90)
    now[0] = 31.0
    second = d.explain(QuantumTask(circuit=bell())).rows[0]
    assert second.wait_s == pytest.approx(90 + RUN) and second.fidelity == first.fidelity
    assert d._snap.earlier  # the previous snapshot's plans were carried over (only queues changed)
    state.script("scripted:a", two_qubit_error=0.05)
    now[0] = 62.0
    third = d.explain(QuantumTask(circuit=bell())).rows[0]
    assert third.fidelity < first.fidelity and not d._snap.earlier
