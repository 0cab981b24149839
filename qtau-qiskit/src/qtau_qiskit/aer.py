"""Qiskit Aer, imported so that its OpenMP threads sleep rather than spin when a parallel region ends.

Why: Aer bundles its own OpenMP runtime (GNU libgomp), whose threads by default keep spinning for
a while after each parallel region (`GOMP_SPINCOUNT` 300000). QTAU makes many short Aer calls, up
to one per pool thread at once, beside Python threads that need the same cores: the thread
submitting tasks, the journal's writer, the workers converting circuits and building results.
Spinning threads take those cores. On the 2-core machine QTAU's benchmarks run on, 200 Bell
circuits run one Aer call each took 0.7 s with sleeping threads and 2.5-3.9 s spinning; a 22-qubit
circuit and a 1000-circuit batch ran the same either way (`benchmarks/throughput.py` prints the
effect on QTAU's paths).

libgomp reads `OMP_WAIT_POLICY` once, when the library is loaded (by `import qiskit_aer`), so the
variable is set to `PASSIVE` for that import only and removed again: the process's environment,
its child processes and any other OpenMP runtime loaded later see what they saw before. A user who
sets `OMP_WAIT_POLICY` keeps that setting, and an Aer imported before QTAU's first use keeps the
policy it was loaded with.

Every QTAU module that needs Aer imports it from here (inside the functions that need it).
"""

from __future__ import annotations

import os
import sys
import threading

_lock = threading.Lock()


def _import_aer() -> None:
    with _lock:
        if "qiskit_aer" in sys.modules or "OMP_WAIT_POLICY" in os.environ:
            import qiskit_aer  # noqa: F401
            return
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            import qiskit_aer  # noqa: F401
        finally:
            os.environ.pop("OMP_WAIT_POLICY", None)


_import_aer()

from qiskit_aer import AerSimulator  # noqa: E402
from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error  # noqa: E402

__all__ = ["AerSimulator", "NoiseModel", "ReadoutError", "depolarizing_error"]
