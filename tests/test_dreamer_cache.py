"""The provider-report cache: TTL (with an injected clock), counters, clear, background monitoring
(one daemon thread, stopped by stop_background_monitoring and by service shutdown) and
consistency under concurrent submissions. Provider calls are counted by the real `scripted`
plugin itself as well as by the cache, and the two must agree.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.circuits import Circuits
from qtau.dreamer import DreamerConfig, QDreamer
from qtau.dreamer.cache import ProviderCache
from qtau.errors import ConfigurationError
from qtau_scripted import state
from qtau_scripted.script import resources
from qtau_scripted.testing import pilot, resource, wait_idle
from qtau_test_circuits import bell

SIM = {"kind": "simulator"}
MONITOR = "qtau-dreamer-monitor"


#: The scripted plugin's script (tests/conftest.py::clean_script) is empty before and after each test.
pytestmark = pytest.mark.usefixtures("clean_script")



def monitors() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == MONITOR]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_provider_cache_ttl_counters_ages_and_clear():
    now = [0.0]
    cache = ProviderCache(ttl_seconds=30, clock=lambda: now[0])
    calls = []

    def fetch():
        calls.append(now[0])
        return len(calls)

    assert cache.lookup("r", "status", fetch)[0] == 1
    now[0] = 29.9
    assert cache.lookup("r", "status", fetch)[0] == 1
    now[0] = 30.0
    assert cache.lookup("r", "status", fetch)[0] == 2
    now[0] = 35.0
    info = cache.info()
    assert (info["hits"], info["misses"], info["provider_calls"], info["ttl_seconds"]) == (1, 2, 2, 30)
    assert info["entries"]["r/status"] == {"resource": "r", "kind": "status", "age_seconds": 5.0, "fresh": True}
    assert info["monitoring"] is False
    cache.clear()
    assert cache.info()["entries"] == {}
    assert cache.lookup("r", "status", fetch)[0] == 3


def test_concurrent_misses_of_one_entry_make_one_provider_call():
    cache = ProviderCache(ttl_seconds=30)
    gate = threading.Event()
    calls = []

    def slow_fetch():
        calls.append(1)
        gate.wait(5)
        return "online"

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(lambda: cache.lookup("r", "status", slow_fetch)[0]) for _ in range(8)]
        assert wait_for(lambda: calls)
        time.sleep(0.05)
        gate.set()
        assert {f.result() for f in futures} == {"online"}
    info = cache.info()
    assert len(calls) == 1 and info["provider_calls"] == 1
    assert info["misses"] == 1 and info["hits"] == 7


def test_dreamer_asks_each_provider_once_per_ttl(plugins):
    now = [0.0]
    dreamer = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"cache_ttl_seconds": 30}),
                       clock=lambda: now[0])
    config = {"executor": "scripted", "resources": [resource(f"r{i}", **SIM) for i in range(4)]}
    dreamer.add_resources(resources(config), config)
    task = QuantumTask(circuit=bell())
    for step in range(10):
        now[0] = step * 2.0
        dreamer.place(task)
    info = dreamer.get_cache_info()
    assert info["provider_calls"] == info["misses"] == 12
    assert info["hits"] + info["misses"] == 3 * 4 * 10 == info["lookups"]
    assert state.status_calls() == 4 and sum(state.calls.values()) == 12
    assert info["decisions"] == 10
    assert {e["age_seconds"] for e in info["entries"].values()} == {18.0}
    now[0] = 30.0
    dreamer.place(task)
    assert dreamer.get_cache_info()["provider_calls"] == 24 and state.status_calls() == 8
    dreamer.clear_cache()
    dreamer.explain(task)
    assert dreamer.get_cache_info()["provider_calls"] == 36


def test_get_cache_info_through_the_service(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", **SIM), resource("b", **SIM)))
        pcs.initialize_dreamer({"cache_ttl_seconds": 12})
        pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit=bell(), shots=10)), timeout=30)
        info = pcs.qdreamer.get_cache_info()
        assert {"entries", "hits", "misses", "provider_calls", "ttl_seconds", "monitoring"} <= set(info)
        assert info["ttl_seconds"] == 12 and info["monitoring"] is False
        assert set(info["entries"]) == {f"scripted:{r}/{k}" for r in "ab" for k in ("status", "noise", "cost")}
        assert all(0 <= e["age_seconds"] < 12 and e["fresh"] for e in info["entries"].values())
        pcs.qdreamer.clear_cache()
        assert pcs.qdreamer.get_cache_info()["entries"] == {}


def test_monitoring_refreshes_in_one_thread_and_stops(plugins):
    pcs = PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins)
    pcs.create_pilot(pilot(resource("a", **SIM), resource("b", **SIM)))
    dreamer = pcs.qdreamer
    assert monitors() == []
    dreamer.start_background_monitoring(interval_seconds=0.05)
    assert wait_for(lambda: dreamer.get_cache_info()["provider_calls"] >= 18), "three ticks of 6 reports"
    assert len(monitors()) == 1 and monitors()[0].daemon
    info = dreamer.get_cache_info()
    assert info["monitoring"] is True and info["monitor_interval_seconds"] == 0.05
    assert state.status_calls("scripted:a") >= 3
    dreamer.start_background_monitoring(interval_seconds=0.05)  # restarting keeps one thread
    assert len(monitors()) == 1
    dreamer.stop_background_monitoring()
    assert monitors() == [] and dreamer.get_cache_info()["monitoring"] is False
    calls = dreamer.get_cache_info()["provider_calls"]
    time.sleep(0.2)
    assert dreamer.get_cache_info()["provider_calls"] == calls
    # A decision right after a refresh is served from the cache.
    dreamer.start_background_monitoring(interval_seconds=60)
    assert wait_for(lambda: dreamer.get_cache_info()["provider_calls"] >= calls + 6)
    before = dreamer.get_cache_info()["misses"]
    dreamer.place(QuantumTask(circuit=bell()))
    assert dreamer.get_cache_info()["misses"] == before
    pcs.close()
    assert monitors() == []


def test_reinitialising_the_dreamer_stops_the_old_monitor(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        pcs.create_pilot(pilot(resource("a", **SIM)))
        pcs.qdreamer.start_background_monitoring(interval_seconds=0.05)
        assert len(monitors()) == 1
        pcs.initialize_dreamer({"optimization_mode": "low_cost"})
        assert monitors() == [] and pcs.qdreamer.get_cache_info()["monitoring"] is False


@pytest.mark.parametrize("interval", [0, -1, "60", True])
def test_monitoring_interval_is_validated(plugins, interval):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins) as pcs:
        with pytest.raises(ConfigurationError, match="interval_seconds=60"):
            pcs.qdreamer.start_background_monitoring(interval)
        assert monitors() == []


def test_concurrent_submissions_keep_counters_and_in_flight_right(plugins):
    with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=plugins, max_workers=4) as pcs:
        pcs.create_pilot(pilot(*(resource(f"r{i}", **SIM) for i in range(4))))
        circuit = bell()

        def submit_many(n):
            return [pcs.submit_quantum_task(QuantumTask(circuit=circuit, shots=20)) for _ in range(n)]

        with ThreadPoolExecutor(8) as pool:
            handles = [h for f in [pool.submit(submit_many, 25) for _ in range(8)] for h in f.result()]
        results = pcs.get_results(handles, timeout=120)
        assert len(results) == 200 and all(sum(r.counts.values()) == 20 for r in results)
        assert wait_idle(pcs) == {f"scripted:r{i}": 0 for i in range(4)}
        used = {r.resource_id for r in results}
        assert len(used) >= 2, "equal resources share the stream"
        assert sum(state.runs.values()) == 200
        info = pcs.qdreamer.get_cache_info()
        assert info["decisions"] == 200
        assert info["hits"] + info["misses"] == 3 * 4 * 200
        assert info["provider_calls"] == info["misses"] == 12 == sum(state.calls.values())


def test_reserving_placements_spreads_concurrent_deciders_exactly(plugins):
    dreamer = QDreamer(plugins, Circuits(plugins), DreamerConfig.parse({"optimization_mode": "high_speed"}))
    config = {"executor": "scripted", "resources": [resource(f"r{i}", queue_wait_s=5) for i in range(4)]}
    dreamer.add_resources(resources(config), config)
    task = QuantumTask(circuit=bell())
    barrier = threading.Barrier(8)

    def decide(_):
        barrier.wait()
        return [dreamer.place(task, reserve=True)[0].resource.id for _ in range(50)]

    with ThreadPoolExecutor(8) as pool:
        chosen = [rid for ids in pool.map(decide, range(8)) for rid in ids]
    # Each decision saw every earlier one's in-flight count: 400 tasks, 100 on each device.
    assert dreamer.in_flight() == {f"scripted:r{i}": 100 for i in range(4)}
    assert sorted(set(chosen)) == [f"scripted:r{i}" for i in range(4)]
    info = dreamer.get_cache_info()
    assert info["decisions"] == 400 and info["hits"] + info["misses"] == 3 * 4 * 400
