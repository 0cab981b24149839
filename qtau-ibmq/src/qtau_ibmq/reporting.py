"""What QDREAMER reads about an ibmq resource: status and queue, noise, cost.

Devices answer from IBM (bounded calls): `status().pending_jobs` gives the queue, whose expected
wait is `pending_jobs * seconds_per_queued_job` (pricing.json's queue model: IBM publishes no wait
estimate). Fake backends are local: always online, no queue, free, but their noise is that of
the device they mimic (its calibration snapshot).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from qtau.types import NoiseProfile, Resource, ResourceStatus, ideal_noise

from qtau_ibmq import backends, connect, noise
from qtau_ibmq.credentials import account_of
from qtau_ibmq.pricing import settings


def status(resource: Resource, config: Mapping[str, Any]) -> ResourceStatus:
    source = resource.metadata.get("source")
    now = time.time()
    if source == "fake":
        device = resource.metadata.get("mimics") or "a synthetic device"
        return ResourceStatus(resource.id, online=True, checked_at=now,
                              message=f"local noisy simulation of {device}")
    if source == "aer":
        return ResourceStatus(resource.id, online=True, checked_at=now, message="local Aer simulator")
    account = account_of(config)
    backend = backends.backend_for(resource, config)
    report = connect.bounded(backend.status, account, f"reading the status of {backend.name}")
    pending = int(getattr(report, "pending_jobs", 0) or 0)
    online = bool(getattr(report, "operational", True))
    wait = pending * float(settings(config)["seconds_per_queued_job"])
    return ResourceStatus(
        resource.id, online=online, queue_depth=pending, estimated_wait_s=wait, checked_at=now,
        message=str(getattr(report, "status_msg", "") or ("active" if online else "offline")),
    )


def noise_profile(resource: Resource, config: Mapping[str, Any]) -> NoiseProfile:
    source = resource.metadata.get("source")
    if source == "aer":
        return ideal_noise(resource.id)
    backend = backends.backend_for(resource, config)
    if source == "fake":
        snap = backends.snapshot(backend)
        device = resource.metadata.get("mimics") or backend.name
        when = snap.get("last_update_date", "an unknown date")
        text = (f"calibration snapshot of {device} ({when}) shipped with qiskit-ibm-runtime; "
                f"{backend.name} simulates it locally")
        return noise.profile(resource.id, backend.target, text)
    account = account_of(config)
    target = connect.bounded(lambda: backend.target, account, f"reading the calibration of {backend.name}")
    return noise.profile(resource.id, target, f"live calibration of {backend.name} from IBM Quantum")
