"""QTAU's conformance suite against this plugin's real backend: `python -m pytest`."""

from qtau.testing import BackendConformance

BELL = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
"""

X0 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
creg c[3];
x q[0];
measure q -> c;
"""


X1_IDLE = """OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
x q[1];
"""


class TestConformance(BackendConformance):
    plugin_name = "{{ cookiecutter.provider }}"
    plugin_module = "{{ cookiecutter.module_name }}.plugin"
    executor = "{{ cookiecutter.executor }}"
    config = {"seed": 7}

    def bell_circuit(self):
        return BELL

    def x0_circuit(self):
        return X0

    def x1_idle_circuit(self):
        return X1_IDLE


def test_registers_and_unmeasured_bits():
    """Two classical registers and an unmeasured bit: bit 0 (first register) is rightmost."""
    import random

    from {{ cookiecutter.module_name }}.qasm import parse
    from {{ cookiecutter.module_name }}.simulator import simulate

    program = parse('OPENQASM 2.0; qreg q[3]; creg a[2]; creg b[1]; x q[0]; x q[2]; '
                    'measure q[0] -> a[0]; measure q[2] -> b[0];')
    assert simulate(program, 10, random.Random(1)) == {"101": 10}
