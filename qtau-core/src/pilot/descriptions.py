"""Pilot-Quantum pilot descriptions as QTAU pilot descriptions.

One Pilot-Quantum pilot may stand for several QTAU pilots ("members"): a backend list, a device
list, `custom_backends` and `additional_executors` each add members. Every key is either
converted or refused with a fix; none is accepted and dropped.

- `qiskit_local` / `qiskit`: `backend` (a name or a list): `qasm_simulator`/`aer_simulator` ->
  Aer, `statevector_simulator` -> Aer with method statevector, `basicaer`/`basic_simulator` ->
  BasicSimulator. `custom_backends` -> one Aer member per entry, its `error_rate` and
  `noise_level` made into a depolarising and readout noise model, so QDREAMER sees the fidelity.
- `pennylane`: `device` or `devices` -> the `pennylane_*` executor of each device.
- `braket`: `device_arn` -> `braket_device_arn`; without one, the local Braket simulator.
- `ibmq`: with a token (`ibmqx_token` or `IBMQX_TOKEN`), `backend` names -> `ibmq_<name>`, none ->
  `ibmq_least_busy`; without one, `backend` names -> their offline fakes, none -> every offline
  fake backend that can return counts (Pilot-Quantum's fallback). `qasm_simulator` -> QTAU's
  `ibmq_qasm_simulator` (local Aer: IBM retired the cloud simulator).
- An executor no installed plugin knows: Pilot-Quantum fell back to the IBM fake backends, and so
  does this layer, with a warning (QTAU itself refuses it); a name close to a known one is a
  misspelling and is refused with "did you mean".
- `resource` (`ssh://localhost`, `fork://localhost`), `type`, `number_of_nodes`, `cores_per_node`:
  tasks run on the service's engine; a remote SSH or SLURM resource is refused with a fix.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Mapping
from typing import Any

import attrs
from qtau.errors import ConfigurationError

from pilot.compat_warnings import PilotQuantumCompatWarning

QISKIT_BACKENDS: dict[str, dict[str, str]] = {
    "qasm_simulator": {"backend": "aer_simulator"},
    "aer_simulator": {"backend": "aer_simulator"},
    "qiskit_aer_simulator": {"backend": "aer_simulator"},
    "aer": {"backend": "aer_simulator"},
    "statevector_simulator": {"backend": "aer_simulator", "method": "statevector"},
    "density_matrix_simulator": {"backend": "aer_simulator", "method": "density_matrix"},
    "basicaer": {"backend": "basic_simulator"},
    "basic_simulator": {"backend": "basic_simulator"},
    "basicaer_simulator": {"backend": "basic_simulator"},
    "qiskit_basicaer_simulator": {"backend": "basic_simulator"},
}
PENNYLANE_EXECUTORS = {"default.": "pennylane_default", "lightning.": "pennylane_lightning",
                       "qiskit.": "pennylane_qiskit", "braket.": "pennylane_braket", "rigetti.": "pennylane_forest"}
#: Keys of a Pilot-Quantum `quantum` section this layer converts (QTAU checks the rest).
CONVERTED = ("executor", "backend", "devices", "device", "custom_backends", "wires", "shots")
#: Executor names Pilot-Quantum users write (QTAU's plugins add theirs).
SEED_EXECUTORS = ("qiskit_local", "qiskit", "pennylane", "ibmq", "braket", "pennylane_default", "pennylane_lightning",
                  "pennylane_qiskit", "pennylane_braket", "braket_local", "ibmq_qasm_simulator")
LOCAL_RESOURCES = ("ssh://localhost", "fork://localhost", "local://localhost", "localhost")


@attrs.frozen
class Member:
    """One QTAU pilot description of a Pilot-Quantum pilot, and what Pilot-Quantum called it."""

    description: dict[str, Any]
    #: Pilot-Quantum's numbers for a custom backend (name, error_rate, noise_level, qubit_count).
    custom: dict[str, Any] | None = None


def is_quantum(desc: Mapping[str, Any]) -> bool:
    return desc.get("resource_type") == "quantum" or "quantum" in desc


def check_resource(desc: Mapping[str, Any]) -> None:
    """Tasks run on the service's engine: only a local `resource` URL describes that."""
    url = desc.get("resource")
    if url is None or str(url).rstrip("/") in LOCAL_RESOURCES:
        return
    raise ConfigurationError(
        f"QTAU does not start pilots over SSH or SLURM ({url!r})", field="resource", value=url,
        fix="start Ray there yourself (`ray start --head`) and pass ray_address='<host>:6379' in the "
            "description or RAY_ADDRESS, or leave resource out to run on this machine",
    )


