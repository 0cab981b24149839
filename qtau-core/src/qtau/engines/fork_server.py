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
  (`loaded_modules`), and a server with them too is started in the background; once it has done
  its imports, children come from it, and the old server ends once its last child has.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing import forkserver, popen_forkserver, process, reduction, util
from multiprocessing.context import set_spawning_popen
from typing import Any

from qtau.threads import long_lived

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


class _Probe:
    """What a warming server's first child runs: nothing (`spawn._main` calls `_bootstrap`)."""

    def _bootstrap(self, parent_sentinel: int | None = None) -> int:
        return 0


def _started(modules: frozenset[str]) -> forkserver.ForkServer:
    """A server that has imported `modules`: it answers a probe child only after its imports."""
    server = forkserver.ForkServer()
    # No "__main__" (see the module docstring). QTAU's modules first: a plugin's module may import
    # its SDK in a particular way (qtau_qiskit.aer loads Aer's OpenMP runtime with sleeping
    # threads), which the SDK's plain import by name, later, then leaves as it is.
    server.set_forkserver_preload(sorted(modules, key=lambda name: (not name.startswith("qtau"), name)))
    status_r, data_w = server.connect_to_new_process([])
    try:
        with open(data_w, "wb", closefd=True) as f:
            reduction.dump({}, f)
            reduction.dump(_Probe(), f)
        forkserver.read_signed(status_r)  # the probe's pid: the server is past its imports
        forkserver.read_signed(status_r)  # its exit code: reaped
    finally:
        os.close(status_r)
    return server


class _Servers:
    """The current server; a server with a larger preload list is started beside it, in the
    background, when children or this process have imported more (children keep coming from the
    current one meanwhile, so no task waits for a server's imports but the very first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: forkserver.ForkServer | None = None
        self.modules: frozenset[str] = frozenset()
        self._warming = False
        self._retired: list[int] = []

    def connect(self, fds: list[int], wanted: Iterable[str]) -> tuple[int, int]:
        """(status_r, data_w) of a new child of the current server."""
        wanted = BASE_PRELOAD | frozenset(wanted)
        with self._lock:
            if self._server is None:
                try:
                    self._use(_started(wanted), wanted)
                except (OSError, EOFError):  # an import crashed it: a server of QTAU's own modules
                    self._use(_started(BASE_PRELOAD), BASE_PRELOAD)
            elif not wanted <= self.modules and not self._warming:
                self._warming = True
                larger = self.modules | wanted
                long_lived.submit(lambda: self._warm(larger))
            server = self._server
        try:
            return server.connect_to_new_process(fds)
        except (OSError, EOFError, TypeError):
            # The server died (an import that crashed it): start plainly. Or a warmer server took
            # over between taking this one and connecting, and retired it (its alive fd closed:
            # multiprocessing then fails with a TypeError before sending anything): use the new one.
            with self._lock:
                if self._server is server:
                    self._use(_started(BASE_PRELOAD), BASE_PRELOAD)
                server = self._server
            return server.connect_to_new_process(fds)

    def _warm(self, modules: frozenset[str]) -> None:
        try:
            server = _started(modules)
        except Exception:  # a module that crashes a server: keep the current one
            server = None
        with self._lock:
            self._warming = False
            if server is not None:
                self._use(server, modules)

    def _use(self, server: forkserver.ForkServer, modules: frozenset[str]) -> None:
        """Make `server` the current one; the old one ends once its children have."""
        old, self._server, self.modules = self._server, server, modules
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

    def wait_warm(self, timeout: float = 120.0) -> bool:
        """Whether no larger server is being started (tests wait for one to be in use)."""
        end = time.monotonic() + timeout
        while self._warming and time.monotonic() < end:
            time.sleep(0.05)
        return not self._warming


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
