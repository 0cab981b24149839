"""QTAU's conformance suite against this plugin's real backend: `python -m pytest`.

`companion_plugins` is left unset: the suite finds qtau-qiskit, which recognises the Qiskit test
circuits, among the installed plugins and loads it beside this one.
"""

from qiskit import QuantumCircuit
from qtau.testing import BackendConformance


class TestConformance(BackendConformance):
    plugin_name = "{{ cookiecutter.provider }}"
    plugin_module = "{{ cookiecutter.module_name }}.plugin"
    executor = "{{ cookiecutter.executor }}"
    config = {"seed": 7}

    def bell_circuit(self):
        qc = QuantumCircuit(2, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.measure([0, 1], [0, 1])
        return qc

    def x0_circuit(self):
        qc = QuantumCircuit(3, 3)
        qc.x(0)
        qc.measure([0, 1, 2], [0, 1, 2])
        return qc

    def x1_idle_circuit(self):
        qc = QuantumCircuit(3)
        qc.x(1)
        return qc


def test_jobs_of_one_call_keep_their_own_shots():
    """One run() call gets jobs asking 10, 11 and 12 shots: each outcome has its own."""
    from qtau.executor import CircuitJob

    from {{ cookiecutter.module_name }}.plugin import {{ cookiecutter.provider.title().replace('_', '') }}Backend

    backend = {{ cookiecutter.provider.title().replace('_', '') }}Backend()
    [resource] = backend.resources("{{ cookiecutter.executor }}", {"executor": "{{ cookiecutter.executor }}"})
    executor = backend.executor(resource, {"executor": "{{ cookiecutter.executor }}"})
    bell = TestConformance().bell_circuit()
    jobs = [CircuitJob(task_id=f"t{s}", circuit=bell, circuit_format="qiskit", shots=s, width=2)
            for s in (10, 11, 12)]
    assert [sum(o.counts.values()) for o in executor.run(jobs)] == [10, 11, 12]


def test_registers_and_unmeasured_bits():
    """Two classical registers and an unmeasured bit: bit 0 (first register) is rightmost."""
    from qiskit import ClassicalRegister, QuantumRegister
    from qtau.executor import CircuitJob

    from {{ cookiecutter.module_name }}.executor import QiskitBackendExecutor
    from {{ cookiecutter.module_name }}.plugin import {{ cookiecutter.provider.title().replace('_', '') }}Backend

    q, a, b = QuantumRegister(3), ClassicalRegister(2), ClassicalRegister(1)
    qc = QuantumCircuit(q, a, b)
    qc.x([0, 2])
    qc.measure(q[0], a[0])
    qc.measure(q[2], b[0])
    [resource] = {{ cookiecutter.provider.title().replace('_', '') }}Backend().resources("{{ cookiecutter.executor }}", {})
    [outcome] = QiskitBackendExecutor(resource, {}).run(
        [CircuitJob(task_id="t", circuit=qc, circuit_format="qiskit", shots=10, width=3)])
    assert outcome.counts == {"101": 10}
