"""Braket devices as resources without AWS: what `qtau quote` prices when no credentials are set.

Built from what this package ships: the device an executor reaches (`names`), its width (below)
and its price (`prices.json`, through `pricing.estimate`). No SDK, no boto3, no network. Gate
support is not known offline, so every standard gate counts as reachable (Braket compiles
OpenQASM's standard gates on its devices); status, queue and noise are not known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qtau.backend import OFFLINE
from qtau.resource_limits import remote_limits
from qtau.types import Resource

from qtau_braket import names
from qtau_braket.pricing import device_key, price_table

#: Qubits of each gate-model device an executor reaches by default (and of the devices
#: prices.json prices), as published on Amazon Braket's device pages in 2025.
QUBITS = {
    "amazon/sv1": 34, "amazon/dm1": 17, "amazon/tn1": 50,
    "ionq/forte-1": 36, "ionq/forte-enterprise-1": 36, "ionq/aria-1": 25, "ionq/aria-2": 25,
    "rigetti/cepheus-1-108q": 108, "rigetti/ankaa-3": 84,
    "iqm/garnet": 20, "iqm/emerald": 54, "oqc/lucy": 8, "aqt/ibex-q1": 12,
}
#: Most shots one task may ask of each device (the top of GetDevice's `service.shotsRange`), as
#: published on Amazon Braket's device pages and capabilities; a device not listed states none
#: offline (AWS says when it is reached).
MAX_SHOTS = {
    "amazon/sv1": 100_000, "amazon/dm1": 100_000, "amazon/tn1": 1_000,
    "ionq/forte-1": 10_000, "ionq/forte-enterprise-1": 10_000, "ionq/aria-1": 10_000, "ionq/aria-2": 10_000,
    "rigetti/ankaa-3": 100_000, "rigetti/cepheus-1-108q": 100_000, "iqm/garnet": 20_000, "iqm/emerald": 20_000,
}
FORMATS = ("braket",)


def resources(executor: str, config: Mapping[str, Any]) -> list[Resource] | None:
    """The device `executor` reaches, as a resource priced from the shipped table; None for a
    device whose width this package does not ship (then only AWS can say)."""
    ref = names.device_for(executor, config)
    key = device_key(ref.arn)
    width = QUBITS.get(key)
    if width is None:
        return None
    table = price_table()
    return [Resource(
        id=names.resource_id(ref.arn), provider="braket", executor=executor,
        kind="simulator" if ref.simulator else "qpu", num_qubits=width, circuit_formats=FORMATS,
        transpiles=True, remote=True,
        metadata={
            "arn": ref.arn, "region": ref.region or names.DEFAULT_REGION, "device_provider": ref.provider,
            **remote_limits(MAX_SHOTS.get(key)),
            OFFLINE: f"{ref.arn}, {width} qubits, priced from {table['name']} (as of {table['as_of']}); "
                     "status, queue and noise not known without AWS credentials",
        },
    )]
