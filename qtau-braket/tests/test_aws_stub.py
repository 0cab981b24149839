"""The AWS path end to end over real HTTP: the plugin's boto3/Braket SDK code against the stub.

Submit, poll, fetch from S3, batches, queue depth, properties, noise, cost and cancel all go
through `qtau_braket.testing.stub_server`, which runs each program on Braket's local simulator.
"""

from __future__ import annotations

import json
import time

import pytest
from braket.circuits import Circuit
from qtau.executor import CircuitJob
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
IONQ = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
RIGETTI = "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q"


def x0() -> Circuit:
    return Circuit().x(0).i(1).i(2)


def bell() -> Circuit:
    return Circuit().h(0).cnot(0, 1)


def config(stub, executor: str, **extra):
    return {"executor": executor, **stub.config(), **extra}


def resource(host, stub, executor, **extra):
    [found] = host.resources(executor, config(stub, executor, **extra))
    return found


def executor_for(host, stub, executor, **extra):
    res = resource(host, stub, executor, **extra)
    return host.create_executor(res, config(stub, executor, **extra))


@pytest.mark.parametrize("executor,arn,kind", [
    ("braket_sv1", SV1, "simulator"), ("braket_ionq", IONQ, "qpu"), ("braket_rigetti", RIGETTI, "qpu"),
    ("braket_iqm", "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet", "qpu"),
    ("braket_oqc", "arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy", "qpu"),
    ("braket_dm1", "arn:aws:braket:::device/quantum-simulator/amazon/dm1", "simulator"),
    ("braket_tn1", "arn:aws:braket:::device/quantum-simulator/amazon/tn1", "simulator"),
])
def test_families_resolve_through_get_device(host, fresh_stub, executor, arn, kind):
    res = resource(host, fresh_stub, executor)
    assert res.id == f"braket:{arn}" and res.kind == kind and res.provider == "braket"
    assert res.metadata["arn"] == arn and res.num_qubits >= 8
    assert "cx" in res.native_gates and res.circuit_formats == ("braket",)
    assert res.transpiles == (kind == "simulator")


def test_resources_carry_what_the_run_time_estimate_needs(host, fresh_stub):
    """IonQ's gate times come from its device document (provider.timing); SV1 and DM1 say how big
    the state they simulate is, so QDREAMER does not think DM1 as quick as SV1 at 16 qubits."""
    from qtau.dreamer.terms import run_seconds
    from qtau.types import CircuitSummary

    ionq = resource(host, fresh_stub, "braket_ionq")
    assert ionq.metadata["gate_seconds"] == {"1q": 1.35e-4, "2q": 6e-4, "measure": 3e-4}
    assert ionq.metadata["seconds_per_shot"] == 2e-5
    assert "gate_seconds" not in resource(host, fresh_stub, "braket_rigetti").metadata  # publishes no times
    sv1, dm1, tn1 = (resource(host, fresh_stub, e) for e in ("braket_sv1", "braket_dm1", "braket_tn1"))
    assert (sv1.metadata["state_base"], dm1.metadata["state_base"]) == (2, 4) and "state_base" not in tn1.metadata
    deep = CircuitSummary(num_qubits=16, gate_counts={"cx": 200, "rz": 300}, depth=120, num_measured=16)
    # 120 layers of 135-600 us gates in every shot: ~40 s on IonQ, not the 2 s + 1 ms/shot default.
    assert run_seconds(ionq, 1000, deep) > 30 > 10 * run_seconds(ionq, 1000)
    assert run_seconds(dm1, 1000, deep) > 1000 * run_seconds(sv1, 1000, deep)


def test_properties_give_connectivity_and_native_gates(host, fresh_stub):
    res = resource(host, fresh_stub, "braket_rigetti")
    assert res.coupling_map[:2] == ((0, 1), (1, 2))
    assert res.metadata["native_gate_set"] == ["rx", "rz", "cz", "iswap"]
    assert res.metadata["region"] == "us-west-1"
    assert res.metadata["execution_windows"]


def test_device_by_arn_from_env(host, fresh_stub, monkeypatch):
    monkeypatch.setenv("BRAKET_DEVICE_ARN", IONQ)
    res = resource(host, fresh_stub, "braket_device_arn")
    assert res.id == f"braket:{IONQ}" and res.metadata["region"] == "us-east-1"


def test_endpoint_from_env(host, fresh_stub, monkeypatch):
    monkeypatch.setenv("BRAKET_ENDPOINT", fresh_stub.braket_url)
    cfg = {k: v for k, v in config(fresh_stub, "braket_sv1").items() if k != "braket_endpoint"}
    [res] = host.resources("braket_sv1", cfg)
    assert res.id == f"braket:{SV1}"


