"""Joining a `ray start` cluster with token authentication, as a user's script would.

The test starts `ray start --head` and `ray start --address` itself (private temp dir and ports,
token auth on), and stops exactly the processes it started. Drivers run as fresh interpreters, so
each sees only the environment it is given (RAY_ADDRESS, RAY_AUTH_MODE, RAY_AUTH_TOKEN), as a user's
script does; Ray keeps its auth settings per process.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow]

RAY_CLI = str(Path(sys.executable).with_name("ray"))
TESTS = str(Path(__file__).parent)


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") or k == "RAY_TMPDIR"}
    env.update(RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=TESTS)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def token_cluster():
    """A two-node `ray start` cluster with token auth; yields (address, token)."""
    token = secrets.token_hex(32)
    temp = tempfile.mkdtemp(prefix="qtau-rs-")
    env = clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_TMPDIR=temp)
    gcs, head_nm, head_om, w_nm, w_om, head_mw, worker_mw = free_ports(7)
    common = ["--block", "--num-cpus=1", "--disable-usage-stats"]
    started: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> subprocess.Popen:
        proc = subprocess.Popen([RAY_CLI, "start", *args, *common], env=env, start_new_session=True,
                                stdout=open(os.path.join(temp, log), "w"), stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    try:
        start(["--head", f"--port={gcs}", f"--temp-dir={temp}", "--include-dashboard=false",
               f"--node-manager-port={head_nm}", f"--object-manager-port={head_om}",
               f"--min-worker-port={head_mw}", f"--max-worker-port={head_mw + 40}"], "head.log")
        address_file = Path(temp, "ray_current_cluster")
        deadline = time.monotonic() + 120
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        address = address_file.read_text().strip()
        start([f"--address={address}", f"--node-manager-port={w_nm}", f"--object-manager-port={w_om}",
               f"--min-worker-port={worker_mw}", f"--max-worker-port={worker_mw + 40}"], "worker.log")
        worker_log = Path(temp, "worker.log")
        while "Ray runtime started" not in worker_log.read_text() and time.monotonic() < deadline + 120:
            time.sleep(0.5)
        yield address, token, temp
    finally:
        stop_sessions(started)


def stop_sessions(started: list[subprocess.Popen]) -> None:
    """End the sessions this module started for `ray start` and every process in them.

    `ray start --block` takes about 34 s to exit on SIGTERM (measured), and all of Ray's processes
    of a node (GCS, raylet, workers) stay in the session of the `ray start` that started them, so
    after a short grace period the whole session is killed; it is gone when no process is left in
    its group."""
    for proc in reversed(started):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for proc in started:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        proc.wait(10)
    for proc in started:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"processes of the `ray start` session {proc.pid} outlived SIGKILL")


DRIVER = textwrap.dedent('''
    import json, os, sys, tempfile, time
    from qtau import PilotComputeService, QuantumTask, QtauError
    from qtau.plugins import PluginHost
    from ray_nodes_helpers import node_recording_bell, recorded_nodes

    if os.environ.get("LATE_TOKEN"):  # a notebook: Ray imported first, token settings made afterwards
        import ray
        os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=os.environ.pop("LATE_TOKEN"))
    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    started = time.monotonic()
    try:
        pcs = PilotComputeService(execution_engine="ray", plugins=host)
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
    except QtauError as err:
        print(json.dumps({"error": type(err).__name__, "message": str(err), "field": err.field,
                          "seconds": time.monotonic() - started}))
        sys.exit(0)
    import ray
    deadline = time.monotonic() + 120
    while len([n for n in ray.nodes() if n["Alive"]]) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    record = tempfile.mkdtemp()
    fn = node_recording_bell(record, 0.5)
    refs = [pcs.submit_quantum_task(QuantumTask(circuit=fn, num_qubits=2, shots=50)) for _ in range(10)]
    results = pcs.get_results(refs, timeout=240)
    print(json.dumps({"nodes": recorded_nodes(record), "alive": [n["NodeID"] for n in ray.nodes() if n["Alive"]],
                      "shots": [sum(r.counts.values()) for r in results]}))
    pcs.close()
''')


def run_driver(**env: str) -> dict:
    out = subprocess.run([sys.executable, "-c", DRIVER], env=clean_env(**env), capture_output=True, text=True,
                         timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "_stderr": out.stderr, "_stdout": out.stdout}


def test_joins_with_token_settings_and_runs_tasks_on_both_nodes(token_cluster):
    address, token, _ = token_cluster
    outcome = run_driver(RAY_ADDRESS=address, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    assert outcome.get("error") is None, outcome
    assert outcome["shots"] == [50] * 10
    assert len(outcome["alive"]) == 2
    assert set(outcome["nodes"]) == set(outcome["alive"]), "tasks ran on both nodes"
    assert token not in outcome["_stdout"] + outcome["_stderr"]


def test_token_settings_made_after_importing_ray_are_used(token_cluster):
    address, token, _ = token_cluster
    outcome = run_driver(RAY_ADDRESS=address, LATE_TOKEN=token)
    assert outcome.get("error") is None, outcome
    assert outcome["shots"] == [50] * 10


def test_without_token_settings_the_error_names_the_variables_within_seconds(token_cluster):
    address, token, _ = token_cluster
    outcome = run_driver(RAY_ADDRESS=address)
    assert outcome["error"] == "AuthenticationError" and outcome["field"] == "RAY_AUTH_MODE"
    assert "RAY_AUTH_MODE=token" in outcome["message"] and "RAY_AUTH_TOKEN" in outcome["message"]
    assert address in outcome["message"]
    assert outcome["seconds"] < 15


def test_a_wrong_token_is_refused_without_showing_it(token_cluster):
    address, token, _ = token_cluster
    wrong = secrets.token_hex(32)
    outcome = run_driver(RAY_ADDRESS=address, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=wrong)
    assert outcome["error"] == "AuthenticationError" and outcome["field"] == "RAY_AUTH_TOKEN"
    assert "refused" in outcome["message"] and outcome["seconds"] < 15
    assert wrong not in outcome["_stdout"] + outcome["_stderr"] and token not in outcome["_stdout"]


def test_an_address_where_nothing_listens_fails_within_seconds():
    [port] = free_ports(1)
    outcome = run_driver(RAY_ADDRESS=f"127.0.0.1:{port}")
    assert outcome["error"] == "BackendUnavailableError" and outcome["field"] == "ray_address"
    assert f"127.0.0.1:{port}" in outcome["message"] and "ray start --head" in outcome["message"]
    assert outcome["seconds"] < 15


def test_an_address_that_is_not_a_ray_cluster_fails_within_seconds():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        outcome = run_driver(RAY_ADDRESS=f"127.0.0.1:{port}")
    finally:
        listener.close()
    assert outcome["error"] == "BackendUnavailableError" and f"127.0.0.1:{port}" in outcome["message"]
    assert "no Ray GCS answered" in outcome["message"] and outcome["seconds"] < 15


def test_a_malformed_address_names_the_field():
    outcome = run_driver(RAY_ADDRESS="head-node-without-port")
    assert outcome["error"] == "ConfigurationError" and outcome["field"] == "ray_address"
    assert "host:port" in outcome["message"]
