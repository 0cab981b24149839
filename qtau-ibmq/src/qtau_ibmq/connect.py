"""Opening QiskitRuntimeService and calling IBM, each call bounded in time and its errors mapped.

`QiskitRuntimeService(...)` does HTTP in its constructor (IAM token exchange, instance lookup) and
the SDK retries, so a dead network could hang a pilot for minutes. Every call that may reach IBM
runs in a daemon thread joined with the account's `connect_timeout`; past it the caller gets
`BackendUnavailableError` (the thread is abandoned, not killed: Python cannot kill threads).
Errors are classified by walking the exception chain: refused credentials become
`AuthenticationError`, network faults `BackendUnavailableError`. The token never reaches a
message: QtauError redacts known secrets, and an SDK error that echoes it is not chained.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from qtau.errors import AuthenticationError, BackendUnavailableError, ConfigurationError, QtauError
from qtau.threads import CallTimedOut, call_with_timeout

from qtau_ibmq.credentials import TOKEN_ENV, Account

T = TypeVar("T")

_services: dict[Account, Any] = {}
_lock = threading.Lock()

NETWORK_ERRORS = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout", "ProxyError",
                  "NewConnectionError", "MaxRetryError", "NameResolutionError", "SSLError")
AUTH_CODES = (401, 403)


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__
    return seen


def _status_code(err: BaseException) -> int | None:
    for attr in ("status_code", "code", "status"):
        value = getattr(err, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    return None


def classify(err: BaseException, what: str, account: Account) -> QtauError:
    """The QtauError a failed IBM call means (never containing the token)."""
    chain = _chain(err)
    names = {type(e).__name__ for e in chain}
    codes = {c for c in (_status_code(e) for e in chain) if c is not None}
    text = " ".join(str(e) for e in chain)
    if isinstance(err, QtauError):
        return err
    if codes & set(AUTH_CODES) or "IBMNotAuthorizedError" in names:
        return AuthenticationError(
            f"IBM Quantum refused the credentials ({account.token_source}) while {what}",
            field="ibmqx_token", value="***",
            fix="check the API key at quantum.cloud.ibm.com (it must belong to the account that owns "
            "`instance`), then pass it as ibmqx_token or set IBMQX_TOKEN",
        )
    if "AccountNotFoundError" in names:
        return AuthenticationError(
            "no IBM Quantum credentials: no token was given and no saved account was found",
            field="ibmqx_token", value=None,
            fix=f"pass ibmqx_token in the pilot description, set {' or '.join(TOKEN_ENV)}, or run "
            "QiskitRuntimeService.save_account(token=..., set_as_default=True); "
            "use ibmq_fake_<name> to work offline",
        )
    if names & set(NETWORK_ERRORS) or any(c >= 500 for c in codes):
        return BackendUnavailableError(
            f"IBM Quantum is unreachable while {what}: {type(chain[-1]).__name__}",
            field="quantum.url" if account.url else "quantum.channel", value=account.url or account.channel,
            fix="check the network connection and IBM's status page, or use ibmq_fake_<name> offline",
        )
    if "InvalidAccountError" in names or "IBMInputValueError" in names:
        detail = text.split(". Please")[0][:200]
        return AuthenticationError(
            f"IBM Quantum rejected the account while {what}: {detail}", field="ibmqx_token", value="***",
            fix="check the API key, channel and instance (a CRN such as crn:v1:bluemix:...)",
        )
    return BackendUnavailableError(
        f"IBM Quantum failed while {what}: {type(err).__name__}: {text[:300]}",
        field="quantum.executor", value=None, fix="retry later, or use ibmq_fake_<name> offline",
    )


def _echoes(err: BaseException, account: Account) -> bool:
    if account.token is None:
        return False
    secret = account.token.reveal()
    return any(secret in str(e) or secret in repr(getattr(e, "args", ())) for e in _chain(err))


@contextlib.contextmanager
def http_client_untouched() -> Iterator[None]:
    """Undo ibm_cloud_sdk_core's process-wide side effect.

    When its logger is at DEBUG, every service it builds sets `http.client.HTTPConnection.debuglevel`
    and replaces `http.client.print` with a function that fails on non-string arguments, which
    breaks every other HTTP client of the process (boto3 among them) from then on.
    """
    import http.client

    level = http.client.HTTPConnection.debuglevel
    had_print = "print" in vars(http.client)
    saved_print = vars(http.client).get("print")
    try:
        yield
    finally:
        http.client.HTTPConnection.debuglevel = level
        if had_print:
            http.client.print = saved_print
        else:
            vars(http.client).pop("print", None)


def bounded(fn: Callable[[], T], account: Account, what: str, timeout: float | None = None) -> T:
    """Run `fn` (which may do HTTP) within the account's timeout; map failures to QtauErrors."""
    limit = account.timeout if timeout is None else timeout

    def guarded() -> T:
        with http_client_untouched():
            return fn()

    # A long-lived thread (qtau.threads): a thread that first imports qiskit must never exit.
    try:
        return call_with_timeout(guarded, limit)
    except CallTimedOut:
        raise BackendUnavailableError(
            f"IBM Quantum did not answer within {limit:g} s while {what}",
            field="quantum.connect_timeout", value=limit,
            fix="check the network connection, or raise connect_timeout",
        ) from None
    except Exception as err:
        mapped = classify(err, what, account)
        # Raised outside the handler when the SDK's error echoes the token: no chained context at all.
        if not _echoes(err, account):
            raise mapped from err
    raise mapped from None


def _open(account: Account):
    from qiskit_ibm_runtime import QiskitRuntimeService

    if account.local:
        return QiskitRuntimeService(channel="local")
    kwargs: dict[str, Any] = {"channel": account.channel}
    if account.token is not None:
        kwargs["token"] = account.token.reveal()
    if account.instance:
        kwargs["instance"] = account.instance
    if account.account_name:
        kwargs["name"] = account.account_name
    if account.account_file:
        kwargs["filename"] = account.account_file
    if account.url:
        kwargs["url"] = account.url
        kwargs["url_resolver"] = lambda url, instance, private_endpoint=False, channel=None: url
    return QiskitRuntimeService(**kwargs)


def service(account: Account):
    """The process's QiskitRuntimeService for `account`, opened once within the timeout."""
    with _lock:
        found = _services.get(account)
    if found is not None:
        return found
    if account.token is not None and not account.token.reveal().strip():
        raise ConfigurationError("ibmqx_token is empty", field="ibmqx_token", value="",
                                 fix="pass the IBM Quantum API key")
    opened = bounded(lambda: _open(account), account, "connecting to IBM Quantum")
    with _lock:
        return _services.setdefault(account, opened)


def forget() -> None:
    """Drop cached services (tests, and after credentials change)."""
    with _lock:
        _services.clear()
