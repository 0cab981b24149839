"""Bad input and faults, offline: credentials, ARNs, regions, device state, failed and cancelled tasks.

AWS faults come from the stub server over real HTTP (a refused key is a 403 from the stub, an
offline device is the stub's GetDevice/CreateQuantumTask answer); missing credentials are found
by boto3's own credential chain with every source emptied.
"""

from __future__ import annotations

import socket
import time

import pytest
from braket.circuits import Circuit
from qtau.engines.tasks import run_task
from qtau.errors import (
    AuthenticationError,
    BackendUnavailableError,
    ConfigurationError,
    ExecutionError,
    TaskCancelledError,
    TaskTimeoutError,
    UnknownExecutorError,
)
from qtau.executor import CircuitJob
from qtau.payloads import Placement, TaskPayload
from qtau.plugins import PluginHost
from qtau.secrets import Secret
from qtau.types import QuantumTask
from qtau_braket.aws import STATUS_MAX_AGE_S

IONQ = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"


def x0() -> Circuit:
    return Circuit().x(0).i(1).i(2)


def resources(host, executor, cfg):
    return host.resources(executor, {"executor": executor, **cfg})


def executor(host, stub, name="braket_ionq", **extra):
    cfg = {"executor": name, **stub.config(), **extra}
    [res] = host.resources(name, cfg)
    return host.create_executor(res, cfg)


def test_no_credentials_fails_fast(host, stub):
    cfg = {k: v for k, v in stub.config().items() if not k.startswith("aws_")}
    started = time.monotonic()
    with pytest.raises(AuthenticationError, match="no AWS credentials") as info:
        resources(host, "braket_sv1", cfg)
    assert time.monotonic() - started < 5
    assert "aws configure" in str(info.value)