def _token(quantum: Mapping[str, Any], desc: Mapping[str, Any]) -> Any:
    return quantum.get("ibmqx_token") or desc.get("ibmqx_token") or os.environ.get("IBMQX_TOKEN")


def _names(value: Any, field: str) -> list[str]:
    names = [value] if isinstance(value, str) else list(value or [])
    if not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"{field} must be a name or a list of names", field=field, value=value,
                                 fix=f"e.g. {field}=['qasm_simulator']")
    return names


def _qiskit(quantum: dict[str, Any]) -> list[Member]:
    if "backend_name" in quantum:  # the refactoring notes' spelling of `backend`
        quantum = {**{k: v for k, v in quantum.items() if k != "backend_name"}, "backend": quantum["backend_name"]}
    options = dict(quantum.get("backend_options") or {})
    options.pop("shots", None)  # Aer's own default; QTAU tasks carry shots
    if str(options.get("device", "CPU")).upper() == "CPU":
        options.pop("device", None)
    base = {k: v for k, v in quantum.items() if k not in CONVERTED and k != "backend_options"}
    if options:
        base["backend_options"] = options
    custom = quantum.get("custom_backends")
    if custom is not None:
        if not isinstance(custom, Mapping) or not custom:
            raise ConfigurationError("custom_backends maps backend names to their numbers", field="quantum.custom_backends",
                                     value=custom, fix="e.g. {'sim_hi': {'error_rate': 0.001, 'noise_level': 0.001, 'qubit_count': 32}}")
        out = []
        for name, numbers in custom.items():
            err, readout = float(numbers.get("error_rate", 0.0)), float(numbers.get("noise_level", 0.0))
            noise = {"depolarizing_1q": err / 10, "depolarizing_2q": err, "readout": readout}
            out.append(Member({**base, "executor": "qiskit_local", "backend": "aer_simulator", "noise": noise},
                              {"name": name, "error_rate": err, "noise_level": readout,
                               "qubit_count": numbers.get("qubit_count")}))
        return out
    backends = _names(quantum.get("backend"), "quantum.backend")
    if not backends:
        return [Member({**base, "executor": "qiskit_local"})]
    out = []
    for name in backends:
        settings = QISKIT_BACKENDS.get(name.lower())
        if settings is None:
            raise ConfigurationError(
                f"unknown qiskit_local backend {name!r}", field="quantum.backend", value=name,
                fix=f"use one of {', '.join(QISKIT_BACKENDS)}",
            )
        out.append(Member({**base, "executor": "qiskit_local", **settings}))
    return out


def _pennylane(quantum: dict[str, Any]) -> list[Member]:
    devices = _names(quantum.get("devices") or quantum.get("device") or "default.qubit", "quantum.devices")
    base = {k: v for k, v in quantum.items() if k not in CONVERTED}
    out = []
    for device in devices:
        executor = next((ex for prefix, ex in PENNYLANE_EXECUTORS.items() if device.startswith(prefix)), None)
        if executor is None:
            raise ConfigurationError(
                f"no QTAU executor runs the PennyLane device {device!r}", field="quantum.devices", value=device,
                fix="use default.qubit, lightning.qubit, qiskit.aer, braket.local.qubit or rigetti.qvm",
            )
        out.append(Member({**base, "executor": executor, "device": device}))
    return out


def _fake_names() -> list[str]:
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    return [b.name for b in FakeProviderForBackendV2().backends()]


