"""IBM fake backends for `qiskit.remote`: building them, their width, and their noise summary.

The fake backends carry calibration snapshots of real IBM devices, so they give QDREAMER a real
noise profile. Each is built once per process (construction reads a JSON snapshot).
"""

from __future__ import annotations

import functools
import statistics

from qtau.errors import ConfigurationError
from qtau.gates import normalize_gate
from qtau.types import NoiseProfile

from qtau_pennylane.extras import install_hint


@functools.lru_cache(maxsize=16)
def fake_backend(cls_name: str):
    try:
        from qiskit_ibm_runtime import fake_provider
    except ImportError as err:
        raise ConfigurationError(
            "qiskit.remote with IBM fake backends needs qiskit-ibm-runtime", field="quantum.backend",
            value=cls_name, fix=install_hint("qiskit"),
        ) from err
    cls = getattr(fake_provider, cls_name, None)
    if cls is None:
        known = sorted(n for n in dir(fake_provider) if n.startswith("Fake") and n.endswith("V2"))
        raise ConfigurationError(
            f"unknown IBM fake backend {cls_name!r}", field="quantum.backend", value=cls_name,
            fix=f"use one of {', '.join(known[:12])}, ... (e.g. 'fake_manila')",
        )
    return cls()


def fake_width(cls_name: str) -> int:
    return int(fake_backend(cls_name).num_qubits)


def _median(values: list[float]) -> float:
    # Snapshots hold sentinel 1.0 errors for broken couplers: left out so one bad edge does not
    # make the whole device look useless.
    kept = [v for v in values if 0.0 <= v < 1.0]
    return float(statistics.median(kept)) if kept else 0.0


@functools.lru_cache(maxsize=16)
def fake_noise(cls_name: str, resource_id: str) -> NoiseProfile:
    """Median gate, readout errors and T1/T2 of the fake backend's calibration snapshot."""
    target = fake_backend(cls_name).target
    one, two, gates, flags = [], [], {}, []
    readout: list[float] = []
    for name in target.operation_names:
        props = target[name] or {}
        errors = [p.error for p in props.values() if p is not None and p.error is not None]
        if not errors:
            continue
        if name == "measure":
            readout = errors
            continue
        if any(e >= 1.0 for e in errors):
            flags.append(f"{name}: {sum(e >= 1.0 for e in errors)} error(s) of 1.0 left out")
        arity = max((len(q) for q in props if q is not None), default=1)
        (two if arity >= 2 else one).extend(errors)
        gates[normalize_gate(name)] = _median(errors)
    t1 = [p.t1 * 1e6 for p in target.qubit_properties or () if p is not None and p.t1]
    t2 = [p.t2 * 1e6 for p in target.qubit_properties or () if p is not None and p.t2]
    return NoiseProfile(
        resource_id=resource_id, one_qubit_error=_median(one), two_qubit_error=_median(two),
        readout_error=_median(readout), t1_us=statistics.median(t1) if t1 else None,
        t2_us=statistics.median(t2) if t2 else None, gate_errors=gates, flags=tuple(flags),
        source=f"qiskit-ibm-runtime {cls_name} calibration snapshot",
    )
