"""Executor names, device ARNs and regions: what a `braket_*` executor means, without any SDK.

Executors:
- `braket_local` (LocalSimulator, state vector) and `braket_local_dm` (density matrix, noise).
- `braket_sv1`, `braket_dm1`, `braket_tn1`: Amazon's on-demand simulators.
- `braket_ionq`, `braket_rigetti`, `braket_iqm`, `braket_oqc`, `braket_aqt`: that provider's
  current QPU, or the one named by `braket_device_arn` when it belongs to the same provider.
- `braket_device_arn`: any device, by `braket_device_arn` in the pilot description or
  `BRAKET_DEVICE_ARN` in the environment.

The region of a device is the one in its ARN; regionless ARNs (Amazon's simulators) use
`aws_region` from the config, then `AWS_DEFAULT_REGION` / `AWS_REGION`, then us-east-1.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import attrs
from qtau.errors import ConfigurationError, UnknownExecutorError

LOCAL = {"braket_local": "braket_sv", "braket_local_dm": "braket_dm"}
LOCAL_WIDTH = {"braket_sv": 26, "braket_dm": 13}

#: Family executors and the device each reaches by default. TN1 and OQC Lucy are marked retired
#: in the Braket SDK's own `Devices` table; they stay reachable by name, and GetDevice says RETIRED.
FAMILIES: dict[str, tuple[str, str]] = {
    "braket_sv1": ("amazon", "arn:aws:braket:::device/quantum-simulator/amazon/sv1"),
    "braket_dm1": ("amazon", "arn:aws:braket:::device/quantum-simulator/amazon/dm1"),
    "braket_tn1": ("amazon", "arn:aws:braket:::device/quantum-simulator/amazon/tn1"),
    "braket_ionq": ("ionq", "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"),
    "braket_rigetti": ("rigetti", "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q"),
    "braket_iqm": ("iqm", "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"),
    "braket_oqc": ("oqc", "arn:aws:braket:eu-west-2::device/qpu/oqc/Lucy"),
    "braket_aqt": ("aqt", "arn:aws:braket:eu-north-1::device/qpu/aqt/Ibex-Q1"),
}
BY_ARN = "braket_device_arn"
ARN_ENV = "BRAKET_DEVICE_ARN"
DEFAULT_REGION = "us-east-1"

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):braket:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:"
    r"device/(?P<kind>quantum-simulator|qpu)/(?P<provider>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+)$"
)
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


def known_executors() -> list[str]:
    return [*LOCAL, *FAMILIES, BY_ARN]


@attrs.frozen
class DeviceRef:
    """A parsed device ARN: which device, of which provider, in which region."""

    arn: str
    region: str
    provider: str
    name: str
    simulator: bool


def parse_arn(arn: Any, field: str = "braket_device_arn") -> DeviceRef:
    """Split a Braket device ARN, or ConfigurationError saying what a valid one looks like."""
    match = _ARN.match(arn.strip()) if isinstance(arn, str) else None
    if match is None:
        raise ConfigurationError(
            "malformed Braket device ARN", field=field, value=arn,
            fix="use a device ARN such as arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1 or "
            "arn:aws:braket:::device/quantum-simulator/amazon/sv1 (see the Braket console's Devices page)",
        )
    return DeviceRef(
        arn=arn.strip(), region=match["region"], provider=match["provider"].lower(), name=match["name"],
        simulator=match["kind"] == "quantum-simulator",
    )


def configured_region(config: Mapping[str, Any]) -> str | None:
    value = config.get("aws_region") or config.get("region")
    if value is None:
        return None
    if not isinstance(value, str) or not _REGION.match(value):
        raise ConfigurationError(
            "aws_region must be an AWS region name", field="aws_region", value=value,
            fix="use e.g. aws_region='us-east-1', or leave it out to take the region from the device ARN",
        )
    return value


def region_for(ref: DeviceRef, config: Mapping[str, Any]) -> str:
    """The region to call for `ref`: its ARN's region, which an explicit `aws_region` must match."""
    wanted = configured_region(config)
    if ref.region:
        if wanted and wanted != ref.region:
            raise ConfigurationError(
                f"region mismatch: the device {ref.arn} is in {ref.region} but aws_region is {wanted}",
                field="aws_region", value=wanted,
                fix=f"set aws_region='{ref.region}' or leave it out (the ARN's region is used)",
            )
        return ref.region
    return wanted or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION


def _arn_setting(config: Mapping[str, Any]) -> str | None:
    value = config.get("braket_device_arn") or config.get("device_arn") or os.environ.get(ARN_ENV)
    return value or None


def device_for(executor: str, config: Mapping[str, Any]) -> DeviceRef:
    """The AWS device an executor reaches, checked against `braket_device_arn` when both are given."""
    given = _arn_setting(config)
    if executor == BY_ARN:
        if given is None:
            raise ConfigurationError(
                "executor braket_device_arn needs a device ARN", field="braket_device_arn", value=None,
                fix=f"add braket_device_arn to the pilot description or set {ARN_ENV}",
            )
        return parse_arn(given)
    if executor not in FAMILIES:
        raise unknown(executor)
    provider, default = FAMILIES[executor]
    if given is None or provider == "amazon":
        return parse_arn(default, field="quantum.executor")
    ref = parse_arn(given)
    if ref.provider != provider:
        raise ConfigurationError(
            f"executor {executor} runs on {provider} devices, but braket_device_arn names a {ref.provider} device",
            field="braket_device_arn", value=given,
            fix=f"use executor braket_device_arn for {ref.arn}, or an {provider} ARN",
        )
    return ref


def unknown(executor: Any) -> UnknownExecutorError:
    return UnknownExecutorError(
        f"unknown Braket executor {executor!r}. Braket executors: {', '.join(known_executors())}",
        field="quantum.executor", value=executor,
        fix="use one of the names above, or braket_device_arn with braket_device_arn=<ARN>",
    )


def resource_id(arn_or_local: str) -> str:
    return f"braket:{arn_or_local}"
