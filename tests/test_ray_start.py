"""Starting a local Ray on a loaded machine: Ray waits a fixed 30 s for the raylet it started to
register, then raises. QTAU stops what it started and tries once more, and says what to do when
that fails too.

Mocks: `ray.init`, `ray.shutdown` and `ray.is_initialized` are replaced, because no local part can
make a real raylet register late on demand; everything else is RayEngine's own code.
"""

import logging

import pytest
from qtau.engines.ray import RayEngine
from qtau.errors import BackendUnavailableError

ray = pytest.importorskip("ray")

TIMEOUT = Exception(
    "The current node timed out during startup. This could happen because some of the raylet failed "
    "to startup or the GCS has become overloaded."
)


@pytest.fixture
def fake_ray(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    calls = []
    outcomes = []

    def init(**options):
        calls.append(("init", options.get("address")))
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", init)
    monkeypatch.setattr(ray, "shutdown", lambda: calls.append(("shutdown", None)))
    return calls, outcomes


def test_a_local_start_that_timed_out_is_stopped_and_started_again(fake_ray, caplog):
    calls, outcomes = fake_ray
    outcomes.extend([TIMEOUT, None])
    engine = RayEngine()
    with caplog.at_level(logging.WARNING, logger="qtau.engines.ray"):
        engine.start()
    assert calls == [("init", "local"), ("shutdown", None), ("init", "local")]
    assert engine.started_ray
    assert "did not start within Ray's 30 s" in caplog.text


def test_two_timeouts_give_an_error_that_says_what_to_do(fake_ray):
    calls, outcomes = fake_ray
    outcomes.extend([TIMEOUT, TIMEOUT])
    engine = RayEngine()
    with pytest.raises(BackendUnavailableError) as info:
        engine.start()
    assert calls == [("init", "local"), ("shutdown", None), ("init", "local")]
    assert info.value.field == "execution_engine"
    tries = sum(1 for call, _ in calls if call == "init")
    assert f"in {tries} tries" in str(info.value)  # the message counts the starts that were made
    assert "too loaded" in info.value.fix and "ExecutionEngine.LOCAL" in info.value.fix
    assert not engine.started_ray


def test_other_start_failures_are_not_retried(fake_ray):
    calls, outcomes = fake_ray
    outcomes.append(RuntimeError("Address already in use"))
    with pytest.raises(BackendUnavailableError, match="Address already in use"):
        RayEngine().start()
    assert calls == [("init", "local")]


def test_a_cluster_address_is_never_restarted(fake_ray, monkeypatch):
    """Joining a cluster starts no node of ours: a timeout there is reported, nothing is shut down."""
    calls, outcomes = fake_ray
    outcomes.append(TIMEOUT)
    monkeypatch.setattr("qtau.engines.ray.preflight", lambda address: None)
    with pytest.raises(BackendUnavailableError):
        RayEngine(ray_address="127.0.0.1:6379").start()
    assert calls == [("init", "127.0.0.1:6379")]
