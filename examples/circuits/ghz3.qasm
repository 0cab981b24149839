// A 3-qubit GHZ state in OpenQASM 3: `qtau run examples/circuits/ghz3.qasm --json`
OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
c = measure q;
