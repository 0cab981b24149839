"""templates/qtau-plugin renders a plugin package that installs, is discovered through its entry
point, and passes its own conformance suite (qtau.testing) against its real backend."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "qtau-plugin"


@pytest.mark.slow
def test_template_renders_installs_and_passes_conformance(tmp_path):
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path / "out"),
                                extra_context={"provider": "toyqasm", "sdk_name": "Toy QASM"}))
    assert project.name == "qtau-toyqasm"
    assert (project / "src" / "qtau_toyqasm" / "plugin.py").is_file() and (project / "README.md").is_file()
    assert "{{" not in (project / "src" / "qtau_toyqasm" / "plugin.py").read_text()

    # Installed as a user would (a real wheel build and install), into a private folder: no
    # network, no change to this environment.
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(project)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site)}

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests"], cwd=project, capture_output=True,
                           text=True, timeout=600, env=env)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    listed = subprocess.run([sys.executable, "-m", "qtau.cli", "plugins", "--json"], capture_output=True, text=True,
                            timeout=120, env={**env, "QTAU_PLUGINS": "toyqasm"})
    assert listed.returncode == 0, listed.stderr
    [plugin] = json.loads(listed.stdout)["plugins"]
    assert plugin["name"] == "toyqasm" and plugin["executors"] == ["toyqasm_local"] and plugin["version"] == "0.1.0"

    bell = tmp_path / "bell.qasm"
    bell.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\n'
                    'measure q -> c;\n')
    ran = subprocess.run([sys.executable, "-m", "qtau.cli", "run", str(bell), "-e", "toyqasm_local", "--json"],
                         capture_output=True, text=True, timeout=120, env={**env, "QTAU_PLUGINS": "toyqasm"})
    assert ran.returncode == 0, ran.stderr
    counts = json.loads(ran.stdout)["tasks"][0]["result"]["counts"]
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
