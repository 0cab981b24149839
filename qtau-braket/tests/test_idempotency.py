"""Billed at most once: a CreateQuantumTask sent again for the same try of a task makes no second task.

The stub honours `clientToken` as AWS does and can lose the answer to a create it performed
(a 500 after the create, or a connection closed with no answer), so the plugin's real boto3 code
retries a create that in truth succeeded. Every count below is what the stub's provider side saw.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from braket.circuits import Circuit
from qtau.errors import BackendUnavailableError
from qtau.executor import CircuitJob
from qtau_braket import session
from qtau_braket.idempotency import MAX_TOKEN, client_token

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
IONQ = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"


def x0() -> Circuit:
    return Circuit().x(0).i(1)


def executor_for(host, stub, executor="braket_sv1", **extra):
    cfg = {"executor": executor, **stub.config(), **extra}
    [res] = host.resources(executor, cfg)
    return host.create_executor(res, cfg)


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def test_token_is_deterministic_bounded_and_names_one_try():
    request = {"deviceArn": SV1, "shots": 10, "action": '{"source": "x"}', "outputS3Bucket": "b"}
    token = client_token("task1", 1, request)
    assert token == client_token("task1", 1, dict(reversed(list(request.items()))))
    assert token == client_token("task1", 1, {**request, "clientToken": "botocore-random"})
    assert len(token) <= MAX_TOKEN and token.startswith("qtau-")
    assert token != client_token("task1", 2, request)  # a new attempt is a new task, on purpose
    assert token != client_token("task2", 1, request)
    assert token != client_token("task1", 1, {**request, "shots": 11})  # a changed request never gets the old task
    # Another process derives the same token: what a recovering service sends matches.
    code = f"from qtau_braket.idempotency import client_token; print(client_token('task1', 1, {request!r}))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert other.stdout.strip() == token


@pytest.mark.parametrize("how", ["error", "drop"])
def test_a_lost_create_answer_is_retried_into_the_same_task(host, fresh_stub, how):
    exe = executor_for(host, fresh_stub)
    tasks_before, creates_before = len(fresh_stub.tasks), fresh_stub.creates
    fresh_stub.lose_create_responses(1, how)
    handle = exe.submit([CircuitJob(new_id(), x0(), "braket", 100)])
    [out] = exe.result(handle, timeout=30)
    assert out.counts == {"01": 100}
    assert fresh_stub.creates - creates_before == 2  # botocore sent the create twice ...
    assert len(fresh_stub.tasks) - tasks_before == 1  # ... and the provider made one task
    [task] = [fresh_stub.tasks[arn] for arn in handle["arns"]]
    assert fresh_stub.tasks_with_token(task.client_token) == [task]


def test_a_create_sent_again_after_giving_up_makes_no_second_task(host, fresh_stub):
    """The call gives up (no retries left) although AWS made the task; the same try sent again,
    by a new session as a recovering service would, gets that task and no second one."""
    exe = executor_for(host, fresh_stub, max_retries=0)
    job = CircuitJob(new_id(), x0(), "braket", 50)
    tasks_before = len(fresh_stub.tasks)
    fresh_stub.lose_create_responses(1, "drop")
    with pytest.raises(BackendUnavailableError):
        exe.submit([job])
    assert len(fresh_stub.tasks) - tasks_before == 1  # paid for, answer lost
    [made] = list(fresh_stub.tasks.values())[tasks_before:]
    session.forget()
    again = executor_for(host, fresh_stub, max_retries=0)
    handle = again.submit([job])
    assert handle["arns"] == [made.arn]
    assert len(fresh_stub.tasks) - tasks_before == 1
    assert again.result(handle, timeout=30)[0].counts == {"01": 50}
    # The next attempt of the same task is a new try: a new token and a new task.
    retry = again.submit([CircuitJob(job.task_id, x0(), "braket", 50, attempt=2)])
    assert retry["arns"] != handle["arns"] and len(fresh_stub.tasks) - tasks_before == 2


def test_a_batch_with_a_lost_answer_creates_each_task_once(host, fresh_stub):
    exe = executor_for(host, fresh_stub, "braket_ionq")
    jobs = [CircuitJob(new_id(), x0(), "braket", shots) for shots in (10, 20, 30)]
    tasks_before = len(fresh_stub.tasks)
    fresh_stub.lose_create_responses(2, "error")
    handle = exe.submit(jobs)
    assert len(fresh_stub.tasks) - tasks_before == 3 and len(set(handle["arns"])) == 3
    outs = exe.result(handle, timeout=30)
    assert [sum(o.counts.values()) for o in outs] == [10, 20, 30]
    for arn in handle["arns"]:
        assert len(fresh_stub.tasks_with_token(fresh_stub.tasks[arn].client_token)) == 1


def test_the_stub_refuses_a_token_reused_for_another_request(host, fresh_stub):
    import boto3

    client = boto3.client("braket", region_name="us-east-1", endpoint_url=fresh_stub.braket_url,
                          aws_access_key_id=fresh_stub.access_key, aws_secret_access_key=fresh_stub.secret_key)
    program = x0().to_ir(ir_type=__import__("braket.circuits.serialization", fromlist=["IRType"]).IRType.OPENQASM)
    request = {"deviceArn": SV1, "shots": 10, "action": program.json(), "outputS3Bucket": fresh_stub.bucket,
               "outputS3KeyPrefix": "tasks", "clientToken": "qtau-test-" + new_id()}
    first = client.create_quantum_task(**request)["quantumTaskArn"]
    assert client.create_quantum_task(**request)["quantumTaskArn"] == first
    with pytest.raises(client.exceptions.ValidationException, match="already used for a different request"):
        client.create_quantum_task(**{**request, "shots": 11})
    assert len(fresh_stub.tasks_with_token(request["clientToken"])) == 1


CRASHING_DRIVER = """
import json, sys, time
from braket.circuits import Circuit
from qtau import QuantumTask
from qtau.executor import CircuitJob
from qtau.journal import Journal
from qtau.plugins import PluginHost

