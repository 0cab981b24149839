"""An offline Amazon Braket for tests: real HTTP on 127.0.0.1, real simulation, real S3 objects.

    with BraketStub() as stub:
        config = {"executor": "braket_sv1", **stub.config()}   # endpoints, bucket, test credentials
        ...                                                    # or os.environ.update(stub.env())

The Braket API part speaks the REST calls the SDK makes (GetDevice, SearchDevices,
CreateQuantumTask, GetQuantumTask, CancelQuantumTask) on its own port; S3 is moto's server on a
second port. A created task really runs: its OpenQASM program goes through Braket's local
state-vector (or density-matrix, for DM1) simulator in a background thread, and the
GateModelTaskResult JSON is written to the S3 stub, where the SDK reads it as it would from AWS.

Requests must be signed with the stub's access key (`stub.access_key`); others get 403
UnrecognizedClientException, as AWS answers a wrong key. Faults for tests: `set_status(arn,
"OFFLINE")`, `set_windows(arn, [...])`, `set_queue(arn, normal, priority)`, `fail_next(reason)`,
`hold = True` (tasks wait QUEUED until cancelled or `release()`), and
`lose_create_responses(n, how)`: the next n CreateQuantumTask calls create their task and then
answer 500 InternalServiceException (`how="error"`) or close the connection unanswered
(`how="drop"`), so the client retries a create that in truth succeeded.

CreateQuantumTask honours `clientToken` as AWS does: a token the account used before answers
with the task it made (same ARN, no second task); the same token with a different request is
refused with 400 ValidationException (what AWS answers then is not documented; refusing is the
safe reading). `creates` counts every CreateQuantumTask call, answered or not, and
`tokens` maps each token to its task ARN. It also serves a tiny AWS Price
List offer file at `stub.price_list_url`. Needs moto[server] (`pip install qtau-braket[test]`).
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from qtau_braket.testing import devices

ACCOUNT = "123456789012"
ACCESS_KEY = "AKIAQTAUSTUBTESTKEY0"
SECRET_KEY = "qtau-stub-secret-key-not-a-real-one-000000"
BUCKET = "amazon-braket-qtau-stub"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}

#: Devices the stub knows: ARN -> (name, provider, type, capabilities, simulator backend).
DEFAULT_DEVICES: dict[str, tuple[str, str, str, dict, str]] = {
    "arn:aws:braket:::device/quantum-simulator/amazon/sv1": ("SV1", "Amazon Braket", "SIMULATOR", devices.simulator("SV1", 34), "braket_sv"),
    "arn:aws:braket:::device/quantum-simulator/amazon/dm1": ("dm1", "Amazon Braket", "SIMULATOR", devices.simulator("DM1", 17), "braket_dm"),
    "arn:aws:braket:::device/quantum-simulator/amazon/tn1": ("TN1", "Amazon Braket", "SIMULATOR", devices.simulator("TN1", 50), "braket_sv"),
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1": ("Forte 1", "IonQ", "QPU", devices.qpu("ionq", 36), "braket_sv"),
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q": ("Cepheus-1-108Q", "Rigetti", "QPU", devices.qpu("rigetti", 12), "braket_sv"),
    "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet": ("Garnet", "IQM", "QPU", devices.qpu("iqm", 20), "braket_sv"),
    "arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy": ("Lucy", "Oxford", "QPU", devices.qpu("oqc", 8), "braket_sv"),
}


@attrs.define
class Device:
    arn: str
    name: str
    provider: str
    type: str
    capabilities: dict
    backend: str
    status: str = "ONLINE"
    queue: tuple[int, int] = (0, 0)


@attrs.define
class Task:
    arn: str
    device_arn: str
    shots: int
    source: str
    inputs: dict
    bucket: str
    directory: str
    created_at: float
    status: str = "CREATED"
    failure: str | None = None
    ended_at: float | None = None
    client_token: str | None = None


class BraketStub:
    """A Braket API and an S3 server on 127.0.0.1 free ports; `stop()` (or `with`) shuts both."""

    def __init__(self, run_delay_s: float = 0.0) -> None:
        self.access_key = ACCESS_KEY
        self.secret_key = SECRET_KEY
        self.bucket = BUCKET
        self.run_delay_s = run_delay_s
        self.hold = False
        #: Answer CancelQuantumTask with a ValidationException (a provider refusing to cancel).
        self.refuse_cancel = False
        self.devices: dict[str, Device] = {}
        self.tasks: dict[str, Task] = {}
        self.calls: list[str] = []
        self.price_list: dict[str, Any] = _price_list()
        self._fail_next: list[str] = []
        self._lost_responses: list[str] = []
        self.tokens: dict[tuple[str, str], tuple[str, str]] = {}
        self.creates = 0
        self._lock = threading.RLock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._moto = None
        self._s3_client = None
        self._threads: list[threading.Thread] = []
        self.reset()

    def reset(self) -> None:
        """Every device ONLINE with an empty queue and its default windows; no pending faults."""
        self.release()
        with self._lock:
            self._fail_next.clear()
            self._lost_responses.clear()
            self.tokens.clear()
            self.refuse_cancel = False
            self.devices = {arn: Device(arn, name, provider, kind, copy.deepcopy(caps), backend)
                            for arn, (name, provider, kind, caps, backend) in DEFAULT_DEVICES.items()}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> BraketStub:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        self.s3_url = "http://{}:{}".format(*self._moto.get_host_and_port())
        self._s3_client = self._new_s3()
        self._s3_client.create_bucket(Bucket=self.bucket)
        stub = self

        class Handler(_Handler):
            owner = stub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.braket_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.price_list_url = f"{self.braket_url}/offers/v1.0/aws/AmazonBraket/current/index.json"
        thread = threading.Thread(target=self._server.serve_forever, name="braket-stub", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=10)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            self._s3_client = None

    def __enter__(self) -> BraketStub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def config(self) -> dict[str, Any]:
        """Pilot-description keys that point the plugin at this stub."""
        return {"braket_endpoint": self.braket_url, "s3_endpoint": self.s3_url, "s3_bucket": self.bucket,
                "aws_access_key_id": self.access_key, "aws_secret_access_key": self.secret_key,
                "poll_interval_s": 0.05}

    def env(self) -> dict[str, str]:
        """Environment that points any boto3/Braket SDK code in this process at the stub."""
        return {"BRAKET_ENDPOINT": self.braket_url, "AWS_ENDPOINT_URL_S3": self.s3_url,
                "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AMZN_BRAKET_TASK_RESULTS_S3_URI": f"s3://{self.bucket}/tasks", "AWS_EC2_METADATA_DISABLED": "true"}

    # -- faults --------------------------------------------------------------------------------

    def set_status(self, arn: str, status: str) -> None:
        self.devices[arn].status = status

    def set_windows(self, arn: str, windows: list[dict[str, str]]) -> None:
        self.devices[arn].capabilities["service"]["executionWindows"] = windows

    def set_queue(self, arn: str, normal: int, priority: int = 0) -> None:
        self.devices[arn].queue = (normal, priority)

    def fail_next(self, reason: str = "stub: the device reported a hardware fault") -> None:
        with self._lock:
            self._fail_next.append(reason)

    def lose_create_responses(self, count: int = 1, how: str = "error") -> None:
        """The next `count` creates make their task, then fail the response (`error`: 500
        InternalServiceException; `drop`: the connection closes with no answer)."""
        if how not in ("error", "drop"):
            raise ValueError(f"how must be 'error' or 'drop', not {how!r}")
        with self._lock:
            self._lost_responses.extend([how] * count)

    def tasks_with_token(self, token: str) -> list[Task]:
        """Every task created under `token` (AWS semantics: at most one)."""
        return [t for t in list(self.tasks.values()) if t.client_token == token]

    def forget(self, arn: str) -> None:
        """Drop a task, as if the provider lost it: GetQuantumTask answers 404 from now on."""
        with self._lock:
            self.tasks.pop(arn, None)
            self.tokens = {key: value for key, value in self.tokens.items() if value[0] != arn}

    def release(self) -> None:
        self.hold = False
        self._released.set()
        self._released.clear()

    # -- task execution ------------------------------------------------------------------------

    def _new_s3(self):
        """The stub's S3 client, made once in `start` (boto3 clients are thread-safe; building one
        per task cost ~0.1 s of CPU each and made the stub, not the client under test, the bottleneck)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.s3_url, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                            config=Config(max_pool_connections=64))

    def create_task(self, body: dict[str, Any], region: str) -> Task:
        """Create a task, or answer with the one this account's `clientToken` already made."""
        token = body.get("clientToken")
        request = json.dumps({k: v for k, v in body.items() if k != "clientToken"}, sort_keys=True)
        with self._lock:
            self.creates += 1
            earlier = self.tokens.get((region, token)) if token else None
            if earlier is not None:
                arn, earlier_request = earlier
                if earlier_request != request:
                    raise _ApiError(400, "ValidationException",
                                    f"clientToken {token} was already used for a different request")
                return self.tasks[arn]
            task = self._new_task(body, region)
            task.client_token = token
            if token:
                self.tokens[(region, token)] = (task.arn, request)
        return task

    def _new_task(self, body: dict[str, Any], region: str) -> Task:
        device = self.devices.get(body.get("deviceArn", ""))
        if device is None:
            raise _ApiError(404, "ResourceNotFoundException", f"Device {body.get('deviceArn')} not found")
        if device.status == "OFFLINE":
            raise _ApiError(424, "DeviceOfflineException", f"Device {device.arn} is offline")
        if device.status == "RETIRED":
            raise _ApiError(410, "DeviceRetiredException", f"Device {device.arn} is retired")
        action = json.loads(body["action"])
        if "source" not in action:
            raise _ApiError(400, "ValidationException", "only OpenQASM programs are supported by the stub")
        task_id = str(uuid.uuid4())
        task = Task(
            arn=f"arn:aws:braket:{region}:{ACCOUNT}:quantum-task/{task_id}", device_arn=device.arn,
            shots=int(body["shots"]), source=action["source"], inputs=action.get("inputs") or {},
            bucket=body["outputS3Bucket"], directory=f"{body['outputS3KeyPrefix']}/{task_id}", created_at=time.time(),
        )
        with self._lock:
            self.tasks[task.arn] = task
            failure = self._fail_next.pop(0) if self._fail_next else None
        thread = threading.Thread(target=self._run, args=(task, device, failure), name="braket-stub-task", daemon=True)
        self._threads.append(thread)
        thread.start()
        return task

    def _set(self, task: Task, status: str, failure: str | None = None) -> bool:
        with self._lock:
            if task.status in TERMINAL or task.status == "CANCELLING":
                return False
            task.status = status
            task.failure = failure
            if status in TERMINAL:
                task.ended_at = time.time()
            return True

    def _run(self, task: Task, device: Device, failure: str | None) -> None:
        self._set(task, "QUEUED")
        while self.hold and task.status == "QUEUED":
            self._released.wait(0.05)
        time.sleep(self.run_delay_s)
        if not self._set(task, "RUNNING"):
            return
        if failure:
            self._set(task, "FAILED", failure)
            return
        try:
            body = self._simulate(task, device)
            self._s3_client.put_object(Bucket=task.bucket, Key=f"{task.directory}/results.json", Body=body.encode())
        except Exception as err:
            self._set(task, "FAILED", f"{type(err).__name__}: {err}")
            return
        self._set(task, "COMPLETED")

    def _simulate(self, task: Task, device: Device) -> str:
        from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator
        from braket.ir.openqasm import Program

        from qtau_braket.local import _SIMULATION_LOCK

        simulator = DensityMatrixSimulator() if device.backend == "braket_dm" else StateVectorSimulator()
        with _SIMULATION_LOCK:
            result = simulator.run(Program(source=task.source, inputs=task.inputs), shots=task.shots)
        result.taskMetadata.id = task.arn
        result.taskMetadata.deviceId = device.arn
        return result.json()


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/")


