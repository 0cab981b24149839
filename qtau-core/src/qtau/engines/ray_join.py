"""Joining a running Ray cluster: check the address before `ray.init`, and explain what went wrong.

`ray.init(address=...)` against a wrong address retries for many seconds, and against a cluster
with token authentication (on by default for `ray start` clusters since Ray 2.5x) it fails after
about 20 s with only "Failed to connect to Ray cluster". Before joining, QTAU therefore
1. opens a TCP connection to the GCS port (a closed or unreachable address fails in seconds), and
2. asks the GCS one cheap question with Ray's own client, which answers at once whether this
   driver's token settings are accepted.
Each failure is a QtauError naming the address and the variable to set.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from qtau.errors import AuthenticationError, BackendUnavailableError, ConfigurationError, QtauError
from qtau.secrets import secret_or_none

#: Seconds allowed for the TCP connection and for the GCS to answer the probe.
CONNECT_TIMEOUT_S = 3.0
PROBE_TIMEOUT_S = 5.0

TOKEN_HELP = ("the token is printed by `ray get-auth-token` on the head node; give it as RAY_AUTH_TOKEN, "
              "in a file named by RAY_AUTH_TOKEN_PATH, or in ~/.ray/auth_token")


def host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a plain `host:port` GCS address; None for `auto`, `local` and `ray://` addresses,
    which Ray resolves itself."""
    if not address or "://" in address or address in {"auto", "local"}:
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError(
            f"ray_address {address!r} is not host:port", field="ray_address", value=address,
            fix="give the head node's GCS address, e.g. 10.0.0.5:6379 (what `ray start --head` prints)",
        )
    return host.strip("[]"), int(port)


def auth_mode() -> str:
    return (os.environ.get("RAY_AUTH_MODE") or "disabled").strip().lower()


def has_token() -> bool:
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.expanduser("~/.ray/auth_token")
    return bool(os.environ.get("RAY_AUTH_TOKEN")) or os.path.isfile(path)


def sync_ray_auth_settings() -> None:
    """Make Ray see RAY_AUTH_MODE / RAY_AUTH_TOKEN set after `import ray` (a notebook cell, a test).
    Ray reads them into its config once; Ray's own `ray start` path refreshes it the same way."""
    # The token is a credential: registered so that redact() scrubs it from anything QTAU emits.
    secret_or_none(os.environ.get("RAY_AUTH_TOKEN"))
    try:
        from ray._raylet import (
            AuthenticationMode,
            AuthenticationTokenLoader,
            Config,
            get_authentication_mode,
        )

        wanted = AuthenticationMode.TOKEN if auth_mode() == "token" else AuthenticationMode.DISABLED
        if get_authentication_mode() != wanted:
            Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
    except Exception:  # an older or newer Ray without these internals reads the environment itself
        pass


def auth_error(address: str, refused: bool) -> AuthenticationError:
    """The error for a token-auth cluster this driver cannot authenticate to, saying what to set."""
    if auth_mode() != "token":
        return AuthenticationError(
            f"the Ray cluster at {address} requires token authentication, and this driver has "
            "RAY_AUTH_MODE unset (so Ray sends no token)", field="RAY_AUTH_MODE", value=os.environ.get("RAY_AUTH_MODE"),
            fix=f"set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN=<the cluster's token> before starting; {TOKEN_HELP}",
        )
    if not has_token() or not refused:
        return AuthenticationError(
            f"RAY_AUTH_MODE=token but no Ray token was found for the cluster at {address}",
            field="RAY_AUTH_TOKEN", value=None, fix=f"set RAY_AUTH_TOKEN=<the cluster's token>; {TOKEN_HELP}",
        )
    return AuthenticationError(
        f"the Ray cluster at {address} refused this driver's token", field="RAY_AUTH_TOKEN", value="<set>",
        fix=f"set RAY_AUTH_TOKEN to the cluster's own token; {TOKEN_HELP}",
    )


def _unreachable(address: str, why: str) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"no Ray cluster answers at {address}: {why}", field="ray_address", value=address,
        fix="check the address `ray start --head` printed (host:port of the head node's GCS, default port 6379) "
        "and that the head is running (`ray status`), or unset ray_address / RAY_ADDRESS to start a local Ray",
    )