def test_submit_poll_fetch_bit_order(host, fresh_stub):
    before = len(fresh_stub.calls)
    exe = executor_for(host, fresh_stub, "braket_sv1")
    handle = exe.submit([CircuitJob("t", x0(), "braket", 200, width=3)])
    assert json.loads(json.dumps(handle)) == handle, "a job reference is plain JSON"
    [state] = exe.poll([handle])
    assert state.state in ("queued", "running", "done")
    [out] = exe.result(handle, timeout=30)
    assert out.counts == {"001": 200}
    assert out.metadata["task_arn"] == handle["arns"][0] and out.metadata["implicit_measure_all"] is True
    assert out.metadata["measured_qubits"] == [0, 1, 2]
    assert fresh_stub.tasks[handle["arns"][0]].status == "COMPLETED"
    calls = fresh_stub.calls[before:]
    assert "POST quantum-task" in calls and "GET quantum-task" in calls


def test_explicit_measurement_subset(host, fresh_stub):
    exe = executor_for(host, fresh_stub, "braket_sv1")
    circuit = Circuit().x(0).x(2).i(1).measure([2, 0])
    [out] = exe.result(exe.submit([CircuitJob("t", circuit, "braket", 50)]), timeout=30)
    assert out.metadata["measured_qubits"] == [2, 0] and out.metadata["implicit_measure_all"] is False
    assert out.counts == {"11": 50}


def test_batch_is_one_submit_in_order(host, fresh_stub):
    exe = executor_for(host, fresh_stub, "braket_ionq")
    jobs = [CircuitJob(str(i), c, "braket", s) for i, (c, s) in enumerate([(x0(), 100), (bell(), 300), (x0(), 50)])]
    handle = exe.submit(jobs)
    assert len(handle["arns"]) == 3
    outs = exe.result(handle, timeout=30)
    assert outs[0].counts == {"001": 100} and outs[2].counts == {"001": 50}
    assert set(outs[1].counts) == {"00", "11"} and sum(outs[1].counts.values()) == 300


def test_poll_reports_many_jobs_and_a_lost_one(host, fresh_stub):
    fresh_stub.hold = True
    exe = executor_for(host, fresh_stub, "braket_sv1")
    first = exe.submit([CircuitJob("a", x0(), "braket", 10)])
    second = exe.submit([CircuitJob("b", x0(), "braket", 10)])
    fresh_stub.forget(second["arns"][0])
    states = exe.poll([first, second])
    assert [s.state for s in states] == ["queued", "lost"]
    assert exe.cancel(first) is True
    assert exe.poll([first])[0].state == "cancelled"


def test_ended_tasks_are_not_asked_again(host, fresh_stub):
    """Polling many tasks reads each once per round; a task seen ending is not asked again, and
    fetch takes its S3 location from that answer (one GetQuantumTask per task in all)."""
    exe = executor_for(host, fresh_stub, "braket_sv1")
    handle = exe.submit([CircuitJob(str(i), x0(), "braket", 10, width=3) for i in range(5)])
    deadline = time.monotonic() + 30
    while exe.poll([handle])[0].state != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = len(fresh_stub.calls)
    assert [s.state for s in exe.poll([handle, handle])] == ["done", "done"]
    outs = exe.fetch(handle)
    assert [o.counts for o in outs] == [{"001": 10}] * 5
    assert [o.metadata["task_arn"] for o in outs] == handle["arns"]
    assert "GET quantum-task" not in fresh_stub.calls[before:]
    # Fetched jobs are forgotten: a later poll asks AWS again (and still reads done).
    assert exe.poll([handle])[0].state == "done"
    assert fresh_stub.calls[before:].count("GET quantum-task") == 5


