"""How the plugin reaches AWS, read from a pilot's config without importing any SDK.

Config keys (the pilot's `quantum` section or the top level of the description):
- `braket_device_arn` (or env `BRAKET_DEVICE_ARN`): the device of executor `braket_device_arn`.
- `aws_region`: the region for regionless ARNs; must match the ARN's region when both are given.
- `braket_endpoint` (or env `BRAKET_ENDPOINT`): the Braket API URL (private endpoints, tests).
- `s3_endpoint`: the S3 URL for results (else boto3's own `AWS_ENDPOINT_URL_S3` / default).
- `s3_bucket` and `s3_prefix`, or `s3_destination` as `s3://bucket/prefix` (or env
  `AMZN_BRAKET_TASK_RESULTS_S3_URI`): where Braket writes results. Default: the SDK's
  `amazon-braket-<region>-<account>` bucket, prefix `qtau-tasks`.
- `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token` (arrive as `qtau.Secret`),
  `aws_profile`: credentials; without them boto3's usual chain (env, files, SSO, instance role).
- `poll_interval_s` (default 1), `poll_timeout_s` (default 3600): how results are awaited.
- `connect_timeout_s` (default 10), `read_timeout_s` (default 60), `max_retries` (default 2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import attrs
from qtau.errors import ConfigurationError
from qtau.scalars import plain
from qtau.secrets import Secret, secret_or_none

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@attrs.frozen
class AwsSettings:
    """Everything needed to open a session for one region; hashable, so sessions are cached."""

    region: str
    endpoint: str | None = None
    s3_endpoint: str | None = None
    access_key: Secret | None = attrs.field(default=None, repr=False)
    secret_key: Secret | None = attrs.field(default=None, repr=False)
    session_token: Secret | None = attrs.field(default=None, repr=False)
    profile: str | None = None
    bucket: str | None = None
    prefix: str = "qtau-tasks"
    poll_interval_s: float = 1.0
    poll_timeout_s: float = 3600.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_retries: int = 2


def _number(config: Mapping[str, Any], key: str, default: float, low: float = 0.0) -> float:
    value = plain(config.get(key, default))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= low:
        raise ConfigurationError(
            f"{key} must be a number above {low:g}", field=f"quantum.{key}", value=value,
            fix=f"use e.g. {key}={default:g}",
        )
    return float(value)


def _url(config: Mapping[str, Any], key: str, env: str | None) -> str | None:
    value = config.get(key) or (os.environ.get(env) if env else None) or None
    if value is not None and (not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value)):
        raise ConfigurationError(
            f"{key} must be an http(s) URL", field=key, value=value,
            fix=f"use e.g. {key}='https://braket.us-east-1.amazonaws.com', or leave it out",
        )
    return value


def _destination(config: Mapping[str, Any]) -> tuple[str | None, str]:
    uri = config.get("s3_destination") or os.environ.get("AMZN_BRAKET_TASK_RESULTS_S3_URI")
    bucket, prefix = config.get("s3_bucket"), config.get("s3_prefix")
    if uri:
        match = re.match(r"^s3://([^/]+)/?(.*)$", str(uri))
        if not match:
            raise ConfigurationError(
                "s3_destination must look like s3://bucket/prefix", field="s3_destination", value=uri,
                fix="use e.g. s3://amazon-braket-my-results/tasks",
            )
        bucket = bucket or match[1]
        prefix = prefix or match[2]
    if bucket is not None and (not isinstance(bucket, str) or not _BUCKET.match(bucket)):
        raise ConfigurationError(
            "s3_bucket must be an S3 bucket name", field="s3_bucket", value=bucket,
            fix="use a lowercase bucket name; Braket needs it to start with amazon-braket-",
        )
    prefix = str(prefix or "qtau-tasks").strip("/")
    return bucket, prefix or "qtau-tasks"


def settings_for(config: Mapping[str, Any], region: str) -> AwsSettings:
    access = secret_or_none(config.get("aws_access_key_id"))
    secret = secret_or_none(config.get("aws_secret_access_key"))
    if (access is None) != (secret is None):
        raise ConfigurationError(
            "aws_access_key_id and aws_secret_access_key go together", field="aws_secret_access_key",
            value="missing" if secret is None else "given without aws_access_key_id",
            fix="give both, or neither to use boto3's credential chain (AWS_PROFILE, ~/.aws, SSO, roles)",
        )
    bucket, prefix = _destination(config)
    retries = plain(config.get("max_retries", 2))
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigurationError("max_retries must be a non-negative integer", field="quantum.max_retries",
                                 value=retries, fix="use e.g. max_retries=2")
    return AwsSettings(
        region=region,
        endpoint=_url(config, "braket_endpoint", "BRAKET_ENDPOINT"),
        s3_endpoint=_url(config, "s3_endpoint", None),
        access_key=access,
        secret_key=secret,
        session_token=secret_or_none(config.get("aws_session_token")),
        profile=config.get("aws_profile") or None,
        bucket=bucket,
        prefix=prefix,
        poll_interval_s=_number(config, "poll_interval_s", 1.0),
        poll_timeout_s=_number(config, "poll_timeout_s", 3600.0),
        connect_timeout_s=_number(config, "connect_timeout_s", 10.0),
        read_timeout_s=_number(config, "read_timeout_s", 60.0),
        max_retries=retries,
    )
