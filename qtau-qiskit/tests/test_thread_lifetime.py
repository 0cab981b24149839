"""Regression: qiskit 2.6 segfaulted when it was first imported on a LOCAL pool thread that has
since exited (issue 11, item 5). The pattern runs in a fresh subprocess, so qiskit's first import
happens inside a task, exactly as a user's circuit function does it; a crash shows as a negative
return code (SIGSEGV) instead of taking pytest down. Against qiskit < 2.6 it passes either way; the
per-plugin CI job (newest SDKs, .ci/run) is where it guards the fix."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from qtau import ExecutionEngine, PilotComputeService, QuantumTask
    from qtau.plugins import PluginHost

    assert "qiskit" not in sys.modules, "qiskit must first be imported inside a task"

    def bell():
        from qiskit import QuantumCircuit
        qc = QuantumCircuit(2, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    for round_ in range(4):
        pcs = PilotComputeService(ExecutionEngine.LOCAL, plugins=host, max_workers=4)
        pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "qiskit_local"}})
        # With and without a timeout: timed calls run on their own threads, which must live on too.
        tasks = [QuantumTask(circuit=bell, num_qubits=2, shots=64, timeout=60 if i % 2 else None)
                 for i in range(6)]
        results = pcs.get_results([pcs.submit_quantum_task(t) for t in tasks])
        assert all(set(r.get_counts()) <= {"00", "11"} for r in results), results
        pcs.cancel()
    print("ROUNDS-OK")
    """
)


def test_services_one_after_another_with_qiskit_first_imported_in_a_task():
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", SCRIPT],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and "ROUNDS-OK" in proc.stdout, (
        f"return code {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