def test_stub_in_its_own_process():
    """`python -m qtau_braket.testing.stub_server` serves a task and exits when its stdin closes."""
    import subprocess
    import sys

    from qtau.plugins import PluginHost

    proc = subprocess.Popen([sys.executable, "-m", "qtau_braket.testing.stub_server", "--delay", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["config"]["braket_endpoint"].startswith("http://127.0.0.1:")
        host = PluginHost(strict=True)
        host.register_module("braket", "qtau_braket.plugin")
        cfg = {"executor": "braket_sv1", **info["config"]}
        [res] = host.resources("braket_sv1", cfg)
        exe = host.create_executor(res, cfg)
        [out] = exe.result(exe.submit([CircuitJob("t", x0(), "braket", 20, width=3)]), timeout=30)
        assert out.counts == {"001": 20}
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0


def test_stub_process_rejects_a_negative_delay():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "qtau_braket.testing.stub_server", "--delay", "-1"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert run.returncode == 2 and "--delay must be" in run.stderr


def test_queue_depth_and_status(host, fresh_stub):
    res = resource(host, fresh_stub, "braket_ionq")
    fresh_stub.set_queue(IONQ, normal=7, priority=2)
    status = host.status(res, config(fresh_stub, "braket_ionq"))
    assert status.online and status.queue_depth == 9 and status.estimated_wait_s > 0
    assert "7 normal, 2 priority" in status.message


def test_status_offline_and_outside_window(host, fresh_stub):
    res = resource(host, fresh_stub, "braket_ionq")
    cfg = config(fresh_stub, "braket_ionq")
    fresh_stub.set_status(IONQ, "OFFLINE")
    status = host.status(res, cfg)
    assert not status.online and "OFFLINE" in status.message
    fresh_stub.set_status(IONQ, "ONLINE")
    hour = (time.gmtime().tm_hour + 3) % 24
    fresh_stub.set_windows(IONQ, [{"executionDay": "Everyday", "windowStartHour": f"{hour:02d}:00",
                                   "windowEndHour": f"{hour:02d}:30"}])
    status = host.status(res, cfg)
    assert not status.online and "availability window" in status.message


def test_noise_profiles_from_calibration(host, fresh_stub):
    rig = resource(host, fresh_stub, "braket_rigetti")
    noise = host.noise(rig, config(fresh_stub, "braket_rigetti"))
    assert noise.one_qubit_error == pytest.approx(0.0015) and noise.two_qubit_error == pytest.approx(0.015)
    assert noise.readout_error == pytest.approx(0.038) and noise.t1_us > 0 and "standardized" in noise.source
    ionq = resource(host, fresh_stub, "braket_ionq")
    noise = host.noise(ionq, config(fresh_stub, "braket_ionq"))
    assert noise.two_qubit_error == pytest.approx(0.0048) and "IonQ" in noise.source
    sv1 = resource(host, fresh_stub, "braket_sv1")
    assert host.noise(sv1, config(fresh_stub, "braket_sv1")).one_qubit_error == 0


def test_cancel(host, fresh_stub):
    fresh_stub.hold = True
    exe = executor_for(host, fresh_stub, "braket_sv1")
    handle = exe.submit([CircuitJob("t", x0(), "braket", 10)])
    assert exe.poll([handle])[0].state == "queued"
    assert exe.cancel(handle) is True
    assert exe.poll([handle])[0].state == "cancelled"
    assert fresh_stub.tasks[handle["arns"][0]].status == "CANCELLED"


def test_search_devices_served(fresh_stub):
    """SearchDevices as the SDK calls it (AwsSession.search_devices, paginated), through the stub."""
    from qtau_braket.session import aws_session
    from qtau_braket.settings import settings_for

    session = aws_session(settings_for(fresh_stub.config(), "us-east-1"))
    found = session.search_devices(provider_names=["IonQ"])
    assert [d["deviceArn"] for d in found] == [IONQ]
    assert [d["deviceArn"] for d in session.search_devices(arns=[SV1])] == [SV1]


def test_pilot_service_runs_on_stub(host, fresh_stub):
    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **fresh_stub.config()})
        refs = pcs.submit_quantum_tasks([QuantumTask(circuit=c, shots=100) for c in (x0(), bell())])
        first, second = pcs.get_results(refs, timeout=60)
        assert first.get_counts() == {"001": 100} and set(second.get_counts()) == {"00", "11"}
        assert first.resource_id == f"braket:{SV1}" and first.metadata["task_arn"].startswith("arn:aws:braket:")
    finally:
        pcs.close()


def test_a_batch_task_that_fails_at_aws_fails_over_alone(host, fresh_stub):
    """Each circuit of a Braket batch is a task of its own, run and billed on its own. When the
    first fails at AWS, the other two keep their SV1 results; only it fails over to IonQ. The whole
    batch was read as failed: its completed tasks' results were dropped (paid for) and all three
    ran again on IonQ (paid twice)."""
    def x_then_id() -> Circuit:  # gates IonQ runs as well (it has no identity)
        return Circuit().x(0).h(1).h(1)

    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        for executor in ("braket_sv1", "braket_ionq"):
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}, **fresh_stub.config()})
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity"})
        fresh_stub.hold = True  # all three are created before the first fails
        fresh_stub.fail_next("stub: one task of the batch failed")
        before = set(fresh_stub.tasks)
        refs = pcs.submit_quantum_tasks([QuantumTask(circuit=x_then_id(), shots=10 + i) for i in range(3)])
        deadline = time.monotonic() + 30
        while len(set(fresh_stub.tasks) - before) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        fresh_stub.release()
        results = pcs.get_results(refs, timeout=60)
    finally:
        pcs.close()
    # The batch creates its tasks side by side: which one the stub fails is not fixed, and QDREAMER
    # may spread the burst over both devices. What holds: the failed task alone ran again, the
    # others ran once where they were first placed, and no task ran twice at the provider.
    assert all(r.counts == {"01": r.shots} for r in results) and sorted(r.shots for r in results) == [10, 11, 12]
    [failed_over] = [r for r in results if not r.attempts[0].ok]
    assert [a.ok for a in failed_over.attempts] == [False, True] and "one task of the batch failed" in failed_over.attempts[0].message
    assert failed_over.resource_id != failed_over.attempts[0].resource_id  # it failed over to the other device
    assert all(len(r.attempts) == 1 for r in results if r is not failed_over)
    made = [fresh_stub.tasks[arn] for arn in set(fresh_stub.tasks) - before]
    assert sorted(t.status for t in made) == ["COMPLETED"] * 3 + ["FAILED"], "no task ran twice"
