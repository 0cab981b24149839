"""What a user's install shows (issue 21): `pip install qtau-core` alone gives a working `qtau`
without `import qtau` importing typer or rich; test-only plugins never appear in `--version`,
`doctor` or `plugins`; `resources` exits 0 when an executor is merely not available here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import tomllib
from qtau import test_plugins

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("QTAU_TEST_PLUGINS", "QTAU_PLUGINS")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=240,
                          env={**full, **(env or {})})


def qtau(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run("-m", "qtau.cli", *args, env=env)


# -- the command is part of qtau-core, the import stays light ----------------------------------

def test_typer_and_rich_are_core_dependencies_not_an_extra():
    project = tomllib.loads((ROOT / "qtau-core" / "pyproject.toml").read_text())["project"]
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip() for dep in project["dependencies"]}
    assert {"typer", "rich"} <= names
    assert project["scripts"]["qtau"] == "qtau.cli:main"
    assert "cli" not in (ROOT / "requirements.txt").read_text().split("qtau-core[", 1)[1].split("]")[0]


def test_import_qtau_imports_neither_typer_nor_rich():
    code = ("import sys, qtau; from qtau import PilotComputeService, QuantumTask; import qtau.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click')))")
    out = run("-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_plugin_installed_says_what_to_install():
    # An allowlist naming no installed plugin is how a bare `pip install qtau-core` looks to QTAU.
    demo = qtau("demo", env={"QTAU_PLUGINS": "none"})
    assert demo.returncode == 2 and "pip install qtau-qiskit" in demo.stderr and "Traceback" not in demo.stderr
    resources = qtau("resources", env={"QTAU_PLUGINS": "none"})
    assert resources.returncode == 0
    assert resources.stdout.startswith("No QTAU plugins installed") and "pip install qtau-qiskit" in resources.stdout
    version = qtau("--version", env={"QTAU_PLUGINS": "none"})
    assert version.returncode == 0 and version.stdout.startswith("qtau-core ")


# -- test-only plugins -------------------------------------------------------------------------

def probe_dist(tmp_path: Path, keywords: str) -> dict:
    """An installed-style distribution `qtau-probe` whose `probe` entry point is the scripted test
    plugin's module (a real plugin, loaded as users' installs load plugins)."""
    dist = tmp_path / "qtau_probe-9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: qtau-probe\nVersion: 9.9\nKeywords: {keywords}\n")
    (dist / "entry_points.txt").write_text("[qtau]\nprobe = qtau_scripted.plugin\n")
    # The installed scripted plugin may predate its test-only keyword: block it, the probe stands in.
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "QTAU_BLOCK_PLUGINS": "scripted"}


def test_test_only_plugins_never_show_in_a_users_install(tmp_path):
    env = probe_dist(tmp_path, "qtau-test-plugin")
    version = qtau("--version", env=env)
    assert version.returncode == 0 and "qtau-probe" not in version.stdout and "qtau-qiskit" in version.stdout
    plugins = qtau("plugins", "--json", env=env)
    assert plugins.returncode == 0 and "probe" not in {p["name"] for p in json.loads(plugins.stdout)["plugins"]}
    doctor = qtau("doctor", "--json", env=env)
    assert "qtau-probe" not in json.loads(doctor.stdout)["versions"]
    resources = qtau("resources", "--json", env=env)
    assert resources.returncode == 0, resources.stdout
    assert "probe" not in json.dumps(json.loads(resources.stdout))


def test_test_only_plugins_load_when_enabled_or_named(tmp_path):
    env = probe_dist(tmp_path, "quantum, qtau-test-plugin")
    version = qtau("--version", env={**env, "QTAU_TEST_PLUGINS": "1"})
    assert "qtau-probe 9.9" in version.stdout.splitlines()
    plugins = qtau("plugins", "--json", env={**env, "QTAU_PLUGINS": "probe,qiskit"})
    assert {p["name"] for p in json.loads(plugins.stdout)["plugins"]} == {"probe", "qiskit"}
    assert "qtau-probe" in json.loads(qtau("doctor", "--json", env={**env, "QTAU_PLUGINS": "probe"}).stdout)["versions"]


def test_an_ordinary_plugin_is_shown(tmp_path):
    env = probe_dist(tmp_path, "quantum, testing")
    assert "qtau-probe 9.9" in qtau("--version", env=env).stdout.splitlines()


def test_the_scripted_test_plugin_declares_itself_test_only():
    project = tomllib.loads((ROOT / "tests/plugins/qtau-scripted/pyproject.toml").read_text())["project"]
    assert test_plugins.TEST_KEYWORD in project["keywords"]
    assert test_plugins.is_test_only(None) is False


# -- resources ---------------------------------------------------------------------------------

def test_resources_exits_0_when_an_executor_is_merely_not_available_here():
    # pennylane_forest needs pennylane-rigetti, which cannot be installed beside PennyLane 0.45.
    out = qtau("resources", env={"QTAU_PLUGINS": "qiskit,pennylane"})
    assert out.returncode == 0, out.stderr
    assert "qiskit:aer_simulator" in out.stdout and "Not available here" in out.stdout
    forest = next(line for line in out.stdout.splitlines() if line.strip().startswith("pennylane_forest:"))
    assert "pennylane-rigetti" in forest and "braket_rigetti" in forest
    doc = json.loads(qtau("resources", "--json", env={"QTAU_PLUGINS": "qiskit,pennylane"}).stdout)
    assert doc["errors"] == [] and "pennylane_forest" in {u["executor"] for u in doc["unavailable"]}
    # Named explicitly, an executor that cannot list its resources is still a failure.
    named = qtau("resources", "pennylane_forest", env={"QTAU_PLUGINS": "pennylane"})
    assert named.returncode == 1 and "pennylane-rigetti" in named.stderr
