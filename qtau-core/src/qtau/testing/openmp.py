"""How an SDK's bundled OpenMP runtime (GNU libgomp) was loaded, read in a fresh interpreter.

Some SDKs bundle libgomp (Qiskit Aer, PennyLane Lightning). It reads its settings once, when it is
first loaded, and by default its threads keep spinning after each parallel region, taking the cores
QTAU's own Python threads need; so which import loads it first matters, and only a fresh process
can show it. `spin_count_after_a_task` runs one Bell circuit (OpenQASM 2, which every plugin's
conversions reach) through a LOCAL service in a new interpreter, with `OMP_DISPLAY_ENV=VERBOSE`,
and returns libgomp's own account of its spin count (`"0"`: threads sleep, as with
`OMP_WAIT_POLICY=PASSIVE`; `"300000"`: libgomp's default) and the interpreter's `OMP_WAIT_POLICY`
afterwards (None: unset, as it was).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

BELL_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""

_SERVICE = """
import os
from qtau import ExecutionEngine, PilotComputeService, QuantumTask
from qtau.plugins import PluginHost

host = PluginHost(strict=True)
for name, module in {plugins!r}:
    host.register_module(name, module)
with PilotComputeService(execution_engine=ExecutionEngine.LOCAL, plugins=host) as pcs:
    pcs.create_pilot({{"resource_type": "quantum", "quantum": {{"executor": {executor!r}}}}})
    result = pcs.get_result(pcs.submit_quantum_task(QuantumTask(circuit={circuit!r}, shots=100)), timeout=120)
    assert sum(result.counts.values()) == 100
"""


def spin_count(script: str, env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """Run `script` in a fresh interpreter (the caller's environment without OpenMP wait settings,
    plus `env`) and return (libgomp's first reported GOMP_SPINCOUNT, OMP_WAIT_POLICY at the end)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = script + '\nimport os\nprint("OMP_WAIT_POLICY after:", os.environ.get("OMP_WAIT_POLICY"))\n'
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**clean, "OMP_DISPLAY_ENV": "VERBOSE", **(env or {})})
    spins = [line.split("=", 1)[1].strip().strip("'") for line in out.stderr.splitlines() if "GOMP_SPINCOUNT" in line]
    if not spins:
        raise AssertionError(f"no OpenMP runtime was loaded; stderr:\n{out.stderr}")
    after = out.stdout.rsplit("OMP_WAIT_POLICY after:", 1)[1].strip()
    return spins[0], None if after == "None" else after


def spin_count_after_a_task(plugins: Sequence[tuple[str, str]], executor: str,
                            env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """`spin_count` of a fresh interpreter that ran one Bell task on `executor` through a LOCAL
    service whose host has `plugins` (`(name, module)` pairs): the way users meet the SDK."""
    script = _SERVICE.format(plugins=tuple(plugins), executor=executor, circuit=BELL_QASM)
    return spin_count(script, env)
