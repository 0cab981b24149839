"""The `qtau` command: `demo`, `plugins`, `resources`, `doctor`, `jobs`, `quote`.

Built on argparse because qtau-core promises to depend on pluggy and attrs only.
"""

from __future__ import annotations

import argparse
import json
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
    from qtau.dreamer.prices import stale_tables

    tables = []
    for provider, backend in sorted(host.backends().items()):
        try:
            tables.extend(backend.price_tables())
        except Exception as err:  # one plugin's broken table never hides the others
            print(f"warning: {provider} could not list its price tables: {type(err).__name__}: {err}")
    for warning in stale_tables(tables):
        print(f"warning: {warning}")
    try:
        import ray  # noqa: F401

        print("ray: installed (ExecutionEngine.RAY available)")
    except ImportError:
        print("ray: not installed (pip install 'qtau-core[ray]' for ExecutionEngine.RAY)")
    return status


def cmd_demo(host: PluginHost, args: argparse.Namespace) -> int:
    from qtau.service import PilotComputeService
    from qtau.types import QuantumTask
    from qtau.validation import finite_number

    finite_number(args.burst, "--burst", low=0, integer=True, fix="pass --burst 12, or --burst 0 for no burst")
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


def cmd_jobs(_: PluginHost | None, args: argparse.Namespace) -> int:
    """List the journal of a working directory (read-only: works beside the service using it)."""
    from datetime import datetime

    from qtau.journal import Journal

    with Journal.open(args.dir, readonly=True) as journal:
        records = journal.tasks(state=args.state, limit=args.limit)
        spend = journal.spend()
    rows = [("task", "state", "handed out", "attempts", "last resource", "job", "cost", "submitted")]
    for task in records:
        last = task.last_attempt
        job = "-" if last is None or last.job_ref is None else json.dumps(last.job_ref)[:60]
        cost = sum(a.cost or 0.0 for a in task.attempts)
        currency = next((a.currency for a in task.attempts if a.currency), "")
        rows.append((task.task_id, task.state, "yes" if task.handed_out else "no", str(len(task.attempts)),
                     last.resource_id if last else "-", job, f"{cost:g} {currency}".strip() if cost else "-",
                     datetime.fromtimestamp(task.submitted_at).isoformat(timespec="seconds")))
    print(_table(rows) if len(rows) > 1 else f"no tasks in the journal of {args.dir}")
    if spend:
        print("spent: " + ", ".join(f"{amount:g} {currency}" for currency, amount in sorted(spend.items())))
    return 0


def cmd_quote(host: PluginHost, args: argparse.Namespace) -> int:
    from qtau.dreamer.quote import quote_file

    quote = quote_file(args.file, args.executor or [], shots=args.shots, mode=args.mode, split=args.split, host=host)
    print(json.dumps(quote.to_dict(), indent=2, default=str) if args.json else quote)
    return 0


def _served(host: PluginHost, executor: str) -> bool:
    try:
        host.find_executor(executor)
    except QtauError:
        return False
    return True


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


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
    jobs = sub.add_parser("jobs", help="tasks, attempts and spend recorded in a working directory's journal")
    jobs.add_argument("--dir", default=".", help="the service's working_directory (default: here)")
    jobs.add_argument("--state", choices=("submitted", "running", "done", "failed", "cancelled"))
    jobs.add_argument("--limit", type=_positive_int, help="show at most this many tasks, oldest first")
    jobs.set_defaults(run=cmd_jobs, needs_plugins=False)
    quote = sub.add_parser("quote", help="price, wait and fidelity of an OpenQASM file on each resource (submits nothing)")
    quote.add_argument("file", help="OpenQASM 2 or 3 file")
    quote.add_argument("--executor", action="append", required=True, help="executor to quote on (repeatable)")
    quote.add_argument("--shots", type=int, default=1000)
    quote.add_argument("--mode", default="balanced", help="QDREAMER optimization mode")
    quote.add_argument("--split", action="store_true", help="quote the task split over interchangeable resources")
    quote.add_argument("--json", action="store_true", help="print the quote as JSON")
    quote.set_defaults(run=cmd_quote)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from qtau.plugins import default_host

    try:
        return args.run(default_host() if getattr(args, "needs_plugins", True) else None, args)
    except QtauError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
