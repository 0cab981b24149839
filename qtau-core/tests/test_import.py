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


def test_pilot_compatibility_imports():
    code = (
        "from pilot.dreamer import QuantumTask; "
        "from pilot.pilot_compute_service import ExecutionEngine, PilotComputeService; "
        "import qtau; assert QuantumTask is qtau.QuantumTask and ExecutionEngine.RAY.value == 'ray'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
