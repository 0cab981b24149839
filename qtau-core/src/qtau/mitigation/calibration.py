"""Readout calibrations kept per resource, reused until the resource's calibration changes.

A calibration (the counts of the calibration circuits) is keyed by the resource id, the pilot
config its executor was built with, what was calibrated (width, twirl masks) and the resource's
calibration stamp: `metadata["calibrated_at"]` where its plugin reports one (IBM devices publish
a calibration time), else the stamp of its noise settings. A new stamp means new circuits run;
entries also expire after `max_age_s` (devices drift between published calibrations).

Each calibration's mean readout error is also kept per resource (`observed`): QDREAMER predicts
the error of a (resource, technique) pair with what was measured there, once it has been, rather
than the plugin's profile (a median, or a fake backend's frozen snapshot). So are the latest
ZNE runs' measured circuit fidelities (`observed_decays`): how the resource's gates ran. And, per
circuit (by its OpenQASM 2 text's digest), the spread of its local observables a mitigated run
measured (`observed_spread`): the shot noise a prediction for that circuit expects.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict, deque
from typing import Any

from qtau.types import Resource

#: Seconds a calibration is trusted without a new stamp.
MAX_AGE_S = 900.0
MAX_ENTRIES = 256
#: ZNE measurements kept per resource (QDREAMER takes their median).
MAX_DECAYS = 32


def digest(text: str) -> str:
    """The key a circuit's observations are kept by: a digest of its OpenQASM 2 text."""
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def stamp(resource: Resource, config: Any) -> str:
    """What identifies the resource's current calibration."""
    meta = resource.metadata
    for key in ("calibrated_at", "calibrated", "calibration_time", "last_update_date"):
        if meta.get(key):
            return f"{key}={meta[key]}"
    return f"config={sorted((str(k), repr(v)) for k, v in dict(config or {}).items())!r}"


class CalibrationStore:
    """Calibration counts by key, thread-safe, oldest dropped past MAX_ENTRIES."""

    def __init__(self, max_age_s: float = MAX_AGE_S, clock: Any = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self.clock = clock
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        #: resource id -> (mean readout error its latest calibration measured, calibrations seen)
        self._observed: dict[str, tuple[float, int]] = {}
        #: resource id -> the latest ZNE runs' (measured circuit fidelity, gates as written, as run,
        #: two-qubit pairs as run)
        self._decays: dict[str, deque] = {}
        #: circuit digest -> the spread of its local observables a run measured (latest)
        self._spreads: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _live(self, now: float) -> list[tuple]:
        """The keys of the entries younger than `max_age_s`, oldest first. Under `_lock`."""
        return [k for k, (at, _) in self._entries.items() if now - at <= self.max_age_s]

    def _value(self, key: tuple) -> Any:
        """The entry of `key` if it is live, else None. Under `_lock`."""
        found = self._entries.get(key)
        return found[1] if found is not None and self.clock() - found[0] <= self.max_age_s else None

    def get(self, key: tuple) -> Any:
        with self._lock:
            found = self._value(key)
            if found is not None:
                self.hits += 1
                return found
            self._entries.pop(key, None)
            self.misses += 1
            return None

    def peek(self, key: tuple) -> Any:
        """The live entry of `key`, or None, without counting a hit or a miss (QDREAMER pricing
        a calibration, not running one)."""
        with self._lock:
            return self._value(key)

    def keys(self) -> list[tuple]:
        """The keys of the live entries, newest first."""
        with self._lock:
            return self._live(self.clock())[::-1]

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self.clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def observe(self, resource_id: str, readout_error: float) -> None:
        """Record the mean readout error a calibration of `resource_id` measured."""
        with self._lock:
            _, seen = self._observed.get(resource_id, (0.0, 0))
            self._observed[resource_id] = (float(readout_error), seen + 1)

    def observed(self, resource_id: str) -> tuple[float, int] | None:
        """(mean readout error of the latest calibration, calibrations seen), or None: what
        QDREAMER predicts readout error with in place of the plugin's profile once it has one."""
        with self._lock:
            return self._observed.get(resource_id)

    def observe_decay(self, resource_id: str, fidelity: float, written: dict[str, int],
                      as_run: dict[str, int], pairs: list | None = None) -> None:
        """Record the circuit fidelity a ZNE run on `resource_id` measured, with the circuit's gates
        as written and as an optimising transpiler runs them (`qtau.mitigation.as_run`), and the
        qubit pairs its two-qubit gates act on as they run ([a, b, count] each)."""
        with self._lock:
            self._decays.setdefault(resource_id, deque(maxlen=MAX_DECAYS)).append(
                (float(fidelity), dict(written), dict(as_run), [list(p) for p in pairs or ()]))

    def observed_decays(self, resource_id: str) -> list[tuple[float, dict[str, int], dict[str, int], list]]:
        """The latest ZNE runs' measurements on `resource_id`, oldest first (empty when none)."""
        with self._lock:
            return list(self._decays.get(resource_id, ()))

    def observe_spread(self, circuit: str, spread: float) -> None:
        """Record the spread (`distributions.local_spread`) a run of the circuit of digest
        `circuit` measured; the latest is kept, MAX_ENTRIES circuits at most."""
        with self._lock:
            self._spreads[circuit] = float(spread)
            self._spreads.move_to_end(circuit)
            while len(self._spreads) > MAX_ENTRIES:
                self._spreads.popitem(last=False)

    def observed_spread(self, circuit: str) -> float | None:
        """The spread a run of the circuit of digest `circuit` measured, or None."""
        with self._lock:
            return self._spreads.get(circuit)

    def info(self, resource_ids: list[str] | None = None) -> dict[str, Any]:
        """What the store holds, as plain values (`QDreamer.get_cache_info()["calibrations"]`):
        live calibrations, hits and misses, and per resource (those of `resource_ids`, or every one
        seen) its live calibrations and the mean readout error its latest one measured. Keys are
        not shown (they hold the pilot's settings)."""
        with self._lock:
            live = self._live(self.clock())
            ids = resource_ids if resource_ids is not None else sorted({k[0] for k in live} | set(self._observed))
            resources = {}
            for rid in ids:
                seen = self._observed.get(rid)
                resources[rid] = {"calibrations": sum(1 for k in live if k and k[0] == rid),
                                  "readout_error": None if seen is None else seen[0],
                                  "calibrations_seen": 0 if seen is None else seen[1],
                                  "zne_runs": len(self._decays.get(rid, ()))}
            return {"entries": len(live), "hits": self.hits, "misses": self.misses, "max_age_s": self.max_age_s,
                    "resources": resources}

    def forget(self, resource_ids: list[str]) -> None:
        """Drop the calibrations and observations of `resource_ids`: their next mitigated tasks
        calibrate again, and QDREAMER predicts from their profiles until they have."""
        gone = set(resource_ids)
        with self._lock:
            for key in [k for k in self._entries if k and k[0] in gone]:
                del self._entries[key]
            for rid in gone:
                self._observed.pop(rid, None)
                self._decays.pop(rid, None)

    def clear(self) -> None:
        with self._lock:
            self._spreads.clear()
            self._entries.clear()
            self._observed.clear()
            self._decays.clear()


#: The process's store (each worker process calibrates for itself).
STORE = CalibrationStore()
