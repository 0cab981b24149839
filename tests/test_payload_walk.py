"""The path of one task is one function each (issue 24): `scripts/payload_walk.py` follows a real
Bell task's payload from `worker.run_task` to its Result on the qiskit plugin's Aer simulator, and
the walk stays short. Nothing is mocked: a LOCAL service builds the payload, the worker runs it.

Core: worker -> attempt -> circuits -> plugins (the host asked once for format and width) ->
circuits (conversion) -> attempt (run, Result). A task without mitigation never enters the
mitigation modules; building the Result enters no module but `attempt`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("qiskit_aer")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "payload_walk.py"


@pytest.fixture(scope="module")
def stays() -> tuple:
    spec = importlib.util.spec_from_file_location("payload_walk", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    payload = script.payload_of_one_task()
    script.worker.run_task(payload)  # warm, as the script does
    walked = script.walk(script.worker.run_task, payload)
    return walked, script.counts


def test_the_core_walk_is_four_files_with_at_most_three_returns(stays):
    walked, counts = stays
    core = [name for name in walked if name.startswith("qtau/")]
    core = [name for i, name in enumerate(core) if i == 0 or core[i - 1] != name]
    found = counts(core)
    assert set(core) == {"qtau/worker.py", "qtau/attempt.py", "qtau/circuits.py", "qtau/plugins.py"}, core
    assert found["re-entries"] <= 3, core


def test_a_task_without_mitigation_enters_no_mitigation_module(stays):
    walked, _ = stays
    assert not [name for name in walked if "mitigation" in name], walked


def test_the_plugins_run_path_stays_in_one_module(stays):
    walked, counts = stays
    plugin = [name for name in walked if name.startswith("qtau_qiskit/")]
    assert plugin.count("qtau_qiskit/simulators.py") == 1, walked
    assert "qtau_qiskit/composite.py" not in plugin, walked
    assert counts(walked)["files"] <= 6 and counts(walked)["re-entries"] <= 5, walked
