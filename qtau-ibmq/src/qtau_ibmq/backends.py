"""Backend objects behind each executor name, and the Resources that describe them.

Fake backends come from qiskit-ibm-runtime's fake provider (one instance per process, so their
Targets and noise models are built once). Devices come from QiskitRuntimeService, every call
bounded by `connect.bounded`. `ibmq_qasm_simulator` is an AerSimulator in the runtime's local mode.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import threading
import warnings
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any

from qtau import resource_limits
from qtau.errors import ConfigurationError, UnknownExecutorError
from qtau.types import Resource

from qtau_ibmq import connect, names
from qtau_ibmq.credentials import Account, account_of
from qtau_ibmq.pricing import settings

PROVIDER = "ibmq"
FORMATS = ("qiskit",)
CONTROL_FLOW = frozenset({"if_else", "for_loop", "while_loop", "switch_case", "box"})
#: Width offered for the local qasm simulator (statevector memory on a typical worker).
QASM_SIMULATOR_QUBITS = 30
RETIRED = (
    "ibmq_qasm_simulator: IBM retired its cloud simulators in 2024; this executor runs the circuit "
    "locally on Aer through qiskit-ibm-runtime's local mode (no token, no queue, no cost)"
)

_fakes: dict[str, Any] = {}
_devices: dict[tuple[Account, str], Any] = {}
_lock = threading.Lock()
_warned = False


# -- fake backends ---------------------------------------------------------------------------------


def fake_names() -> list[str]:
    with _lock:
        if not _fakes:
            # Making a fake backend imports Aer (its default options ask whether Aer is there):
            # through qtau_qiskit.aer first, so Aer's OpenMP threads sleep between calls.
            import qtau_qiskit.aer  # noqa: F401
            from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fakes that warn about their own data on creation
                for backend in FakeProviderForBackendV2().backends():
                    _fakes[backend.name] = backend
        return sorted(_fakes)


def fake_backend(name: str, executor: str | None = None):
    """The process's instance of fake backend `name`; unknown names list close matches."""
    known = fake_names()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=4, cutoff=0.5)
        hint = f"did you mean {', '.join('ibmq_' + c for c in close)}? " if close else ""
        raise UnknownExecutorError(
            f"qiskit-ibm-runtime has no fake backend {name!r}", field="quantum.executor",
            value=executor or f"ibmq_{name}",
            fix=f"{hint}fake backends: {', '.join(known)}",
        )
    return _fakes[name]


@lru_cache(maxsize=1)
def _timings() -> dict[str, float]:
    text = importlib_resources.files("qtau_ibmq").joinpath("fake_timings.json").read_text()
    return json.loads(text)["seconds"]


def fake_seconds(name: str, num_qubits: int) -> float:
    """Expected local run time of one small task on a fake (measured table, else a width rule)."""
    return float(_timings().get(name, 0.1 + 0.03 * num_qubits))


def is_fake(backend: Any) -> bool:
    return any(cls.__name__ == "FakeBackendV2" for cls in type(backend).__mro__)


def snapshot(backend: Any) -> dict[str, str]:
    """The real device a fake mimics and the date of its calibration snapshot, from its data files."""
    out = {}
    for attr, key in (("conf_filename", "backend_name"), ("props_filename", "last_update_date")):
        filename = getattr(type(backend), attr, None)
        if not filename:
            continue
        try:
            with open(os.path.join(type(backend).dirname, filename)) as handle:
                value = json.load(handle).get(key)
        except (OSError, ValueError):
            continue
        if value:
            out[key] = str(value)
    return out


def mimics(backend: Any) -> str | None:
    name = snapshot(backend).get("backend_name")
    return None if not name or name.startswith("fake_") else name


def can_measure(backend: Any) -> bool:
    return "measure" in backend.target.operation_names


# -- resources -------------------------------------------------------------------------------------


def _rep_delay_s(backend: Any) -> float | None:
    """The backend's default repetition delay in seconds.

    qiskit-ibm-runtime's BackendConfiguration already converts the microseconds of IBM's JSON to
    seconds (`default_rep_delay * 1e-6` in its constructor): converting again gave 2.5e-10 s.
    """
    try:
        delay = backend.configuration().default_rep_delay
    except Exception:  # not every backend has a configuration (AerSimulator, some fakes)
        return None
    # BackendConfiguration already converts the microseconds of the backend's data to seconds.
    return float(delay) if delay else None


def gate_seconds(backend: Any) -> dict[str, float]:
    """Mean duration (s) of each timed operation in the backend's Target, plus the fallbacks a
    logical circuit is priced with: `1q` (the slowest native one-qubit pulse: a logical gate
    compiles to about one), `2q` (mean two-qubit gate) and `measure`."""
    target = backend.target
    out: dict[str, float] = {}
    one, two = [], []
    for name in target.operation_names:
        props = target[name] or {}
        durations = [p.duration for q, p in props.items() if p is not None and p.duration is not None and q is not None]
        if not durations:
            continue
        mean = sum(durations) / len(durations)
        out[name] = mean
        width = len(next(q for q in props if q is not None))
        if name not in ("measure", "reset", "delay") and mean > 0:  # rz is virtual: 0 s
            (one if width == 1 else two).append(mean)
    if one:
        out["1q"] = max(one)
    if two:
        out["2q"] = sum(two) / len(two)
    return out


