"""The walk of one task's payload through QTAU's source files, from `worker.run_task` to its Result.

    python scripts/payload_walk.py [--show]

A LOCAL service with the qiskit plugin builds a real payload for one Bell circuit (1000 shots on
`aer_simulator`); the payload is then run by `qtau.worker.run_task` under `sys.setprofile` (on
this thread and on the threads it hands calls to). At every call the innermost frame
that belongs to a QTAU source file (qtau-core's `qtau` and the plugins' `qtau_*` packages) names
the file the payload is in; the walk is the sequence of files the calls enter, each run of one file a stay (a return to
the caller is no move: the walk follows where the payload is carried, not the unwinding).
Printed: files visited, stays, moves (changes of file) and re-entries (a move into a file already
left before).

Left out, so that the walk shows the payload's path and not the plumbing around every call: the
plugin SDKs (qiskit, qiskit-aer: not QTAU source), `qtau.threads` (runs a callable on a
long-lived thread and hands back its value: it never looks at the payload) and `qtau.errors`
(exception classes, entered only when something fails). Frames in them are transparent: the
walk stays in the QTAU file that called them. The first run warms the caches (executor,
conversion graph) as a running service has; the second run is the one measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

import qtau
import qtau.dispatch as dispatch
from qtau import ExecutionEngine, PilotComputeService, QuantumTask, worker
from qtau.plugins import PluginHost

QISKIT = {"resource_type": "quantum", "quantum": {"executor": "qiskit_local", "backend": "aer_simulator"}}
SKIPPED = ("qtau/threads.py", "qtau/errors.py")


def _roots() -> tuple[str, ...]:
    """Directories of QTAU's source: the core package and every importable qtau_* plugin package."""
    roots = [os.path.dirname(qtau.__file__)]
    for name, module in list(sys.modules.items()):
        if name.startswith("qtau_") and "." not in name and getattr(module, "__file__", None):
            roots.append(os.path.dirname(module.__file__))
    return tuple(root + os.sep for root in roots)


def _short(path: str, roots: tuple[str, ...]) -> str | None:
    for root in roots:
        if path.startswith(root):
            short = os.path.join(os.path.basename(root.rstrip(os.sep)), path[len(root):])
            return None if short in SKIPPED else short
    return None


def walk(fn, *args) -> list[str]:
    """The sequence of stays (one file name each) of `fn(*args)`, as defined in the module docstring."""
    roots = _roots()
    stays: list[str] = []
    cache: dict[str, str | None] = {}

    def profiler(frame, event, arg):
        if event != "call":
            return
        while frame is not None:
            path = frame.f_code.co_filename
            if path not in cache:
                cache[path] = _short(path, roots)
            name = cache[path]
            if name is not None:
                if not stays or stays[-1] != name:
                    stays.append(name)
                return
            frame = frame.f_back

    threading.setprofile(profiler)
    sys.setprofile(profiler)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    # a thread of qtau.threads starts outside any QTAU frame: the walk resumes in the caller's file
    return stays


def counts(stays: list[str]) -> dict[str, int]:
    seen: set[str] = set()
    reentries = 0
    for i, name in enumerate(stays):
        if name in seen and i > 0:
            reentries += 1
        seen.add(name)
    return {"files": len(seen), "stays": len(stays), "moves": max(len(stays) - 1, 0), "re-entries": reentries}


def payload_of_one_task():
    """A real payload for one Bell task, as a LOCAL service's dispatcher builds it."""
    from qiskit import QuantumCircuit


    host = PluginHost(strict=True)
    host.register_module("qiskit", "qtau_qiskit.plugin")
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host, coalesce=False)
    pcs.create_pilot(QISKIT)
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    captured = []
    real = worker.run_task

    def capture(payload):
        captured.append(payload)
        return real(payload)

    dispatch.run_task, saved = capture, dispatch.run_task
    try:
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=qc, shots=1000)))
    finally:
        dispatch.run_task = saved
        pcs.close()
    return captured[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print every stay of the walk")
    args = parser.parse_args()
    payload = payload_of_one_task()
    worker.run_task(payload)  # warm: executor and conversion graph made, as in a running service
    stays = walk(worker.run_task, payload)
    if args.show:
        for name in stays:
            print(f"  {name}")
    core = [name for name in stays if name.startswith("qtau/")]
    core = [name for i, name in enumerate(core) if i == 0 or core[i - 1] != name]
    for label, walked in (("QTAU and its plugin", stays), ("qtau core only", core)):
        c = counts(walked)
        print(f"payload walk from worker.run_task, {label}: {c['files']} files, {c['stays']} stays, "
              f"{c['moves']} moves, {c['re-entries']} re-entries")
        print("  files: " + ", ".join(dict.fromkeys(walked)))


if __name__ == "__main__":
    main()
