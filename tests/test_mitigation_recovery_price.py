"""A re-attached mitigated task is priced with its technique's overhead, as QDREAMER priced it
when it was submitted (issue 27): recovery reserves what the job may bill, not the price of the
circuit as written. Braket stub on 127.0.0.1 (the real plugin's pricing, no network)."""

import pytest

pytest.importorskip("braket")
pytest.importorskip("qiskit")

from qtau.journal.recovery import placement_for  # noqa: E402
from qtau.mitigation.overhead import declared  # noqa: E402
from qtau.mitigation_options import parse_mitigation  # noqa: E402
from qtau.plugins import PluginHost  # noqa: E402
from qtau.service import PilotComputeService  # noqa: E402
from qtau.types import QuantumTask  # noqa: E402
from qtau_braket.testing.stub_server import BraketStub  # noqa: E402

X0 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nh q[1];\nh q[1];\nmeasure q -> c;\n'


def sv1_placements(*tasks):
    """Each task's recovery placement on SV1 (the Braket stub), and the quote of the last."""
    host = PluginHost(strict=True)
    for name, module in (("braket", "qtau_braket.plugin"), ("qiskit", "qtau_qiskit.plugin")):
        host.register_module(name, module)
    with BraketStub() as stub:
        pcs = PilotComputeService(plugins=host)
        try:
            pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"},
                                      **stub.config()})
            rid = pilot.resources[0].id
            return [placement_for(pcs.pilots, pcs.host, rid, t) for t in tasks], pcs.quote([tasks[-1]])
        finally:
            pcs.close()


def test_a_recovered_zne_task_is_priced_with_its_folded_circuits():
    plain = QuantumTask(circuit=X0, shots=100, task_id="plain")
    folded = QuantumTask(circuit=X0, shots=100, mitigation="zne", task_id="folded")
    (price, zne), quoted = sv1_placements(plain, folded)
    price, zne = price.cost, zne.cost
    assert price > 0, "SV1 is a priced simulator"
    over = declared(parse_mitigation("zne"))
    assert (over.circuits, over.shots_multiplier) == (3, 3.0)
    assert zne == pytest.approx(3 * price), "three folded circuits of 100 shots each: three times the price"
    assert zne == pytest.approx(quoted.totals["USD"]), "recovery reserves what the quote priced"


def test_a_recovered_readout_task_is_charged_without_a_calibration_it_did_not_run():
    """Re-attached, a readout-corrected task holds the worst case (its calibration's 2 circuits
    beside its own) and knows the price without them, for a job whose report says it ran none."""
    (plain, placed), _ = sv1_placements(QuantumTask(circuit=X0, shots=100),
                                        QuantumTask(circuit=X0, shots=100, mitigation="readout", task_id="r"))
    assert placed.cost == pytest.approx(3 * plain.cost)
    assert placed.calibrated_cost == pytest.approx(plain.cost)
