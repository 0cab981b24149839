"""Shot and memory limits of IBM resources: a fake runs on Aer here (a statevector against this
host's memory, local shot limit); a device, offline from its snapshot or online from its
backend, states its own `configuration().max_shots`."""

from qtau import resource_limits as limits
from qtau_ibmq import backends, offline


def test_fakes_are_local_statevectors_with_the_local_shot_limit():
    [res] = backends.resources("ibmq_fake_manila", {})
    assert res.metadata["memory_model"] == "statevector" and res.metadata["max_shots"] == limits.LOCAL_MAX_SHOTS
    assert res.metadata["max_memory_bytes"] == limits.host_memory()[0]
    assert res.metadata["device_max_shots"] == backends.fake_backend("fake_manila").configuration().max_shots


def test_the_qasm_simulator_is_a_local_statevector():
    [res] = backends.resources("ibmq_qasm_simulator", {"memory": 2**30})
    assert res.metadata["memory_model"] == "statevector" and res.metadata["max_memory_bytes"] == 2**30


def test_an_offline_device_states_the_devices_shot_limit_and_no_memory():
    [res] = offline.resources("ibmq_brisbane", {})
    expected = backends.fake_backend("fake_brisbane").configuration().max_shots
    assert res.metadata["max_shots"] == expected and expected >= 10_000
    assert not set(res.metadata) & {"memory_model", "max_memory_bytes", "device_max_shots"}
    assert limits.breaches(res.metadata, 127, expected) == []
    assert limits.breaches(res.metadata, 127, expected + 1)[0].field == "shots"


def test_device_max_shots_reads_the_backend_configuration():
    fake = backends.fake_backend("fake_brisbane")
    assert backends.device_max_shots(fake) == fake.configuration().max_shots
    assert backends.device_max_shots(object()) is None
