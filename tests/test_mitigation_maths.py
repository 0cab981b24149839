"""The mitigation maths against exact numbers (issue 27 item 1): extrapolation weights, tensored
readout inversion, TREX over every twirl, Z-string expectations. No circuits run here."""


import numpy as np
import pytest
from qtau.errors import MitigationError
from qtau.mitigation import (
    Assignment,
    extrapolate,
    linear_weights,
    readout,
    richardson_weights,
    trex,
    z_expectation,
)
from qtau.mitigation.distributions import to_dict, to_vector, walsh_hadamard
from qtau.mitigation.extrapolation import variance_factor


def test_richardson_weights_are_lagrange_at_zero():
    assert richardson_weights([1, 3, 5]) == pytest.approx([15 / 8, -10 / 8, 3 / 8])
    assert richardson_weights([1, 2]) == pytest.approx([2, -1])


def test_richardson_recovers_a_polynomial_of_its_degree_exactly():
    def f(s):
        return 0.9 - 0.07 * s + 0.004 * s**2

    scales = [1, 3, 5]
    assert extrapolate(scales, [f(s) for s in scales]) == pytest.approx(0.9)
    # Non-integer scales (partial folding) too.
    scales = [1, 1.5, 2.25]
    assert extrapolate(scales, [f(s) for s in scales]) == pytest.approx(0.9)


def test_linear_fit_is_least_squares_intercept():
    scales, values = [1, 3, 5], [0.8, 0.62, 0.41]
    slope, intercept = np.polyfit(scales, values, 1)
    assert extrapolate(scales, values, "linear") == pytest.approx(intercept)
    assert linear_weights([1, 3]) == pytest.approx([1.5, -0.5])


def test_extrapolation_is_linear_in_distributions():
    rows = np.array([[0.7, 0.3], [0.6, 0.4], [0.5, 0.5]])
    out = extrapolate([1, 2, 3], rows)
    assert out == pytest.approx([0.8, 0.2])


def test_variance_factor_is_the_sum_of_squared_weights():
    assert variance_factor([1, 3, 5], "richardson") == pytest.approx((225 + 100 + 9) / 64)


def test_bad_scale_factors_are_refused():
    with pytest.raises(MitigationError) as err:
        richardson_weights([1, 1])
    assert err.value.field == "mitigation.scale_factors"


def _noisy(p, mats):
    """Exact noisy distribution: kron of per-bit matrices, bit 0 rightmost (last in kron)."""
    big = np.array([[1.0]])
    for m in reversed(mats):  # bit n-1 first
        big = np.kron(big, np.array(m))
    return big @ p


def test_readout_inversion_recovers_the_true_distribution_exactly():
    assignment = Assignment.from_errors([0.02, 0.05, 0.10], [0.04, 0.08, 0.03])
    true = np.array([0.5, 0, 0, 0.1, 0, 0.15, 0, 0.25])
    noisy = _noisy(true, [assignment.matrices[q] for q in range(3)])
    out = readout.mitigate(to_dict(noisy, 3), assignment, [0, 1, 2])
    assert to_vector(out, 3) == pytest.approx(true, abs=1e-12)


def test_readout_uses_the_qubit_each_bit_measured():
    # bit 0 read qubit 2, bit 1 read qubit 0: each bit gets that qubit's matrix.
    assignment = Assignment.from_errors([0.02, 0.3, 0.10], [0.04, 0.3, 0.03])
    true = np.array([0.6, 0.0, 0.1, 0.3])
    noisy = _noisy(true, [assignment.matrices[2], assignment.matrices[0]])
    out = readout.mitigate(to_dict(noisy, 2), assignment, [2, 0])
    assert to_vector(out, 2) == pytest.approx(true, abs=1e-12)


def test_calibration_counts_give_the_assignment_matrices():
    # all-0: qubit 0 reads 1 in 30 of 1000, qubit 1 in 50; all-1: qubit 0 reads 0 in 60, qubit 1 in 20.
    zeros = {"00": 920, "01": 30, "10": 50}
    ones = {"11": 920, "10": 60, "01": 20}
    a = Assignment.calibrate(zeros, ones, 2)
    assert np.array(a.matrices[0]) == pytest.approx(np.array([[0.97, 0.06], [0.03, 0.94]]))
    assert np.array(a.matrices[1]) == pytest.approx(np.array([[0.95, 0.02], [0.05, 0.98]]))
    assert a.errors() == pytest.approx([0.045, 0.035])
    assert Assignment.from_plain(a.to_plain()).matrices == a.matrices


