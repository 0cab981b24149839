"""The path of a task through the execution core: the worker returns hand-overs as values, the
engine side finishes them on the remote-job tracker, and attempt numbers never repeat.

Runs on the scripted plugin's local simulator and its in-process provider queue (a real
`RemoteExecutor`; see tests/test_remote_lifecycle.py), so nothing here is mocked.
"""

from __future__ import annotations

import subprocess
import sys
import time

import attrs
import pytest
from qtau import worker
from qtau.dispatch import AttemptNumbers
from qtau.engines import tasks
from qtau.payloads import BatchPayload, HandOver, Placement, TaskPayload
from qtau.types import QuantumTask, Result
from qtau_scripted.testing import host, resource
from qtau_test_circuits import bell

pytestmark = pytest.mark.usefixtures("clean_script")


@pytest.fixture()
def placements():
    """A local simulator that fails every run, then a remote resource that works."""
    plugins = host()
    config = {"executor": "scripted", "resources": [resource("broken", behaviour="fail"),
                                                     resource("q", remote=True, kind="qpu")]}
    found = {r.id.split(":")[-1]: r for r in plugins.resources("scripted", config)}
    return plugins, (Placement(found["broken"], config), Placement(found["q"], config))


def payload(plugins, placements, task_id=None) -> TaskPayload:
    task = QuantumTask(circuit=bell(), shots=20, **({"task_id": task_id} if task_id else {}))
    return TaskPayload(plugins.spec(), task, placements, time.time())


def test_the_worker_returns_the_rest_of_a_task_that_reaches_a_remote_resource(placements):
    plugins, order = placements
    value = worker.run_task(payload(plugins, order))
    assert isinstance(value, HandOver)
    assert [p.resource.id for p in value.payload.placements] == [order[1].resource.id]
    [failed] = value.payload.attempts
    assert failed.resource_id == order[0].resource.id and not failed.ok
    assert value.payload.next_attempt == 2  # the remote try is the task's second attempt


def test_the_engine_side_finishes_a_handed_over_task_on_the_tracker(placements):
    plugins, order = placements
    result = tasks.run_task(payload(plugins, order))
    assert isinstance(result, Result) and result.resource_id == order[1].resource.id
    assert [(a.resource_id, a.ok) for a in result.attempts] == [(order[0].resource.id, False),
                                                                (order[1].resource.id, True)]
    assert result.attempts[1].job  # the provider's job reference is recorded
    assert sum(result.counts.values()) == 20


def test_a_batch_hands_over_its_members_and_each_gets_its_own_result(placements):
    plugins, order = placements
    batch = BatchPayload(tuple(payload(plugins, order, f"t{i}") for i in range(3)))
    entries = worker.run_batch(batch)
    assert all(isinstance(e, HandOver) for e in entries)
    results = tasks.run_batch(batch)
    assert [r.task_id for r in results] == ["t0", "t1", "t2"]
    assert {r.resource_id for r in results} == {order[1].resource.id}
    assert {r.attempts[-1].job for r in results} and all(len(r.attempts) == 2 for r in results)


def test_the_worker_imports_neither_the_tracker_nor_an_engine():
    code = "import sys, qtau.worker\nprint(sorted(m for m in ('qtau.tracker', 'qtau.engines') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_attempt_numbers_continue_after_every_earlier_try_and_forget_the_oldest_ids():
    numbers = AttemptNumbers(memory=2)
    assert numbers.take("a") == 1
    numbers.keep("a", 4)  # the first submission had three placements
    assert numbers.take("a") == 4
    numbers.keep("a", 6)
    numbers.keep("b", 2)
    numbers.keep("c", 3)  # memory of two: "a" is forgotten
    assert [numbers.take(t) for t in ("a", "b", "c")] == [1, 2, 3]


@pytest.fixture()
def local_order():
    """A local simulator that fails every run, then one that works."""
    plugins = host()
    config = {"executor": "scripted", "resources": [resource("broken", behaviour="fail"), resource("fine")]}
    found = {r.id.split(":")[-1]: r for r in plugins.resources("scripted", config)}
    return plugins, (Placement(found["broken"], config), Placement(found["fine"], config))


def test_max_runs_bounds_the_resources_that_run_a_task_and_a_conversion_refusal_is_not_a_run(local_order):
    """QDREAMER's `max_attempts` is the most resources that run a task; the placements after them
    are other conversion paths' readers (QDreamer.place), tried only after a refusal to convert."""
    from qtau.errors import ExecutionError
    from qtau.types import Attempt

    plugins, order = local_order
    bounded = attrs.evolve(payload(plugins, order), max_runs=1)
    with pytest.raises(ExecutionError) as caught:
        worker.run_task(bounded)
    assert [a.resource_id for a in caught.value.attempts] == [order[0].resource.id]
    refused = Attempt("other:reader", False, 0.0, 0.0, "CircuitConversionError", "cannot read it")
    assert bounded.may_run([refused]) and not bounded.may_run([refused, caught.value.attempts[0]])
    assert bounded.rest([refused], 1).placements == order[1:]
    assert bounded.rest([caught.value.attempts[0]], 1).placements == ()
    result = worker.run_task(attrs.evolve(payload(plugins, order), max_runs=2))
    assert result.resource_id == order[1].resource.id and len(result.attempts) == 2
