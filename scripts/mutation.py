"""Mutation testing of QTAU's decision and bookkeeping code: do the tests catch wrong behaviour?

    .venv/bin/python scripts/mutation.py                 # the named mutants + a sample of 60 generated
    .venv/bin/python scripts/mutation.py --max 0          # every generated mutant (slow: hours)
    .venv/bin/python scripts/mutation.py --list           # what would run
    .venv/bin/python scripts/mutation.py --named-only     # the mutations issues 11 and 21 named
    .venv/bin/python scripts/mutation.py --only ranking   # mutants of files whose path contains this

Each mutant is one small change to one module (a comparison made strict or loose, `and`/`or`
swapped, `+`/`-` swapped, a `not` dropped, or one of the named realistic mutations that once
survived the whole suite). The module is rewritten in place, the tests that cover it run with
`-x`, and the original is restored. A mutant is killed when those tests fail (or time out).
Generated mutants are rewritten with `ast.unparse`, so formatting and comments differ while a
mutant is applied; nothing else changes. The kill rate and each survivor are printed at the end
and written to `--report` (JSON).

Targets: qtau-core's dreamer/, worker.py, service.py, circuits.py, qasm_summary.py, qtau-qiskit's
circuit summary (composite gates), and the plugins' bit-order code.
The script is like mutmut, with the two things this project needs: test selection per module
(the whole suite per mutant would take days on 2 cores) and the issue's named mutations.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = "qtau-core/src/qtau"

DREAMER_TESTS = ["tests/test_mutants.py", "tests/test_dreamer_scoring.py", "tests/test_dreamer_queue.py",
                 "tests/test_dreamer_policies.py", "tests/test_pins_and_batches.py", "tests/test_dreamer_failover.py",
                 "tests/test_dreamer_balance.py", "tests/test_dreamer_cache.py", "tests/test_bad_input.py"]
#: module -> the tests that cover it (run with -x for each of its mutants).
TARGETS: dict[str, list[str]] = {
    f"{CORE}/dreamer/ranking.py": DREAMER_TESTS,
    f"{CORE}/dreamer/core.py": DREAMER_TESTS,
    f"{CORE}/dreamer/config.py": DREAMER_TESTS,
    f"{CORE}/dreamer/cache.py": ["tests/test_dreamer_cache.py", "tests/test_dreamer_balance.py"],
    f"{CORE}/worker.py": ["tests/test_mutants.py", "tests/test_dreamer_failover.py", "tests/test_service.py",
                          "tests/test_bad_input.py"],
    f"{CORE}/service.py": ["tests/test_service.py", "tests/test_bad_input.py", "tests/test_mutants.py",
                           "tests/test_dreamer_balance.py"],
    f"{CORE}/circuits.py": ["tests/test_mutants.py", "tests/test_cross_format_matrix.py", "tests/test_bad_input.py"],
    f"{CORE}/qasm_summary.py": ["qtau-core/tests/test_qasm_summary.py", "tests/test_bad_input.py",
                                "tests/test_real_world_corpus.py"],
    "qtau-qiskit/src/qtau_qiskit/formats.py": ["qtau-qiskit/tests/test_composite.py", "tests/test_real_world_corpus.py",
                                               "tests/test_measurement_semantics.py", "qtau-qiskit/tests"],
    "qtau-qiskit/src/qtau_qiskit/composite.py": ["qtau-qiskit/tests/test_composite.py", "tests/test_real_world_corpus.py",
                                                 "qtau-qiskit/tests"],
    "qtau-qiskit/src/qtau_qiskit/simulators.py": ["qtau-qiskit/tests", "tests/test_measurement_semantics.py"],
    "qtau-braket/src/qtau_braket/outcomes.py": ["qtau-braket/tests/test_formats.py", "qtau-braket/tests/test_conformance.py",
                                                "tests/test_measurement_semantics.py"],
    "qtau-pennylane/src/qtau_pennylane/outcomes.py": ["qtau-pennylane/tests/test_execution.py",
                                                      "qtau-pennylane/tests/test_conformance.py",
                                                      "tests/test_measurement_semantics.py"],
}

#: Realistic one-line mutations named in issues 11 and 21 (they once passed the whole suite): (file, old, new, what).
NAMED: list[tuple[str, str, str, str]] = [
    (f"{CORE}/dreamer/ranking.py", "if res.num_qubits < shape.width:", "if res.num_qubits <= shape.width:",
     "qubit filter rejects a device exactly as wide as the circuit"),
    (f"{CORE}/dreamer/ranking.py", "price > shape.max_cost:", "price >= shape.max_cost:",
     "max_cost filter rejects a price exactly at the limit"),
    (f"{CORE}/worker.py", "_result(task, first, outcomes[n], paths[n]", "_result(task, first, outcomes[i], paths[i]",
     "batch results matched by position instead of by job"),
    (f"{CORE}/worker.py", "type(err).__name__, redact(str(err))[:500])", "type(err).__name__, str(err)[:500])",
     "attempt messages from non-QTAU exceptions not redacted"),
    (f"{CORE}/service.py", "size = max(1, math.ceil(len(members) / chunks))", "size = max(1, len(members))",
     "a burst to one resource never split into chunks"),
    (f"{CORE}/circuits.py", "(cost + conv.cost, tie,", "(conv.cost, tie,",
     "conversion path search ranks by the last step's cost instead of the total"),
    # Issue 21's survivors, and the reading of OpenQASM 2 that refused every file with a barrier.
    (f"{CORE}/qasm_summary.py", "reader.registers[match.group(1)] = (reader.width, int(match.group(2)))",
     "reader.registers[match.group(1)] = (0, int(match.group(2)))", "a second qreg's offset dropped"),
    (f"{CORE}/qasm_summary.py", "return self.gate_counts(gate, controls(match.group(1)), statement)",
     "return self.gate_counts(gate, 0, statement)", "`ctrl @ x` counted as `x`"),
    (f"{CORE}/qasm_summary.py", "self.physical + 1)", "self.physical)", "physical qubits $0, $1 read as width 1"),
    (f"{CORE}/qasm_summary.py", "                _add(body, found[0])", "                body.update(found[0])",
     "a defined gate whose body repeats `cx` counted once"),
    (f"{CORE}/qasm_summary.py", "        if low in COUNTED_KEYWORDS:\n            return {low: 1}\n", "",
     "OpenQASM 2 `barrier` checked for a definition (every qasm2.dumps file refused)"),
    (f"{CORE}/dreamer/core.py", "max(summary.num_qubits, task.num_qubits or 0)", "summary.num_qubits",
     "a declared num_qubits larger than the circuit ignored"),
    (f"{CORE}/dreamer/ranking.py", "fid < shape.min_fidelity:", "fid <= shape.min_fidelity:",
     "min_fidelity equal to the estimate refused"),
    (f"{CORE}/dreamer/ranking.py", "- fastest), n, i, w)", "- fastest), 0, i, w)", "the in-flight tie-break lost"),
    ("qtau-qiskit/src/qtau_qiskit/formats.py", "definition = composite.definition(op)", "definition = None",
     "composite gates judged by their names, not their definitions"),
]

# -- issue 23: the journal, budgets, admission, tracker and coalescing --------------------------------
# (a block of its own, so that other issues' additions merge without conflict)
NOT_RAY = ["-m", "not ray"]  # pytest arguments: these modules' Ray tests need a cluster per mutant
JOURNAL_TESTS = ["tests/test_hostile_journal.py", "qtau-core/tests/test_journal.py", "tests/test_recovery.py", *NOT_RAY]
TARGETS.update({
    f"{CORE}/journal/schema.py": JOURNAL_TESTS,
    f"{CORE}/journal/service_journal.py": JOURNAL_TESTS,
    f"{CORE}/journal/recovery.py": JOURNAL_TESTS,
    f"{CORE}/registry.py": ["tests/test_hostile_journal.py", "tests/test_budgets.py", "tests/test_service.py", *NOT_RAY],
    f"{CORE}/dreamer/budget.py": ["tests/test_budgets.py", "tests/test_hostile_journal.py", *NOT_RAY],
    f"{CORE}/dreamer/admission.py": ["tests/test_budgets.py", "tests/test_quotes.py", *NOT_RAY],
    f"{CORE}/tracker.py": ["tests/test_remote_lifecycle.py", "tests/test_coalesce.py", "tests/test_hostile_journal.py",
                           *NOT_RAY],
    f"{CORE}/coalesce.py": ["tests/test_coalesce.py", *NOT_RAY],
})
TARGETS[f"{CORE}/service.py"] = [*TARGETS[f"{CORE}/service.py"], "tests/test_hostile_journal.py"]
#: The survivors issue 23 named (its item 12), each now caught by a test.
NAMED += [
    (f"{CORE}/dreamer/admission.py", "p.currency == first.currency and p.cost <= first.cost + 1e-12",
     "p.currency == first.currency", "failover to a resource costing more than was reserved"),
    (f"{CORE}/coalesce.py", "if all(m[1].done() for m in self.members)", "if any(m[1].done() for m in self.members)",
     "cancelling one member of a sent provider batch cancels the others"),
    ("qtau-qiskit/src/qtau_qiskit/simulators.py", "by_shots[job.shots].append(i)", "by_shots[jobs[0].shots].append(i)",
     "a batch of several shot counts grouped by the first job's shots"),
    (f"{CORE}/dreamer/budget.py", "ledger.spent += fallback.get(ledger.name, 0.0)", "ledger.spent += 0.0",
     "a bill in a currency with no rate counted as free"),
    (f"{CORE}/service.py", "first = max(first, self.journal.first_attempt(task))",
     "first = self.journal.first_attempt(task)", "a task submitted twice under one journal overwrites its first attempts"),
    (f"{CORE}/registry.py", "self._unlearned[handle] = (task_id, first_attempt)",
     "self._unlearned[handle] = (task_id, 1)", "a second submission's attempts journaled over the first's"),
    (f"{CORE}/journal/service_journal.py", "cancelled = isinstance(error, (TaskCancelledError, concurrent.futures.CancelledError))",
     "cancelled = isinstance(error, TaskCancelledError)", "a cancelled local task recovered as ExecutionError"),
    (f"{CORE}/journal/recovery.py", 'if record.state == "cancelled":', 'if record.state == "canceled":',
     "a journaled cancellation read back as a failure"),
    (f"{CORE}/tracker.py", '{"job": ref, "member": position}', '{"job": ref, "member": i}',
     "a batch member after one that failed preparation re-attached to the wrong outcome"),
    (f"{CORE}/tracker.py", "if errors >= MAX_POLL_ERRORS or", "if errors > MAX_POLL_ERRORS or",
     "the poll-error limit off by one"),
    # and the other defects, undone one at a time
    (f"{CORE}/service.py", "self.qdreamer.budgets.carry(self.journal.carried)", "pass",
     "jobs left at a provider by a killed service not reserved"),
    (f"{CORE}/journal/recovery.py", "if not self.service_journal.recoverable(record.task_id):", "if False:",
     "recover() returns the service's own tasks"),
    (f"{CORE}/journal/service_journal.py", "self.journal.mark_handed_out(task_ids, durable=True)",
     "self.journal.mark_handed_out(task_ids)", "results handed out but not marked before a crash"),
    (f"{CORE}/journal/schema.py", "if readonly or names:", "if readonly:", "a foreign SQLite file adopted as a journal"),
]

SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
         ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
    return skip


def _mutable(tree: ast.AST) -> list[tuple[ast.AST, int, str]]:
    """(node, operand index, description) for every generated mutation site, in source order."""
    sites = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    sites.append((node, k, f"line {line}: {type(op).__name__} -> {SWAPS[type(op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            sites.append((node, -1, f"line {line}: {type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in BINOPS and not isinstance(node.left, ast.Constant | ast.JoinedStr):
            sites.append((node, -1, f"line {line}: {type(node.op).__name__} -> {BINOPS[type(node.op)].__name__}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((node, -1, f"line {line}: drop `not`"))
    return sorted(sites, key=lambda s: (getattr(s[0], "lineno", 0), getattr(s[0], "col_offset", 0), s[1]))


def _apply(node: ast.AST, k: int) -> None:
    if isinstance(node, ast.Compare):
        node.ops[k] = SWAPS[type(node.ops[k])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.BinOp):
        node.op = BINOPS[type(node.op)]()


class _DropNot(ast.NodeTransformer):
    def __init__(self, target: ast.AST) -> None:
        self.target = target

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        return node.operand if node is self.target else node


def generated(path: str) -> list[dict]:
    source = (ROOT / path).read_text()
    count = len(_mutable(ast.parse(source)))
    out = []
    for index in range(count):
        tree = ast.parse(source)
        node, k, what = _mutable(tree)[index]
        if isinstance(node, ast.UnaryOp):
            tree = _DropNot(node).visit(tree)
        else:
            _apply(node, k)
        out.append({"file": path, "what": what, "source": ast.unparse(ast.fix_missing_locations(tree)) + "\n"})
    return out


def named() -> list[dict]:
    out = []
    for path, old, new, what in NAMED:
        source = (ROOT / path).read_text()
        if source.count(old) != 1:
            print(f"warning: named mutation not found once in {path}: {old!r}", file=sys.stderr)
            continue
        out.append({"file": path, "what": f"named: {what}", "source": source.replace(old, new)})
    return out


def run_tests(tests: list[str], timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    # This checkout's sources first, whatever checkout the virtual environment's editable installs name.
    sources = [str(ROOT / pkg / "src") for pkg in ("qtau-core", "qtau-qiskit", "qtau-braket", "qtau-ibmq",
                                                    "qtau-pennylane", "tests/plugins/qtau-scripted")]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([*sources, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly",
                               "--timeout", str(int(timeout)), *tests], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout * 3)
    except subprocess.TimeoutExpired:
        return "killed (timeout)", time.monotonic() - started
    if proc.returncode == 0:
        return "survived", time.monotonic() - started
    return ("killed" if proc.returncode in (1, 2, 3) else f"killed (rc {proc.returncode})"), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=60, help="generated mutants to sample (0: all)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", default="", help="only files whose path contains this")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per pytest run")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--named-only", action="store_true", help="only the issue's named mutations")
    parser.add_argument("--skip-baseline", action="store_true", help="do not first run each module's tests unmutated")
    parser.add_argument("--report", default=str(ROOT / "benchmarks" / "results" / "mutation.json"))
    args = parser.parse_args(argv)
    files = [f for f in TARGETS if args.only in f]
    mutants = [m for m in named() if m["file"] in files]
    pool = [] if args.named_only else [m for f in files for m in generated(f)]
    if args.max and len(pool) > args.max:
        pool = random.Random(args.seed).sample(pool, args.max)
    mutants += pool
    print(f"{len(mutants)} mutants over {len(files)} modules ({len(pool)} generated, sampled from the full set)")
    if args.list:
        for m in mutants:
            print(f"  {m['file']}: {m['what']}")
        return 0
    for f in [] if args.skip_baseline else files:
        outcome, _ = run_tests(TARGETS[f], args.timeout)
        if outcome != "survived":
            print(f"the tests of {f} fail without any mutation: fix them first", file=sys.stderr)
            return 2
    results = []
    for n, m in enumerate(mutants, 1):
        path = ROOT / m["file"]
        original = path.read_text()
        try:
            path.write_text(m["source"])
            outcome, seconds = run_tests(TARGETS[m["file"]], args.timeout)
        finally:
            path.write_text(original)
        results.append({"file": m["file"], "what": m["what"], "outcome": outcome, "seconds": round(seconds, 1)})
        print(f"[{n}/{len(mutants)}] {outcome:<18} {m['file']}: {m['what']} ({seconds:.0f} s)", flush=True)
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(results, indent=1))
    killed = sum(r["outcome"] != "survived" for r in results)
    print(f"\nkill rate: {killed}/{len(results)} = {killed / max(len(results), 1):.0%}")
    for r in results:
        if r["outcome"] == "survived":
            print(f"  survived: {r['file']}: {r['what']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
