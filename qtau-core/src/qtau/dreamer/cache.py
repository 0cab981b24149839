"""Provider status, noise and cost per resource, cached with a TTL and refreshed in the background.

Providers rate-limit and answer slowly; QDREAMER asks each resource's plugin at most once per TTL
per kind of report, and counts hits, misses and provider calls so users can see what it saved.
Concurrent misses of one entry make one provider call: the others wait for it (single flight).
`clock` is injectable so a simulated workload can run hours of TTLs in milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from qtau.render_html import cache_info_html
from qtau.threads import long_lived

KINDS = ("status", "noise", "cost")

#: How long a lookup waits for another thread's provider call of the same entry before calling itself.
SINGLE_FLIGHT_WAIT_S = 30.0


class CacheInfo(dict):
    """What `get_cache_info()` returns: a plain dict of counters and entries that Jupyter shows as tables."""

    def _repr_html_(self) -> str:
        return cache_info_html(self)


class ProviderCache:
    def __init__(self, ttl_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[Any, float]] = {}
        self._pending: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.provider_calls = 0
        self.refresh_calls = 0
        #: Bumped on every write, so views built from entries (QDREAMER's snapshot) know to rebuild.
        self.version = 0
        self._monitor: Future | None = None
        self._monitor_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.monitor_interval: float | None = None

    def lookup(self, resource_id: str, kind: str, fetch: Callable[[], Any]) -> tuple[Any, float]:
        """(value, time it was fetched): from the cache while fresh, else from `fetch` (one call)."""
        key = (resource_id, kind)
        while True:
            now = self.clock()
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and now - entry[1] < self.ttl:
                    self.hits += 1
                    return entry
                waiting = self._pending.get(key)
                if waiting is None:
                    self.misses += 1
                    self._pending[key] = threading.Event()
                    break
            # Another thread is asking the provider for this entry: use its answer.
            if not waiting.wait(SINGLE_FLIGHT_WAIT_S):
                with self._lock:
                    self.misses += 1
                break
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and self.clock() - entry[1] < self.ttl:
                    self.hits += 1
                    return entry
        try:
            return self._fetch(key, fetch)
        finally:
            with self._lock:
                done = self._pending.pop(key, None)
            if done is not None:
                done.set()

    def count_hits(self, n: int) -> None:
        """Record `n` lookups answered from entries known to be fresh (QDREAMER's snapshot)."""
        with self._lock:
            self.hits += n

    def _fetch(self, key: tuple[str, str], fetch: Callable[[], Any], refresh: bool = False) -> tuple[Any, float]:
        with self._lock:
            self.provider_calls += 1
            if refresh:
                self.refresh_calls += 1
        value = fetch()
        entry = (value, self.clock())
        with self._lock:
            self._entries[key] = entry
            self.version += 1
        return entry

    def refresh(self, fetchers: dict[tuple[str, str], Callable[[], Any]], stop: threading.Event | None = None) -> None:
        """Fetch every given entry now (the monitor's tick). A failing fetch keeps the old value."""
        for key, fetch in fetchers.items():
            if stop is not None and stop.is_set():
                return
            try:
                self._fetch(key, fetch, refresh=True)
            except Exception:
                continue

    def invalidate(self, resource_id: str, kind: str | None = None) -> None:
        """Forget a resource's entries (all kinds, or one), so the next lookup asks the provider."""
        with self._lock:
            for k in (KINDS if kind is None else (kind,)):
                self._entries.pop((resource_id, k), None)
            self.version += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.version += 1

    def info(self) -> CacheInfo:
        now = self.clock()
        with self._lock:
            entries = {
                f"{rid}/{kind}": {"resource": rid, "kind": kind, "age_seconds": round(now - at, 3),
                                   "fresh": now - at < self.ttl}
                for (rid, kind), (_, at) in self._entries.items()
            }
            lookups = self.hits + self.misses
            return CacheInfo({
                "entries": entries,
                "size": len(entries),
                "hits": self.hits,
                "misses": self.misses,
                "lookups": lookups,
                "hit_rate": self.hits / max(lookups, 1),
                "provider_calls": self.provider_calls,
                "refresh_calls": self.refresh_calls,
                "ttl_seconds": self.ttl,
                "monitoring": self.monitoring,
                "monitor_interval_seconds": self.monitor_interval if self.monitoring else None,
            })

    # -- background monitoring -------------------------------------------------------------------

    @property
    def monitoring(self) -> bool:
        return self._monitor is not None and not self._monitor.done()

    def start_monitoring(self, interval: float, fetchers: Callable[[], dict]) -> None:
        """One daemon thread refreshing every entry each `interval` seconds until stopped."""
        self.stop_monitoring()
        self._stop = threading.Event()
        self.monitor_interval = interval
        stop = self._stop

        def loop() -> None:
            thread = self._monitor_thread = threading.current_thread()
            idle_name, thread.name = thread.name, "qtau-dreamer-monitor"
            running.set()
            try:
                while not stop.is_set():
                    self.refresh(fetchers(), stop)
                    stop.wait(interval)
            finally:
                thread.name = idle_name

        # On a long-lived thread (qtau.threads): reports may import an SDK for the first time.
        running = threading.Event()
        self._monitor = long_lived.submit(loop)
        running.wait(5.0)  # started (and named) when this returns, as a started Thread would be

    def stop_monitoring(self, timeout: float = 5.0) -> None:
        self._stop.set()
        monitor, self._monitor = self._monitor, None
        if monitor is not None and self._monitor_thread is not threading.current_thread():
            try:
                monitor.result(timeout)
            except Exception:  # noqa: S110 (a monitor that failed or outlived the timeout is let go)
                pass
