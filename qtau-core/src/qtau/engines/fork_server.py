"""QTAU's own fork server: the processes of timed tasks, forked from a fresh single-threaded process.

Why not `fork` the process that submits: it runs threads (the LOCAL pool, the journal's writer,
logging handlers, Aer's OpenMP pool, a Ray worker's gRPC threads). A lock one of them holds at the
moment of the fork stays locked for ever in the child, which then stalls. Here a server process is
started with fork+exec (safe from any thread, as `subprocess` does), imports QTAU's worker modules
and the SDKs that tasks use, runs no thread of its own, and forks one child per task: the child is
cheap (the imports are done) and safe (no lock is held in a process with one thread).

It is `multiprocessing`'s forkserver start method with three differences:

- the server is QTAU's own, so a program's own use of multiprocessing (its start method, its
  forkserver and preload list) is left as it was;
- children do not re-import the program's `__main__` (the forkserver and spawn methods would run a
  script's module level again in every child): what a child needs comes in its payload, which
  carries `__main__` functions by value (`qtau.packing`);
- the preload list grows: a child reports the SDK modules it had to import itself
  (`loaded_modules`), and the next child comes from a server started with them too. The old server
  ends once its last child has.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterable
from multiprocessing import forkserver, popen_forkserver, process, reduction, util
from multiprocessing.context import set_spawning_popen
from typing import Any

#: What every server imports: the module children run (it imports the worker and QTAU's core).
BASE_PRELOAD = frozenset({"qtau.engines.isolation"})
#: SDK modules worth importing once in the server rather than in every child, when tasks use them.
SDK_MODULES = (
    "numpy", "scipy", "qiskit", "qiskit_aer", "qiskit.qasm2", "qiskit.qasm3", "qiskit_qasm3_import",
    "qiskit.providers.basic_provider", "qiskit_ibm_runtime", "pennylane", "pennylane_lightning",
    "braket.circuits", "braket.devices", "braket.default_simulator", "cirq",
)


def loaded_modules() -> frozenset[str]:
    """The modules of `SDK_MODULES` and of QTAU's plugins (`qtau_*`) imported in this process."""
    plugins = {name for name in list(sys.modules) if name.startswith("qtau_")}
    return frozenset(plugins.union(name for name in SDK_MODULES if name in sys.modules))


class _Servers:
    """The current server, restarted with a larger preload list when children ask for more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: forkserver.ForkServer | None = None
        self.modules: frozenset[str] = frozenset()
        self._retired: list[int] = []

    def connect(self, fds: list[int], wanted: Iterable[str]) -> tuple[int, int]:
        """(status_r, data_w) of a new child of a server that has imported `wanted`."""
        wanted = BASE_PRELOAD | frozenset(wanted)
        with self._lock:
            if self._server is None or not wanted <= self.modules:
                self._start(self.modules | wanted)
            server = self._server
        try:
            return server.connect_to_new_process(fds)
        except (OSError, EOFError):  # the server died (an import that crashed it): start plainly
            with self._lock:
                if self._server is server:
                    self._start(BASE_PRELOAD)
                server = self._server
            return server.connect_to_new_process(fds)

    def _start(self, modules: frozenset[str]) -> None:
        self._retire()
        server = forkserver.ForkServer()
        server.set_forkserver_preload(sorted(modules))  # no "__main__": see the module docstring
        server.ensure_running()
        self._server, self.modules = server, modules

    def _retire(self) -> None:
        """Let the current server end (it does once its children have) and reap ended ones."""
        old = self._server
        if old is not None and old._forkserver_alive_fd is not None:
            os.close(old._forkserver_alive_fd)
            old._forkserver_alive_fd = None
            self._retired.append(old._forkserver_pid)
        for pid in list(self._retired):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._retired.remove(pid)

    def pid(self) -> int | None:
        """The current server's process id (None before the first child)."""
        return None if self._server is None else self._server._forkserver_pid


servers = _Servers()


class _Popen(popen_forkserver.Popen):
    """`popen_forkserver.Popen` asking QTAU's server, with no `__main__` in the preparation data."""

    def _launch(self, process_obj: TaskProcess) -> None:
        prep = {
            "name": process_obj.name, "authkey": bytes(process.current_process().authkey),
            "sys_path": list(sys.path), "sys_argv": list(sys.argv), "dir": os.getcwd(),
            "orig_dir": process.ORIGINAL_DIR,
        }
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, data_w = servers.connect(self._fds, process_obj.preload)
        parent_w = os.dup(data_w)  # the child's sentinel of this process, as in the standard Popen
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(data_w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class TaskProcess(process.BaseProcess):
    """A `multiprocessing` process forked by QTAU's server, which has imported `preload` first."""

    _start_method = "forkserver"

    def __init__(self, *args: Any, preload: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preload = frozenset(preload)

    @staticmethod
    def _Popen(process_obj: TaskProcess) -> _Popen:
        return _Popen(process_obj)
