"""IBM devices as resources without an IBM Quantum account: what `qtau quote` prices offline.

Built from what ships with the packages: the calibration snapshots of qiskit-ibm-runtime's fake
backends (width, native gates, coupling map, gate durations and repetition delay of the device
each one mimics) and this package's `pricing.json`. `ibmq_<device>` is the device whose snapshot
has that name; `ibmq_least_busy` is every device of the fake provider's newest refresh (snapshots
within REFRESH_WINDOW_DAYS of the newest one: devices retired before then are left out). Status,
queue and noise are not asked (without an account there is no live data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
from qtau.backend import OFFLINE
from qtau.resource_limits import LOCAL_LIMIT_KEYS, remote_limits
from qtau.types import Resource

from qtau_ibmq import names
from qtau_ibmq.pricing import price_table, settings

#: Snapshots this close to the newest one count as the same refresh of the fake provider.
REFRESH_WINDOW_DAYS = 90


def _calibrated(backend: Any) -> datetime | None:
    from qtau_ibmq.backends import snapshot

    text = snapshot(backend).get("last_update_date")
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _devices(wanted: Callable[[str], bool] = lambda device: True) -> list[tuple[str, Any, datetime | None]]:
    """(device name, fake backend, snapshot date) of every fake that mimics a `wanted` `ibm_*` device.

    The name comes from the snapshot's small configuration file; the width and gates only from the
    backend's target, which parses the calibration data (about 0.2 s a fake), so a quote for one
    device builds the target of its own fake only."""
    from qtau_ibmq.backends import can_measure, fake_backend, fake_names, mimics

    found = []
    for name in fake_names():
        backend = fake_backend(name)
        device = mimics(backend)
        if (device and device.startswith("ibm_") and wanted(device) and backend.num_qubits > 1
                and can_measure(backend)):
            found.append((device, backend, _calibrated(backend)))
    return found


def as_device(device: str, backend: Any, executor: str) -> Resource:
    """The resource the device `device` would be, from its fake's snapshot, priced as the device."""
    from qtau_ibmq.backends import resource_for

    fake = resource_for(backend, executor, None)
    prices = settings({})
    table = price_table()
    # The device's limits, not the local simulator's: its own max_shots, memory on IBM's side.
    local = ("mimics", "seconds_per_task", "seconds_per_shot", "device_max_shots", *LOCAL_LIMIT_KEYS)
    meta = {k: v for k, v in fake.metadata.items() if k not in local}
    meta.update(remote_limits(fake.metadata.get("device_max_shots")))
    meta.update({
        "backend": device, "source": "snapshot", "seconds_per_task": prices["task_overhead_s"],
        "seconds_per_shot": meta.get("rep_delay_s") or prices["shot_s"],
        OFFLINE: f"{device} from {backend.name}'s calibration snapshot ({meta.get('calibrated') or 'undated'}), "
                 f"priced from {table['name']} (as of {table['as_of']}); status, queue and noise not known "
                 "without IBM Quantum credentials",
    })
    return attrs.evolve(fake, id=f"ibmq:{device}", kind="qpu", remote=True, metadata=meta)


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource] | None:
    """What `executor` would offer, from the snapshots; None for fakes and the simulator (they
    need no account) and for a device no snapshot names."""
    target = names.parse(executor)
    if target.kind in (names.FAKE, names.QASM_SIMULATOR):
        return None
    settings(config)  # a bad pricing override is an error offline too
    if target.kind == names.LEAST_BUSY:
        devices = _devices()
        dates = [d for _, _, d in devices if d is not None]
        newest = max(dates, default=None)
        chosen = [(dev, b) for dev, b, d in devices
                  if newest is None or (d is not None and (newest - d).days <= REFRESH_WINDOW_DAYS)]
        return [as_device(dev, b, executor) for dev, b in sorted(chosen, key=lambda item: item[0])] or None
    wanted = set(target.candidates())
    for device, backend, _ in _devices(wanted.__contains__):
        return [as_device(device, backend, executor)]
    return None
