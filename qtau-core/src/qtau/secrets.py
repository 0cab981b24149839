"""Secret values (IBM tokens, AWS keys) that never show up in reprs, logs or error messages.

A `Secret` wraps the value; its repr is a fixed mask. Every secret created in this process is also
remembered (by value, in memory only) so `redact()` can scrub it from any text QTAU emits, such as
an SDK's exception message that echoes the token back; credential-shaped strings (AWS access key
ids, security tokens, Authorization headers, bearer tokens) are scrubbed even when QTAU never held
them. Importing this module redacts the log records of QTAU and of the SDKs it drives.
"""

from __future__ import annotations

import logging
import os
import re
import threading

MASK = "***"
_known: set[str] = set()
_lock = threading.Lock()


def _remember(value: str) -> None:
    # Short values would redact ordinary words; real tokens are long.
    if len(value) >= 6:
        with _lock:
            _known.add(value)


class Secret:
    """A credential. `reveal()` gives the value to the code that must send it; nothing else does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", str(value))
        _remember(self._value)

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name, value):
        raise AttributeError("Secret is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("qtau.Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __reduce__(self):
        # Rebuilding through __init__ re-registers the value for redaction on Ray workers too.
        return (Secret, (self._value,))


#: Credential-shaped text that is redacted even when QTAU never saw the value: SDKs echo the
#: caller's identity in errors and DEBUG logs (botocore prints request headers, an AWS ClientError
#: can quote the access key id, IBM's IAM exchange carries the API key and a bearer token).
CREDENTIAL_PATTERNS: tuple[tuple[re.Pattern, str], ...] = (
    # AWS access key ids: long-term (AKIA), temporary (ASIA) and the other IAM unique-id prefixes.
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b"), MASK),
    # Header or query values: X-Amz-Security-Token, Authorization, X-Amz-Signature, apikey, tokens.
    (re.compile(
        r"(?i)((?:x-amz-security-token|x-amz-signature|signature|authorization|apikey|api_key|"
        r"aws_secret_access_key|aws_session_token|refresh_token|access_token)"
        r"['\"]?\s*[:=]\s*(?-i:b)?['\"]?)(?!\*\*\*)[^'\"&\s,;}]+(?:[ ][^'\"&\s,;}]+)*"
    ), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
)


#: Environment variables the SDKs' own credential chains read (boto3, qiskit-ibm-runtime, the
#: IBM and Azure SDKs, proxies): their values are redacted although QTAU never wrapped them.
ENV_CREDENTIALS = (
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
    "IBMQX_TOKEN", "QISKIT_IBM_TOKEN", "IBM_CLOUD_API_KEY", "IBMCLOUD_API_KEY", "QTAU_IBMQ_TOKEN",
    "AZURE_CLIENT_SECRET", "IONQ_API_KEY", "HTTPS_PROXY_PASSWORD",
)


#: The same names as keys of the environment's own mapping (bytes on POSIX), looked up directly:
#: `os.environ.get` encodes and decodes on every call, and this runs on every `redact()`.
_ENV_KEYS = tuple(os.environ.encodekey(name) for name in ENV_CREDENTIALS) if hasattr(os.environ, "encodekey") else ()


def remember_environment_credentials() -> None:
    """Register the credentials now in the environment for redaction. Called on every `redact()`
    because a program may export them after QTAU was imported."""
    data = getattr(os.environ, "_data", None)
    if data is None or len(_ENV_KEYS) != len(ENV_CREDENTIALS):
        values = [os.environ.get(name) for name in ENV_CREDENTIALS]
    else:
        values = [os.environ.decodevalue(raw) for raw in map(data.get, _ENV_KEYS) if raw]
    for value in values:
        if value and value not in _known:
            _remember(value)


#: Text (lower case) each of CREDENTIAL_PATTERNS needs somewhere in a string to match it, in the
#: same order: `holds_secret` scans only for the patterns whose hints appear.
PATTERN_HINTS: tuple[tuple[str, ...], ...] = (
    ("akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "apka", "aroa", "asca"),
    ("x-amz-security-token", "signature", "authorization", "apikey", "api_key", "aws_secret_access_key",
     "aws_session_token", "refresh_token", "access_token"),
    ("bearer",),
)


def holds_secret(text: str) -> bool:
    """Whether `redact(text)` would change `text`: a known secret value or a credential-shaped
    string is in it. Answered without rewriting the text, and a pattern is scanned for only when
    its literal part appears, so checking every journaled task payload stays cheap."""
    remember_environment_credentials()
    if _known:
        with _lock:
            values = list(_known)
        if any(value in text for value in values):
            return True
    lower = text.lower()
    return any(any(hint in lower for hint in hints) and pattern.search(text) is not None
               for (pattern, _), hints in zip(CREDENTIAL_PATTERNS, PATTERN_HINTS, strict=True))


def redact(text: str) -> str:
    """Replace every known secret value and every credential-shaped string in `text` with the mask."""
    remember_environment_credentials()
    if _known:
        with _lock:
            values = sorted(_known, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
    for pattern, replacement in CREDENTIAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def secret_or_none(value: object) -> Secret | None:
    """Wrap a configuration value as a Secret; empty values become None."""
    if value is None or value == "":
        return None
    if isinstance(value, Secret):
        return value
    return Secret(str(value))


class RedactingFilter(logging.Filter):
    """Logging filter that scrubs secrets from every record passing through the logger it is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


#: Loggers whose records are redacted wherever they go (any handler, any level): QTAU's own and
#: those of the SDKs QTAU drives, which log credentials at DEBUG.
REDACTED_LOGGERS = ("qtau", "botocore", "boto3", "s3transfer", "urllib3", "requests", "braket",
                    "ibm_cloud_sdk_core", "qiskit_ibm_runtime", "pennylane", "werkzeug")


def redact_record(record: logging.LogRecord) -> None:
    """Scrub a record's formatted message and traceback in place."""
    message = record.getMessage()
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _covered(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in REDACTED_LOGGERS)


_installed = False


def install_log_redaction() -> None:
    """Redact every record of `REDACTED_LOGGERS` (and their children) as it is created.

    A filter on a logger does not see its children's records (botocore logs through
    `botocore.endpoint`, `botocore.auth`...), and handlers come and go, so the hook is the
    process's log record factory, chained to whatever factory was installed before. It costs
    nothing for records that are not emitted: loggers build records only for enabled levels.
    """
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _covered(record.name):
                try:
                    redact_record(record)
                except Exception:  # a record that cannot format stays as it was, as logging would
                    pass
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


install_log_redaction()
