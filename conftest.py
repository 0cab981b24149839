"""Settings for every pytest run in this repository (the suite, and each plugin's tests alone).

The suite runs on pytest-xdist's workers (`-n auto --dist loadfile` in pyproject.toml): most of its
time is spent waiting for Ray nodes, subprocesses and sleeping circuit functions, which overlap on
several workers. Each test file stays on one worker, so a module's own Ray and fixtures are private
to it. "auto" means one worker more than the CPUs, at most four: with one per CPU the 2-core
machine's CPUs were busy 61% of the suite's time (user and system time 9:34 in 7:50), and a third
worker took the suite from 7:49 and 7:57 to 7:01 and 7:05 (session 27, alternating runs); more Ray
instances at once than four cost more memory than they save time.
"""

import os

import pytest

MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(MAX_WORKERS, cpus + 1)


@pytest.fixture(scope="module", autouse=True)
def private_module_qtau_cache(tmp_path_factory):
    """A module's own services (module-scoped fixtures, set up before any test's own private
    cache) learn run times and waits into a store of their own: otherwise what earlier modules on
    the same xdist worker learned would decide where they place tasks, and that differs from run
    to run. (Each package's conftest gives every test a private QTAU_CACHE_DIR as well.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QTAU_CACHE_DIR", str(tmp_path_factory.mktemp("module-qtau-cache")))
        yield
