"""The fix of a missing conversion path names each distribution once, and only what is missing:
an installed plugin the host did not load is said to be not loaded, never to be installed."""

import pytest
from qtau.circuits import Circuits, missing_path
from qtau.errors import CircuitConversionError
from qtau.path_hints import NOT_LOADED, is_installed, missing_path_hint, needed_distributions
from qtau.plugins import PluginHost


def nothing_installed(distribution: str) -> bool:
    """Stands in for an environment without QTAU's plugins (this one has all four installed)."""
    return False


def test_a_distribution_meeting_two_needs_is_named_once():
    # openqasm2 needs qtau-qiskit; openqasm3 needs qtau-qiskit or qtau-braket: qtau-qiskit meets both.
    assert needed_distributions("openqasm2", ["openqasm3"], {}, set()) == [("qtau-qiskit",)]
    hint = missing_path_hint("openqasm2", ["openqasm3"], {}, set(), installed=nothing_installed)
    assert hint == "install qtau-qiskit for a converter"
    alternatives = missing_path_hint("braket", ["openqasm3"], {}, set(), installed=nothing_installed)
    assert alternatives == "install qtau-braket for a converter"  # qtau-braket also reads openqasm3


def test_an_installed_plugin_the_host_did_not_load_is_not_to_be_installed():
    """A host with no plugin (as qtau.testing builds for one plugin under test) in this environment,
    where qtau-qiskit is installed: the error says it is not loaded, and how to load it."""
    assert is_installed("qtau-qiskit") and not is_installed("qtau-no-such-plugin")
    graph = Circuits(PluginHost(strict=True)).graph
    with pytest.raises(CircuitConversionError) as info:
        raise missing_path("openqasm2", ["openqasm3"], graph)
    message = str(info.value)
    assert f"qtau-qiskit is {NOT_LOADED}" in message and "companion_plugins" in message
    assert "install qtau-qiskit" not in message and message.count("qtau-qiskit") == 1


def test_missing_and_unloaded_are_told_apart():
    hint = missing_path_hint("pennylane_qnode", ["braket"], {}, set(),
                             installed=lambda d: d == "qtau-braket")
    assert hint == f"install qtau-pennylane for a converter; qtau-braket is {NOT_LOADED}"


def test_unknown_formats_fall_back_to_the_general_advice():
    assert missing_path_hint("aqt_native", ["cirq"], {}, set()) == (
        "install the QTAU plugin of the circuit's SDK and of the target backend")
