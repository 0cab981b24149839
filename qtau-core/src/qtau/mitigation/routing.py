"""How many two-qubit gates routing adds to a circuit on a device with limited connectivity.

QDREAMER's gate counts are the circuit's own; on a device whose coupling map does not hold the
circuit's interaction graph, the transpiler adds SWAPs (three CX each), and a GHZ chain on a
T-shaped 5-qubit device pays for them. The estimate tries every placement of the interacting
qubits on the device when there are few enough (small devices, where it matters most), charging
each gate (distance - 1) SWAPs; otherwise it assumes a placement without SWAPs (a lower bound).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, deque
from collections.abc import Sequence
from typing import Any

from qtau.errors import QtauError
from qtau.mitigation.qasm_program import CALL, Program, _split_top

#: Most placements tried; beyond it no SWAPs are charged.
MAX_PLACEMENTS = 20_000


def interactions(text: str) -> Counter:
    """(qubit, qubit) -> how many multi-qubit gates act on the pair, from OpenQASM 2 text."""
    try:
        prog = Program.parse(text)
    except QtauError:
        return Counter()
    pairs: Counter = Counter()
    for st in prog.gates():
        m = CALL.match(st.rstrip(";").strip())
        if not m:
            continue
        refs = _split_top(m.group(3))
        try:
            qubits = [prog.index(r, True) for r in refs]
        except (QtauError, AttributeError):
            continue  # a whole-register argument: broadcast gates are rare in 2q calls
        for a, b in itertools.combinations(sorted(set(qubits)), 2):
            pairs[a, b] += 1
    return pairs


def _distances(edges: Sequence[tuple[int, int]], size: int) -> list[list[float]]:
    adj: dict[int, set[int]] = {q: set() for q in range(size)}
    for a, b in edges:
        if a < size and b < size:
            adj[a].add(b)
            adj[b].add(a)
    out = []
    for start in range(size):
        dist = [math.inf] * size
        dist[start] = 0
        queue = deque([start])
        while queue:
            q = queue.popleft()
            for n in adj[q]:
                if dist[n] == math.inf:
                    dist[n] = dist[q] + 1
                    queue.append(n)
        out.append(dist)
    return out


def extra_two_qubit_gates(pairs: Counter, coupling_map: Sequence[tuple[int, int]] | None, size: int) -> int:
    """Two-qubit gates the best placement adds (3 per SWAP); 0 without a coupling map or when the
    placements are too many to try."""
    if not pairs or not coupling_map:
        return 0
    logical = sorted({q for pair in pairs for q in pair})
    if len(logical) > size or math.perm(size, len(logical)) > MAX_PLACEMENTS:
        return 0
    dist = _distances(coupling_map, size)
    best = _least(pairs, logical, size, lambda a, b: dist[a][b] - 1)
    return 0 if best == math.inf else int(3 * best)


def _least(pairs: Counter, logical: list, size: int, cost: Any) -> float:
    """The least sum over interacting pairs of count x cost(physical a, physical b) over every
    placement of the `logical` qubits on `size` physical ones (stops early at 0)."""
    return _best(pairs, logical, size, cost)[0]


def _best(pairs: Counter, logical: list, size: int, cost: Any) -> tuple[float, tuple[int, ...] | None]:
    """`_least`'s sum and the placement (physical qubit per `logical` one) that reaches it."""
    index = {q: i for i, q in enumerate(logical)}
    weighted = [(index[a], index[b], n) for (a, b), n in pairs.items()]
    best, where = math.inf, None
    for placement in itertools.permutations(range(size), len(logical)):
        total = 0.0
        for a, b, n in weighted:
            total += n * cost(placement[a], placement[b])
            if total >= best:
                break
        if total < best:
            best, where = total, placement
        if best == 0:
            break
    return best, where


def neglog(value: float) -> float:
    """-log(1 - value) of an error probability (clipped to [0, 0.999999]): errors of gates in a row
    add in this form."""
    return -math.log1p(-min(max(float(value), 0.0), 0.999999))


def _weights(edge_errors: Sequence[Sequence[float]]) -> dict[tuple[int, int], float]:
    """-log(1 - error) per directed link, the least of the link's rows ((a, b, error, ...) each)."""
    out: dict[tuple[int, int], float] = {}
    for row in edge_errors:
        a, b, value = row[0], row[1], row[2]
        weight = neglog(value)
        for key in ((int(a), int(b)), (int(b), int(a))):
            out[key] = min(out.get(key, math.inf), weight)
    return out


def placed_links(pairs: Counter, edge_errors: Sequence[Sequence[float]], size: int) -> Counter | None:
    """(physical a, physical b) -> how many two-qubit gates run on that link, on the SWAP-free
    placement of least error (see `placed_two_qubit_error`); None as that function's None."""
    if not pairs or not edge_errors:
        return None
    return _placed(pairs, _weights(edge_errors), size)


def _placed(pairs: Counter, cost_of: dict[tuple[int, int], float], size: int) -> Counter | None:
    """`placed_links` given the links' weights (`_weights`)."""
    logical = sorted({q for pair in pairs for q in pair})
    if len(logical) > size or math.perm(size, len(logical)) > MAX_PLACEMENTS:
        return None
    best, where = _best(pairs, logical, size, lambda a, b: cost_of.get((a, b), math.inf))
    if best == math.inf or where is None:
        return None
    at = dict(zip(logical, where, strict=True))
    return Counter({(min(at[a], at[b]), max(at[a], at[b])): n for (a, b), n in pairs.items()})


def placed_two_qubit_error(pairs: Counter, edge_errors: Sequence[Sequence[float]], size: int) -> float | None:
    """The two-qubit error of the circuit on the best SWAP-free placement of its interacting
    qubits, weighted by how often each pair interacts: 1 - exp(-sum n_e * -log(1 - err_e) / sum n_e).

    A transpiler that knows the calibration places the circuit on the qubits of least error
    (Qiskit's VF2PostLayout), so the device's median two-qubit error says little about a small
    circuit on a device with a few good and a few bad links (a GHZ chain on `fake_lima`'s T runs on
    its worst link; on `fake_manila`'s line it can avoid it). `edge_errors`: (a, b, error) per
    coupled pair. None when no placement avoids SWAPs, the placements are too many to try, or the
    circuit has no two-qubit gate: the profile's median then stands."""
    if not pairs or not edge_errors:
        return None
    cost_of = _weights(edge_errors)
    links = _placed(pairs, cost_of, size)
    if links is None:
        return None
    return 1 - math.exp(-sum(n * cost_of[link] for link, n in links.items()) / sum(links.values()))


def link_sums(links: Counter, rows: Sequence[Sequence[float]]) -> tuple[float, ...] | None:
    """Per value column of `rows` ([a, b, v1, v2, ...] per link), the sum over `links` of count x
    value; None when a link has no row."""
    table = {}
    for row in rows:
        table[int(row[0]), int(row[1])] = table[int(row[1]), int(row[0])] = [float(v) for v in row[2:]]
    if not links or any(link not in table for link in links):
        return None
    width = min(len(table[link]) for link in links)
    return tuple(sum(n * table[link][i] for link, n in links.items()) for i in range(width))
