"""A noise profile keyed by a device's native gates charges the logical gates QDREAMER ranks.

An AQT-style profile lists only `r` (one-qubit) and `rxx` (two-qubit) errors; a task's circuit
counts `h` and `cx`. Those must cost the mean of the listed errors of their arity, not nothing.
"""

import math

import pytest
from qtau.dreamer.terms import fidelity
from qtau.types import CircuitSummary, NoiseProfile

BELL = CircuitSummary(num_qubits=2, gate_counts={"h": 1, "cx": 1, "measure": 2}, num_measured=2)


def native(**rates: float) -> NoiseProfile:
    return NoiseProfile("aqt:offline", gate_errors={"r": 0.002, "rz": 0.0, "rxx": 0.02}, **rates)


def test_unlisted_gates_cost_the_mean_of_the_listed_gates_of_their_arity():
    profile = native(readout_error=0.01)
    assert profile.gate_error("h") == pytest.approx(0.001)  # mean of r and rz
    assert profile.gate_error("cx") == pytest.approx(0.02)  # rxx, the only two-qubit entry
    assert profile.gate_error("ccx") == pytest.approx(0.02)  # wider gates count with the two-qubit ones
    assert profile.gate_error("rxx") == 0.02 and profile.gate_error("r") == 0.002
    assert fidelity(profile, BELL) == pytest.approx(0.999 * 0.98 * 0.99**2)


def test_a_native_keyed_profile_ranks_below_an_ideal_one():
    assert fidelity(native(), BELL) < fidelity(NoiseProfile("ideal"), BELL) == 1.0
    worse = NoiseProfile("aqt:worse", gate_errors={"r": 0.002, "rxx": 0.2})
    assert fidelity(worse, BELL) < fidelity(native(), BELL)


def test_rates_the_plugin_gave_still_win_over_the_mean():
    profile = native(one_qubit_error=0.005, two_qubit_error=0.03)
    assert profile.gate_error("h") == 0.005 and profile.gate_error("cx") == 0.03
    assert profile.gate_error("rxx") == 0.02


def test_no_listed_gate_of_an_arity_keeps_its_rate():
    profile = NoiseProfile("x", gate_errors={"rxx": 0.02, "measure": 0.5})
    assert profile.gate_error("h") == 0.0  # measure is a directive, not a one-qubit gate
    assert math.isclose(profile.gate_error("cz"), 0.02)
