"""The wait a remote resource's provider does not report, learned from this user's own tasks.

Providers report the jobs waiting in their queue (IBM's `pending_jobs`, Braket's queue depth),
never the one running, and only once per cache TTL: a device that reports an empty queue may be
busy with another user's job for minutes. QDREAMER expects each task it places to complete at
reported queue wait + its own tasks ahead + run time; the task's actual completion (placement to
result, on QDREAMER's clock) is later than that by the wait the reports missed.

`WaitModel` learns that gap from every task QDREAMER placed on a remote resource and saw succeed,
per resource and per hour of the week (UTC: other users keep working hours), decaying:

- how often a task there ends late at all (`p_late`), and
- how late the late ones end (`late_s`, mean and spread): the size of what the reports missed.

Its estimate takes the lateness rule (`dreamer.lateness`) as an input. While none of this
service's tasks on the resource is overdue, the expected extra is 0: most tasks see no hidden wait
(measured in benchmarks/scheduling.py: adding the learned mean to every resource's expectation
instead spread the penalty over idle and busy devices alike, stacked tasks on the few with a low
mean, and made completions 60% slower). Once the oldest task there is `late` seconds overdue, a
hidden job is certainly ahead, and the expected extra is `late` + the learned `late_s`: how much
longer such a wait lasts (the remaining time of a job whose length is exponential-like, as other
users' jobs are, does not shrink with the time already waited). Without observations the extra is
`late` alone, the lateness rule as it was.

A resource with few observations borrows from its provider's (every resource of the provider,
`PRIOR_WEIGHT` pseudo-observations of it); an hour-of-week bucket with few observations borrows
from its resource's all-hours estimate the same way. Observations decay exponentially (the
all-hours estimate with `HALF_LIFE_S`; a weekly bucket, seen once a week, with
`BUCKET_HALF_LIFE_S`), so a device whose users come or go is learned again.

The model is kept per user (`default_path`: platformdirs' user cache directory, or
`QTAU_CACHE_DIR`), so a new service starts from what earlier ones saw; a QDREAMER on an injected
(simulated) clock keeps it in memory only.
"""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import platformdirs

log = logging.getLogger(__name__)

#: Half-life of a resource's all-hours estimate: recent hours count most.
HALF_LIFE_S = 6 * 3600.0
#: Half-life of an hour-of-week bucket: it is seen once a week, so it keeps a few weeks.
BUCKET_HALF_LIFE_S = 21 * 86400.0
#: Pseudo-observations of the wider estimate (provider for a resource, all hours for a bucket).
PRIOR_WEIGHT = 2.0
#: A task that ends less late than this (seconds) ended on time: clocks and polling jitter.
ON_TIME_S = 0.5
#: Seconds between writes of the per-user file (observations in between are written together).
SAVE_INTERVAL_S = 10.0
FILE_NAME = "waits.json"
FORMAT = 1


def default_path() -> Path:
    """Where the per-user wait model lives: `$QTAU_CACHE_DIR/waits.json`, else platformdirs'
    user cache directory for qtau."""
    base = os.environ.get("QTAU_CACHE_DIR") or platformdirs.user_cache_dir("qtau", appauthor=False)
    return Path(base) / FILE_NAME


