"""Both plugin templates render a package that installs, is discovered through its entry point,
and passes its own conformance suite (qtau.testing) against its real backend:

- templates/qtau-plugin: a pure-Python OpenQASM simulator needing nothing but qtau-core;
- templates/qtau-plugin-qiskit: a Qiskit BackendV2 (BasicSimulator), whose Qiskit circuit format
  comes from qtau-qiskit, found by the suite as its companion plugin.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"

#: template folder, provider, SDK name, the executor's resource, plugins a CLI run loads besides it.
VARIANTS = [
    ("qtau-plugin", "toyqasm", "Toy QASM", "toyqasm:statevector", ()),
    ("qtau-plugin-qiskit", "toyqiskit", "Toy Qiskit", "toyqiskit:simulator", ("qiskit",)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("template", "provider", "sdk_name", "resource", "companions"), VARIANTS,
                         ids=[v[0] for v in VARIANTS])
def test_template_renders_installs_and_passes_conformance(tmp_path, template, provider, sdk_name, resource,
                                                          companions):
    from cookiecutter.main import cookiecutter

    project = Path(cookiecutter(str(TEMPLATES / template), no_input=True, output_dir=str(tmp_path / "out"),
                                extra_context={"provider": provider, "sdk_name": sdk_name}))
    module = project / "src" / f"qtau_{provider}"
    assert project.name == f"qtau-{provider}"
    assert (module / "plugin.py").is_file() and (project / "README.md").is_file()
    assert not [p for p in project.rglob("*") if p.is_file() and "{{" in p.read_text()]

    # Installed as a user would (a real wheel build and install), into a private folder: no
    # network, no change to this environment.
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(project)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(site), os.environ.get("PYTHONPATH"))))}

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests"], cwd=project, capture_output=True,
                           text=True, timeout=600, env=env)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    allow = ",".join((provider, *companions))
    listed = subprocess.run([sys.executable, "-m", "qtau.cli", "plugins", "--json"], capture_output=True, text=True,
                            timeout=120, env={**env, "QTAU_PLUGINS": provider})
    assert listed.returncode == 0, listed.stderr
    [plugin] = json.loads(listed.stdout)["plugins"]
    assert plugin["name"] == provider and plugin["executors"] == [f"{provider}_local"]
    assert plugin["version"] == "0.1.0"

    bell = tmp_path / "bell.qasm"
    bell.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\n'
                    'measure q -> c;\n')
    ran = subprocess.run([sys.executable, "-m", "qtau.cli", "run", str(bell), "-e", f"{provider}_local", "--json"],
                         capture_output=True, text=True, timeout=120, env={**env, "QTAU_PLUGINS": allow})
    assert ran.returncode == 0, ran.stderr
    [task] = json.loads(ran.stdout)["tasks"]
    counts = task["result"]["counts"]
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 1000
    assert task["result"]["resource_id"] == resource
