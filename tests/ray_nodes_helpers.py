"""Helpers for multi-node Ray tests: a plugin installed on some nodes only, and circuit functions
that record which node ran them (importable via pytest's pythonpath; shipped to workers by value)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

PLUGIN_MODULE = "qtau_nodeonly"
PLUGIN_SOURCE = '''"""A QTAU plugin that exists only on Ray nodes whose PYTHONPATH names its folder (tests)."""
import os
import time

time.sleep(float(os.environ.get("QTAU_TEST_SLOW_IMPORT_S", "0")))

from qtau import hookimpl  # noqa: E402,F401
'''


def write_plugin(folder: Path) -> Path:
    """Write the node-only plugin module into `folder`; nodes get it through PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE)
    return folder


def node_recording_bell(record_dir: str, sleep_s: float = 0.0):
    """A circuit function: writes the Ray node id it runs on into `record_dir`, sleeps, returns a Bell circuit."""

    def bell_here():
        import time

        import ray
        from qiskit import QuantumCircuit

        node_id = ray.get_runtime_context().get_node_id()
        with open(os.path.join(record_dir, uuid.uuid4().hex), "w") as out:
            out.write(node_id)
        time.sleep(sleep_s)
        qc = QuantumCircuit(2, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    return bell_here


def recorded_nodes(record_dir: str) -> list[str]:
    """Node ids written by `node_recording_bell` tasks, one per task run."""
    return [Path(record_dir, name).read_text() for name in sorted(os.listdir(record_dir))]
