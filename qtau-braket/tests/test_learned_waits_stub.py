"""QDREAMER learns the wait Braket's queue depth does not show, over real HTTP to the offline stub.

The stub (`qtau_braket.testing.stub_server`, 127.0.0.1) reports an empty queue for SV1 while each
task waits `run_delay_s` QUEUED before it runs: the time another user's running job would take.
Tasks go through the plugin's boto3 code and core's tracker; the per-user model is written under
tmp_path (QTAU_CACHE_DIR).
"""

from __future__ import annotations

import pytest
from braket.circuits import Circuit
from qtau.service import PilotComputeService
from qtau.types import QuantumTask

SV1 = "braket:arn:aws:braket:::device/quantum-simulator/amazon/sv1"


@pytest.fixture
def slow_stub(fresh_stub):
    fresh_stub.run_delay_s = 1.5
    yield fresh_stub
    fresh_stub.run_delay_s = 0.0


def test_tasks_that_waited_unseen_teach_the_wait_model(host, slow_stub, tmp_path, monkeypatch):
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path))
    description = {"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **slow_stub.config()}
    with PilotComputeService(execution_engine="local", plugins=host) as pcs:
        pcs.create_pilot(description)
        for _ in range(2):
            result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=Circuit().h(0), shots=10)), timeout=60)
            assert result.resource_id == SV1
        learned = pcs.qdreamer.waits.info()[SV1]
        assert learned["observations"] == pytest.approx(2.0, abs=0.01)
        assert learned["p_late"] > 0.5 and learned["late_s"] > 0.5
        # An overdue task there is now expected to stay behind as long as those did.
        assert pcs.qdreamer.waits.expected(SV1, late_s=0.1).extra_s > learned["late_s"]
        pcs.qdreamer.waits.flush()
    assert (tmp_path / "waits.json").exists()
