"""`LevelEstimates`, the `qtau_optimisation_levels` hook's answer: what it accepts and refuses."""

import pytest
from qtau.optimisation_levels import LevelEstimates


def test_a_mapping_of_levels_is_kept_in_level_order_and_the_chosen_estimate_is_the_fidelity():
    est = LevelEstimates({3: 0.86, 0: 0.81, 1: 0.84}, chosen=3, gate_fidelity=0.9, note="auto")
    assert est.estimated_fidelity == ((0, 0.81), (1, 0.84), (3, 0.86))
    assert est.fidelity == 0.86 and est.by_level[1] == 0.84
    assert est.describe() == "level 3 of 0: 0.8100, 1: 0.8400, 3: 0.8600 (chosen); auto"
    assert hash(est) == hash(LevelEstimates(((0, 0.81), (1, 0.84), (3, 0.86)), 3, 0.9, "auto"))


def test_a_chosen_level_without_an_estimate_is_refused():
    with pytest.raises(ValueError, match="chosen level 2"):
        LevelEstimates({0: 0.8, 1: 0.9}, chosen=2)


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_an_estimate_outside_zero_to_one_is_refused(bad):
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        LevelEstimates({0: bad}, chosen=0)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        LevelEstimates({0: 0.5}, chosen=0, gate_fidelity=bad)
