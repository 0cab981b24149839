"""`import qtau` stays light: no quantum SDK, no Ray."""

import subprocess
import sys

HEAVY = ("qiskit", "pennylane", "braket", "ray", "numpy", "qiskit_aer", "typer", "rich", "click", "matplotlib")


def test_import_qtau_imports_no_sdk_and_no_ray():
    code = (
        "import sys, qtau; from qtau import QuantumTask, hookimpl, PilotComputeService; import qtau.cli; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""


def test_pilot_compatibility_imports_convert_to_qtau_and_stay_light():
    """Pilot-Quantum's task is converted at submission into QTAU's (the layer adds nothing to it)."""
    code = (
        "import sys; from pilot.dreamer import QuantumTask, DreamerStrategyType, get_cut_plan; "
        "from pilot.pilot_compute_service import ExecutionEngine, PilotComputeService; "
        "import pilot.util.quantum_resource_generator, pilot.executors.executor_factory, pilot.pilot_enums_exceptions; "
        "import qtau; [t] = QuantumTask(circuit='OPENQASM 2.0;', gate_set=['h', 'cnot']).to_qtau(); "
        "assert isinstance(t, qtau.QuantumTask) and t.gate_set == ('cx', 'h') and ExecutionEngine.RAY.value == 'ray'; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