def hour_of_week(at: float) -> int:
    """0-167: the UTC hour of the week of epoch seconds `at` (0 = Thursday 00:00, the epoch's)."""
    return int(at // 3600.0) % 168


@attrs.frozen
class WaitEstimate:
    """The wait QDREAMER adds to a resource's reported one, where it comes from, how far off it runs.

    `extra_s`: seconds added to the provider's reported queue wait. `source`: "provider report"
    (nothing learned, nothing late), "lateness" (a task is overdue, nothing learned) or "learned
    from N observations" (of the resource, or of its provider's resources). `error_s`: the typical
    error of the estimate, the root mean square of the gaps seen (nan before any). `p_late`: the
    share of tasks that ended late there; `late_s`: how late those ended, on average.
    """

    extra_s: float
    source: str
    error_s: float
    observations: float = 0.0
    p_late: float = math.nan
    late_s: float = math.nan


@attrs.define(slots=True)
class _Stat:
    """Decayed counts of one resource (or bucket): every task, the late ones, their lateness
    (sum and sum of squares)."""

    n: float = 0.0
    late: float = 0.0
    total: float = 0.0
    squares: float = 0.0
    at: float = 0.0

    def decay(self, now: float, half_life: float) -> float:
        """The factor that ages these counts to `now`."""
        return 0.5 ** (max(now - self.at, 0.0) / half_life)

    def add(self, lateness: float, now: float, half_life: float) -> None:
        f = self.decay(now, half_life)
        self.n, self.late, self.total, self.squares = self.n * f, self.late * f, self.total * f, self.squares * f
        self.at = max(now, self.at)
        self.n += 1.0
        if lateness > ON_TIME_S:
            self.late += 1.0
            self.total += lateness
            self.squares += lateness * lateness

    def aged(self, now: float, half_life: float) -> tuple[float, float, float, float]:
        f = self.decay(now, half_life)
        return self.n * f, self.late * f, self.total * f, self.squares * f

    def dump(self) -> list[float]:
        return [self.n, self.late, self.total, self.squares, self.at]


def _blend(own: tuple[float, ...], prior: tuple[float, ...] | None, weight: float) -> tuple[float, float, float]:
    """(p_late, late_s, mean square gap) of `own` counts, each shrunk towards `prior`'s by
    `weight` pseudo-observations."""
    n, late, total, squares = own
    if prior is None or prior[0] <= 0:
        p0, m0, s0, w = 0.0, 0.0, 0.0, 0.0
    else:
        p0, m0, s0 = prior[1] / prior[0], prior[2] / prior[1] if prior[1] > 0 else 0.0, prior[3] / prior[0]
        w = weight
    p = (late + w * p0) / (n + w) if n + w > 0 else 0.0
    m = (total + w * m0) / (late + w) if late + w > 0 else 0.0
    s = (squares + w * s0) / (n + w) if n + w > 0 else 0.0
    return p, m, s


def _provider(resource_id: str) -> str:
    return resource_id.split(":", 1)[0] + ":"


class WaitModel:
    """Per remote resource, how late its tasks end against the provider's report: learned,
    per hour of the week, decaying.

    `path`: the JSON file that keeps it across services (None: memory only). `wall`: epoch
    seconds for decay and hour-of-week (a simulation passes its own clock).
    """

    def __init__(self, path: Path | None = None, wall: Callable[[], float] = time.time, *,
                 half_life_s: float = HALF_LIFE_S, bucket_half_life_s: float = BUCKET_HALF_LIFE_S) -> None:
        self.path = path
        self.wall = wall
        self.half_life_s = half_life_s
        self.bucket_half_life_s = bucket_half_life_s
        #: resource id (or "provider:") -> counts; "hour|resource id" -> the hour's counts.
        self._stats: dict[str, _Stat] = {}
        self._buckets: dict[str, _Stat] = {}
        self._lock = threading.Lock()
        self._loaded = path is None
        self._dirty = False
        self._saved_at = -math.inf
        self._flush_at_exit = False

    # -- learning --------------------------------------------------------------------------------

    def observe(self, resource_id: str, late_s: float, at: float | None = None) -> None:
        """A task on `resource_id` succeeded `late_s` seconds after QDREAMER expected it to
        (negative: sooner)."""
        if not math.isfinite(late_s):
            return
        at = self.wall() if at is None else at
        with self._lock:
            self._load()
            for key in (resource_id, _provider(resource_id)):
                self._stats.setdefault(key, _Stat()).add(late_s, at, self.half_life_s)
            self._buckets.setdefault(f"{hour_of_week(at)}|{resource_id}", _Stat()).add(
                late_s, at, self.bucket_half_life_s)
            self._dirty = True
            register = self.path is not None and not self._flush_at_exit
            self._flush_at_exit = self._flush_at_exit or register
        if register:  # what is learned after the last write is written at exit
            ref = weakref.ref(self)
            atexit.register(lambda: (m := ref()) is not None and m.flush())
        if self.path is not None and time.monotonic() - self._saved_at >= SAVE_INTERVAL_S:
            self.flush()

    # -- estimates -------------------------------------------------------------------------------

    def expected(self, resource_id: str, late_s: float = 0.0, at: float | None = None) -> WaitEstimate:
        """The extra wait of `resource_id` now, whose oldest in-flight task of this service is
        `late_s` seconds overdue (0: none is)."""
        at = self.wall() if at is None else at
        with self._lock:
            self._load()
            return self._estimate(resource_id, late_s, at)

    def _estimate(self, resource_id: str, late_s: float, at: float) -> WaitEstimate:
        late_s = max(late_s, 0.0)
        pooled = self._stats.get(_provider(resource_id))
        if pooled is None or pooled.aged(at, self.half_life_s)[0] <= 0.0:
            return WaitEstimate(late_s, "lateness" if late_s else "provider report", math.nan)
        prior = pooled.aged(at, self.half_life_s)
        stat = self._stats.get(resource_id)
        own = stat.aged(at, self.half_life_s) if stat is not None else (0.0, 0.0, 0.0, 0.0)
        p, m, s = _blend(own, prior, PRIOR_WEIGHT)
        bucket = self._buckets.get(f"{hour_of_week(at)}|{resource_id}")
        if bucket is not None:
            overall = (1.0, p, m * p, s)  # the all-hours estimate as one pseudo-observation's counts
            p, m, s = _blend(bucket.aged(at, self.bucket_half_life_s), overall, PRIOR_WEIGHT)
        if stat is None:
            source = f"learned from {round(pooled.n)} observations of other {_provider(resource_id)[:-1]} resources"
        else:
            source = f"learned from {round(stat.n)} observation{'s' if round(stat.n) != 1 else ''}"
        extra = late_s + m if late_s > 0 else 0.0
        return WaitEstimate(extra, source, math.sqrt(s), own[0], p, m)

    def behind(self, late: Mapping[str, float], at: float | None = None) -> dict[str, float]:
        """Seconds each resource in `late` (resource id -> how overdue this service's oldest task
        there is) is expected to be behind its report: lateness + how much longer such waits last."""
        if not late:
            return {}
        at = self.wall() if at is None else at
        with self._lock:
            self._load()
            if not self._stats:
                return dict(late)
            return {rid: self._estimate(rid, s, at).extra_s for rid, s in late.items()}

    # -- the cache API ---------------------------------------------------------------------------

    def info(self) -> dict[str, dict[str, Any]]:
        """Per resource with observations: its estimate now (nothing overdue), its source and
        error, the share of late tasks and how late (for `get_cache_info()`)."""
        at = self.wall()
        with self._lock:
            self._load()
            return {rid: attrs.asdict(self._estimate(rid, 0.0, at)) for rid in sorted(self._stats)
                    if not rid.endswith(":")}

    def clear(self) -> None:
        """Forget everything learned (the per-user file too)."""
        with self._lock:
            self._stats.clear()
            self._buckets.clear()
            self._loaded = True
            self._dirty = True
        self.flush()

    # -- the per-user file -----------------------------------------------------------------------

    def _load(self) -> None:
        """Read the per-user file once (under the lock); a missing or unreadable file is an empty
        model (logged), never an error: it is a cache."""
        if self._loaded:
            return
        self._loaded = True
        try:
            data = json.loads(self.path.read_text())
            if data.get("format") != FORMAT:
                return
            self._stats = {k: _Stat(*map(float, v)) for k, v in data["stats"].items()}
            self._buckets = {k: _Stat(*map(float, v)) for k, v in data["buckets"].items()}
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("ignoring the unreadable wait model %s: %s", self.path, err)
            self._stats, self._buckets = {}, {}

    def flush(self) -> None:
        """Write the model to its file now if anything changed (atomically: a reader never sees
        half of it)."""
        if self.path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            data = {"format": FORMAT, "stats": {k: s.dump() for k, s in self._stats.items()},
                    "buckets": {k: s.dump() for k, s in self._buckets.items()}}
            self._dirty = False
            self._saved_at = time.monotonic()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".waits-", dir=self.path.parent)
            with os.fdopen(fd, "w") as out:
                json.dump(data, out)
            os.replace(tmp, self.path)
        except OSError as err:
            log.warning("could not write the wait model to %s: %s", self.path, err)
