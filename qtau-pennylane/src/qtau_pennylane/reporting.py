"""Status and cost of PennyLane resources, answered without PennyLane or network calls.

Local devices are online and free. `rigetti.*` devices are online only while Rigetti's servers
answer. `braket.aws.qubit` is priced from AWS Braket's public price list (per task plus per shot
for QPUs; per minute for managed simulators); its status is not fetched here (qtau-braket does).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from qtau.errors import QtauError
from qtau.types import CostEstimate, Resource, ResourceStatus, free

#: AWS Braket public prices, USD (https://aws.amazon.com/braket/pricing/), by ARN provider segment.
QPU_PER_TASK = 0.30
QPU_PER_SHOT = {"ionq": 0.03, "iqm": 0.00145, "rigetti": 0.0009, "quera": 0.01}
SIMULATOR_PER_MINUTE = {"sv1": 0.075, "dm1": 0.075, "tn1": 0.275}


def status(resource: Resource, config: Mapping[str, Any]) -> ResourceStatus:
    device = resource.metadata.get("device", "")
    now = time.time()
    if device.startswith("rigetti."):
        from qtau_pennylane.forest import check_available

        try:
            check_available(device, config)
        except QtauError as err:
            return ResourceStatus(resource.id, online=False, checked_at=now, message=str(err)[:300])
        return ResourceStatus(resource.id, online=True, checked_at=now, message="qvm/quilc reachable")
    if device == "braket.aws.qubit":
        return ResourceStatus(resource.id, online=True, checked_at=now,
                              message="not checked by qtau-pennylane (no AWS call for status)")
    return ResourceStatus(resource.id, online=True, checked_at=now, message="local simulator")


def cost(resource: Resource, shots: int) -> CostEstimate:
    if resource.metadata.get("device") != "braket.aws.qubit":
        return free(resource.id)
    arn = resource.metadata["arn"]
    parts = arn.split("/")
    source = "AWS Braket public price list"
    if resource.kind == "simulator":
        per_minute = SIMULATOR_PER_MINUTE.get(parts[-1].lower(), 0.075)
        # Managed simulators bill at least 3 s per task.
        return CostEstimate(resource.id, per_second=per_minute / 60, estimated_seconds=3.0, source=source)
    vendor = parts[-2].lower() if len(parts) >= 2 else ""
    return CostEstimate(resource.id, per_task=QPU_PER_TASK, per_shot=QPU_PER_SHOT.get(vendor, 0.01), source=source)
