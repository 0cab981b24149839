"""The `qtau` command: `demo`, `plugins`, `resources`, `doctor`.

Built on argparse because qtau-core promises to depend on pluggy and attrs only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from qtau.errors import QtauError
from qtau.plugins import PluginHost

BELL_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""

#: Executors the demo tries, in order; each one whose plugin is installed becomes a pilot.
DEMO_EXECUTORS = ("qiskit_local", "braket_local", "pennylane_lightning", "ibmq_fake_manila")


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def cmd_plugins(host: PluginHost, _: argparse.Namespace) -> int:
    rows = [("plugin", "version", "module", "executors")]
    infos = host.executors()
    for name, module in host.spec().plugins:
        served = sorted(f"{i.name}*" if i.prefix else i.name for i in infos if i.provider == name)
        rows.append((name, host.versions.get(name, "") or "-", module, ", ".join(served) or "-"))
    print(_table(rows) if len(rows) > 1 else "No QTAU plugins installed: pip install qtau-qiskit (or qtau-braket, ...)")
    for failure in host.failures:
        print(f"FAILED {failure.plugin} during {failure.stage}: {failure.error_type}: {failure.message}")
    return 1 if any(f.stage == "load" for f in host.failures) else 0


def cmd_resources(host: PluginHost, args: argparse.Namespace) -> int:
    executors = args.executor or [i.name for i in host.executors() if not i.prefix]
    rows = [("executor", "resource", "kind", "qubits", "formats")]
    errors = 0
    for executor in executors:
        try:
            found = host.resources(executor, {"executor": executor})
        except QtauError as err:
            print(f"{executor}: {err}", file=sys.stderr)
            errors += 1
            continue
        for res in found or []:
            rows.append((executor, res.id, res.kind, str(res.num_qubits), ",".join(res.circuit_formats)))
    print(_table(rows))
    prefixed = sorted(i.name + "*" for i in host.executors() if i.prefix)
    if prefixed and not args.executor:
        print(f"\nPrefixed executors (name one to list its resources): {', '.join(prefixed)}")
    return 1 if errors else 0


def cmd_doctor(host: PluginHost, _: argparse.Namespace) -> int:
    from qtau.plugins import missing_plugins

    status = cmd_plugins(host, _)
    for problem in missing_plugins(host.spec()):
        print(f"cannot import {problem}")
        status = 1
    try:
        import ray  # noqa: F401

        print("ray: installed (ExecutionEngine.RAY available)")
    except ImportError:
        print("ray: not installed (pip install 'qtau-core[ray]' for ExecutionEngine.RAY)")
    return status


def cmd_demo(host: PluginHost, args: argparse.Namespace) -> int:
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask

    started = time.perf_counter()
    executors = args.executor or [e for e in DEMO_EXECUTORS if _served(host, e)]
    if not executors:
        print("No local simulator plugin is installed: pip install qtau-qiskit", file=sys.stderr)
        return 1
    with PilotComputeService(execution_engine=args.engine, plugins=host) as pcs:
        for executor in executors:
            pilot = pcs.create_pilot({"resource_type": "quantum", "quantum": {"executor": executor}})
            print(f"pilot {pilot.name}: {executor} -> {', '.join(r.id for r in pilot.resources)}")
        pcs.initialize_dreamer({"optimization_mode": args.mode})
        print(f"service ready on {args.engine} in {time.perf_counter() - started:.2f} s\n")
        task = QuantumTask(circuit=BELL_QASM, num_qubits=2, gate_set=["h", "cnot"], shots=args.shots)
        print(pcs.qdreamer.explain(task))
        handle = pcs.submit_quantum_task(task)
        pcs.wait_tasks([handle], timeout=300)
        result = pcs.get_result(handle)
        print(f"\nchosen resource: {result.resource_id}")
        print(f"counts (qubit 0 rightmost): {dict(sorted(result.get_counts().items()))}")
        print(f"ran in {result.timings.ran_s * 1000:.1f} ms; conversion path: {' -> '.join(result.conversion_path)}")
        burst = pcs.submit_quantum_tasks([QuantumTask(circuit=BELL_QASM, num_qubits=2, shots=args.shots)
                                          for _ in range(args.burst)])
        spread: dict[str, int] = {}
        for done in pcs.get_results(burst, timeout=600):
            spread[done.resource_id] = spread.get(done.resource_id, 0) + 1
        print(f"a burst of {args.burst} tasks spread over: "
              + ", ".join(f"{rid} {n}" for rid, n in sorted(spread.items(), key=lambda kv: -kv[1])))
    return 0


def _served(host: PluginHost, executor: str) -> bool:
    try:
        host.find_executor(executor)
    except QtauError:
        return False
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qtau", description="Run quantum circuits on any installed backend.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a Bell task through QDREAMER on local simulators")
    demo.add_argument("--engine", choices=("local", "ray"), default="local")
    demo.add_argument("--mode", default="balanced", help="QDREAMER optimization mode")
    demo.add_argument("--shots", type=int, default=1000)
    demo.add_argument("--burst", type=int, default=12, help="tasks submitted together after the first")
    demo.add_argument("--executor", action="append", help="executor to make a pilot for (repeatable)")
    demo.set_defaults(run=cmd_demo)
    sub.add_parser("plugins", help="installed plugins, versions and load errors").set_defaults(run=cmd_plugins)
    res = sub.add_parser("resources", help="what each plugin offers")
    res.add_argument("executor", nargs="*", help="executors to list (default: every non-prefixed one)")
    res.set_defaults(run=cmd_resources)
    sub.add_parser("doctor", help="check plugins import and engines are available").set_defaults(run=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qtau.plugins import default_host

    try:
        return args.run(default_host(), args)
    except QtauError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
