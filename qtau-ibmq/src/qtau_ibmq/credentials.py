"""How the plugin reaches IBM: token, channel, instance and timeouts, read from a pilot's config.

The token comes from `ibmqx_token` in the pilot description (it arrives as `qtau.Secret`), else
from the environment (`IBMQX_TOKEN`, then `QISKIT_IBM_TOKEN`), else from an account saved with
`QiskitRuntimeService.save_account` (selected by `account_name` / `account_file`). It stays a
`Secret` until the one call that sends it. No SDK is imported here.

Config keys (the pilot's `quantum` section or the top level of the description):
- `ibmqx_token`: the IBM Quantum API key.
- `channel`: `ibm_quantum_platform` (default), `ibm_cloud`, or `local` (qiskit-ibm-runtime's local
  testing mode: every backend is a fake, no token needed).
- `instance`: CRN or instance name; recommended (saves HTTP calls at start).
- `account_name`, `account_file`: which saved account to use when no token is given.
- `url`: API base URL for private deployments and tests; used exactly as given.
- `connect_timeout`: seconds allowed for connecting and listing backends (default 30).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
from qtau.errors import ConfigurationError
from qtau.scalars import plain
from qtau.secrets import Secret, secret_or_none

CHANNELS = ("ibm_quantum_platform", "ibm_cloud", "local")
TOKEN_ENV = ("IBMQX_TOKEN", "QISKIT_IBM_TOKEN")
DEFAULT_TIMEOUT = 30.0


@attrs.frozen
class Account:
    """Everything needed to open a QiskitRuntimeService; hashable, so services are cached per account."""

    channel: str = "ibm_quantum_platform"
    token: Secret | None = attrs.field(default=None, repr=False)
    instance: str | None = None
    url: str | None = None
    account_name: str | None = None
    account_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def local(self) -> bool:
        return self.channel == "local"

    @property
    def token_source(self) -> str:
        return "token" if self.token is not None else "saved account"


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{key} must be a string", field=f"quantum.{key}", value=type(value).__name__,
            fix=f"pass {key} as text",
        )
    return value


def timeout_of(config: Mapping[str, Any]) -> float:
    value = plain(config.get("connect_timeout", DEFAULT_TIMEOUT))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigurationError(
            "connect_timeout must be a positive number of seconds", field="quantum.connect_timeout",
            value=value, fix="use e.g. connect_timeout=30",
        )
    return float(value)


def token_of(config: Mapping[str, Any]) -> Secret | None:
    value = config.get("ibmqx_token")
    if value is not None and value != "" and not isinstance(value, (str, Secret)):
        raise ConfigurationError(
            "ibmqx_token must be text", field="ibmqx_token", value=type(value).__name__,
            fix="pass the IBM Quantum API key as a string, or set IBMQX_TOKEN",
        )
    token = secret_or_none(value)
    if token is None:
        for name in TOKEN_ENV:
            token = secret_or_none(os.environ.get(name, "").strip())
            if token is not None:
                break
    return token


def account_of(config: Mapping[str, Any]) -> Account:
    channel = _text(config, "channel") or "ibm_quantum_platform"
    if channel not in CHANNELS:
        raise ConfigurationError(
            f"unknown IBM channel {channel!r}", field="quantum.channel", value=channel,
            fix=f"use one of {', '.join(CHANNELS)}",
        )
    return Account(
        channel=channel,
        token=None if channel == "local" else token_of(config),
        instance=_text(config, "instance"),
        url=_text(config, "url"),
        account_name=_text(config, "account_name"),
        account_file=_text(config, "account_file"),
        timeout=timeout_of(config),
    )
