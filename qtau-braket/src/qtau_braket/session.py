"""AWS sessions and devices for the plugin, and the mapping of AWS faults onto QTAU errors.

A session is built for exactly the device's region (so the SDK never clones it and loses a custom
endpoint), with bounded connect/read timeouts and retries. Devices are cached per process for a
short while: status, noise and cost of one resource share one GetDevice.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from qtau.errors import (
    AuthenticationError,
    BackendUnavailableError,
    ConfigurationError,
    ExecutionError,
    QtauError,
)

from qtau_braket.names import DeviceRef
from qtau_braket.settings import AwsSettings

AUTH_CODES = {
    "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
    "ExpiredTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId",
    "UnauthorizedException", "ExpiredToken", "AuthFailure",
}
UNAVAILABLE_CODES = {
    "DeviceOfflineException", "DeviceRetiredException", "ServiceQuotaExceededException",
    "ThrottlingException", "InternalServiceException", "ServiceUnavailable", "SlowDown",
}
DEVICE_TTL_S = 20.0

_sessions: dict[AwsSettings, Any] = {}
_devices: dict[tuple[str, AwsSettings], tuple[float, Any]] = {}
_lock = threading.Lock()


def classify(err: BaseException, doing: str, settings: AwsSettings | None = None) -> QtauError:
    """The QTAU error for an AWS/SDK failure while `doing` something. Messages never hold secrets."""
    from botocore import exceptions as bx

    if isinstance(err, QtauError):
        return err
    where = f" (region {settings.region}{', endpoint ' + settings.endpoint if settings and settings.endpoint else ''})" if settings else ""
    if isinstance(err, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.NoAuthTokenError)):
        return AuthenticationError(
            f"no AWS credentials found while {doing}{where}", field="aws_access_key_id", value=None,
            fix="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run `aws configure` or "
            "`aws sso login`, or pass aws_access_key_id and aws_secret_access_key in the pilot description",
        )
    if isinstance(err, bx.ClientError):
        error = err.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code in AUTH_CODES:
            return AuthenticationError(
                f"AWS refused the credentials while {doing}{where}: {code}: {message}",
                field="aws_access_key_id", value="***",
                fix="check the access key, its secret and session token, and that the IAM identity may use Braket",
            )
        if code == "ResourceNotFoundException":
            return ConfigurationError(
                f"not found while {doing}{where}: {message}", field="braket_device_arn", value=None,
                fix="check the device ARN and its region (list devices in the Braket console)",
            )
        if code in UNAVAILABLE_CODES:
            return BackendUnavailableError(
                f"Braket is unavailable for this request while {doing}{where}: {code}: {message}",
                fix="try again later, or let QDREAMER fail over to another resource",
            )
        return ExecutionError(f"AWS answered {code} while {doing}{where}: {message}",
                              fix="see the AWS message; check the circuit and the device's limits")
    if isinstance(err, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
                        bx.ConnectionClosedError, bx.ProxyConnectionError)):
        return BackendUnavailableError(
            f"cannot reach AWS while {doing}{where}: {type(err).__name__}: {err}",
            fix="check the network, the region and braket_endpoint; QDREAMER fails over meanwhile",
        )
    return ExecutionError(f"{type(err).__name__} while {doing}{where}: {err}",
                          fix="see the cause; this is an unexpected error from the Braket SDK")


def _boto_session(settings: AwsSettings):
    import boto3

    kwargs: dict[str, Any] = {"region_name": settings.region}
    if settings.access_key is not None:
        kwargs["aws_access_key_id"] = settings.access_key.reveal()
        kwargs["aws_secret_access_key"] = settings.secret_key.reveal()
        if settings.session_token is not None:
            kwargs["aws_session_token"] = settings.session_token.reveal()
    if settings.profile:
        kwargs["profile_name"] = settings.profile
    try:
        session = boto3.Session(**kwargs)
    except Exception as err:  # ProfileNotFound and friends
        raise ConfigurationError(
            f"cannot open an AWS session: {type(err).__name__}: {err}", field="aws_profile",
            value=settings.profile, fix="name a profile from ~/.aws/config, or leave aws_profile out",
        ) from None
    try:
        credentials = session.get_credentials()
    except Exception as err:
        raise classify(err, "looking up AWS credentials", settings) from None
    if credentials is None:
        from botocore.exceptions import NoCredentialsError

        raise classify(NoCredentialsError(), "looking up AWS credentials", settings)
    return session


def aws_session(settings: AwsSettings):
    """A braket AwsSession for `settings` (cached), whose clients honour the configured endpoints."""
    with _lock:
        found = _sessions.get(settings)
    if found is not None:
        return found
    boto = _boto_session(settings)  # before the SDK's 2-3 s import: no credentials is told at once
    from botocore.config import Config
    from braket.aws import AwsSession

    config = Config(connect_timeout=settings.connect_timeout_s, read_timeout=settings.read_timeout_s,
                    retries={"total_max_attempts": settings.max_retries + 1, "mode": "standard"})
    braket_client = boto.client("braket", region_name=settings.region, endpoint_url=settings.endpoint, config=config)

    class QtauAwsSession(AwsSession):
        """AwsSession whose S3 calls use the configured S3 endpoint and timeouts (the SDK's own
        `retrieve_s3_object_body` opens a fresh S3 resource that would ignore them)."""

        @property
        def s3_client(self):
            if not self._s3:
                self._s3 = self.boto_session.client("s3", region_name=self.region,
                                                    endpoint_url=settings.s3_endpoint, config=config)
            return self._s3

        def retrieve_s3_object_body(self, s3_bucket: str, s3_object_key: str) -> str:
            return self.s3_client.get_object(Bucket=s3_bucket, Key=s3_object_key)["Body"].read().decode("utf-8")

    session = QtauAwsSession(boto_session=boto, braket_client=braket_client,
                             default_bucket=settings.bucket)
    with _lock:
        return _sessions.setdefault(settings, session)


def device(ref: DeviceRef, settings: AwsSettings, max_age: float = DEVICE_TTL_S):
    """The AwsDevice for `ref` with metadata at most `max_age` seconds old."""
    key = (ref.arn, settings)
    now = time.monotonic()
    with _lock:
        hit = _devices.get(key)
    if hit is not None and now - hit[0] <= max_age:
        return hit[1]
    session = aws_session(settings)
    from braket.aws import AwsDevice

    try:
        if hit is not None:
            hit[1].refresh_metadata()
            found = hit[1]
        else:
            found = AwsDevice(ref.arn, aws_session=session)
    except ValueError as err:  # the SDK turns ResourceNotFound into ValueError("... not found")
        raise ConfigurationError(
            f"Braket has no device {ref.arn} in {settings.region}: {err}", field="braket_device_arn",
            value=ref.arn, fix="check the ARN in the Braket console; QPUs live in the region of their ARN",
        ) from None
    except Exception as err:
        raise classify(err, f"reading device {ref.arn}", settings) from None
    with _lock:
        _devices[key] = (time.monotonic(), found)
    return found


def forget() -> None:
    """Drop cached sessions and devices (tests, credential rotation)."""
    with _lock:
        _sessions.clear()
        _devices.clear()
