"""Mitigated jobs on any executor: each expanded into its technique's circuits, all of a batch's
circuits sent in ONE backend call (or one provider batch), the counts folded back into one
Outcome per job.

Every executor core creates is kept with its wrapped twin (`with_mitigation`, `qtau.attempt`): a
batch with a mitigated job runs on the wrapper, which passes jobs without mitigation straight
through; a batch without one runs on the executor itself. The remote-job tracker always uses the
wrapper, whose job references it re-attaches. A job's circuit is written as OpenQASM 2 by the plugins' converters, rewritten
(`qtau.mitigation.plan`), and converted back into a format the resource accepts, so the technique
works on every backend QTAU runs, local or remote. A remote job's reference carries the recipes
(plain data), so a job re-attached after a restart is corrected the same way. Every circuit a job
adds (twirls, folded copies, calibrations) names the job's first circuit as `layout_like`, so an
executor that lays circuits out reads them on the same physical qubits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from qtau.circuits import Circuits
from qtau.errors import CircuitConversionError, MitigationError
from qtau.executor import CircuitJob, Executor, JobState, LocalExecutor, RemoteExecutor
from qtau.mitigation import plan
from qtau.mitigation.calibration import STORE, CalibrationStore, stamp
from qtau.mitigation_options import Mitigation
from qtau.qasm_header import OPENQASM2
from qtau.types import Outcome

#: The key of a job reference that carries recipes (a plain job reference never has it).
REF_KEY = "qtau_mitigation"


class Expander:
    """Expands one resource's jobs and combines their outcomes."""

    def __init__(self, executor: Executor, circuits: Circuits, store: CalibrationStore = STORE) -> None:
        self.executor = executor
        self.circuits = circuits
        self.store = store

    def _qasm(self, job: CircuitJob) -> str:
        if job.args or job.kwargs:
            raise MitigationError(
                f"task {job.task_id}: mitigation rewrites circuits, and this one takes arguments when it "
                "runs (a PennyLane QNode)", field="mitigation", value=job.mitigation.technique,
                fix="pass a circuit function that returns a circuit for the arguments, or use the qtau.qubit "
                "device's own mitigation= setting")
        circuit, fmt = job.source if job.source is not None else (job.circuit, job.circuit_format)
        try:
            text, _, _ = self.circuits.convert(circuit, fmt, [OPENQASM2])
        except CircuitConversionError as err:
            if self.circuits.graph.path(fmt, [OPENQASM2]) is None:
                raise MitigationError(
                    f"task {job.task_id}: mitigation needs the circuit as OpenQASM 2, and no installed plugin "
                    f"writes {fmt} as OpenQASM 2 ({err})", field="mitigation", value=job.mitigation.technique,
                    fix="pass the circuit as Qiskit or OpenQASM 2, or use mitigation='none'") from err
            # A writer exists and this circuit is beyond OpenQASM 2 (a Qiskit if_test on one bit).
            raise MitigationError(
                f"task {job.task_id}: mitigation rewrites circuits as OpenQASM 2, and this one cannot be "
                f"written in it ({err})", field="mitigation", value=job.mitigation.technique,
                fix="use only what OpenQASM 2 expresses (conditions on a whole register, no loops), "
                    "or run it with mitigation='none'") from err
        return text

    def expand(self, jobs: Sequence[CircuitJob]) -> tuple[list[CircuitJob], list[dict[str, Any]]]:
        """Every job's circuits in one list, and per job its recipe (with `start`: its first
        circuit's place) or `{"plain": place}` for a job without mitigation."""
        resource = self.executor.resource
        key = [resource.id, stamp(resource, self.executor.config)]
        follows = bool(getattr(self.executor, "follows_layout", False))
        out: list[CircuitJob] = []
        recipes: list[dict[str, Any]] = []
        calibrating: set[tuple] = set()  # calibrations this call runs: one each, read by every job
        for job in jobs:
            m: Mitigation | None = job.mitigation
            if m is None or not m.active:
                # "auto" chose to run unmitigated: the result still says so.
                recipes.append({"plain": len(out), "auto": m is not None and m.auto})
                out.append(job)
                continue
            if m.technique == "auto":  # resolved by QDREAMER before submission; a safe default if not
                m = m.with_technique("readout")
            circuits, recipe = plan.build(m, self._qasm(job), job.shots, key, self.store,
                                          per_circuit=follows, batch=calibrating)
            recipe["start"] = len(out)
            for i, (text, shots) in enumerate(circuits):
                native, fmt, _ = self.circuits.convert(text, OPENQASM2, resource.circuit_formats)
                main = i < recipe["main"]
                # Every further circuit (twirl, folded copy, calibration) is read on the physical
                # qubits the task's first circuit is read on.
                out.append(CircuitJob(f"{job.task_id}/m{i}", native, fmt, shots,
                                      width=job.width if main else recipe.get("width"), attempt=job.attempt,
                                      layout_like=recipe["start"] if i else None))
            recipe["count"] = len(circuits)
            recipes.append(recipe)
        return out, recipes

    def combine(self, recipes: Sequence[dict[str, Any]], outcomes: Sequence[Outcome]) -> list[Outcome]:
        """One Outcome per original job: unmitigated counts, the report in metadata['mitigation']."""
        result = []
        made: dict[tuple, list[dict[str, int]]] = {}
        for recipe in recipes:
            if "plain" in recipe:
                plain = outcomes[recipe["plain"]]
                if recipe.get("auto"):
                    plain = attrs.evolve(plain, metadata={**plain.metadata, "mitigation": plan.unmitigated(plain.counts)})
                result.append(plain)
                continue
            mine = outcomes[recipe["start"]:recipe["start"] + recipe["count"]]
            raw, report = plan.finish(recipe, [o.counts for o in mine], self.store, made=made)
            first = mine[0]
            result.append(attrs.evolve(first, counts=raw, metadata={**first.metadata, "mitigation": report}))
        return result


