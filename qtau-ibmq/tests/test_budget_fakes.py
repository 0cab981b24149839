"""Quotes, budgets and shot splitting on IBM's fake backends (real SamplerV2 runs on Aer).

`pricing.price_as_device` prices a fake like the device it mimics (IBM's time-based price: about
2 s per sub-job + shots x (rep_delay + circuit duration), durations from the fake's Target), so
budgets can be rehearsed offline; local runs report no usage, so holds settle at the quote.
"""

from __future__ import annotations

import time

import pytest
from qtau.errors import BudgetExceededError
from qtau.plugins import PluginHost
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
PRICED = {"pricing": {"price_as_device": True}}


@pytest.fixture(scope="module")
def plugins():
    found = PluginHost(strict=True)
    found.load_entry_points(allow={"ibmq", "qiskit"})
    return found


def settled(pcs, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = pcs.qdreamer.budget_info()["service"]
        if not info["reserved"]:
            return info
        time.sleep(0.02)
    raise AssertionError("budget hold not settled")


def test_fake_priced_as_device_reserves_and_settles_its_quote(plugins):
    with PilotComputeService(execution_engine="local", plugins=plugins) as pcs:
        pcs.create_pilot({"quantum": {"executor": "ibmq_fake_manila", **PRICED}})
        pcs.initialize_dreamer({"budget": {"USD": 6}})
        [line] = pcs.quote(QuantumTask(circuit=BELL, shots=1000)).tasks[0].lines
        assert 3.2 < line.price < 3.7 and line.origin == "table"
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=BELL, shots=1000)), timeout=120)
        assert result.cost == pytest.approx(line.price)
        assert settled(pcs)["spent"] == pytest.approx(line.price)
        with pytest.raises(BudgetExceededError):
            pcs.submit_quantum_task(QuantumTask(circuit=BELL, shots=1000))


def test_split_over_two_fakes_merges_real_counts(plugins):
    with PilotComputeService(execution_engine="local", plugins=plugins) as pcs:
        pcs.create_pilot({"quantum": {"executor": "ibmq_fake_manila"}})
        pcs.create_pilot({"quantum": {"executor": "ibmq_fake_lima"}})
        pcs.initialize_dreamer({"optimization_mode": "high_fidelity",
                                "split": {"score_margin": 1.0, "fidelity_margin": 0.2}})
        result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=BELL, shots=2000, split=True)),
                                timeout=180)
        assert {p.resource_id for p in result.parts} == {"ibmq:fake_manila", "ibmq:fake_lima"}
        assert sum(p.shots for p in result.parts) == 2000 == sum(result.counts.values())
        correlated = result.counts.get("00", 0) + result.counts.get("11", 0)
        assert correlated > 0.8 * 2000, "noisy, but a Bell state on both devices"
