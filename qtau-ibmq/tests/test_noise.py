"""Noise profiles from the fakes' real calibration snapshots: robust medians, broken data flagged."""

import warnings

import pytest
from qtau.types import CircuitSummary
from qtau_ibmq import backends, noise


def profile_of(name):
    backend = backends.fake_backend(name)
    return noise.profile(f"ibmq:{name}", backend.target, "test")


def test_kyoto_placeholder_ecr_errors_are_flagged_not_used():
    prof = profile_of("fake_kyoto")  # every one of its 144 ECR calibrations reads 1.0
    assert prof.two_qubit_error == noise.FALLBACK["two_qubit"] < noise.BROKEN
    assert any(f.startswith("ecr: 144 of 144") for f in prof.flags)
    assert any("two_qubit_error" in f for f in prof.flags)
    assert "ecr" not in prof.gate_errors
    bell = CircuitSummary(num_qubits=2, gate_counts={"h": 1, "cx": 1, "measure": 2}, num_measured=2)
    assert prof.estimate_fidelity(bell) > 0.8  # not poisoned to ~0


def test_one_bad_coupler_is_left_out_of_the_median():
    prof = profile_of("fake_brisbane")
    assert any(f.startswith("ecr: 1 of 144") for f in prof.flags)
    assert 0.001 < prof.two_qubit_error < 0.02
    assert 0.005 < prof.readout_error < 0.05
    assert 100 < prof.t1_us < 500 and 50 < prof.t2_us < 500
    assert prof.gate_errors["rz"] == 0.0 and prof.gate_errors["sx"] == prof.one_qubit_error


def test_broken_readout_is_flagged():
    prof = profile_of("fake_cusco")  # 27 qubits read out at >= 0.5
    assert any(f.startswith("measure: 27 of 127") for f in prof.flags)
    assert prof.readout_error < noise.BROKEN


def test_clean_snapshot_has_no_flags():
    prof = profile_of("fake_manila")
    assert prof.flags == ()
    assert 0.005 < prof.two_qubit_error < 0.02 and prof.gate_errors["cx"] == prof.two_qubit_error


@pytest.mark.parametrize("name", ["fake_fez", "fake_nighthawk", "fake_lagos", "fake_armonk"])
def test_profiles_stay_in_range(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prof = profile_of(name)
    for rate in (prof.one_qubit_error, prof.two_qubit_error, prof.readout_error, *prof.gate_errors.values()):
        assert 0.0 <= rate < noise.BROKEN


def test_noise_hook_reports_the_mimicked_device(host):
    res = backends.resources("ibmq_fake_sherbrooke", {})[0]
    prof = host.noise(res, {})
    assert prof.resource_id == "ibmq:fake_sherbrooke"
    assert "ibm_sherbrooke" in prof.source and "snapshot" in prof.source