folder, config = sys.argv[1], json.loads(sys.argv[2])
host = PluginHost(strict=True)
host.register_module("braket", "qtau_braket.plugin")
[res] = host.resources("braket_sv1", config)
exe = host.create_executor(res, config)
journal = Journal.open(folder)
task = QuantumTask(circuit="OPENQASM 3.0; qubit[2] q; x q[0];", shots=40)
journal.record_task(task)
journal.record_attempt(task.task_id, 1, res.id, "braket", durable=True)   # before the paid create
exe.submit([CircuitJob(task.task_id, Circuit().x(0).i(1), "braket", 40, attempt=1)])
print(task.task_id, flush=True)
time.sleep(120)   # killed here: the job reference never reaches the journal
"""


def test_a_driver_killed_after_its_create_is_followed_by_no_second_task(host, fresh_stub, tmp_path):
    """A real driver process journals the attempt, creates the task, and is SIGKILLed before it
    journals the job reference. The next driver finds the unsettled create in the journal and
    sends that same try again: the stub answers with the first task, and makes no second one."""
    import json
    import os
    import signal

    from qtau.journal import Journal

    config = {"executor": "braket_sv1", **fresh_stub.config()}
    tasks_before, creates_before = len(fresh_stub.tasks), fresh_stub.creates
    child = subprocess.Popen([sys.executable, "-c", CRASHING_DRIVER, str(tmp_path), json.dumps(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        task_id = child.stdout.readline().strip()
        assert task_id, child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    [made] = list(fresh_stub.tasks.values())[tasks_before:]
    with Journal.open(tmp_path) as journal:
        assert journal.unfinished_remote() == []
        [unsettled] = journal.unsettled_creates()
        attempt = unsettled.last_attempt
        assert unsettled.task_id == task_id and attempt.attempt == 1 and attempt.resource_id == f"braket:{SV1}"
        exe = executor_for(host, fresh_stub)
        handle = exe.submit([CircuitJob(task_id, x0(), "braket", 40, attempt=attempt.attempt)])
        journal.update_attempt(task_id, attempt.attempt, state="submitted", job_ref=handle)
        assert handle["arns"] == [made.arn]
        assert [t.task_id for t in journal.unfinished_remote()] == [task_id]
    assert fresh_stub.creates - creates_before == 2 and len(fresh_stub.tasks) - tasks_before == 1
    assert exe.result(handle, timeout=30)[0].counts == {"01": 40}
