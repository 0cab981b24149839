"""Bell circuits on several fake backends: noisy counts at the level the device's NoiseProfile predicts.

Everything runs offline: qiskit-ibm-runtime's fakes carry real calibration snapshots and run on Aer
in the runtime's local mode; QDREAMER reads their noise and queue through the plugin's hooks.
"""

import pytest
from qtau.payloads import Placement, TaskPayload
from qtau.service import PilotComputeService
from qtau.types import QuantumTask
from qtau.worker import run_task

# Small and large, CX and ECR devices; FakeBrisbane (127 qubits, rz/sx/ecr) takes ~3 s a run.
FAKES = ("fake_manila", "fake_nairobi", "fake_hanoi", "fake_brisbane")
SHOTS = 2000


@pytest.fixture(scope="module")
def service(host):
    pcs = PilotComputeService(execution_engine="local", plugins=host)
    for name in FAKES:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": f"ibmq_{name}", "seed_simulator": 5}})
    yield pcs
    pcs.close()


def odd_bound(profile, summary) -> float:
    """Largest plausible fraction of '01'+'10': every predicted error flips parity, x2 for what the medians miss, plus 4 sigma."""
    p_err = 1.0 - profile.estimate_fidelity(summary)
    return 2.0 * p_err + 4 * (max(p_err, 0.01) / SHOTS) ** 0.5


def test_bell_on_fakes_matches_noise_profiles(service, bell):
    from qtau_qiskit.formats import summary as summarize

    summary = summarize(bell(), "qiskit")
    checked = []
    for name in FAKES:
        rid = f"ibmq:{name}"
        res, cfg = service.qdreamer._pool[rid]
        profile = service.host.noise(res, cfg)
        # Route to this fake explicitly (QDREAMER would pick the best one): the worker's own path.
        task = QuantumTask(circuit=bell(), shots=SHOTS)
        result = run_task(TaskPayload(service.host.spec(), task, (Placement(res, cfg),), 0.0))
        assert result.resource_id == rid and result.attempts[-1].ok
        counts = result.get_counts()
        assert sum(counts.values()) == SHOTS and set(counts) <= {"00", "01", "10", "11"}
        odd = (counts.get("01", 0) + counts.get("10", 0)) / SHOTS
        bound = odd_bound(profile, summary)
        assert 0 < odd <= bound, f"{name}: odd fraction {odd:.3f}, bound {bound:.3f} from {profile}"
        assert counts["00"] > 0.35 * SHOTS and counts["11"] > 0.35 * SHOTS, counts
        checked.append((name, round(odd, 4), round(bound, 4)))
    print(checked)
    assert len(checked) == len(FAKES)


def test_qdreamer_sees_noise_and_queue(service, bell):
    table = service.qdreamer.explain(QuantumTask(circuit=bell(), shots=SHOTS))
    rows = {r.resource_id: r for r in table.rows}
    assert set(rows) == {f"ibmq:{n}" for n in FAKES}
    assert all(r.feasible for r in rows.values()), str(table)
    # Noise reaches the ranking: every fake is imperfect, and the fidelities differ per device.
    assert all(0.5 < r.fidelity < 1.0 for r in rows.values()), str(table)
    assert len({round(r.fidelity, 6) for r in rows.values()}) == len(FAKES)
    # Fakes are local: no provider queue, no cost.
    for rid, row in rows.items():
        res, cfg = service.qdreamer._pool[rid]
        status = service.host.status(res, cfg)
        assert status.online and status.queue_depth == 0 and "ibm" in status.message
        assert row.cost == 0


def test_fake_resources_describe_the_mimicked_device(service):
    res, _ = service.qdreamer._pool["ibmq:fake_brisbane"]
    assert res.kind == "simulator" and res.metadata["mimics"] == "ibm_brisbane"
    assert {"ecr", "rz", "sx", "measure"} <= set(res.native_gates)
    assert "if_else" not in res.native_gates
    assert res.num_qubits == 127 and res.transpiles and res.circuit_formats == ("qiskit",)
    assert res.coupling_map and all(len(edge) == 2 for edge in res.coupling_map)


def test_explain_shows_distrusted_calibration_data(host, bell):
    """FakeKyoto's snapshot reports an ECR error of 1.0; explain says the data was flagged."""
    with PilotComputeService(execution_engine="local", plugins=host) as pcs:
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "ibmq_fake_kyoto"}})
        table = pcs.qdreamer.explain(QuantumTask(circuit=bell()))
        [row] = table.rows
        assert "noise data flagged" in row.note and "noise data flagged" in str(table)
