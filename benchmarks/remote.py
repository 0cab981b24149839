"""Remote jobs: QTAU's tracker against a provider queue, and against the Braket SDK's own batch call.

    python benchmarks/remote.py [--delay 2.0] [--counts 32 1000] [--engines local ray]

The provider is `qtau_braket.testing.stub_server` on 127.0.0.1 (the Braket REST API and moto's S3,
each task really simulated), holding every task `--delay` seconds before it runs: a short stand-in
for a QPU queue. It runs in a process of its own (as a real provider never shares the client's
interpreter); `--stub-in-process` runs it inside the benchmark's process instead, where its
simulations and S3 writes compete with the client for the GIL. Tasks are submitted one by one
(`submit_quantum_task` in a loop) to `braket_sv1`.

Printed per engine and task count: seconds to every result, the ideal (one delay plus the time the
submissions themselves took) and the ratio. The floor for 1000 tasks is the SDK's own
`AwsDevice.run_batch` against the same stub in the same run (creates in parallel, then waits);
QTAU's goal is within 1.5x of it. Before the tracker, each waiting task held a worker: 32 tasks
took 34.9 s on RAY with 2 CPUs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from unittest import mock

os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="qtau-bench-ray-"))
os.environ.pop("RAY_ADDRESS", None)

SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"


class StubProcess:
    """The Braket stub in a child process (`python -m qtau_braket.testing.stub_server`), stopped by
    closing its stdin and, failing that, by its own pid (the only process this benchmark starts)."""

    def __init__(self, delay: float) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "qtau_braket.testing.stub_server", "--delay", str(delay)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise SystemExit("the Braket stub process did not start (is moto[server] installed? pip install qtau-braket[test])")
        info = json.loads(line)
        self._config, self._env, self.bucket = info["config"], info["env"], info["bucket"]

    def config(self) -> dict:
        return dict(self._config)

    def env(self) -> dict:
        return dict(self._env)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=15)


@contextlib.contextmanager
def provider(delay: float, in_process: bool):
    if in_process:
        from qtau_braket.testing.stub_server import BraketStub

        with BraketStub(run_delay_s=delay) as stub:
            yield stub
        return
    stub = StubProcess(delay)
    try:
        yield stub
    finally:
        stub.stop()


def bell():
    from braket.circuits import Circuit

    return Circuit().h(0).cnot(0, 1)


def qtau_run(stub, engine: str, n: int) -> tuple[float, float]:
    """(seconds to every result, seconds the submissions took)."""
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    host = PluginHost(strict=True)
    host.register_module("braket", "qtau_braket.plugin")
    pcs = PilotComputeService(execution_engine=engine, plugins=host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **stub.config()})
        circuit = bell()
        # Warm: the tracker (a Ray actor on RAY) and the device session exist before timing.
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=10)), timeout=120)
        start = time.perf_counter()
        refs = [pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=10)) for _ in range(n)]
        submitted = time.perf_counter() - start
        results = pcs.get_results(refs, timeout=1800)
        total = time.perf_counter() - start
        assert all(set(r.counts) <= {"00", "11"} for r in results)
        return total, submitted
    finally:
        pcs.close()


def sdk_run_batch(stub, n: int) -> float:
    """The Braket SDK's own floor: AwsDevice.run_batch of the same circuits on the same stub."""
    from braket.aws import AwsDevice, AwsSession
    from qtau_braket.session import aws_session
    from qtau_braket.settings import settings_for

    # run_batch copies the session per connection pool, and a copy drops a custom endpoint unless
    # BRAKET_ENDPOINT / AWS_ENDPOINT_URL_S3 name it: without these the SDK would try the real AWS.
    # (patch.dict restores the environment as it was afterwards.)
    with mock.patch.dict(os.environ, stub.env()):
        session: AwsSession = aws_session(settings_for(stub.config(), "us-east-1"))
        device = AwsDevice(SV1, aws_session=session)
        start = time.perf_counter()
        batch = device.run_batch([bell()] * n, s3_destination_folder=(stub.bucket, "bench"), shots=10,
                                 max_parallel=n, max_connections=64, poll_interval_seconds=0.05)
        results = batch.results()
        assert len(results) == n
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=2.0, help="seconds each task waits at the provider")
    parser.add_argument("--counts", type=int, nargs="+", default=[32, 1000])
    parser.add_argument("--engines", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--stub-in-process", action="store_true",
                        help="run the stub inside this process (it then competes with QTAU for the GIL)")
    args = parser.parse_args()
    if args.delay < 0 or any(n < 1 for n in args.counts):
        parser.error("--delay must be >= 0 and every --counts value >= 1")

    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with provider(args.delay, args.stub_in_process) as stub:
        where = "in this process" if args.stub_in_process else "in its own process"
        print(f"provider: Braket stub on 127.0.0.1 ({where}), {args.delay:g} s queue per task; braket_sv1; one by one", flush=True)
        print(f"{'engine':<8}{'tasks':>7}{'seconds':>10}{'ideal':>9}{'ratio':>8}  {'vs SDK run_batch':>18}", flush=True)
        floors: dict[int, float] = {}
        for n in args.counts:
            if n >= 100:
                floors[n] = sdk_run_batch(stub, n)
                print(f"{'SDK':<8}{n:>7}{floors[n]:>10.2f}{'':>9}{'':>8}  {'(AwsDevice.run_batch)':>18}", flush=True)
        for engine in args.engines:
            for n in args.counts:
                total, submitted = qtau_run(stub, engine, n)
                ideal = args.delay + submitted
                vs = f"{total / floors[n]:.2f}x" if n in floors else "-"
                print(f"{engine:<8}{n:>7}{total:>10.2f}{ideal:>9.2f}{total / ideal:>7.2f}x  {vs:>18}", flush=True)


if __name__ == "__main__":
    main()