def _probe_gcs(address: str) -> BaseException | None:
    """Ask the GCS for a key with a made-up cluster id: a reachable GCS answers at once, with an
    authentication error when it refuses this driver's token, or with a cluster-id mismatch when
    it accepts it. Returns the error, or None when the GCS answered."""
    from ray._raylet import GcsClient

    client = GcsClient(address=address, cluster_id="ab" * 28)
    client.internal_kv_get(b"qtau-probe", None, timeout=PROBE_TIMEOUT_S)
    return None


def preflight(address: str) -> None:
    """Fail within seconds, with the fix, when `address` cannot be joined; return when it can."""
    target = host_port(address)
    if target is None:
        return
    sync_ray_auth_settings()
    try:
        with socket.create_connection(target, timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:
        raise _unreachable(address, f"{type(err).__name__}: {err}") from None
    box: dict[str, Any] = {}

    def probe() -> None:
        try:
            _probe_gcs(address)
        except BaseException as err:
            box["error"] = err
        box["done"] = True

    # Ray's client waits 10 s for a port that accepts TCP but does not speak its protocol: a daemon
    # thread lets the caller give up earlier; the thread ends by itself.
    thread = threading.Thread(target=probe, name="qtau-ray-probe", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S + 1)
    if not box.get("done"):
        raise _unreachable(address, f"the port accepts connections but no Ray GCS answered within {PROBE_TIMEOUT_S:g} s")
    error = box.get("error")
    if error is None:
        return
    text = str(error)
    if "InvalidAuthToken" in text or "no authentication token" in text:
        raise auth_error(address, refused="InvalidAuthToken" in text) from None
    if "WrongClusterID" in text or "cluster ID" in text.lower() or "cluster id" in text.lower():
        return  # the GCS answered and accepted this driver's settings
    raise _unreachable(address, f"{type(error).__name__}: {text.splitlines()[0][:200]}")


def check_same_cluster(address: str, connected: str) -> None:
    """Refuse a `ray_address` naming another cluster than the Ray already initialised in this
    process (`connected`, its GCS address): one process joins one Ray, and the named address was
    silently ignored, so the tasks ran on the Ray already there (a laptop's local Ray, say).
    Ports are compared: Ray advertises the machine's interface address even when given 127.0.0.1."""
    target = host_port(address)
    if target is None:  # `auto`, `local` and `ray://` addresses: Ray resolves them, nothing to compare
        return
    here = host_port(connected) if connected else None
    if here is None or here[1] == target[1]:
        return
    raise ConfigurationError(
        f"ray_address {address!r} names another cluster than the Ray already initialised in this "
        f"process (at {connected})", field="ray_address", value=address,
        fix=f"call ray.shutdown() before starting the service to join {address}, or leave ray_address "
            f"unset to run on the Ray at {connected}",
    )


#: Further tries of a local Ray start whose node did not register within Ray's fixed 30 s
#: (`RayEngine.start`; `init_error` says how many tries there were).
LOCAL_START_RETRIES = 1


def start_timed_out(err: BaseException) -> bool:
    """Whether `ray.init` failed because a node it started did not register in time (Ray waits a
    fixed 30 s for its raylet: a loaded machine, not a wrong setting)."""
    return "timed out during startup" in str(err)


def init_error(address: str | None, err: BaseException) -> QtauError:
    """A QtauError for a failed `ray.init`, keeping Ray's own words for what QTAU cannot classify."""
    text = f"{type(err).__name__}: {err}"
    if type(err).__name__ == "AuthenticationError" or "InvalidAuthToken" in text:
        return auth_error(address or "the local Ray", refused="InvalidAuthToken" in text)
    if not address and start_timed_out(err):
        return BackendUnavailableError(
            f"could not start a local Ray: its node did not register within Ray's 30 s, in {1 + LOCAL_START_RETRIES} "
            f"tries ({text.splitlines()[0][:200]})", field="execution_engine", value="ray",
            fix="the machine is too loaded to start Ray now: retry when it is quieter, start Ray yourself "
            "(`ray start --head`) and pass its address as ray_address, or use ExecutionEngine.LOCAL",
        )
    where = address or "a new local Ray"
    return BackendUnavailableError(
        f"could not start or join Ray at {where}: {text.splitlines()[0][:300]}",
        field="ray_address", value=address,
        fix="check the address (host:port of the head node's GCS) and, for token-auth clusters, RAY_AUTH_MODE=token "
        "with RAY_AUTH_TOKEN; or leave ray_address / RAY_ADDRESS unset for a local Ray",
    )