def test_no_credentials_is_told_before_the_sdk_is_imported():
    """Credentials are looked up (boto3) before Braket's SDK is imported: `qtau quote -e
    braket_ionq` without an account answers from the price table without its 2-3 s of import. A
    fresh interpreter (this one has the SDK loaded), with the environment emptied by `clean_aws_env`."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom qtau.plugins import PluginHost\nfrom qtau.errors import AuthenticationError\n"
        "host = PluginHost(strict=True)\nhost.register_module('braket', 'qtau_braket.plugin')\n"
        "try:\n    host.resources('braket_ionq', {'executor': 'braket_ionq'})\n"
        "except AuthenticationError as err:\n    print('refused', 'no AWS credentials' in str(err))\n"
        "print(sorted(n for n in ('braket.aws', 'braket.circuits') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.splitlines()[-2:] == ["refused True", "[]"]


def test_refused_key_is_authentication_error_without_the_secret(host, stub):
    secret = "wrong-secret-value-0123456789abcdef"
    cfg = {**stub.config(), "aws_access_key_id": Secret("AKIAWRONGKEY00000000"), "aws_secret_access_key": Secret(secret)}
    with pytest.raises(AuthenticationError, match="UnrecognizedClientException") as info:
        resources(host, "braket_sv1", cfg)
    assert secret not in str(info.value) and "AKIAWRONGKEY00000000" not in str(info.value)


@pytest.mark.parametrize("arn", ["not-an-arn", "arn:aws:braket:us-east-1::quantum-task/abc",
                                 "arn:aws:s3:::bucket/key", 42])
def test_malformed_arn(host, stub, arn):
    with pytest.raises(ConfigurationError, match="malformed Braket device ARN"):
        resources(host, "braket_device_arn", {**stub.config(), "braket_device_arn": arn})


def test_missing_arn(host, stub):
    with pytest.raises(ConfigurationError, match="needs a device ARN"):
        resources(host, "braket_device_arn", stub.config())


def test_region_mismatch(host, stub):
    with pytest.raises(ConfigurationError, match="region mismatch"):
        resources(host, "braket_ionq", {**stub.config(), "aws_region": "eu-west-2"})


def test_family_and_arn_disagree(host, stub):
    with pytest.raises(ConfigurationError, match="ionq devices"):
        resources(host, "braket_ionq", {**stub.config(), "braket_device_arn": "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"})


def test_unknown_device(host, stub):
    with pytest.raises(ConfigurationError, match="no device"):
        resources(host, "braket_device_arn", {**stub.config(), "braket_device_arn": "arn:aws:braket:us-east-1::device/qpu/ionq/Nope-9"})


def test_unknown_executor(host, stub):
    with pytest.raises(UnknownExecutorError, match="braket_sv1"):
        resources(host, "braket_nope", stub.config())


def test_unreachable_endpoint(host, stub):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg = {**stub.config(), "braket_endpoint": f"http://127.0.0.1:{port}", "max_retries": 0, "connect_timeout_s": 2}
    with pytest.raises(BackendUnavailableError, match="cannot reach AWS"):
        resources(host, "braket_sv1", cfg)


def test_offline_device_is_unavailable(host, fresh_stub):
    exe = executor(host, fresh_stub)
    fresh_stub.set_status(IONQ, "OFFLINE")
    # GetDevice (cached for a second) or CreateQuantumTask itself refuses it: either way, named offline.
    with pytest.raises(BackendUnavailableError, match="(?i)offline"):
        exe.submit([CircuitJob("t", x0(), "braket", 10)])


def test_outside_availability_window(host, fresh_stub):
    exe = executor(host, fresh_stub)
    hour = (time.gmtime().tm_hour + 12) % 24
    fresh_stub.set_windows(IONQ, [{"executionDay": "Everyday", "windowStartHour": f"{hour:02d}:00",
                                   "windowEndHour": f"{hour:02d}:10"}])
    time.sleep(STATUS_MAX_AGE_S)  # device data is read at most once a second before creating tasks
    with pytest.raises(BackendUnavailableError, match="availability window"):
        exe.submit([CircuitJob("t", x0(), "braket", 10)])


def test_failed_task_names_its_arn(host, fresh_stub):
    exe = executor(host, fresh_stub)
    fresh_stub.fail_next("calibration drift")
    handle = exe.submit([CircuitJob("t", x0(), "braket", 10)])
    with pytest.raises(ExecutionError, match="calibration drift") as info:
        exe.result(handle, timeout=30)
    assert handle["arns"][0] in str(info.value)


def test_cancelled_task_names_its_arn(host, fresh_stub):
    fresh_stub.hold = True
    exe = executor(host, fresh_stub)
    handle = exe.submit([CircuitJob("t", x0(), "braket", 10)])
    exe.cancel(handle)
    with pytest.raises(TaskCancelledError, match="cancelled"):
        exe.result(handle, timeout=30)
    assert fresh_stub.tasks[handle["arns"][0]].status == "CANCELLED"


def test_wait_is_bounded(host, fresh_stub):
    fresh_stub.hold = True
    exe = executor(host, fresh_stub)
    handle = exe.submit([CircuitJob("t", x0(), "braket", 10)])
    started = time.monotonic()
    with pytest.raises(TaskTimeoutError, match="its job was cancelled"):
        exe.result(handle, timeout=0.5)
    assert time.monotonic() - started < 3
    assert fresh_stub.tasks[handle["arns"][0]].status == "CANCELLED", "a wait that gives up cancels the task"


def test_offline_device_fails_over(fresh_stub):
    """The worker moves a task from a device that went offline to the next placement."""
    host = PluginHost(strict=True)
    host.register_module("braket", "qtau_braket.plugin")
    cfg = {"executor": "braket_ionq", **fresh_stub.config()}
    [ionq] = host.resources("braket_ionq", cfg)
    [local] = host.resources("braket_local", {"executor": "braket_local"})
    fresh_stub.set_status(IONQ, "OFFLINE")
    payload = TaskPayload(host=host.spec(), task=QuantumTask(circuit=x0(), shots=20),
                          placements=(Placement(ionq, cfg), Placement(local, {"executor": "braket_local"})),
                          submitted_at=time.time())
    result = run_task(payload)
    assert result.resource_id == local.id and result.counts == {"001": 20}
    assert result.attempts[0].error_type == "BackendUnavailableError" and result.attempts[1].ok


@pytest.mark.parametrize("bad", [{"s3_destination": "bucket/no-scheme"}, {"s3_bucket": "Bad_Bucket"},
                                 {"poll_interval_s": 0}, {"braket_endpoint": "ftp://x"},
                                 {"aws_secret_access_key": None, "aws_access_key_id": "AKIAONLYKEY000000000"}])
def test_bad_settings(host, stub, bad):
    cfg = {**stub.config(), **bad}
    if bad.get("aws_secret_access_key", 1) is None:
        cfg.pop("aws_secret_access_key")
    with pytest.raises(ConfigurationError):
        resources(host, "braket_sv1", cfg)


def test_noise_needs_density_matrix(host):
    with pytest.raises(ConfigurationError, match="density-matrix"):
        resources(host, "braket_local", {"noise": {"depolarizing_1q": 0.01}})
