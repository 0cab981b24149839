"""`qtau_qiskit.aer` loads Aer's OpenMP runtime with sleeping threads and leaves the environment as
it found it. Each case runs in a fresh interpreter (libgomp reads its settings once, when loaded),
which prints libgomp's own account of its settings (`qtau.testing.openmp`)."""

from __future__ import annotations

import pytest
from qtau.testing.openmp import spin_count, spin_count_after_a_task

pytest.importorskip("qiskit_aer")

_SCRIPT = """
{before}
import qtau_qiskit.aer
"""


def _run(before: str = "", **env: str) -> tuple[str, str | None]:
    return spin_count(_SCRIPT.format(before=before), env)


def test_aer_threads_sleep_and_the_environment_is_restored():
    spin, after = _run()
    assert spin == "0"  # OMP_WAIT_POLICY=PASSIVE as libgomp read it
    assert after is None  # the process's environment is as it was


def test_a_users_own_policy_is_kept():
    spin, after = _run(OMP_WAIT_POLICY="ACTIVE")
    assert spin != "0" and spin != "300000"  # ACTIVE: libgomp spins (a very large count)
    assert after == "ACTIVE"


def test_aer_imported_before_qtau_keeps_its_policy():
    spin, after = _run(before="import qiskit_aer")
    assert spin == "300000"  # libgomp's default, as loaded by the program's own import
    assert after is None


def test_a_service_loads_aer_with_sleeping_threads(tmp_path):
    """The way users meet Aer: a service places and runs a task. QDREAMER's first status call
    imports the plugin's SDK modules (`Backend.sdk_modules`, one thread at a time) before any
    executor exists; when that list named `qiskit_aer` itself, Aer's OpenMP runtime was loaded
    there with spinning threads (libgomp's 300000), and every later Aer call spun beside QTAU's
    Python threads (the one-at-a-time estimates of 12-17 qubit circuits fell from about 80% to 63%
    within 20%, five paired runs of benchmarks/estimates.py)."""
    spin, after = spin_count_after_a_task([("qiskit", "qtau_qiskit.plugin")], "qiskit_local",
                                          {"QTAU_CACHE_DIR": str(tmp_path)})
    assert spin == "0"
    assert after is None


def test_the_plugins_sdk_modules_load_aer_with_sleeping_threads():
    before = ("import sys\n"
              "from qtau.sdk_imports import import_one_at_a_time\n"
              "from qtau_qiskit.plugin import QiskitBackend\n"
              "import_one_at_a_time(QiskitBackend.sdk_modules)\n"
              "assert 'qiskit_aer' in sys.modules")
    spin, after = _run(before=before)
    assert spin == "0"
    assert after is None
