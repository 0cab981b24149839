"""QTAU's fork server (`qtau.engines.fork_server`), from which timed tasks' children start: a child
started while a warmer server takes over still starts.

Real fork servers and children; the one interleaving the race needs is forced by wrapping the old
server's connect so the takeover happens between taking the server and connecting to it.
"""

from __future__ import annotations

import time

from qtau.engines import fork_server


def start_child() -> int | None:
    child = fork_server.TaskProcess(target=time.sleep, args=(0,), daemon=True)
    child.start()
    child.join(60)
    return child.exitcode


def test_a_child_started_while_a_warmer_server_takes_over_starts_from_the_new_one(monkeypatch):
    """Seen in the soak test: a thread took the current server, a server with more imports took
    over and retired it (closing its alive fd) before the thread connected, and the child's start
    failed with a TypeError from inside multiprocessing instead of coming from the new server."""
    servers = fork_server.servers
    assert start_child() == 0  # a server exists
    assert servers.wait_warm()  # and no warmer one is on its way
    old = servers._server
    called = []
    connect = old.connect_to_new_process

    def retired_meanwhile(fds):
        called.append(old._forkserver_alive_fd)
        with servers._lock:
            servers._use(fork_server._started(servers.modules), servers.modules)
        return connect(fds)

    monkeypatch.setattr(old, "connect_to_new_process", retired_meanwhile)
    assert start_child() == 0
    assert called and servers._server is not old
