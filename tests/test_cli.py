"""The `qtau` command, run as users run it (a subprocess of `python -m qtau.cli` or the installed script)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BELL2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""

X0_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
x q[0];
c = measure q;
"""

CIRCUIT_MODULE = '''
from qiskit import QuantumCircuit


def x_on_qubit_0():
    qc = QuantumCircuit(3, 3)
    qc.x(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    return qc


def nothing():
    return None


def explodes():
    raise RuntimeError("no circuit today")
'''


def qtau(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "QTAU_PLUGINS": "qiskit", **(env or {})}
    return subprocess.run([sys.executable, "-m", "qtau.cli", *args], capture_output=True, text=True,
                          timeout=240, env=full_env, cwd=cwd)


@pytest.fixture
def bell(tmp_path) -> Path:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL2)
    return path


@pytest.fixture
def circuits_py(tmp_path) -> Path:
    path = tmp_path / "my_circuits.py"
    path.write_text(CIRCUIT_MODULE)
    return path


# -- demo, plugins, resources, doctor (kept from the argparse CLI) --------------------------------

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


def test_plugins_json():
    out = qtau("plugins", "--json", env={"QTAU_PLUGINS": "qiskit,braket"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    by_name = {p["name"]: p for p in report["plugins"]}
    assert set(by_name) == {"qiskit", "braket"}
    assert "qiskit_local" in by_name["qiskit"]["executors"] and by_name["qiskit"]["version"] == version_file()
    assert report["failures"] == []


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


def test_resources_json():
    out = qtau("resources", "qiskit_local", "--json")
    assert out.returncode == 0, out.stderr
    ids = {r["id"]: r for r in json.loads(out.stdout)["resources"]}
    assert ids["qiskit:aer_simulator"]["kind"] == "simulator" and ids["qiskit:aer_simulator"]["num_qubits"] > 20


def test_unknown_executor_in_resources_is_a_clear_error_not_a_traceback():
    out = qtau("resources", "braket_sv1")
    assert out.returncode == 1
    assert "pip install qtau-braket" in out.stderr and "Traceback" not in out.stderr


def test_doctor_shows_every_package_version_and_json():
    out = qtau("doctor", "--json", env={"QTAU_PLUGINS": "qiskit"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["versions"]["qtau-core"] == version_file()
    assert {"qtau-qiskit", "qtau-braket", "qtau-ibmq", "qtau-pennylane"} <= set(report["versions"])
    assert report["extras"]["matplotlib"]["installed"] and report["ok"]
    text = qtau("doctor")
    assert text.returncode == 0
    assert any(line.split() == ["qtau-core", version_file()] for line in text.stdout.splitlines())


def test_doctor_shows_the_sdk_versions_each_plugin_reports():
    """Every QTAU plugin answers qtau_versions from package metadata; doctor shows them in its
    table and its JSON, per plugin."""
    from importlib import metadata

    plugins = "qiskit,ibmq,braket,pennylane"
    report = json.loads(qtau("doctor", "--json", env={"QTAU_PLUGINS": plugins}).stdout)
    sdks = report["sdk_versions"]
    assert set(sdks) == set(plugins.split(",")) and report["sdk_warnings"] == []
    assert sdks["qiskit"]["qiskit"] == metadata.version("qiskit")
    assert sdks["qiskit"]["qiskit-aer"] == metadata.version("qiskit-aer")
    assert sdks["ibmq"]["qiskit-ibm-runtime"] == metadata.version("qiskit-ibm-runtime")
    assert sdks["braket"]["amazon-braket-sdk"] == metadata.version("amazon-braket-sdk")
    assert sdks["pennylane"]["pennylane"] == metadata.version("pennylane")
    text = qtau("doctor", env={"QTAU_PLUGINS": plugins}).stdout.splitlines()
    assert ["qiskit", "qiskit-aer", metadata.version("qiskit-aer")] in [line.split() for line in text]


def test_doctor_keeps_the_other_plugins_sdk_versions_when_one_hook_fails():
    from qtau import hookimpl
    from qtau.cli.commands.doctor import sdk_versions
    from qtau.plugins import PluginHost
    from qtau.versions import NOT_INSTALLED, installed_versions

    class Broken:
        @hookimpl
        def qtau_versions(self):
            raise RuntimeError("no metadata today")

    class Missing:
        @hookimpl
        def qtau_versions(self):
            return installed_versions("qiskit", "no-such-sdk-for-qtau")

    host = PluginHost(strict=True)
    host.pm.register(Broken(), name="broken")
    host.pm.register(Missing(), name="missing")
    found, warnings = sdk_versions(host)
    assert found == {"missing": {"qiskit": installed_versions("qiskit")["qiskit"],
                                 "no-such-sdk-for-qtau": NOT_INSTALLED}}
    assert warnings == ["broken could not list its SDK versions: RuntimeError: no metadata today"]


# -- versions ---------------------------------------------------------------------------------

def version_file() -> str:
    return (ROOT / "VERSION").read_text().strip()


def test_version_through_the_installed_script_lists_each_package():
    script = Path(sys.executable).parent / "qtau"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    versions = dict(line.split() for line in out.stdout.splitlines())
    assert versions["qtau-core"] == version_file()
    for dist in ("qtau-qiskit", "qtau-ibmq", "qtau-braket", "qtau-pennylane"):
        assert versions[dist] == version_file()


def test_no_package_hard_codes_its_version():
    import qtau

    assert qtau.__version__ == version_file()
    import tomllib

    for pyproject in ROOT.glob("qtau-*/pyproject.toml"):
        config = tomllib.loads(pyproject.read_text())
        assert "version" not in config["project"] and "version" in config["project"]["dynamic"], pyproject
        assert config["tool"]["setuptools"]["dynamic"]["version"] == {"file": "VERSION"}
        assert (pyproject.parent / "VERSION").read_text() == (ROOT / "VERSION").read_text()
    assert "qtau-workspace" not in (ROOT / "pyproject.toml").read_text()


# -- run --------------------------------------------------------------------------------------

def test_run_openqasm2_file_with_json(bell):
    out = qtau("run", str(bell), "--executor", "qiskit_local", "--shots", "300", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    [task] = doc["tasks"]
    assert task["ok"] and task["circuit_format"] == "openqasm2" and task["error"] is None
    result = task["result"]
    assert set(result["counts"]) <= {"00", "11"} and sum(result["counts"].values()) == 300
    assert task["ranking"]["chosen"] == result["resource_id"] == "qiskit:aer_simulator"
    assert {row["resource_id"] for row in task["ranking"]["rows"]} == {"qiskit:aer_simulator",
                                                                       "qiskit:basic_simulator"}
    assert "rightmost" in doc["bit_order"]


def test_run_openqasm3_file_prints_ranking_choice_and_counts(tmp_path):
    path = tmp_path / "x0.qasm"
    path.write_text(X0_QASM3)
    out = qtau("run", str(path), "--shots", "50", "--mode", "high_fidelity")
    assert out.returncode == 0, out.stderr
    assert "QDREAMER ranking" in out.stdout and "chosen resource: qiskit:" in out.stdout
    assert "counts (qubit 0 rightmost): {'001': 50}" in out.stdout


def test_run_python_function_with_plot_and_two_executors(circuits_py, tmp_path):
    png = tmp_path / "counts.png"
    out = qtau("run", f"{circuits_py}:x_on_qubit_0", "-e", "qiskit_local", "-e", "braket_local",
               "--shots", "64", "--plot", str(png), "--json", env={"QTAU_PLUGINS": "qiskit,braket"})
    assert out.returncode == 0, out.stderr
    [task] = json.loads(out.stdout)["tasks"]
    assert task["result"]["counts"] == {"001": 64}
    ranked = {row["resource_id"] for row in task["ranking"]["rows"]}
    assert "braket:local_sv" in ranked and "qiskit:aer_simulator" in ranked
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_run_many_files_one_failing_exits_1(bell, tmp_path):
    wide = tmp_path / "wide.qasm"
    wide.write_text("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[200];\ncreg c[200];\nh q[0];\nmeasure q -> c;\n")
    out = qtau("run", str(bell), str(wide), str(bell), "--shots", "20", "--json")
    assert out.returncode == 1, out.stderr
    tasks = json.loads(out.stdout)["tasks"]
    assert [t["ok"] for t in tasks] == [True, False, True]
    assert tasks[1]["error"]["type"] == "NoSuitableResourceError" and "qubits" in tasks[1]["error"]["message"]


@pytest.mark.ray
def test_run_on_ray(bell):
    out = qtau("run", str(bell), "--engine", "ray", "--shots", "100", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["tasks"][0]["result"]["shots"] == 100


def test_rank_json_and_plot(bell, tmp_path):
    png = tmp_path / "rank.png"
    out = qtau("rank", str(bell), "-e", "qiskit_local", "--json", "--plot", str(png))
    assert out.returncode == 0, out.stderr
    [ranking] = json.loads(out.stdout)["rankings"]
    assert ranking["file"] == str(bell) and ranking["chosen"] == "qiskit:aer_simulator"
    assert ranking["policy"] and all("score" in row for row in ranking["rows"])
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_rank_text():
    out = qtau("rank", str(ROOT / "examples" / "circuits" / "bell.qasm"))
    assert out.returncode == 0, out.stderr
    assert "QDREAMER ranking" in out.stdout and "qiskit:basic_simulator" in out.stdout


# -- bad input: exit 2, one line with the fix, no traceback -----------------------------------

def assert_usage_error(out: subprocess.CompletedProcess, *expected: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and "Fix:" in lines[0] and "Traceback" not in out.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def test_unknown_flag(bell):
    assert_usage_error(qtau("run", str(bell), "--shotz", "5"), "--shotz", "qtau run --help")


def test_missing_file(tmp_path):
    assert_usage_error(qtau("run", str(tmp_path / "nope.qasm")), "does not exist")


def test_file_neither_openqasm_nor_function(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert_usage_error(qtau("run", str(path)), "neither OpenQASM", "module.py:function")


def test_python_file_without_function(circuits_py):
    assert_usage_error(qtau("run", str(circuits_py)), f"{circuits_py}:function_name")


def test_function_returning_no_circuit(circuits_py):
    assert_usage_error(qtau("run", f"{circuits_py}:nothing"), "returned NoneType, not a circuit")


def test_function_that_raises(circuits_py):
    assert_usage_error(qtau("run", f"{circuits_py}:explodes"), "RuntimeError: no circuit today")


def test_missing_function(circuits_py):
    assert_usage_error(qtau("run", f"{circuits_py}:no_such"), "no function 'no_such'")


def test_zero_shots(bell):
    assert_usage_error(qtau("run", str(bell), "--shots", "0"), "--shots")


def test_unknown_executor(bell):
    assert_usage_error(qtau("run", str(bell), "--executor", "braket_local"), "braket_local", "pip install qtau-braket")


def test_unknown_mode(bell):
    assert_usage_error(qtau("rank", str(bell), "--mode", "fastest"), "fastest", "balanced")


def test_unknown_engine(bell):
    assert_usage_error(qtau("run", str(bell), "--engine", "slurm"), "--engine")


def test_plot_to_an_unwritable_path(bell, tmp_path):
    assert_usage_error(qtau("run", str(bell), "--plot", str(tmp_path / "missing-dir" / "x.png")),
                       "cannot be written")
    assert_usage_error(qtau("run", str(bell), "--plot", str(tmp_path)), "--plot")


def test_unknown_command():
    assert_usage_error(qtau("launch"), "launch")


def test_debug_shows_the_traceback(tmp_path):
    out = qtau("--debug", "run", str(tmp_path / "nope.qasm"))
    assert out.returncode == 2 and "Traceback" in out.stderr and "does not exist" in out.stderr


def test_an_environment_without_typer_says_what_to_install():
    # typer made unimportable the way a missing package is (None in sys.modules).
    code = "import sys; sys.modules['typer'] = None; from qtau.cli import main; sys.exit(main(['plugins']))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == ("error: the qtau command needs typer (dependencies of qtau-core, not "
                                  "importable here). Fix: pip install --force-reinstall qtau-core")


def test_jobs_json_lists_a_journal(tmp_path):
    from qtau import QuantumTask
    from qtau.journal import Journal

    task = QuantumTask(circuit=BELL2)
    with Journal.open(tmp_path) as journal:
        journal.record_task(task)
    out = qtau("jobs", "--dir", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)["tasks"]
    assert row["task_id"] == task.task_id and row["state"] == "submitted" and row["attempts"] == 0
    assert_usage_error(qtau("jobs", "--dir", str(tmp_path / "none")), "no QTAU journal")
