"""Mutation testing of QTAU's decision and bookkeeping code: do the tests catch wrong behaviour?

    .venv/bin/python scripts/mutation.py                 # the named mutants + a sample of 60 generated
    .venv/bin/python scripts/mutation.py --max 0          # every generated mutant (slow: hours)
    .venv/bin/python scripts/mutation.py --list           # what would run
    .venv/bin/python scripts/mutation.py --named-only     # the named (hand-made) mutations, issues 11, 21, 23
    .venv/bin/python scripts/mutation.py --only ranking   # mutants of files whose path contains this
    .venv/bin/python scripts/mutation.py --group budget --group journal   # issue 23's groups (below)

Each mutant is one small change to one module (a comparison made strict or loose, `and`/`or`
swapped, `+`/`-` swapped, a `not` dropped, or one of the named realistic mutations that once
survived the whole suite). The module is rewritten in place, the tests that cover it run with
`-x`, and the original is restored (also on SIGTERM). A mutant is killed when those tests fail
(or time out). The module is rewritten in place, so run the script on a copy of the checkout
(`git archive HEAD | tar -x -C /tmp/copy`) when you work in the checkout meanwhile, and under
`nice`. A named mutant that does not compile is reported as invalid, not as killed.
Generated mutants are rewritten with `ast.unparse`, so formatting and comments differ while a
mutant is applied; nothing else changes. The kill rate and each survivor are printed at the end
and written to `--report` (JSON).

Targets: qtau-core's dreamer/, worker.py, service.py, circuits.py, qasm_summary.py, qtau-qiskit's
circuit summary (composite gates), and the plugins' bit-order code; for issue 23, the groups in
GROUPS (budget, admission, coalescing, tracker, journal and recovery, result conversion), whose
mutants find their code by a unique snippet wherever it has moved. Results:
benchmarks/results/mutation-issue21.json, mutation-issue23.json.
The script is like mutmut, with the two things this project needs: test selection per module
(the whole suite per mutant would take days on 2 cores) and the issue's named mutations.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import signal
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
    f"{CORE}/dreamer/candidates.py": DREAMER_TESTS,
    f"{CORE}/dreamer/terms.py": DREAMER_TESTS,
    f"{CORE}/dreamer/core.py": DREAMER_TESTS,
    f"{CORE}/dreamer/config.py": DREAMER_TESTS,
    f"{CORE}/dreamer/cache.py": ["tests/test_dreamer_cache.py", "tests/test_dreamer_balance.py"],
    f"{CORE}/worker.py": ["tests/test_mutants.py", "tests/test_dreamer_failover.py", "tests/test_service.py",
                          "tests/test_bad_input.py"],
    f"{CORE}/service.py": ["tests/test_service.py", "tests/test_bad_input.py", "tests/test_mutants.py",
                           "tests/test_dreamer_balance.py"],
    f"{CORE}/dispatch.py": ["tests/test_service.py", "tests/test_bad_input.py", "tests/test_mutants.py",
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
    (f"{CORE}/dreamer/candidates.py", "if res.num_qubits < shape.width:", "if res.num_qubits <= shape.width:",
     "qubit filter rejects a device exactly as wide as the circuit"),
    (f"{CORE}/dreamer/candidates.py", "price > shape.max_cost:", "price >= shape.max_cost:",
     "max_cost filter rejects a price exactly at the limit"),
    (f"{CORE}/worker.py", "_result(task, first, outcomes[n], paths[n]", "_result(task, first, outcomes[i], paths[i]",
     "batch results matched by position instead of by job"),
    (f"{CORE}/worker.py", "type(err).__name__, redact(str(err))[:500])", "type(err).__name__, str(err)[:500])",
     "attempt messages from non-QTAU exceptions not redacted"),
    (f"{CORE}/dispatch.py", "size = max(1, math.ceil(len(members) / chunks))", "size = max(1, len(members))",
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
    (f"{CORE}/dreamer/candidates.py", "fid < shape.min_fidelity:", "fid <= shape.min_fidelity:",
     "min_fidelity equal to the estimate refused"),
    (f"{CORE}/dreamer/ranking.py", "- fastest), n, i, w)", "- fastest), 0, i, w)", "the in-flight tie-break lost"),
    ("qtau-qiskit/src/qtau_qiskit/formats.py", "definition = composite.definition(op)", "definition = None",
     "composite gates judged by their names, not their definitions"),
]

# -- issue 23: the journal, budgets, admission, tracker, coalescing and result conversion -------------
# (a block of its own, so that other issues' additions merge without conflict)
#
# This code is being moved between modules (the journal becomes a package, the coalescer, tracker
# and worker are being split). So these mutants name a *group*, not a file: each finds its code
# by its anchor (the `old` snippet, which must occur exactly once) in the group's candidate files,
# then, failing that, anywhere under qtau-core/src/qtau. A mutant whose anchor is found nowhere
# (or more than once) is reported as "anchor not found" / "anchor ambiguous", never as killed, and
# is left out of the kill rate. Tests are chosen per group, so they follow the code wherever it goes.
NOT_RAY = ["-m", "not ray"]  # pytest arguments: these modules' Ray tests need a cluster per mutant
MONEY_TESTS = ["tests/test_mutants_money.py", "tests/test_budgets.py"]
JOURNAL_TESTS = ["tests/test_mutants_journal.py", "tests/test_hostile_journal.py", "qtau-core/tests/test_journal.py",
                 "tests/test_recovery.py", "tests/test_journal_crash.py", "tests/test_cutting_recovery.py"]
REMOTE_TESTS = ["tests/test_mutants_remote.py", "tests/test_remote_lifecycle.py", "tests/test_coalesce.py"]
#: group -> (candidate files, as globs relative to the repository root; the tests that cover it)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "budget": ([f"{CORE}/dreamer/budget.py", f"{CORE}/dreamer/budget*.py", f"{CORE}/budget*.py"],
               [*MONEY_TESTS, "tests/test_mutants_journal.py", "tests/test_hostile_journal.py", *NOT_RAY]),
    "admission": ([f"{CORE}/dreamer/admission.py", f"{CORE}/dreamer/admi*.py", f"{CORE}/admission*.py"],
                  [*MONEY_TESTS, "tests/test_quotes.py", *NOT_RAY]),
    "coalesce": ([f"{CORE}/coalesce.py", f"{CORE}/coalesce/*.py", f"{CORE}/gather*.py", f"{CORE}/batch*.py",
                  f"{CORE}/dispatch*.py"], [*REMOTE_TESTS, *NOT_RAY]),
    "tracker": ([f"{CORE}/tracker.py", f"{CORE}/tracker/*.py", f"{CORE}/remote*.py", f"{CORE}/poll*.py",
                 f"{CORE}/attempt*.py", f"{CORE}/dispatch*.py"],
                [*REMOTE_TESTS, "tests/test_hostile_journal.py", *NOT_RAY]),
    "journal": ([f"{CORE}/journal/store.py", f"{CORE}/journal/*.py", f"{CORE}/service.py"],
                [*JOURNAL_TESTS, *NOT_RAY]),
    "results": ([f"{CORE}/worker.py", f"{CORE}/journal/*.py", f"{CORE}/attempt*.py",
                 f"{CORE}/prepare*.py", f"{CORE}/results*.py"],
                ["tests/test_mutants_journal.py", "tests/test_mutants_remote.py", "tests/test_hostile_journal.py",
                 "tests/test_recovery.py", "tests/test_service.py", *NOT_RAY]),
    "registry": ([f"{CORE}/registry.py", f"{CORE}/registry/*.py", f"{CORE}/service.py"],
                 ["tests/test_hostile_journal.py", "tests/test_budgets.py", "tests/test_service.py", *NOT_RAY]),
    "service": ([f"{CORE}/service.py", f"{CORE}/journal/recovery.py", f"{CORE}/journal/*.py"],
                ["tests/test_mutants_journal.py", "tests/test_hostile_journal.py", "tests/test_service.py",
                 "tests/test_recovery.py", "tests/test_journal_crash.py", *NOT_RAY]),
    "simulators": (["qtau-qiskit/src/qtau_qiskit/simulators.py", "qtau-qiskit/src/qtau_qiskit/*.py"],
                   ["tests/test_mutants_remote.py", "qtau-qiskit/tests", "tests/test_measurement_semantics.py"]),
}
#: Issue 11's worker mutants: the worker is being split, so they find their code the same way.
GROUPS["worker"] = ([f"{CORE}/worker.py", f"{CORE}/worker/*.py", f"{CORE}/attempt*.py", f"{CORE}/prepare*.py",
                     f"{CORE}/dispatch*.py"], TARGETS[f"{CORE}/worker.py"])
#: Generated mutants of the group's files that exist now (first candidate of each group).
for _group, (_globs, _tests) in GROUPS.items():
    if _group not in ("results", "service", "registry", "simulators", "worker") and (ROOT / _globs[0]).exists():
        TARGETS[_globs[0]] = _tests
for _name in ("schema", "codec", "writer", "service_journal", "recovery"):
    TARGETS[f"{CORE}/journal/{_name}.py"] = GROUPS["journal"][1]
# The issue 11 worker mutants found their lines in worker.py by texts that moved; now by group.
NAMED = [m for m in NAMED if m[0] != f"{CORE}/worker.py"]
NAMED += [
    ("@worker", "member.placements[0], outcomes[n], paths[n]", "member.placements[0], outcomes[i], paths[i]",
     "batch results matched by position instead of by job"),
    ("@worker", "type(err).__name__, redact(str(err))[:500]", "type(err).__name__, str(err)[:500]",
     "attempt messages from non-QTAU exceptions not redacted"),
]
#: Issue 23: the survivors it named (its item 12), then its other defects undone one at a time,
#: then hand-made mutants of the same kind: money, attempts, recovery, provider batches.
NAMED += [
    # -- the named survivors
    ("@admission", "p.currency == first.currency and p.cost <= first.cost + 1e-12",
     "p.currency == first.currency", "failover to a resource costing more than was reserved"),
    ("@coalesce", "if all(m[1].done() for m in self.members)", "if any(m[1].done() for m in self.members)",
     "cancelling one member of a sent provider batch cancels the others"),
    ("@simulators", "by_shots[job.shots].append(i)", "by_shots[jobs[0].shots].append(i)",
     "a coalesced Aer batch of several shot counts grouped by the first job's shots"),
    ("@budget", "ledger.spent += fallback.get(ledger.name, 0.0)", "ledger.spent += 0.0",
     "a bill in a currency with no rate counted as free"),
    ("@service", "first = max(at_least, self.journal.next_attempt(task.task_id))",
     "first = at_least", "a task submitted again by a later service overwrites its journaled attempts"),
    ("@registry", "self._unlearned[handle] = (task_id, first_attempt)",
     "self._unlearned[handle] = (task_id, 1)", "a second submission's attempts journaled over the first's"),
    ("@journal", "cancelled = isinstance(error, (TaskCancelledError, concurrent.futures.CancelledError))",
     "cancelled = isinstance(error, TaskCancelledError)", "a cancelled local task recovered as ExecutionError"),
    ("@journal", 'if record.state == "cancelled":', 'if record.state == "canceled":',
     "a journaled cancellation read back as a failure"),
    ("@tracker", '{"job": ref, "member": position}', '{"job": ref, "member": i}',
     "a provider batch member after one that failed preparation re-attached to the wrong outcome"),
    ("@tracker", "if errors >= MAX_POLL_ERRORS or", "if errors > MAX_POLL_ERRORS or",
     "the poll-error limit off by one"),
    # -- the other defects, undone one at a time
    ("@service", "self.qdreamer.budgets.carry(self.journal.carried)", "pass",
     "jobs left at a provider by a killed service not reserved"),
    ("@service", "if not self.service_journal.recoverable(record.task_id):", "if False:",
     "recover() returns the service's own tasks"),
    ("@journal", "self.journal.mark_handed_out(task_ids, durable=True)",
     "self.journal.mark_handed_out(task_ids)", "results handed out but not marked before a crash"),
    ("@journal", "if readonly or names:", "if readonly:", "a foreign SQLite file adopted as a journal"),
    # -- budgets
    ("@budget", "            for name, amount in need.items():\n                self._ledgers[name].reserved += amount",
     "            for name, amount in need.items():\n                pass", "a reservation holds no money"),
    ("@budget", "ledger.reserved = max(ledger.reserved - amount, 0.0)", "ledger.reserved = max(ledger.reserved, 0.0)",
     "a settled hold stays reserved"),
    ("@budget", "if self._holds.pop(id(hold), None) is None:\n                return",
     "self._holds.pop(id(hold), None)\n            if False:\n                return", "a hold settled twice is charged twice"),
    ("@budget", "found.append(self._ledgers[pilot])", "pass", "a pilot's budget never charged"),
    ("@budget", "if ledger.name == SERVICE or self._pilot_of.get(rid) == ledger.name:\n                ledger.spent",
     "if ledger.name == SERVICE:\n                ledger.spent", "an earlier service's spend not replayed into a pilot budget"),
    ("@budget", "if old is not None and old.spec.currency == spec.currency:\n                old.spec = spec",
     "if old is not None and old.spec.currency == spec.currency:\n                self._ledgers[name] = Ledger(name, spec)",
     "raising a budget forgets what was spent"),
    ("@budget", "carried = self._carried.pop(key, None)", "carried = self._carried.get(key)",
     "a carried reservation taken as a hold stays carried too"),
    ("@budget", '"holds": {f"{h.key}{DUPLICATE}{n}" if n else h.key:', '"holds": {h.key:',
     "two open holds of one task saved as one (a restart frees the other's money)"),
    ("@budget", "                        if name in self._ledgers:\n                            self._ledgers[name].reserved += amount",
     "                        if name in self._ledgers:\n                            pass",
     "holds open at a restart not reserved again"),
    ("@budget", "return self.spec.limit - self.spent - self.reserved", "return self.spec.limit - self.spent",
     "money reserved by running tasks counted as free"),
    # -- admission and settlement
    ("@admission", "and budgets.scope(p.resource.id) == scope]", "]",
     "failover into another pilot's budget than the one reserved in"),
    ("@admission", "return [p for p in rest if p.currency == first.currency and",
     "return [p for p in rest if True and", "failover to a resource priced in another currency"),
    ("@admission", "kept = _failovers(budgets, chosen, others)[", "kept = others[",
     "a task moved to an affordable resource fails over to unaffordable ones"),
    ("@admission", 'cost = outcome.metadata.get("billed_cost", outcome.cost)', "cost = outcome.cost",
     "the provider's billed cost ignored (the quote charged)"),
    ("@admission", 'outcome.metadata.get("billed_currency", outcome.currency)', "outcome.currency",
     "a bill's own currency ignored"),
    ("@admission", "                budgets.settle(hold, None)\n                return",
     "                budgets.settle(hold, actual_costs(None, hold))\n                return",
     "a task that failed everywhere charged its quote"),
    ("@admission", "            dreamer.task_finished(first.resource.id)\n            dreamer.task_started(row.resource_id)",
     "            dreamer.task_started(row.resource_id)",
     "a task moved by the budget leaves an in-flight count on its first resource"),
    # -- coalescing
    ("@coalesce", "return payload.placements[0].resource.id, payload.task.timeout",
     "return payload.placements[0].resource.id, None", "tasks with different timeouts share one batch"),
    ("@coalesce", "alone = self._running < self.capacity", "alone = self._running <= self.capacity",
     "one more unit on the pool than it has threads"),
    ("@coalesce", "batch, rest = members[:self.max_batch], members[self.max_batch:]\n        if rest:\n"
     "            self.groups[key] = rest", "batch, rest = members, []\n        if rest:\n            self.groups[key] = rest",
     "max_batch ignored: one batch takes every waiting task"),
    ("@coalesce", "for payload, handle in batch if handle.set_running_or_notify_cancel()]",
     "for payload, handle in batch if handle.set_running_or_notify_cancel() or handle.cancelled()]",
     "a gathered task cancelled before its batch runs still runs"),
    ("@coalesce", "        if not self._created:\n            self._created = True",
     "        if True:\n            self._created = True",
     "a provider batch's create call counted as answered twice"),
    ("@coalesce", "while key in self._waiting.groups and not self._creating.get(rid):",
     "while key in self._waiting.groups:", "remote tasks never gathered while a create call runs"),
    # -- tracker
    ("@tracker", "        else:\n            errors = 0\n", "        else:\n            pass\n",
     "transient poll errors add up across good polls"),
    ("@tracker", "        except asyncio.TimeoutError:\n            await self._cancel(executor, ref)",
     "        except asyncio.TimeoutError:\n            pass", "a timed-out provider job left running (and billing)"),
    ("@tracker", "if ref is not None and not ended and not isinstance(err, (TaskTimeoutError, CancelRefusedError)):",
     "if False:", "a job whose poll failed is not cancelled before failover"),
    ("@tracker", "            if isinstance(err, CancelRefusedError):\n                return self._refused(",
     "            if False:\n                return self._refused(", "a refused cancel fails over (a second paid job)"),
    ("@tracker", "return isinstance(err, BackendUnavailableError) and not isinstance(err, JobLostError)",
     "return isinstance(err, BackendUnavailableError)", "a lost job polled again as if transient"),
    ("@tracker", "if len(outcomes) != len(jobs):", "if len(outcomes) < len(jobs):",
     "a provider batch with more outcomes than jobs accepted"),
    # -- journal and recovery
    ("@service", "            if record.task_id in self.service_journal.in_flight:\n                continue",
     "            if False:\n                continue", "recover() takes a task another live service of this process runs"),
    ("@budget", "if ledger.name in split or not (", "if not (",
     "a carried job's money reserved again when the budget is set again"),
    ("@journal", "if not t.finished and (t.remote or t.create_unsettled)", "if not t.finished and t.remote",
     "a create whose answer was lost frees its money at a restart"),
    ("@journal", "            self._recoverable.discard(task.task_id)\n", "            pass\n",
     "a task this service submitted again also returned by recover()"),
    ("@journal", 'return max(row["n"] or 0, mine) + 1', 'return (row["n"] or 0) + 1',
     "an attempt number queued but not committed given out again (a repeated idempotency token)"),
    ("@journal", "for number, att in enumerate(attempts, start=first):", "for number, att in enumerate(attempts, start=1):",
     "a submission's attempts journaled from 1 over an earlier submission's"),
    ("@journal", "return type(error).__name__, redact(str(error))[:ERROR_CHARS]",
     "return type(error).__name__, str(error)[:ERROR_CHARS]", "a secret in an error written to the journal"),
    ("@journal", "message = redact(att.message)[:ERROR_CHARS] if", "message = att.message[:ERROR_CHARS] if",
     "a secret in an attempt's message written to the journal"),
    ("@journal", "if rows and result.cost:", "if False:", "a result's cost not journaled (spend lost at a restart)"),
    # -- result conversion
    ("@results", "cost=stored.cost or 0.0,", "cost=0.0,", "a recovered result's cost lost"),
    ("@results", 'currency=stored.currency or "USD",', 'currency="USD",', "a recovered result's currency lost"),
    ("@results", 'tuple(Attempt(a.resource_id, a.state == "done",', 'tuple(Attempt(a.resource_id, True,',
     "a recovered result's failed attempts read as successes"),
    ("@results", "        cost=placement.cost,\n        currency=placement.currency,",
     "        cost=placement.cost,\n        currency=\"USD\",", "a result priced in another currency labelled USD"),
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


def locate(where: str, old: str) -> tuple[str | None, str]:
    """The file a named mutant changes, and how it was found: `where` is a file, or `@group`
    (its candidate files first, then anywhere under qtau-core/src/qtau). The anchor `old` must
    occur exactly once in the files searched."""
    if not where.startswith("@"):
        source = (ROOT / where).read_text() if (ROOT / where).exists() else ""
        count = source.count(old)
        return (where, "found") if count == 1 else (None, "anchor ambiguous" if count else "anchor not found")
    globs = GROUPS[where[1:]][0]
    for files, how in (([p for g in globs for p in sorted(ROOT.glob(g))], "found"),
                       (sorted((ROOT / CORE).rglob("*.py")), "found elsewhere")):
        seen = list(dict.fromkeys(p for p in files if p.is_file()))
        hits = [p for p in seen if old in p.read_text()]
        counts = sum(p.read_text().count(old) for p in hits)
        if counts == 1:
            return str(hits[0].relative_to(ROOT)), how
        if counts > 1:
            return None, "anchor ambiguous"
    return None, "anchor not found"


def tests_for(where: str, path: str) -> list[str]:
    """The tests a mutant runs: its group's (they follow the code when it moves), else its file's."""
    if where.startswith("@"):
        return GROUPS[where[1:]][1]
    return TARGETS[path]


def named(only: str = "") -> tuple[list[dict], list[dict]]:
    """(mutants whose anchor was found, mutants whose anchor was not) among those matching `only`."""
    out, lost = [], []
    for where, old, new, what in NAMED:
        if only and only not in where and (only == "@" or only not in what):
            # `only` also matches the file an anchor is found in (a file path filter)
            path, _ = locate(where, old)
            if path is None or only not in path:
                continue
        path, how = locate(where, old)
        if path is None:
            print(f"warning: named mutation {how} ({where}): {old!r}", file=sys.stderr)
            lost.append({"file": where, "what": f"named: {what}", "outcome": how, "anchor": old})
            continue
        source = (ROOT / path).read_text().replace(old, new)
        try:
            compile(source, path, "exec")
        except SyntaxError as err:  # a mutant that does not compile is the harness's bug, not a kill
            lost.append({"file": path, "what": f"named: {what}", "outcome": f"invalid mutant ({err})", "anchor": old})
            continue
        out.append({"file": path, "group": where, "what": f"named: {what}", "source": source,
                    "tests": tests_for(where, path), "found": how})
    return out, lost


def run_tests(tests: list[str], timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    # A test file named but not there (moved, or not written yet) is left out, not an error that
    # would count as a kill.
    tests = [t for t in tests if t.startswith("-") or (ROOT / t).exists() or t in ("not ray",)]
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
    parser.add_argument("--group", action="append", default=[], choices=sorted(GROUPS),
                        help="only this group's named mutants, and generated ones of its files that exist now")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per pytest run")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--named-only", action="store_true", help="only the issue's named mutations")
    parser.add_argument("--generated-only", action="store_true", help="only generated mutants")
    parser.add_argument("--skip-baseline", action="store_true", help="do not first run each module's tests unmutated")
    parser.add_argument("--report", default=str(ROOT / "benchmarks" / "results" / "mutation.json"))
    args = parser.parse_args(argv)
    # A SIGTERM ends the run through `finally`, so the mutated module is always restored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    files = [f for f in TARGETS if args.only in f and (ROOT / f).exists()]
    mutants, lost = named(args.only)
    if args.group:
        chosen = {f"@{g}" for g in args.group}
        mutants = [m for m in mutants if m.get("group") in chosen]
        lost = [m for m in lost if m["file"] in chosen]
        files = [f for f in files if any(TARGETS[f] == GROUPS[g][1] and f in
                                         [str(p.relative_to(ROOT)) for glob in GROUPS[g][0] for p in ROOT.glob(glob)]
                                         for g in args.group)]
    if args.generated_only:
        mutants, lost = [], []
    pool = [] if args.named_only else [m for f in files for m in generated(f)]
    if args.max and len(pool) > args.max:
        pool = random.Random(args.seed).sample(pool, args.max)
    for m in pool:
        m["tests"] = TARGETS[m["file"]]
    mutants += pool
    print(f"{len(mutants)} mutants ({len(pool)} generated, sampled from the full set); "
          f"{len(lost)} named mutants whose anchor was not found")
    if args.list:
        for m in mutants:
            print(f"  {m['file']}: {m['what']}" + (f" [{m['found']}]" if m.get("found", "found") != "found" else ""))
        for m in lost:
            print(f"  {m['outcome'].upper()}: {m['file']}: {m['what']}")
        return 0
    suites = list(dict.fromkeys(tuple(m["tests"]) for m in mutants))
    for tests in [] if args.skip_baseline else suites:
        outcome, _ = run_tests(list(tests), args.timeout)
        if outcome != "survived":
            print(f"these tests fail without any mutation: fix them first: {' '.join(tests)}", file=sys.stderr)
            return 2
    results: list[dict] = []

    def write_report() -> None:
        killed = sum(r["outcome"] != "survived" for r in results)
        report = {"killed": killed, "ran": len(results), "kill_rate": round(killed / max(len(results), 1), 3),
                  "anchor_not_found": lost, "mutants": results}
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")

    for n, m in enumerate(mutants, 1):
        path = ROOT / m["file"]
        original = path.read_text()
        try:
            path.write_text(m["source"])
            outcome, seconds = run_tests(m["tests"], args.timeout)
        finally:
            path.write_text(original)
        results.append({"file": m["file"], "group": m.get("group", m["file"]), "what": m["what"],
                        "outcome": outcome, "seconds": round(seconds, 1)})
        print(f"[{n}/{len(mutants)}] {outcome:<18} {m['file']}: {m['what']} ({seconds:.0f} s)", flush=True)
        write_report()
    write_report()
    killed = sum(r["outcome"] != "survived" for r in results)
    print(f"\nkill rate: {killed}/{len(results)} = {killed / max(len(results), 1):.0%}"
          f" ({len(lost)} more whose anchor was not found, not counted)")
    for r in results:
        if r["outcome"] == "survived":
            print(f"  survived: {r['file']}: {r['what']}")
    for r in lost:
        print(f"  {r['outcome']}: {r['file']}: {r['what']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
