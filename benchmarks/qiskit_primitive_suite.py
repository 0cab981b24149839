"""Qiskit's own primitive tests on Qiskit's primitives and on QTAU's, per file (issue 21 item 5).

    python benchmarks/qiskit_primitive_suite.py QISKIT_TREE

QISKIT_TREE is a directory holding Qiskit's `test/` tree at the installed Qiskit's tag (for
Qiskit 2.3.0: `git archive 2.3.0 test/__init__.py test/utils test/python/__init__.py
test/python/legacy_cmaps.py test/python/primitives | tar -x -C QISKIT_TREE` in a Qiskit clone).
Nothing is fetched and nothing of Qiskit's is kept here: the four files are copied into a
temporary directory, once as they are and once with only the class under test swapped by an
adapter (below), and each copy is run with pytest. A test counts as passed when it and all its
subtests pass. Needs `ddt` (Qiskit's tests import it).

The swap: StatevectorSampler -> QtauSampler(default_shots, seed); StatevectorEstimator ->
QtauEstimator(default_precision, seed); BackendSamplerV2(backend, options) ->
QtauSampler(default_shots, seed=seed_simulator); BackendEstimatorV2(backend, options) ->
QtauEstimator(default_precision, seed=seed_simulator, exact=False). The backend is dropped:
QDREAMER chooses among the installed local simulators. `.options` writes through.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = {
    "test_statevector_sampler.py": [
        ("from qiskit.primitives.statevector_sampler import StatevectorSampler",
         "from qtau_adapter import StatevectorSampler")],
    "test_statevector_estimator.py": [
        ("from qiskit.primitives import StatevectorEstimator", "from qtau_adapter import StatevectorEstimator")],
    "test_backend_sampler_v2.py": [
        ("from qiskit.primitives.backend_sampler_v2 import BackendSamplerV2",
         "from qtau_adapter import BackendSamplerV2")],
    "test_backend_estimator_v2.py": [
        ("from qiskit.primitives import BackendEstimatorV2, StatevectorEstimator",
         "from qiskit.primitives import StatevectorEstimator\nfrom qtau_adapter import BackendEstimatorV2")],
}

ADAPTER = '''
from qtau_qiskit.primitives import QtauEstimator, QtauSampler


def StatevectorSampler(*, default_shots=1024, seed=None):
    return QtauSampler(default_shots=default_shots, seed=seed)


def StatevectorEstimator(*, default_precision=0.0, seed=None):
    return QtauEstimator(default_precision=default_precision, seed=seed)


class _Options:
    _MAP = {"default_shots": "_default_shots", "default_precision": "_default_precision",
            "seed_simulator": "_seed"}

    def __init__(self, primitive, values):
        object.__setattr__(self, "_primitive", primitive)
        object.__setattr__(self, "_values", {})
        for key, value in values.items():
            setattr(self, key, value)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self._values[name] = value
        if name in self._MAP:
            setattr(self._primitive, self._MAP[name], value)
        elif name == "run_options" and value:
            object.__setattr__(self._primitive, "_run_options", value)


class BackendSamplerV2(QtauSampler):
    def __init__(self, *, backend, options=None):
        super().__init__()
        self.options = _Options(self, {"default_shots": 1024, "seed_simulator": None, **(options or {})})

    def run(self, pubs, *, shots=None):
        if getattr(self, "_run_options", None):  # meas_level=1 (kerneled data): QTAU returns counts
            raise NotImplementedError(f"run_options {self._run_options}")
        return super().run(pubs, shots=shots)


class BackendEstimatorV2(QtauEstimator):
    def __init__(self, *, backend, options=None):
        super().__init__(exact=False)
        self.options = _Options(self, {"seed_simulator": None, **(options or {})})
'''


def prepare(source: Path, target: Path, swap: bool) -> None:
    shutil.copytree(source / "test", target / "test")
    if not swap:
        return
    (target / "qtau_adapter.py").write_text(ADAPTER)
    for name, replacements in FILES.items():
        path = target / "test" / "python" / "primitives" / name
        text = path.read_text()
        for old, new in replacements:
            if old not in text:
                raise SystemExit(f"{name}: import line not found, another Qiskit version? {old!r}")
            text = text.replace(old, new)
        path.write_text(text)


def count(root: Path, name: str) -> tuple[int, int, list[str]]:
    """(tests collected, tests passed, failing test ids with their first error line)."""
    path = f"test/python/primitives/{name}"
    collected = subprocess.run([sys.executable, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider", path],
                               cwd=root, capture_output=True, text=True).stdout
    total = sum(1 for line in collected.splitlines() if "::" in line)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", path],
                         cwd=root, capture_output=True, text=True).stdout
    failing: dict[str, str] = {}
    for line in out.splitlines():
        found = re.match(r"^(?:SUB)?(?:FAILED|ERROR)(?:\[[^\]]*\])? (\S+?)(?: - (.*))?$", line)
        if found:
            failing.setdefault(found.group(1).split("::", 1)[1], (found.group(2) or "")[:140])
    skipped = int(m.group(1)) if (m := re.search(r"(\d+) skipped", out)) else 0
    return total, total - skipped - len(failing), [f"{k}: {v}" for k, v in failing.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("qiskit_tree", type=Path, help="directory holding Qiskit's test/ tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sums = {"qiskit": 0, "qtau": 0}
        roots = {}
        for label, swap in (("qiskit", False), ("qtau", True)):
            roots[label] = Path(tmp) / label
            prepare(args.qiskit_tree, roots[label], swap)
        for name in FILES:
            (total, ref, _), (_, ours, failing) = count(roots["qiskit"], name), count(roots["qtau"], name)
            sums["qiskit"] += ref
            sums["qtau"] += ours
            print(f"{name}: {total} tests; Qiskit's primitive passes {ref}, QTAU's {ours}")
            for line in failing:
                print(f"    QTAU fails {line}")
        ratio = sums["qtau"] / sums["qiskit"] if sums["qiskit"] else 0.0
        print(f"all four files: Qiskit {sums['qiskit']}, QTAU {sums['qtau']} ({ratio:.1%} of Qiskit's)")


if __name__ == "__main__":
    main()