def _ibmq(quantum: dict[str, Any], desc: Mapping[str, Any]) -> list[Member]:
    service = quantum.get("service", "runtime")
    if service != "runtime":
        raise ConfigurationError(f"IBM service {service!r} is not offered", field="quantum.service", value=service,
                                 fix="leave service out: QTAU uses IBM Quantum Runtime")
    base = {k: v for k, v in quantum.items() if k not in CONVERTED and k != "service"}
    backends = _names(quantum.get("backend"), "quantum.backend")
    simulators = [n for n in backends if n.removeprefix("ibmq_") == "qasm_simulator"]
    if simulators:  # IBM retired it; QTAU's ibmq_qasm_simulator runs it locally on Aer
        rest = [n for n in backends if n not in simulators]
        out = [Member({**base, "executor": "ibmq_qasm_simulator"})]
        return out + (_ibmq({**quantum, "backend": rest}, desc) if rest else [])
    if _token(quantum, desc):
        names = [n if n.startswith("ibmq_") else f"ibmq_{n}" for n in backends] or ["ibmq_least_busy"]
        return [Member({**base, "executor": n}) for n in names]
    if not backends:
        return [Member({**base, "executor": f"ibmq_{n}"}, {"optional": True}) for n in _fake_names()]
    out = []
    for name in backends:
        bare = name.removeprefix("ibmq_").removeprefix("fake_").removeprefix("ibm_")
        out.append(Member({**base, "executor": f"ibmq_fake_{bare}"}))
    return out


def members(desc: Mapping[str, Any], known: Any, names: Any = None) -> list[Member]:
    """QTAU descriptions for a Pilot-Quantum quantum pilot. `known(executor)` says whether an
    installed plugin serves the executor name; `names` are the installed executors' names."""
    check_resource(desc)
    top = {k: v for k, v in desc.items() if k not in ("quantum", "additional_executors", "name")}
    sections = [dict(desc.get("quantum") or {})]
    extra = desc.get("additional_executors") or {}
    if not isinstance(extra, Mapping):
        raise ConfigurationError("additional_executors maps executor names to their configs",
                                 field="additional_executors", value=extra,
                                 fix="e.g. {'pennylane': {'device': 'default.qubit'}}")
    sections += [{**dict(cfg or {}), "executor": name} for name, cfg in extra.items()]
    out: list[Member] = []
    for quantum in sections:
        for member in _section(quantum, desc, known, names):
            out.append(Member({**top, "quantum": member.description}, member.custom))
    return out


def _section(quantum: dict[str, Any], desc: Mapping[str, Any], known: Any, names: Any = None) -> list[Member]:
    executor = quantum.get("executor") or "qiskit_local"
    if executor in ("qiskit_local", "qiskit"):
        return _qiskit(quantum)
    if executor == "pennylane":
        return _pennylane(quantum)
    if executor == "ibmq":
        return _ibmq(quantum, desc)
    if executor == "braket":
        arn = quantum.get("device_arn") or quantum.get("braket_device_arn") or os.environ.get("BRAKET_DEVICE_ARN")
        rest = {k: v for k, v in quantum.items() if k not in ("executor", "device_arn", "shots")}
        return [Member({**rest, "executor": "braket_device_arn", "braket_device_arn": arn} if arn
                       else {**rest, "executor": "braket_local"})]
    if isinstance(executor, str) and known(executor):
        kept = {k: v for k, v in quantum.items() if k not in ("wires", "shots")}
        if executor.startswith("pennylane_") and "." in str(kept.get("backend", "")) and "device" not in kept:
            kept["device"] = kept.pop("backend")  # the older `pennylane_default` + `backend: default.qubit`
        return [Member(kept)]
    close = difflib.get_close_matches(str(executor), [*SEED_EXECUTORS, *(names or ())], n=1, cutoff=0.8)
    if close:
        # A misspelt executor is a mistake, not Pilot-Quantum's fallback case.
        raise ConfigurationError(f"unknown executor {executor!r}", field="quantum.executor", value=executor,
                                 fix=f"did you mean {close[0]!r}?")
    warnings.warn(
        f"no installed QTAU plugin runs the executor {executor!r}. Pilot-Quantum fell back to the IBM "
        "fake backends, and so does this pilot; QTAU itself refuses an unknown executor. Name an "
        "executor (`qtau doctor` lists them) to silence this.", PilotQuantumCompatWarning, stacklevel=4)
    return _ibmq({k: v for k, v in quantum.items() if k != "executor"}, {})