class _Handler(BaseHTTPRequestHandler):
    owner: BraketStub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, error: str | None = None) -> None:
        body = json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _dispatch(self, method: str) -> None:
        stub = self.owner
        path = urlsplit(self.path).path
        try:
            if method == "GET" and path == urlsplit(stub.price_list_url).path:
                self._send(200, stub.price_list)
                return
            match = _CREDENTIAL.search(self.headers.get("Authorization", ""))
            body = self._body()
            if match is None or match[1] != stub.access_key:
                raise _ApiError(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
            region = match[2]
            stub.calls.append(f"{method} {path.split('/')[1]}")
            self._route(method, path, body, region)
        except _ApiError as err:
            self._send(err.status, {"message": err.message}, err.code)
        except Exception as err:  # a stub bug must read as a server fault, not hang the client
            self._send(500, {"message": f"{type(err).__name__}: {err}"}, "InternalServiceException")

    def _route(self, method: str, path: str, body: dict[str, Any], region: str) -> None:
        stub = self.owner
        parts = path.strip("/").split("/")
        if method == "GET" and parts[0] == "device" and len(parts) == 2:
            device = stub.devices.get(unquote(parts[1]))
            if device is None:
                raise _ApiError(404, "ResourceNotFoundException", f"Braket device {unquote(parts[1])} not found")
            self._send(200, _device(device, full=True))
        elif method == "POST" and parts == ["devices"]:
            wanted = {v for f in body.get("filters") or [] if f.get("name") == "deviceArn" for v in f.get("values", [])}
            found = [_device(d, full=False) for d in stub.devices.values() if not wanted or d.arn in wanted]
            self._send(200, {"devices": found})
        elif method == "POST" and parts == ["quantum-task"]:
            task = stub.create_task(body, region)
            with stub._lock:
                lost = stub._lost_responses.pop(0) if stub._lost_responses else None
            if lost == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if lost == "error":
                raise _ApiError(500, "InternalServiceException", "stub: the task was created but the answer was lost")
            self._send(201, {"quantumTaskArn": task.arn})
        elif parts[0] == "quantum-task" and len(parts) >= 2:
            task = stub.tasks.get(unquote(parts[1]))
            if task is None:
                raise _ApiError(404, "ResourceNotFoundException", f"quantum task {unquote(parts[1])} not found")
            if method == "PUT" and parts[2:] == ["cancel"]:
                if stub.refuse_cancel:
                    raise _ApiError(400, "ValidationException", f"quantum task {task.arn} cannot be cancelled now")
                with stub._lock:
                    if task.status not in TERMINAL:
                        task.status = "CANCELLING"
                        task.status, task.ended_at = "CANCELLED", time.time()
                self._send(200, {"quantumTaskArn": task.arn, "cancellationStatus": "CANCELLED" if task.status == "CANCELLED" else "CANCELLING"})
            elif method == "GET" and len(parts) == 2:
                self._send(200, _task(task, stub.devices[task.device_arn]))
            else:
                raise _ApiError(400, "ValidationException", f"unsupported {method} {path}")
        else:
            raise _ApiError(400, "ValidationException", f"the Braket stub does not serve {method} {path}")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")


def _device(device: Device, full: bool) -> dict[str, Any]:
    out = {"deviceArn": device.arn, "deviceName": device.name, "providerName": device.provider,
           "deviceType": device.type, "deviceStatus": device.status}
    if full:
        normal, priority = device.queue
        out["deviceCapabilities"] = devices.document(device.capabilities)
        out["deviceQueueInfo"] = [
            {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(normal), "queuePriority": "Normal"},
            {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(priority), "queuePriority": "Priority"},
            {"queue": "JOBS_QUEUE", "queueSize": "0"},
        ]
    return out


def _task(task: Task, device: Device) -> dict[str, Any]:
    out = {
        "quantumTaskArn": task.arn, "status": task.status, "deviceArn": task.device_arn,
        "deviceParameters": "{}", "shots": task.shots, "outputS3Bucket": task.bucket,
        "outputS3Directory": task.directory, "createdAt": task.created_at,
        "queueInfo": {"queue": "QUANTUM_TASKS_QUEUE", "position": "1" if task.status == "QUEUED" else "None",
                      "queuePriority": "Normal"},
    }
    if task.ended_at is not None:
        out["endedAt"] = task.ended_at
    if task.failure:
        out["failureReason"] = task.failure
    return out


def _price_list() -> dict[str, Any]:
    """A minimal AWS Price List offer file for Braket, in the bulk API's products/terms shape."""
    products = {
        "SKU1": {"sku": "SKU1", "productFamily": "Quantum Computing",
                 "attributes": {"servicecode": "AmazonBraket", "usagetype": "USE1-Forte-1-Shot", "deviceName": "Forte-1"}},
        "SKU2": {"sku": "SKU2", "productFamily": "Quantum Computing",
                 "attributes": {"servicecode": "AmazonBraket", "usagetype": "USE1-Forte-1-Task", "deviceName": "Forte-1"}},
    }

    def term(sku: str, unit: str, usd: str) -> dict[str, Any]:
        return {f"{sku}.TERM": {"priceDimensions": {f"{sku}.TERM.DIM": {"unit": unit, "pricePerUnit": {"USD": usd}}}}}

    return {"formatVersion": "v1.0", "offerCode": "AmazonBraket", "products": products,
            "terms": {"OnDemand": {"SKU1": term("SKU1", "Shots", "0.0700000000"),
                                   "SKU2": term("SKU2", "Tasks", "0.2900000000")}}}


def main(argv: list[str] | None = None) -> None:
    """`python -m qtau_braket.testing.stub_server [--delay S]`: the stub in a process of its own.

    Prints one JSON line, `{"config": stub.config(), "env": stub.env(), "bucket": ...}`, then serves
    until its standard input closes (the parent exiting closes it) or it is terminated. A benchmark
    runs the provider this way so the provider's own work (simulation, S3) does not share the
    client's interpreter, as a real provider never does. The credentials are the stub's fixed test
    keys, not secrets.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m qtau_braket.testing.stub_server", description=main.__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each task waits QUEUED before it runs")
    args = parser.parse_args(argv)
    if not args.delay >= 0:
        parser.error(f"--delay must be a number of seconds >= 0, not {args.delay}")
    with BraketStub(run_delay_s=args.delay) as stub:
        print(json.dumps({"config": stub.config(), "env": stub.env(), "bucket": stub.bucket}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