def device_max_shots(backend: Any) -> int | None:
    """Most shots the device takes in one job (`configuration().max_shots`), or None unknown."""
    try:
        shots = backend.configuration().max_shots
    except Exception:  # not every backend has a configuration (AerSimulator, some fakes)
        return None
    return int(shots) if isinstance(shots, int) and shots > 0 else None


def _best_links(target: Any) -> dict[tuple[int, int], tuple[float, float | None]]:
    """(a, b) -> (error, duration in seconds or None) of the least-error two-qubit gate per coupled
    pair of `target` (a calibration of 1.0 or more, placeholder data, is left out)."""
    best: dict[tuple[int, int], tuple[float, float | None]] = {}
    for name in target.operation_names:
        try:
            props = target[name]
        except KeyError:
            continue
        for qargs, p in (props or {}).items():
            err = getattr(p, "error", None)
            if qargs is None or len(qargs) != 2 or err is None or not 0 <= err < 1:
                continue
            key = (min(qargs), max(qargs))
            if key not in best or err < best[key][0]:
                best[key] = (float(err), getattr(p, "duration", None))
    return best


def link_errors(target: Any) -> list[list[float]]:
    """[a, b, error] per coupled pair of `target`: its least two-qubit gate error there (a
    calibration of 1.0 or more, placeholder data, is left out)."""
    return [[a, b, err] for (a, b), (err, _) in sorted(_best_links(target).items())]


def _relaxation(tau: float, t1: float | None, t2: float | None) -> tuple[float, float]:
    """(amplitude-damping probability, average gate infidelity) of one qubit's thermal relaxation
    over `tau` seconds, from its T1 and T2 (seconds; (0, 0) when T1 is unknown)."""
    if not t1 or t1 <= 0 or tau <= 0:
        return 0.0, 0.0
    t2 = min(t2 if t2 and t2 > 0 else 2 * t1, 2 * t1)
    damp, dephase = math.exp(-tau / t1), math.exp(-tau / t2)
    return 1 - damp, (3 - damp - 2 * dephase) / 6


def link_relaxation(target: Any) -> list[list[float]]:
    """[a, b, damping, thermal] per coupled pair of `target`, over the duration of its least-error
    two-qubit gate: `damping`, the sum over the two qubits of the probability an excited qubit
    decays (1 - exp(-t / T1)); `thermal`, the gate's average infidelity from its qubits' T1 and T2
    alone (the part of its calibrated error that is relaxation, not depolarising noise). A
    Z-string expectation loses to amplitude damping about three times what the same average
    infidelity of depolarising noise costs it, and loses nothing to pure dephasing before
    measurement; zero-noise extrapolation removes relaxation less well, since folded gates act on
    states less excited than the circuit's own (`qtau.mitigation.choice`). Pairs without a
    duration or T1 are left out."""
    props_of = target.qubit_properties or []
    out = []
    for (a, b), (_, tau) in sorted(_best_links(target).items()):
        qubits = [props_of[q] if q < len(props_of) else None for q in (a, b)]
        if not tau or any(getattr(q, "t1", None) is None for q in qubits):
            continue
        (da, ea), (db, eb) = (_relaxation(tau, q.t1, getattr(q, "t2", None)) for q in qubits)
        process = (1 - 1.5 * ea) * (1 - 1.5 * eb)  # process fidelities of the two qubits multiply
        out.append([a, b, da + db, 0.8 * (1 - process)])  # average infidelity of a 2-qubit channel
    return out


