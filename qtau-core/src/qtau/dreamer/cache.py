"""Provider status, noise and cost per resource, cached with a TTL and refreshed in the background.

Providers rate-limit and answer slowly; QDREAMER asks each resource's plugin at most once per TTL
per kind of report, and counts hits, misses and provider calls so users can see what it saved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

KINDS = ("status", "noise", "cost")


class ProviderCache:
    def __init__(self, ttl_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[Any, float]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.provider_calls = 0
        self._monitor: threading.Thread | None = None
        self._stop = threading.Event()
        self.monitor_interval: float | None = None

    def get(self, resource_id: str, kind: str, fetch: Callable[[], Any]) -> Any:
        key = (resource_id, kind)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[1] < self.ttl:
                self.hits += 1
                return entry[0]
            self.misses += 1
        return self._fetch(key, fetch)

    def _fetch(self, key: tuple[str, str], fetch: Callable[[], Any]) -> Any:
        value = fetch()
        with self._lock:
            self.provider_calls += 1
            self._entries[key] = (value, self.clock())
        return value

    def refresh(self, fetchers: dict[tuple[str, str], Callable[[], Any]]) -> None:
        """Fetch every given entry now (the monitor's tick). A failing fetch keeps the old value."""
        for key, fetch in fetchers.items():
            try:
                self._fetch(key, fetch)
            except Exception:
                continue

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def info(self) -> dict[str, Any]:
        now = self.clock()
        with self._lock:
            entries = {
                f"{rid}/{kind}": {"resource": rid, "kind": kind, "age_seconds": round(now - at, 3),
                                   "fresh": now - at < self.ttl}
                for (rid, kind), (_, at) in self._entries.items()
            }
            return {
                "entries": entries,
                "size": len(entries),
                "hits": self.hits,
                "misses": self.misses,
                "provider_calls": self.provider_calls,
                "hit_rate": self.hits / max(self.hits + self.misses, 1),
                "ttl_seconds": self.ttl,
                "monitoring": self.monitoring,
                "monitor_interval_seconds": self.monitor_interval if self.monitoring else None,
            }

    # -- background monitoring -------------------------------------------------------------------

    @property
    def monitoring(self) -> bool:
        return self._monitor is not None and self._monitor.is_alive()

    def start_monitoring(self, interval: float, fetchers: Callable[[], dict]) -> None:
        """One daemon thread refreshing every entry each `interval` seconds until stopped."""
        self.stop_monitoring()
        self._stop = threading.Event()
        self.monitor_interval = interval
        stop = self._stop

        def loop() -> None:
            while not stop.is_set():
                self.refresh(fetchers())
                stop.wait(interval)

        self._monitor = threading.Thread(target=loop, name="qtau-dreamer-monitor", daemon=True)
        self._monitor.start()

    def stop_monitoring(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout)
        self._monitor = None
