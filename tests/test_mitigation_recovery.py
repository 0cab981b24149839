"""A mitigated remote task survives its driver (issue 27 items 1 and 4): the job reference the
journal keeps carries the recipe, so a new service recover()s the provider jobs without creating
them again and corrects the counts as the first driver would have. Braket stub on 127.0.0.1;
the driver is a subprocess this test starts and kills."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("braket")
pytest.importorskip("qiskit")

from qtau.mitigation import report  # noqa: E402
from qtau.plugins import PluginHost  # noqa: E402
from qtau.service import PilotComputeService  # noqa: E402
from qtau_braket.testing.stub_server import BraketStub  # noqa: E402

X0 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[0];\nh q[1];\nh q[1];\nmeasure q -> c;\n'
DRIVER = textwrap.dedent(f'''
    import json, sys, time
    from qtau.plugins import PluginHost
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    config, workdir = json.loads(sys.argv[1]), sys.argv[2]
    host = PluginHost(strict=True)
    for name, module in (("braket", "qtau_braket.plugin"), ("qiskit", "qtau_qiskit.plugin")):
        host.register_module(name, module)
    pcs = PilotComputeService(plugins=host, working_directory=workdir)
    pcs.create_pilot({{"resource_type": "quantum", "quantum": {{"executor": "braket_sv1"}}, **config}})
    pcs.submit_quantum_task(QuantumTask(circuit={X0!r}, shots=100, mitigation="zne", task_id="folded"))
    print("submitted", flush=True)
    time.sleep(600)
''')


def host() -> PluginHost:
    found = PluginHost(strict=True)
    for name, module in (("braket", "qtau_braket.plugin"), ("qiskit", "qtau_qiskit.plugin")):
        found.register_module(name, module)
    return found


def test_a_recovered_zne_job_is_corrected_without_a_second_create(tmp_path):
    with BraketStub() as stub:
        stub.hold = True
        script = tmp_path / "driver.py"
        script.write_text(DRIVER)
        workdir = tmp_path / "run"
        env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
        driver = subprocess.Popen([sys.executable, str(script), json.dumps(stub.config()), str(workdir)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and len(stub.tasks) < 3:
                assert driver.poll() is None, driver.stderr.read()[-2000:]
                time.sleep(0.1)
            assert len(stub.tasks) == 3, "the driver created the three folded circuits' tasks"
            time.sleep(0.5)  # the job reference is journaled right after the create
        finally:
            driver.send_signal(signal.SIGKILL)  # the subprocess this test started, and nothing else
            driver.wait(timeout=30)
        creates = stub.calls.count("POST quantum-task")
        pcs = PilotComputeService(plugins=host(), working_directory=str(workdir))
        try:
            pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": "braket_sv1"}, **stub.config()})
            handles = pcs.recover()
            stub.release()
            [result] = pcs.get_results(handles, timeout=300)
        finally:
            pcs.close()
        assert stub.calls.count("POST quantum-task") == creates == 3, "a recovered job is never created again"
    assert result.task_id == "folded" and result.counts == {"01": 100}
    found = report(result)
    assert found["technique"] == "zne" and found["scale_factors"] == [1.0, 3.0, 5.0]
    assert found["quasi_probabilities"] == pytest.approx({"01": 1.0})
