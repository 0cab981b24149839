"""Which Ray nodes may run this service's tasks: those where every plugin of the service imports.

Each alive node is checked once (a zero-CPU task pinned to the node imports the plugin modules).
Tasks then carry Ray's label selector on the default `ray.io/node-id` label naming the nodes that
passed, so Ray's own scheduler balances load among them and never sends a task to a node without
the plugins. Ray recommends this label over `NodeAffinitySchedulingStrategy` (labels are in Ray
since 2.49), and it needs nothing configured on the nodes. Nodes that join later are checked as
they appear (`refresh`) and used once they pass; nodes that leave drop out of the selector.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from qtau.errors import BackendUnavailableError, PluginError, QtauError

log = logging.getLogger("qtau")

NODE_ID_LABEL = "ray.io/node-id"


class NodePlacement:
    """Plugin check per Ray node, and the label selector of the nodes that passed."""

    def __init__(self, spec: Any, check: Callable[[Any], list[str]], refresh_s: float = 2.0,
                 answer_timeout_s: float = 60.0) -> None:
        self.spec = spec
        self._check = check
        self.refresh_s = refresh_s
        self.answer_timeout_s = answer_timeout_s
        self.passed: dict[str, str] = {}  # node id -> address
        self.lacking: dict[str, tuple[str, list[str]]] = {}  # node id -> (address, what is missing)
        self._pending: dict[str, tuple[Any, str, float]] = {}  # node id -> (check ref, address, started)
        self._gone: set[str] = set()
        self._last_refresh = 0.0
        self._selector: dict[str, str] | None = None
        self._settled = False
        # Threads may submit at once; one of them checks while the others wait for its answer.
        self._lock = threading.RLock()

    # -- checks ----------------------------------------------------------------------------------

    def _alive(self) -> dict[str, str]:
        import ray

        return {n["NodeID"]: n.get("NodeManagerAddress", "?") for n in ray.nodes() if n.get("Alive")}

    def _launch(self, alive: dict[str, str]) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        known = self.passed.keys() | self.lacking.keys() | self._pending.keys()
        for node_id, address in alive.items():
            if node_id in known:
                continue
            ref = self._check.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False), num_cpus=0, max_retries=0,
            ).remote(self.spec)
            self._pending[node_id] = (ref, address, time.monotonic())

    def start(self) -> None:
        with self._lock:
            self._launch(self._alive())
            self._last_refresh = time.monotonic()

    def _harvest(self, wait_s: float) -> None:
        """Record the checks that have answered (waiting up to `wait_s` for them)."""
        import ray

        if not self._pending:
            return
        refs = {entry[0]: node_id for node_id, entry in self._pending.items()}
        ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=wait_s)
        for ref in ready:
            node_id = refs[ref]
            _, address, _ = self._pending.pop(node_id)
            try:
                missing = ray.get(ref)
            except Exception as err:  # the node or its worker died while answering
                self._gone.add(node_id)
                self._node_lost(node_id, address, err)
                continue
            if missing:
                self.lacking[node_id] = (address, list(missing))
            else:
                self.passed[node_id] = address
        self._selector = None

    def _node_lost(self, node_id: str, address: str, err: BaseException | None) -> None:
        if not self._settled:
            why = f" ({type(err).__name__})" if err is not None else ""
            raise BackendUnavailableError(
                f"Ray node {address} ({node_id[:12]}) left the cluster during QTAU's plugin check{why}",
                field="ray node", value=address,
                fix="check the node with `ray status` (out of memory, preempted, stopped?); the next call goes on "
                "with the nodes that remain",
            )
        log.warning("Ray node %s (%s) left the cluster; QTAU no longer places tasks there", address, node_id[:12])

    def settle(self, timeout: float | None = None) -> None:
        """Wait for the pilot check: raises if a node died meanwhile or no node has every plugin.
        Once settled it returns at once; nodes that join later are checked by `refresh`."""
        with self._lock:
            if self._settled:
                return
            limit = self.answer_timeout_s if timeout is None else timeout
            deadline = time.monotonic() + limit
            while self._pending:
                self._harvest(min(0.5, max(deadline - time.monotonic(), 0.0)))
                if not self._pending:
                    break
                alive = self._alive()
                for node_id, (_, address, _) in list(self._pending.items()):
                    if node_id not in alive:
                        del self._pending[node_id]
                        self._node_lost(node_id, address, None)
                if time.monotonic() >= deadline and self._pending:
                    slow = ", ".join(address for _, address, _ in self._pending.values())
                    if self.passed:
                        log.warning("Ray nodes %s did not answer QTAU's plugin check yet; tasks go to the others", slow)
                        break
                    raise BackendUnavailableError(
                        f"no Ray node answered QTAU's plugin check within {limit:g} s: {slow}",
                        field="ray node", value=slow,
                        fix="check the cluster with `ray status` (are nodes overloaded or dying?), then try again",
                    )
            self._settled = True
            if self.lacking and self.passed:
                log.warning("QTAU plugins are missing on %d of %d Ray nodes; tasks run only on the others:\n  %s",
                            len(self.lacking), len(self.lacking) + len(self.passed), "\n  ".join(self.report()))
            if not self.passed:
                raise self.no_node_error()

    def refresh(self, force: bool = False) -> None:
        """Check nodes that joined since the last look; forget nodes that left (throttled)."""
        now = time.monotonic()
        if not force and now - self._last_refresh < self.refresh_s:
            return
        with self._lock:
            self._last_refresh = now
            self._harvest(0)
            alive = self._alive()
            for node_id in list(self.passed):
                if node_id not in alive:
                    address = self.passed.pop(node_id)
                    self._node_lost(node_id, address, None)
                    self._selector = None
            for node_id in list(self._pending):
                if node_id not in alive:
                    del self._pending[node_id]
            self._launch(alive)

    # -- answers ---------------------------------------------------------------------------------

    def report(self) -> list[str]:
        """One line per node lacking plugins: its address, id and what failed to import."""
        return [f"node {address} ({node_id[:12]}): {'; '.join(missing)}"
                for node_id, (address, missing) in sorted(self.lacking.items(), key=lambda kv: kv[1][0])]

    def no_node_error(self) -> QtauError:
        if not self.lacking:
            return BackendUnavailableError(
                "no Ray node that passed QTAU's plugin check is alive any more", field="ray node", value=None,
                fix="check the cluster with `ray status`; nodes that join are checked and used as they come",
            )
        names = sorted({m.split(" ")[0] for _, missing in self.lacking.values() for m in missing})
        return PluginError(
            "no Ray node can run this service's tasks: QTAU plugins are missing where tasks run:\n  "
            + "\n  ".join(self.report()),
            plugin=",".join(names) or "?",
            fix="install the same qtau plugins (and SDKs) on every node of the Ray cluster, e.g. in the "
            "node image or a Ray runtime_env; QTAU checks nodes again as they join",
        )

    def selector(self) -> dict[str, str]:
        """Ray `label_selector` naming the nodes that passed the check. With none left but new
        nodes being checked, waits for their answers rather than failing."""
        with self._lock:
            deadline = time.monotonic() + self.answer_timeout_s
            while not self.passed and self._pending and time.monotonic() < deadline:
                self.refresh(force=True)
                self._harvest(0.5)
            if not self.passed:
                raise self.no_node_error()
            if self._selector is None:
                self._selector = {NODE_ID_LABEL: f"in({','.join(sorted(self.passed))})"}
            return self._selector


# -- free CPUs per node (the batching actor splits coalesced batches by them) ----------------------


def selected_nodes(selector: dict[str, str] | None) -> list[str]:
    """The node ids a `NodePlacement.selector()` names (empty: no selector, every node)."""
    value = (selector or {}).get(NODE_ID_LABEL, "")
    if not value.startswith("in(") or not value.endswith(")"):
        return []
    return [n for n in value[3:-1].split(",") if n]


def cpus_per_node(nodes: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """(total, available) CPUs of each of `nodes` that is alive (all alive nodes when `nodes` is
    empty). Available comes from Ray's resource view, which lags task starts and ends a little."""
    import ray

    alive = {n["NodeID"]: float(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")}
    wanted = [n for n in nodes if n in alive] if nodes else list(alive)
    try:
        from ray._private.state import available_resources_per_node

        free = available_resources_per_node()
    except Exception:  # a Ray without the per-node view: every CPU counts as free
        free = {n: {"CPU": alive[n]} for n in wanted}
    return ({n: alive[n] for n in wanted},
            {n: float(free.get(n, {}).get("CPU", 0)) for n in wanted})
