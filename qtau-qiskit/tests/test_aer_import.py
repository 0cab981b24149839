"""`qtau_qiskit.aer` loads Aer's OpenMP runtime with sleeping threads and leaves the environment as
it found it. Each case runs in a fresh interpreter (libgomp reads its settings once, when loaded),
which prints libgomp's own account of its settings (`OMP_DISPLAY_ENV=VERBOSE`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("qiskit_aer")

_SCRIPT = """
import os
{before}
import qtau_qiskit.aer
print("ENV", os.environ.get("OMP_WAIT_POLICY"))
"""


def _run(before: str = "", **env: str) -> tuple[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", _SCRIPT.format(before=before)], capture_output=True, text=True,
                         check=True, env={**clean, "OMP_DISPLAY_ENV": "VERBOSE", **env})
    spin = [line.split("=", 1)[1].strip().strip("'") for line in out.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
    assert spin, out.stderr
    return spin[0], out.stdout.split("ENV", 1)[1].strip()


def test_aer_threads_sleep_and_the_environment_is_restored():
    spin, after = _run()
    assert spin == "0"  # OMP_WAIT_POLICY=PASSIVE as libgomp read it
    assert after == "None"  # the process's environment is as it was


def test_a_users_own_policy_is_kept():
    spin, after = _run(OMP_WAIT_POLICY="ACTIVE")
    assert spin != "0" and spin != "300000"  # ACTIVE: libgomp spins (a very large count)
    assert after == "ACTIVE"


def test_aer_imported_before_qtau_keeps_its_policy():
    spin, after = _run(before="import qiskit_aer")
    assert spin == "300000"  # libgomp's default, as loaded by the program's own import
    assert after == "None"
