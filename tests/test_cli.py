"""The `qtau` command, run as users run it (a subprocess with the installed entry point script)."""

import os
import subprocess
import sys

import pytest


def qtau(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QTAU_PLUGINS": "qiskit", **(env or {})}
    return subprocess.run([sys.executable, "-m", "qtau.cli", *args], capture_output=True, text=True,
                          timeout=240, env=full_env)


def test_demo_runs_a_bell_task_through_qdreamer():
    out = qtau("demo", "--shots", "200")
    assert out.returncode == 0, out.stderr
    assert "chosen resource: qiskit:aer_simulator" in out.stdout
    counts_line = next(line for line in out.stdout.splitlines() if line.startswith("counts"))
    assert "'00'" in counts_line and "'11'" in counts_line and "'01'" not in counts_line
    assert "QDREAMER ranking" in out.stdout
    burst = next(line for line in out.stdout.splitlines() if line.startswith("a burst of 12 tasks"))
    assert sum(int(part.split()[-1]) for part in burst.split(": ", 1)[1].split(", ")) == 12


def test_demo_spreads_a_burst_over_equally_good_simulators():
    out = qtau("demo", "--shots", "100", env={"QTAU_PLUGINS": "qiskit,braket,pennylane"})
    assert out.returncode == 0, out.stderr
    burst = next(line for line in out.stdout.splitlines() if line.startswith("a burst of"))
    used = dict(part.rsplit(" ", 1) for part in burst.split(": ", 1)[1].split(", "))
    assert {"qiskit:aer_simulator", "braket:local_sv", "pennylane:lightning.qubit"} <= set(used)


@pytest.mark.ray
def test_demo_on_ray():
    out = qtau("demo", "--engine", "ray", "--shots", "100")
    assert out.returncode == 0, out.stderr
    assert "service ready on ray" in out.stdout and "chosen resource:" in out.stdout


def test_plugins_lists_installed_plugins_with_versions():
    out = qtau("plugins")
    assert out.returncode == 0
    assert "qiskit" in out.stdout and "qtau_qiskit.plugin" in out.stdout and "qiskit_local" in out.stdout


def test_plugins_reports_a_plugin_that_fails_to_load(tmp_path):
    # A real installed-style entry point whose module is missing: the loader must report, not crash.
    dist = tmp_path / "qtau_ghost-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: qtau-ghost\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[qtau]\nghost = qtau_ghost_module_missing\n")
    out = qtau("plugins", env={"PYTHONPATH": str(tmp_path), "QTAU_PLUGINS": "qiskit,ghost"})
    assert out.returncode == 1
    assert "FAILED ghost during load: ModuleNotFoundError" in out.stdout
    assert "qiskit_local" in out.stdout


def test_resources_lists_what_each_executor_offers():
    out = qtau("resources")
    assert out.returncode == 0
    assert "qiskit:aer_simulator" in out.stdout and "qiskit:basic_simulator" in out.stdout


def test_unknown_executor_is_a_clear_error_not_a_traceback():
    out = qtau("resources", "braket_sv1")
    assert out.returncode == 1
    assert "pip install qtau-braket" in out.stderr and "Traceback" not in out.stderr
