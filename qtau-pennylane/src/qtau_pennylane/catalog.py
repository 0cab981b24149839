"""Which PennyLane devices each `pennylane_*` executor offers, read from a pilot's `quantum` config.

Nothing here imports PennyLane: offering resources must stay cheap on the driver. Optional device
plugins are detected by their distribution or module spec, and a missing one is a clear
`ConfigurationError` naming the extra that installs it.

Config keys (all optional):
- `device`: one PennyLane device name of the executor (e.g. `qiskit.aer`); without it every
  usable device of the executor is offered.
- `noise`: `{"depolarizing_1q": p, "depolarizing_2q": p, "readout": p}` for `pennylane_default`:
  runs on `default.mixed` with those channels inserted (see `noise.py`).
- `backend`: the IBM fake backend of `qiskit.remote` (`fake_manila`, `FakeSherbrooke`...), or the
  Braket local simulator of `braket.local.qubit` (`braket_sv`, `braket_dm`).
- `braket_device_arn` (or `device_arn`, or env `BRAKET_DEVICE_ARN`): adds `braket.aws.qubit`.
- `num_qubits`: width of a `braket.aws.qubit` device whose ARN is not in the built-in table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from qtau.errors import ConfigurationError
from qtau.noise import parse_noise
from qtau.types import Resource
from qtau.validation import LOCAL_MAX_SHOTS

from qtau_pennylane.extras import gpu_visible, has_distribution, install_hint, require_extra
from qtau_pennylane.fakes import fake_width
from qtau_pennylane.forest import check_available
from qtau_pennylane.limits import with_limits

PROVIDER = "pennylane"
FORMATS = ("pennylane_qnode", "pennylane_tape")

#: Executor name -> devices it may run, in the order they are offered.
EXECUTORS: dict[str, tuple[str, ...]] = {
    "pennylane_default": ("default.qubit", "default.mixed"),
    "pennylane_lightning": ("lightning.gpu", "lightning.kokkos", "lightning.qubit"),
    "pennylane_qiskit": ("qiskit.aer", "qiskit.basicsim", "qiskit.remote"),
    "pennylane_braket": ("braket.local.qubit", "braket.aws.qubit"),
    "pennylane_forest": ("rigetti.qvm", "rigetti.wavefunction", "rigetti.numpy_wavefunction"),
}

DESCRIPTIONS = {
    "pennylane_default": "PennyLane default.qubit (default.mixed with noise)",
    "pennylane_lightning": "PennyLane lightning.qubit; lightning.gpu/kokkos where installed",
    "pennylane_qiskit": "PennyLane-Qiskit: qiskit.aer, qiskit.basicsim, qiskit.remote (IBM fakes)",
    "pennylane_braket": "PennyLane-Braket: braket.local.qubit, braket.aws.qubit by ARN",
    "pennylane_forest": "PennyLane-Rigetti: rigetti.qvm through a local qvm and quilc",
}

#: Widths that fit this class of machine (state vector 2^n * 16 bytes; density matrix 4^n).
WIDTH = {
    "default.qubit": 28, "default.mixed": 13, "lightning.qubit": 30, "lightning.gpu": 30,
    "lightning.kokkos": 30, "qiskit.aer": 30, "qiskit.basicsim": 20, "braket_sv": 26, "braket_dm": 13,
    "rigetti.qvm": 20, "rigetti.wavefunction": 20, "rigetti.numpy_wavefunction": 20,
}

#: Devices that can return exact (shot-free) expectation values and probabilities.
ANALYTIC = frozenset({
    "default.qubit", "default.mixed", "lightning.qubit", "lightning.gpu", "lightning.kokkos",
    "braket.local.qubit", "rigetti.wavefunction", "rigetti.numpy_wavefunction",
})

#: Gates PennyLane runs on every device (it decomposes the rest), in canonical spelling.
NATIVE_GATES = (
    "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "p", "rx", "ry", "rz", "u", "cx", "cy",
    "cz", "ch", "cp", "crx", "cry", "crz", "swap", "iswap", "ccx", "cswap", "rxx", "ryy", "rzz",
    "measure",
)

#: A backend call's fixed cost in units of one small task's run (QDREAMER's rho prior, the resource
#: metadata `call_overhead_tasks`), measured with Bell circuits through QTAU on a 2-core machine: a
#: call of k tasks took 0.96 + 0.37 k ms on lightning.qubit and 1.06 + 0.63 k ms on default.qubit.
#: A device builds its simulator and PennyLane its execution pipeline once per call, so a burst runs
#: several times faster per task than tasks alone; QDREAMER learns the rest from runs.
CALL_OVERHEAD_TASKS = {"lightning.qubit": 2.6, "default.qubit": 1.7}

#: Widths of well-known Braket ARNs (device name is the last ARN segment, lower case).
BRAKET_WIDTHS = {
    "sv1": 34, "dm1": 17, "tn1": 50, "aria-1": 25, "aria-2": 25, "forte-1": 36, "forte-enterprise-1": 36,
    "garnet": 20, "emerald": 54, "ankaa-3": 84, "ankaa-2": 84, "aquila": 256,
}


def _resource(device: str, executor: str, name: str | None = None, *, width: int | None = None,
              kind: str = "simulator", **meta: Any) -> Resource:
    meta.setdefault("device", device)
    meta.setdefault("analytic", device in ANALYTIC)
    meta.setdefault("gpu", False)
    # PennyLane work holds one process-wide lock (threads.py): chunks of a LOCAL batch would queue.
    meta.setdefault("serial_in_process", True)
    if kind == "simulator":
        meta.setdefault("max_shots", LOCAL_MAX_SHOTS)
        if device in CALL_OVERHEAD_TASKS:
            meta.setdefault("call_overhead_tasks", CALL_OVERHEAD_TASKS[device])
    return Resource(
        id=f"{PROVIDER}:{name or device}", provider=PROVIDER, executor=executor, kind=kind,
        num_qubits=width or WIDTH[device], native_gates=NATIVE_GATES, circuit_formats=FORMATS,
        supports_mid_circuit_measurement=device in ("default.qubit", "lightning.qubit"),
        metadata=meta,
    )


def _chosen(executor: str, config: Mapping[str, Any]) -> str | None:
    device = config.get("device")
    if device is None:
        return None
    if device not in EXECUTORS[executor]:
        owner = next((e for e, devs in EXECUTORS.items() if device in devs), None)
        hint = f"use executor {owner!r} for it" if owner else f"use one of {', '.join(EXECUTORS[executor])}"
        raise ConfigurationError(
            f"{executor} does not run the PennyLane device {device!r}", field="quantum.device",
            value=device, fix=hint,
        )
    return device


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource]:
    """Resources for a `pennylane_*` executor; raises ConfigurationError when it cannot be served."""
    device = _chosen(executor, config)
    noise = parse_noise(config.get("noise"))
    if noise and executor != "pennylane_default":
        raise ConfigurationError(
            f"quantum.noise is not supported by {executor}", field="quantum.noise", value=noise,
            fix="use executor 'pennylane_default' (default.mixed) for a noisy PennyLane simulation",
        )
    build = {
        "pennylane_default": _default, "pennylane_lightning": _lightning, "pennylane_qiskit": _qiskit,
        "pennylane_braket": _braket, "pennylane_forest": _forest,
    }[executor]
    return [with_limits(res, config) for res in build(executor, device, config, noise)]


def _default(executor, device, config, noise) -> list[Resource]:
    if noise and device == "default.qubit":
        raise ConfigurationError(
            "default.qubit cannot apply noise channels", field="quantum.device", value=device,
            fix="leave device out (or use 'default.mixed') when quantum.noise is set",
        )
    if noise or device == "default.mixed":
        return [_resource("default.mixed", executor, noise=noise)]
    return [_resource("default.qubit", executor)]


def _lightning(executor, device, config, noise) -> list[Resource]:
    found = []
    gpu = gpu_visible()
    if device in (None, "lightning.gpu"):
        if has_distribution("pennylane_lightning_gpu") and gpu:
            found.append(_resource("lightning.gpu", executor, gpu=True))
        elif device == "lightning.gpu":
            raise ConfigurationError(
                "lightning.gpu needs pennylane-lightning-gpu and a CUDA GPU" + ("" if gpu else " (none is visible)"),
                field="quantum.device", value=device,
                fix=f"{install_hint('lightning-gpu')} on a machine with an NVIDIA GPU, or use 'lightning.qubit'",
            )
    if device in (None, "lightning.kokkos"):
        if has_distribution("pennylane_lightning_kokkos"):
            found.append(_resource("lightning.kokkos", executor, gpu=gpu))
        elif device == "lightning.kokkos":
            raise ConfigurationError(
                "lightning.kokkos needs pennylane-lightning-kokkos", field="quantum.device", value=device,
                fix="pip install pennylane-lightning-kokkos, or use 'lightning.qubit'",
            )
    if device in (None, "lightning.qubit"):
        found.append(_resource("lightning.qubit", executor))
    return found


def fake_backend_name(name: str) -> str:
    """`fake_manila`, `manila`, `FakeManila` or `FakeManilaV2` -> `FakeManilaV2`."""
    text = str(name).strip()
    if text.lower().startswith("fake_"):
        text = text[5:]
    elif text.lower().startswith("fake"):
        text = text[4:]
    text = text[:-2] if text.endswith("V2") else text
    return "Fake" + "".join(part[:1].upper() + part[1:] for part in text.split("_")) + "V2"


def _qiskit(executor, device, config, noise) -> list[Resource]:
    require_extra("qiskit", device or "qiskit.aer")
    found = []
    if device in (None, "qiskit.aer"):
        found.append(_resource("qiskit.aer", executor))
    if device in (None, "qiskit.basicsim"):
        found.append(_resource("qiskit.basicsim", executor))
    if device == "qiskit.remote" or (device is None and config.get("backend")):
        backend = config.get("backend") or "fake_manila"
        cls = fake_backend_name(backend)
        found.append(_resource("qiskit.remote", executor, f"qiskit.remote:{cls}", width=fake_width(cls),
                               backend=cls))
    return found


def braket_arn(config: Mapping[str, Any]) -> str | None:
    arn = config.get("braket_device_arn") or config.get("device_arn") or os.environ.get("BRAKET_DEVICE_ARN")
    if arn is not None and (not isinstance(arn, str) or not arn.startswith("arn:aws:braket:")):
        raise ConfigurationError(
            "a Braket device ARN must start with 'arn:aws:braket:'", field="braket_device_arn", value=arn,
            fix="copy the ARN from the Braket console, e.g. arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        )
    return arn


def _braket(executor, device, config, noise) -> list[Resource]:
    require_extra("braket", device or "braket.local.qubit")
    found = []
    arn = braket_arn(config)
    if device in (None, "braket.local.qubit"):
        backend = config.get("backend") or "braket_sv"
        if backend not in ("braket_sv", "braket_dm"):
            raise ConfigurationError(
                f"unknown Braket local simulator {backend!r}", field="quantum.backend", value=backend,
                fix="use 'braket_sv' or 'braket_dm'",
            )
        name = "braket.local.qubit" if backend == "braket_sv" else f"braket.local.qubit:{backend}"
        found.append(_resource("braket.local.qubit", executor, name, width=WIDTH[backend], backend=backend))
    if device == "braket.aws.qubit" or (device is None and arn):
        if arn is None:
            raise ConfigurationError(
                "braket.aws.qubit needs a device ARN", field="braket_device_arn", value=None,
                fix="set braket_device_arn in the pilot description or BRAKET_DEVICE_ARN",
            )
        short = arn.rsplit("/", 1)[-1].lower()
        simulator = "quantum-simulator" in arn
        width = config.get("num_qubits") or BRAKET_WIDTHS.get(short, 32)
        found.append(_resource("braket.aws.qubit", executor, f"braket.aws.qubit:{arn}", width=int(width),
                               kind="simulator" if simulator else "qpu", arn=arn, analytic=False))
    return found


def _forest(executor, device, config, noise) -> list[Resource]:
    device = device or "rigetti.qvm"
    check_available(device, config)
    return [_resource(device, executor, analytic=device in ANALYTIC)]
