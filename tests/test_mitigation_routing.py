"""The routing estimate QDREAMER's mitigation pairs use (issue 27 item 3): SWAPs a circuit's
interaction graph needs on a coupling map, counted exactly on small devices."""

import math
from collections import Counter

import pytest
from qtau.mitigation.routing import extra_two_qubit_gates, interactions

LINE5 = [(0, 1), (1, 2), (2, 3), (3, 4)]
T5 = [(0, 1), (1, 2), (1, 3), (3, 4)]  # IBM's 5-qubit T (fake_lima, fake_belem)


def chain(n):
    body = "".join(f"cx q[{i}],q[{i + 1}];\n" for i in range(n - 1))
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{n}];\ncreg c[{n}];\nh q[0];\n{body}measure q -> c;\n'


def test_interactions_are_read_from_openqasm():
    assert interactions(chain(3)) == Counter({(0, 1): 1, (1, 2): 1})
    star = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg a[2];\nqreg b[2];\ncx a[0],b[1];\nccx a[0],a[1],b[0];\n'
    assert interactions(star) == Counter({(0, 3): 1, (0, 1): 1, (0, 2): 1, (1, 2): 1})


def test_a_chain_that_embeds_needs_no_swap():
    assert extra_two_qubit_gates(interactions(chain(5)), LINE5, 5) == 0
    assert extra_two_qubit_gates(interactions(chain(4)), T5, 5) == 0  # 0-1-3-4 is a path of the T


def test_a_chain_that_does_not_embed_pays_three_cx_per_swap():
    assert extra_two_qubit_gates(interactions(chain(5)), T5, 5) == 3
    # Every pair of 4 qubits interacting on a line: the best placement still needs SWAPs.
    full = Counter({(a, b): 1 for a in range(4) for b in range(a + 1, 4)})
    assert extra_two_qubit_gates(full, LINE5, 5) == 3 * (1 + 1 + 2)


def test_no_coupling_map_or_too_many_placements_charge_nothing():
    assert extra_two_qubit_gates(interactions(chain(5)), None, 5) == 0
    ring = [(i, (i + 1) % 127) for i in range(127)]
    assert extra_two_qubit_gates(Counter({(0, 1): 1, (1, 2): 1, (0, 2): 1}), ring, 127) == 0


def test_the_two_qubit_error_is_that_of_the_best_swap_free_placement():
    """A transpiler that knows the calibration places a circuit on the links of least error."""
    from qtau.mitigation.routing import placed_two_qubit_error

    lima = [[0, 1, 0.0083], [1, 2, 0.0060], [1, 3, 0.0098], [3, 4, 0.0204]]  # fake_lima's CX errors
    pair = placed_two_qubit_error(interactions(chain(2)), lima, 5)
    assert pair == pytest.approx(0.0060)  # one CX: on the best link
    four = placed_two_qubit_error(interactions(chain(4)), lima, 5)
    # A chain of 4 on the T must use 1-3 and 3-4 (the worst link): 0-1-3-4 or 2-1-3-4.
    expected = 1 - math.exp((math.log1p(-0.0060) + math.log1p(-0.0098) + math.log1p(-0.0204)) / 3)
    assert four == pytest.approx(expected)
    assert placed_two_qubit_error(interactions(chain(5)), lima, 5) is None  # needs a SWAP on the T
    assert placed_two_qubit_error(Counter(), lima, 5) is None
    assert placed_two_qubit_error(interactions(chain(3)), [], 5) is None
