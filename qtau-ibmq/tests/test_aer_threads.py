"""A fake backend runs on Aer, loaded with sleeping OpenMP threads.

Making qiskit-ibm-runtime's fake backends imports Aer (their default options ask whether it is
installed), so without care the first `ibmq_fake_*` pilot loaded Aer's bundled libgomp with its
default spinning threads, before `qtau_qiskit.aer` could ask for sleeping ones (see that module
for what spinning costs beside QTAU's threads). Runs in a fresh interpreter, since libgomp reads
its settings once, and reads libgomp's own account of them (`OMP_DISPLAY_ENV=VERBOSE`)."""

from __future__ import annotations

import os
import subprocess
import sys

_SCRIPT = """
import os
from qiskit import QuantumCircuit
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.plugins import PluginHost

host = PluginHost(strict=True)
host.register_module("qiskit", "qtau_qiskit.plugin")
host.register_module("ibmq", "qtau_ibmq.plugin")
qc = QuantumCircuit(2)
qc.h(0)
qc.cx(0, 1)
qc.measure_all()
with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host) as pcs:
    pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "ibmq_fake_manila"}})
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=100)), timeout=120)
    assert sum(result.counts.values()) == 100
print("ENV", os.environ.get("OMP_WAIT_POLICY"))
"""


def test_a_fake_backend_loads_aer_with_sleeping_threads(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, check=True,
                         env={**clean, "OMP_DISPLAY_ENV": "VERBOSE", "QTAU_CACHE_DIR": str(tmp_path)})
    spin = [line.split("=", 1)[1].strip().strip("'") for line in out.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
    assert spin, out.stderr
    assert spin[0] == "0"  # OMP_WAIT_POLICY=PASSIVE as libgomp read it (its default is 300000)
    assert out.stdout.split("ENV", 1)[1].strip() == "None"  # the environment as it was