def resource_for(backend: Any, executor: str, account: Account | None,
                 config: Mapping[str, Any] | None = None) -> Resource:
    """A Resource from a backend's Target: native gates, coupling map, width, kind, and limits: a
    device's own `max_shots`; a fake runs on Aer here (at least a statevector of the circuit's
    width: Aer drops the idle qubits of the device's layout)."""
    target = backend.target
    ops = set(target.operation_names)
    coupling = target.build_coupling_map()
    fake = is_fake(backend)
    meta: dict[str, Any] = {"backend": backend.name, "source": "fake" if fake else "runtime"}
    rep = _rep_delay_s(backend)
    if rep:
        meta["rep_delay_s"] = rep
    meta["gate_seconds"] = gate_seconds(backend)
    # What the transpiler will do to a circuit, and the links it may place it on (QDREAMER's
    # mitigation pairs: `qtau.mitigation.as_run`, `qtau.mitigation.routing.placed_two_qubit_error`).
    meta["optimization_level"] = (config or {}).get("optimization_level", 1)
    meta["two_qubit_errors"] = link_errors(target)
    meta["two_qubit_relaxation"] = link_relaxation(target)
    if fake:
        meta["mimics"] = mimics(backend)
        meta["calibrated"] = snapshot(backend).get("last_update_date")
        meta["seconds_per_task"] = fake_seconds(backend.name, backend.num_qubits)
        meta["seconds_per_shot"] = 2e-5
        meta.update(resource_limits.local_limits(config or {}, resource_limits.STATEVECTOR))
        meta["device_max_shots"] = device_max_shots(backend)
    else:
        meta["channel"] = account.channel if account else None
        prices = settings({})
        meta["seconds_per_task"] = prices["task_overhead_s"]
        meta["seconds_per_shot"] = rep or prices["shot_s"]
        meta.update(resource_limits.remote_limits(device_max_shots(backend)))
    return Resource(
        id=f"{PROVIDER}:{backend.name}",
        provider=PROVIDER,
        executor=executor,
        kind="simulator" if fake else "qpu",
        num_qubits=int(backend.num_qubits),
        native_gates=sorted(ops - CONTROL_FLOW),
        circuit_formats=FORMATS,
        transpiles=True,
        coupling_map=None if coupling is None else sorted(tuple(e) for e in coupling.get_edges()),
        supports_mid_circuit_measurement=bool(ops & CONTROL_FLOW) or fake,
        metadata=meta,
        remote=not fake and not (account is not None and account.channel == "local"),
    )


def qasm_simulator_resource(executor: str, config: Mapping[str, Any] | None = None) -> Resource:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(RETIRED, UserWarning, stacklevel=3)
    return Resource(
        id=f"{PROVIDER}:qasm_simulator", provider=PROVIDER, executor=executor, kind="simulator",
        num_qubits=QASM_SIMULATOR_QUBITS, circuit_formats=FORMATS, transpiles=True,
        supports_mid_circuit_measurement=True,
        metadata={"backend": "aer_simulator", "source": "aer", "note": RETIRED,
                  **resource_limits.local_limits(config or {}, resource_limits.STATEVECTOR)},
    )


def _account_backends(account: Account) -> list[Any]:
    svc = connect.service(account)
    return list(connect.bounded(lambda: svc.backends(), account, "listing backends"))


def _pick(target: names.Target, backends: list[Any], account: Account) -> Any:
    by_name = {b.name: b for b in backends}
    for candidate in target.candidates(local=account.local):
        if candidate in by_name:
            return by_name[candidate]
    close = difflib.get_close_matches(target.name, list(by_name), n=4, cutoff=0.4)
    if not close and not target.name.startswith("ibm_"):
        close = difflib.get_close_matches(f"ibm_{target.name}", list(by_name), n=4, cutoff=0.4)
    hint = f"did you mean {', '.join('ibmq_' + c for c in close)}? " if close else ""
    raise UnknownExecutorError(
        f"the IBM account ({account.channel}) has no backend {target.name!r}", field="quantum.executor",
        value=target.executor,
        fix=f"{hint}backends of this account: {', '.join(sorted(by_name)) or 'none'}; "
        "ibmq_least_busy offers all of them",
    )


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource]:
    target = names.parse(executor)
    settings(config)  # a bad pricing override fails at create_pilot, not at the first ranking
    if target.kind == names.QASM_SIMULATOR:
        return [qasm_simulator_resource(executor, config)]
    if target.kind == names.FAKE:
        backend = fake_backend(target.name, executor)
        if not can_measure(backend):
            raise ConfigurationError(
                f"{target.name}'s calibration snapshot has no measurement, so it cannot return counts",
                field="quantum.executor", value=executor,
                fix="pick a fake backend with readout data, e.g. ibmq_fake_manila or ibmq_fake_brisbane",
            )
        return [resource_for(backend, executor, None, config)]
    account = account_of(config)
    backends = _account_backends(account)
    if target.kind == names.LEAST_BUSY:
        usable = [b for b in backends if b.num_qubits > 1 and can_measure(b)]
        return [resource_for(b, executor, account) for b in sorted(usable, key=lambda b: b.name)]
    return [resource_for(_pick(target, backends, account), executor, account)]


def backend_for(resource: Resource, config: Mapping[str, Any]) -> Any:
    """The backend object a worker runs `resource` on (created once per process)."""
    source = resource.metadata.get("source")
    name = resource.metadata.get("backend")
    if source == "aer":
        from qtau_qiskit.aer import AerSimulator

        return AerSimulator()
    if source == "fake":
        return fake_backend(name)
    account = account_of(config)
    key = (account, name)
    with _lock:
        found = _devices.get(key)
    if found is None:
        svc = connect.service(account)
        found = connect.bounded(lambda: svc.backend(name), account, f"opening backend {name}")
        with _lock:
            found = _devices.setdefault(key, found)
    return found