def _needed(jobs: Sequence[CircuitJob]) -> bool:
    return any(job.mitigation is not None for job in jobs)


class MitigatedLocal(LocalExecutor):
    """A LocalExecutor whose mitigated jobs run expanded, in one `run` of the executor it wraps."""

    def __init__(self, inner: LocalExecutor, circuits: Circuits) -> None:
        super().__init__(inner.resource, inner.config)
        self.inner = inner
        self.follows_layout = bool(getattr(inner, "follows_layout", False))
        self.expander = Expander(inner, circuits)

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        if not _needed(jobs):
            return self.inner.run(jobs)
        expanded, recipes = self.expander.expand(jobs)
        return self.expander.combine(recipes, self.inner.run(expanded))

    def cancel(self, handle: Any) -> bool:
        return self.inner.cancel(handle)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)


class MitigatedRemote(RemoteExecutor):
    """A RemoteExecutor whose mitigated jobs go to the provider as one batch; the reference
    carries the recipes, so `fetch` (after a restart too) corrects the counts."""

    def __init__(self, inner: RemoteExecutor, circuits: Circuits) -> None:
        super().__init__(inner.resource, inner.config)
        self.inner = inner
        self.follows_layout = bool(getattr(inner, "follows_layout", False))
        self.expander = Expander(inner, circuits)
        self.poll_interval = inner.poll_interval
        self.max_poll_interval = inner.max_poll_interval

    def submit(self, jobs: Sequence[CircuitJob]) -> Any:
        if not _needed(jobs):
            return self.inner.submit(jobs)
        expanded, recipes = self.expander.expand(jobs)
        return {REF_KEY: recipes, "ref": self.inner.submit(expanded)}

    @staticmethod
    def _inner_ref(ref: Any) -> Any:
        return ref["ref"] if isinstance(ref, dict) and REF_KEY in ref else ref

    def poll(self, refs: Sequence[Any]) -> Sequence[JobState | str]:
        return self.inner.poll([self._inner_ref(r) for r in refs])

    def fetch(self, ref: Any) -> list[Outcome]:
        outcomes = self.inner.fetch(self._inner_ref(ref))
        if isinstance(ref, dict) and REF_KEY in ref:
            failed = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if failed is not None:  # a mitigated task needs all its circuits: the batch fails as one
                raise failed
            return self.expander.combine(ref[REF_KEY], outcomes)
        return outcomes

    def cancel(self, ref: Any) -> bool:
        return self.inner.cancel(self._inner_ref(ref))

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["inner"], name)


def with_mitigation(executor: Executor, circuits: Circuits) -> Executor:
    """`executor` wrapped so mitigated jobs run expanded (other executor shapes are returned as is)."""
    if isinstance(executor, LocalExecutor):
        return MitigatedLocal(executor, circuits)
    if isinstance(executor, RemoteExecutor):
        return MitigatedRemote(executor, circuits)
    return executor


def rebound(executor: Executor, circuits: Circuits) -> Executor:
    """A cached executor, its mitigation converting with `circuits` (the plugin host asking now:
    executors are shared by every host of the process, their plugins' formats are not)."""
    expander = getattr(executor, "__dict__", {}).get("expander")
    if expander is not None and expander.circuits is not circuits:
        expander.circuits = circuits
    return executor
