"""Pilot-Quantum's resource_config keys: accepted as Pilot-Quantum writes them, bad values named."""

from __future__ import annotations

import pytest
from qtau.errors import InvalidTaskError
from qtau.journal import task_summary
from qtau.types import QuantumTask

QASM = 'OPENQASM 2.0; include "qelib1.inc"; qreg q[1]; creg c[1]; h q[0]; measure q[0] -> c[0];'


def test_pilot_quantum_resource_config_is_accepted_and_recorded():
    task = QuantumTask(circuit=QASM, resource_config={"num_qpus": 1, "num_gpus": 0, "memory": None})
    summary = task_summary(task)
    assert summary["resource_request"] == {"num_qpus": 1, "num_gpus": 0}
    task = QuantumTask(circuit=QASM, resource_config={"num_cpus": 0.5, "memory": 2 * 1024**3})
    assert task_summary(task)["resource_request"] == {"num_cpus": 0.5, "memory": 2 * 1024**3}


@pytest.mark.parametrize(("key", "value", "fix"), [
    ("num_qpus", 2, "split=True"),
    ("num_qpus", 0, "split=True"),
    ("num_gpus", -1, "num_gpus=1"),
    ("num_cpus", "two", "num_cpus=1"),
    ("memory", 1.5, "bytes"),
    ("num_gpus", True, "num_gpus=1"),
    ("num_cpus", float("nan"), "num_cpus=1"),
])
def test_values_that_cannot_be_honoured_are_named(key, value, fix):
    with pytest.raises(InvalidTaskError) as info:
        QuantumTask(circuit=QASM, resource_config={key: value})
    assert info.value.field == f"resource_config.{key}"
    assert fix in str(info.value)


def test_misspelled_request_key_gets_did_you_mean():
    with pytest.raises(InvalidTaskError, match="did you mean 'num_gpus'"):
        QuantumTask(circuit=QASM, resource_config={"num_gpu": 1})
