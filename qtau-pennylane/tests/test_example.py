"""The seed-style PennyLane example, unchanged, on every local pennylane_* executor.

The example builds its service the seed's way (autoloading plugins); the test hands it this
suite's explicit host instead, so nothing else installed takes part.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from qtau import ConfigurationError

EXAMPLE = Path(__file__).parents[2] / "examples" / "pennylane_bell.py"


@pytest.fixture(scope="module")
def example(host):
    spec = importlib.util.spec_from_file_location("pennylane_bell_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.PilotComputeService = functools.partial(module.PilotComputeService, plugins=host)
    return module


@pytest.mark.parametrize("executor", ["pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket"])
def test_bell_expectation_values_are_zero(example, executor, capsys):
    values = example.run(executor)
    assert isinstance(values, tuple) and len(values) == 2
    # Exact on default/lightning/braket (analytic); sampled with 1000 shots on Qiskit's devices.
    assert np.allclose(values, (0.0, 0.0), atol=0.15)
    assert "ran on pennylane:" in capsys.readouterr().out


def test_forest_gives_its_clear_error(example):
    with pytest.raises(ConfigurationError, match="braket_rigetti"):
        example.run("pennylane_forest")
