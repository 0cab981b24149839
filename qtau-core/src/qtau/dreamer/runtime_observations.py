"""Observed batches of a local resource, and the fit rows they make: each batch charged its share
of the workers it ran beside.

A local simulator's batch is timed from the worker's preparation of its tasks (conversion counts)
to its result, its time shared equally among its members. Local simulators share one pool of
workers, so a stretch a batch ran beside n others is charged 1/(n+1) (`shared_seconds`): the tries
of a burst spread over every simulator run side by side, and a simulator tried beside a slow one
must not look slow for it. The chunks of one burst that ran side by side on one resource are one
row of the fit (`chunk_rows`).
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from qtau.dreamer.runtime_fit import features


@attrs.define
class Observation:
    """One batch on one resource (a single task is a batch of one): per-member run time and shape."""

    started: float
    ended: float
    members: int
    shots: float
    width: float
    gates: float
    prior_s: float
    #: The process's first batch on the resource (it paid for the executor's creation too).
    first: bool = False
    #: The share of its members whose circuits are Clifford only (`shape_of`).
    clifford: float = 0.0
    #: It has told plans of a surprise already, or was judged no news for good (`RuntimeModels._surprised`).
    surprised: bool = False
    #: The model's fit when its first member was observed: what plans had been told of it.
    told: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def seconds(self) -> float:
        return max(self.ended - self.started, 1e-6) / self.members


def chunk_rows(batches: list[Observation], everything: list[Observation]
               ) -> list[tuple[tuple[float, ...], float, float]]:
    """Fit rows of one model's batches, each charged its share of the workers (`shared_seconds`
    against `everything`), with the chunks of one burst as one row.

    A local batch is split into a chunk per worker (`Engine.parallelism`), and chunks that run side
    by side on one simulator slow each other unevenly (Aer's two chunks of a 1000-pub burst here:
    0.64 and 1.21 ms a pub, charged 0.32 and 0.9): what the burst cost a task is their charged
    time summed over their members (0.61 ms), not the two per-member times averaged as logs (0.54),
    which would favour a simulator whose chunks run side by side over one that runs a burst whole.
    Batches of one shape that overlap in time are such chunks; the row's batch size is a chunk's
    mean, as each paid a call's fixed part."""
    rows = []
    groups: list[list[Observation]] = []
    end = -math.inf
    for batch in sorted(batches, key=lambda o: o.started):
        if groups and batch.started < end and _shape(batch) == _shape(groups[-1][0]):
            groups[-1].append(batch)
        else:
            groups.append([batch])
            end = -math.inf
        end = max(end, batch.ended)
    for group in groups:
        took = sum(shared_seconds(o, everything) for o in group)
        members = sum(o.members for o in group)
        prior = sum(o.prior_s * o.members for o in group) / members
        g = group[0]
        rows.append((features(g.shots, g.width, g.gates, g.clifford, g.first),
                     math.log(took / members / max(prior, 1e-9)), members / len(group)))
    return rows


def _shape(batch: Observation) -> tuple[float, ...]:
    return batch.shots, batch.width, batch.gates, batch.clifford, batch.first


def shared_seconds(batch: Observation, others: list[Observation]) -> float:
    """The batch's time with every stretch it ran beside n other batches counted 1/(n+1).

    Local simulators share one pool of workers (and Python's lock, and PennyLane's): a batch that
    ran beside others, as the tries of a burst spread over every simulator do, took longer than it
    would have alone, by how much it shared the machine, and a simulator tried beside a slow one
    must not look slow for it. A stretch of n + 1 batches at once is charged equally to each
    (processor sharing), so the batches of a burst together are charged the burst's wall time."""
    start, end = batch.started, max(batch.ended, batch.started + 1e-6)
    edges = []
    for other in others:
        if other is not batch and other.started < end and other.ended > start:
            edges.append((max(other.started, start), 1))
            edges.append((min(other.ended, end), -1))
    if not edges:
        return end - start
    edges.sort()
    total, at, running = 0.0, start, 0
    for when, step in edges:
        total += (when - at) / (running + 1)
        at, running = when, running + step
    return max(total + (end - at) / (running + 1), 1e-6)
