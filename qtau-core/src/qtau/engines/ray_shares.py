"""How RAY's batching actor shares a coalesced batch among the nodes: plain arithmetic, no Ray.

A node's share follows the CPUs this service can use there, less what it already queued there:
- **Own work is known, not guessed.** The actor counts the batch parts it sent to each node (and
  those that ended a moment ago, which Ray's resource view still shows busy); the driver tells it
  how many single tasks it sent straight to Ray (their node is Ray's choice, so each of them may be
  on any node). Only CPUs Ray's view shows busy beyond all of that count as *foreign* work.
- **Foreign work must persist.** Ray's view lags task starts and ends, so a node counts as held by
  foreign work only for as many CPUs as `FOREIGN_VIEWS` recent views (spread over at least
  `FOREIGN_SPAN_S`) all show; fewer or older views mean no foreign work. Before, a few stale views
  that caught this service's own direct tasks made a free node look full and the whole burst went
  to the other node (tests/test_ray_cluster.py, 2 of 8 loaded full-suite runs).
- **Backlog evens out.** Members go one at a time to the node whose queue per usable CPU is
  shortest once it has them (water-filling), so a burst on idle nodes is split in proportion to
  their CPUs, a node whose CPUs are free never gets nothing while another has a queue, and a
  single-member batch goes to the least loaded node rather than always the first.
"""

from __future__ import annotations

import heapq
from collections import deque

#: Views of Ray's free CPUs that must all show a node's CPUs busy before they count as foreign.
FOREIGN_VIEWS = 4
#: The views that decide must span at least this many seconds (a lagging view passes in ~1 s).
FOREIGN_SPAN_S = 1.5
#: Views older than this are forgotten (what Ray showed a burst ago says nothing of now).
FOREIGN_WINDOW_S = 5.0
#: Seconds a batch part that ended still counts as this service's work on its node (Ray's lag).
ENDED_LAG_S = 1.0


class ForeignWork:
    """CPUs that work other than this service's holds on each node, from Ray's lagging views."""

    def __init__(self) -> None:
        self._views: deque[tuple[float, dict[str, float]]] = deque(maxlen=FOREIGN_VIEWS)

    def add(self, at: float, total: dict[str, float], free: dict[str, float], ours_here: dict[str, float],
            ours_anywhere: float) -> None:
        """One view of Ray: `total` and `free` CPUs per node; `ours_here` CPUs this service is known
        to use per node; `ours_anywhere` CPUs it uses on nodes it does not know (each could be here)."""
        self._views.append((at, {
            n: max(total[n] - free.get(n, total[n]) - min(ours_here.get(n, 0.0), total[n]) - ours_anywhere, 0.0)
            for n in total
        }))

    def cpus(self, now: float) -> dict[str, float]:
        """Foreign CPUs per node that every recent view agrees on ({} while the views are too few,
        too close together or too old to tell lasting work from Ray's lag)."""
        recent = [(at, view) for at, view in self._views if now - at <= FOREIGN_WINDOW_S]
        if len(recent) < FOREIGN_VIEWS or recent[-1][0] - recent[0][0] < FOREIGN_SPAN_S:
            return {}
        return {n: min(view.get(n, 0.0) for _, view in recent) for n in recent[-1][1]}


def usable_cpus(total: dict[str, float], foreign: dict[str, float]) -> dict[str, float]:
    """CPUs of each node this service may fill: its CPUs less foreign work. When foreign work seems
    to hold every node, all CPUs count (a part waits in a node's queue rather than nowhere)."""
    usable = {n: max(cpus - foreign.get(n, 0.0), 0.0) for n, cpus in total.items()}
    return usable if any(c > 0 for c in usable.values()) else {n: c for n, c in total.items() if c > 0}


def shares(count: int, usable: dict[str, float], backlog: dict[str, int]) -> dict[str, int]:
    """Members of a batch of `count` per node: each goes to the node with the shortest queue per
    usable CPU after taking it (`backlog`: members this service already queued there); ties go to
    the node with more CPUs, then the one named first. Nodes with no usable CPU get none."""
    heap = [((backlog.get(n, 0) + 1) / cpus, -cpus, i, n) for i, (n, cpus) in enumerate(usable.items()) if cpus > 0]
    heapq.heapify(heap)
    out = {n: 0 for n, cpus in usable.items() if cpus > 0}
    for _ in range(count if heap else 0):
        _, neg_cpus, i, n = heapq.heappop(heap)
        out[n] += 1
        heapq.heappush(heap, ((backlog.get(n, 0) + out[n] + 1) / -neg_cpus, neg_cpus, i, n))
    return {n: k for n, k in out.items() if k}


def split(members: list, per_node: dict[str, int]) -> list[tuple[str, list]]:
    """`members` cut into consecutive parts of the sizes `per_node` gives (they sum to its length)."""
    parts, start = [], 0
    for node, size in per_node.items():
        parts.append((node, members[start:start + size]))
        start += size
    return parts