def test_a_readout_that_carries_no_information_is_refused():
    a = Assignment.from_errors([0.5], [0.5])
    with pytest.raises(MitigationError):
        readout.mitigate({"0": 5, "1": 5}, a, [0])


def test_trex_over_every_mask_recovers_the_true_distribution_exactly():
    bits = 3
    assignment = Assignment.from_errors([0.03, 0.07, 0.12], [0.05, 0.02, 0.09])
    mats = [assignment.matrices[q] for q in range(bits)]
    true = np.array([0.4, 0.05, 0, 0.1, 0.2, 0, 0.05, 0.2])
    masks = trex.masks(bits, 8, seed=1)
    assert sorted(masks) == list(range(8))

    def run(p):
        # What the device returns for each twirl: the flipped state, read through the noise.
        out = []
        for m in masks:
            read = _noisy(np.array([p[x ^ m] for x in range(8)]), mats)
            out.append({format(y, "03b"): round(1e12 * read[y]) for y in range(8)})
        return out

    zero = np.eye(8)[0]
    f = trex.factors(trex.merged(run(zero), masks, bits), bits)
    out = trex.correct(trex.merged(run(true), masks, bits), f, bits)
    assert to_vector(out, bits) == pytest.approx(true, abs=1e-9)


def test_random_masks_come_in_complementary_pairs():
    masks = trex.masks(10, 6, seed=3)
    assert len(masks) == 6
    for a, b in zip(masks[::2], masks[1::2], strict=True):
        assert a ^ b == 2**10 - 1
    assert masks == trex.masks(10, 6, seed=3)


def test_z_expectation_and_walsh_hadamard_agree():
    dist = {"00": 0.5, "01": 0.1, "10": 0.15, "11": 0.25}
    assert z_expectation(dist, "ZZ") == pytest.approx(0.5 - 0.1 - 0.15 + 0.25)
    assert z_expectation(dist, "IZ") == pytest.approx(0.5 - 0.1 + 0.15 - 0.25)  # bit 0 rightmost
    assert z_expectation(dist, 0b10) == pytest.approx(0.5 + 0.1 - 0.15 - 0.25)
    spectrum = walsh_hadamard(to_vector(dist, 2))
    for s in range(4):
        assert spectrum[s] == pytest.approx(z_expectation(dist, s))
    assert walsh_hadamard(spectrum) / 4 == pytest.approx(to_vector(dist, 2))


def test_counts_with_register_spaces_are_read():
    assert z_expectation({"0 1": 3, "1 1": 1}, 0b1) == pytest.approx(-1.0)


def test_expectation_refuses_a_pauli_it_cannot_read_from_counts_naming_it():
    """Counts hold Z-basis readings only: `expectation(result, "XZ")` gave <Z0> (X read as I),
    a label longer than the result's bits read the missing bits as 0, and '' or a list raised a
    bare ValueError / TypeError."""
    from qtau.errors import InvalidArgumentError
    from qtau.mitigation import expectation
    from qtau.types import Result

    counts = {"00": 40, "01": 10, "10": 15, "11": 35}
    result = Result("t", "r", "e", 100, counts=counts, metadata={"mitigation": {
        "technique": "readout", "quasi_probabilities": {"00": 0.45, "01": 0.05, "10": 0.1, "11": 0.4}}})
    assert expectation(result, "ZZ") == pytest.approx((0.45 - 0.05 - 0.1 + 0.4, 0.4 - 0.1 - 0.15 + 0.35))
    assert expectation(result, "zi") == expectation(result, "ZI") == expectation(result, 0b10)
    for bad in ("XZ", "ZY", "ZZZ", "Z", "", 4, -1, True, ["ZZ"], 1.0):
        with pytest.raises(InvalidArgumentError) as err:
            expectation(result, bad)
        assert err.value.field == "pauli" and "2 bits" in str(err.value), bad
    with pytest.raises(InvalidArgumentError, match="X or Y"):
        z_expectation(counts, "XZ")
