"""Quotes and budgets on the AWS path: Braket prices from the shipped table, reserved before each
CreateQuantumTask and settled on completion, against the 127.0.0.1 stub (real HTTP, real boto3)."""

from __future__ import annotations

import time

import pytest
from braket.circuits import Circuit
from qtau.errors import BudgetExceededError
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

IONQ = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"


def bell() -> Circuit:
    return Circuit().h(0).cnot(0, 1)


def settled(pcs, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = pcs.qdreamer.budget_info()["service"]
        if not info["reserved"]:
            return info
        time.sleep(0.02)
    raise AssertionError("budget hold not settled")


def test_ionq_tasks_are_quoted_reserved_and_refused_before_create(host, fresh_stub):
    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_ionq"}, **fresh_stub.config()})
        pcs.initialize_dreamer({"budget": {"USD": 10}})
        before = len(fresh_stub.tasks)  # the stub is shared by the session's tests
        [line] = pcs.quote(QuantumTask(circuit=bell(), shots=100)).tasks[0].lines
        assert line.resource_id == f"braket:{IONQ}" and line.price == pytest.approx(0.30 + 100 * 0.08)
        assert line.origin == "table" and line.as_of and "aws.amazon.com/braket/pricing" in line.source
        assert len(fresh_stub.tasks) == before, "a quote creates no quantum task"
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=100)), timeout=60)
        assert set(result.counts) <= {"00", "11"} and result.cost == pytest.approx(8.3)
        info = settled(pcs)
        assert info["spent"] == pytest.approx(8.3) and info["left"] == pytest.approx(1.7)
        created = len(fresh_stub.tasks)
        with pytest.raises(BudgetExceededError) as caught:
            pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=100))
        assert caught.value.price == pytest.approx(8.3) and caught.value.spent == pytest.approx(8.3)
        assert len(fresh_stub.tasks) == created, "the refused task never reached CreateQuantumTask"
    finally:
        pcs.close()


def test_a_pilot_price_override_prices_the_stub_device(host, fresh_stub):
    pcs = PilotComputeService(execution_engine="local", plugins=host)
    try:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_ionq"}, **fresh_stub.config(),
                          "prices": {f"braket:{IONQ}": {"per_shot": 0.01}}})
        pcs.initialize_dreamer({"budget": {"USD": 2}})
        [line] = pcs.quote(QuantumTask(circuit=bell(), shots=100)).tasks[0].lines
        assert line.origin == "override" and line.price == pytest.approx(0.30 + 1.0)
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=100)), timeout=60)
        assert settled(pcs)["spent"] == pytest.approx(1.3)
    finally:
        pcs.close()
