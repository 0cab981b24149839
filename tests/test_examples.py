"""The examples in examples/ run as users run them, and print what they promise."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str, plugins: str = "qiskit") -> str:
    env = {**os.environ, "QTAU_PLUGINS": plugins}
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_seed_qiskit_example_on_local():
    out = run_example("qiskit_bell.py", "--engine", "local")
    line = next(line for line in out.splitlines() if line.startswith("task "))
    assert "ran on qiskit:aer_simulator" in line and "'00'" in line and "'11'" in line and "'01'" not in line


@pytest.mark.ray
def test_seed_qiskit_example_on_ray():
    out = run_example("qiskit_bell.py")
    assert "ran on qiskit:" in out


@pytest.mark.ray
def test_hybrid_ray_example_matches_cos_theta():
    import math

    out = run_example("hybrid_ray.py")
    values = [float(line.split("=")[-1]) for line in out.splitlines() if "<Z0 Z1>" in line]
    thetas = [i * math.pi / 4 for i in range(5)]
    assert len(values) == 5
    # RY(theta) on qubit 0 only: <Z0 Z1> = cos(theta); 1000 shots give about +-0.1 at 3 sigma.
    assert all(abs(v - math.cos(t)) < 0.12 for v, t in zip(values, thetas, strict=True))


def test_seed_braket_example_on_braket_local():
    counts = run_example("braket_local_bell.py", plugins="braket").splitlines()[0]
    assert counts.startswith("braket:local") and "'00'" in counts and "'11'" in counts and "'01'" not in counts


def test_seed_pennylane_example_gives_zero_expectations_everywhere():
    out = run_example("pennylane_bell.py", plugins="pennylane")
    lines = [line for line in out.splitlines() if "<Z0>, <Z1>" in line]
    assert [line.split(":")[0] for line in lines] == [
        "pennylane_default", "pennylane_lightning", "pennylane_qiskit", "pennylane_braket"]
    for line in lines:
        z0, z1 = (float(v) for v in line.split("=")[-1].strip(" ()").split(","))
        assert abs(z0) < 0.12 and abs(z1) < 0.12
