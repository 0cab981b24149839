"""`qtau.Backend`: everything one provider offers QTAU, in one object.

A plugin returns its Backend(s) from the collected hook `qtau_backends()`. Core routes every call
about a resource to the Backend whose `provider` matches `resource.provider`, so a Backend never
checks whether a resource is its own. The smallest complete backend is one class with a provider
name, the executor names it serves, `resources` and `run` (see docs/plugins.md).

Methods are called with keyword-free positional arguments in the order shown, from any thread:
`resources`, `status`, `noise` and `cost` on the driver (QDREAMER caches their answers),
`executor` where tasks run (a Ray worker, a LOCAL pool thread, or the remote-job tracker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from qtau.executor import CircuitJob, Executor, LocalExecutor
from qtau.types import CostEstimate, ExecutorInfo, NoiseProfile, Outcome, Resource, ResourceStatus

#: Resource.metadata key of a resource built offline (`Backend.offline_resources`): what it was
#: built from. Such a resource is quoted, never run; its status and noise are not asked.
OFFLINE = "offline"


class Backend:
    """One provider's backend: its executors, resources, execution and reports.

    Subclass it and set `provider` (the `Resource.provider` of every resource it offers) and
    `executor_names` (exact names such as `qiskit_local`) and/or `executor_prefixes` (families
    such as `braket_`, every name starting with it). Implement `resources`, and either `run`
    (in-process execution) or `executor` (a `LocalExecutor` or `RemoteExecutor` per resource).
    `status`, `noise` and `cost` are optional: None means "online, empty queue", "noiseless",
    "free".
    """

    provider: ClassVar[str] = ""
    executor_names: ClassVar[tuple[str, ...]] = ()
    executor_prefixes: ClassVar[tuple[str, ...]] = ()
    #: One line shown by `qtau plugins` and in "unknown executor" errors.
    description: ClassVar[str] = ""
    #: Modules its `executor`, `status` and `noise` import (`"braket.devices"`, `"pennylane"`).
    #: Core imports them one thread at a time before the first such call in a process: two threads
    #: importing one SDK at once can see it half-initialized (`qtau.sdk_imports`). One that is not
    #: installed is skipped. A Converter names its own (`Converter.sdk_modules`); what only some
    #: resources need goes in `sdk_modules_for`.
    sdk_modules: ClassVar[tuple[str, ...]] = ()

    def executors(self) -> Sequence[ExecutorInfo]:
        """The executor names this backend serves (from `executor_names`/`executor_prefixes`)."""
        return [ExecutorInfo(n, self.provider, self.description) for n in self.executor_names] + [
            ExecutorInfo(p, self.provider, self.description, prefix=True) for p in self.executor_prefixes
        ]

    def sdk_modules_for(self, resource: Resource) -> Sequence[str]:
        """The modules to import before `resource`'s executor, status or noise: `sdk_modules`,
        plus what only this resource needs (PennyLane's plugin adds the package of the resource's
        device)."""
        return self.sdk_modules

    def resources(self, executor: str, config: Mapping[str, Any]) -> Sequence[Resource]:
        """Resources a pilot whose `quantum.executor` is `executor` gets, given its `quantum`
        config (plus credentials as `qtau.Secret`). Raise ConfigurationError, AuthenticationError
        or BackendUnavailableError when it cannot be served; validate the config here, so a bad
        pilot description fails at `create_pilot`."""
        raise NotImplementedError(f"{type(self).__name__} must implement resources()")

    def executor(self, resource: Resource, config: Mapping[str, Any]) -> Executor:
        """An executor for `resource`, created once per process where tasks run (cached by core).
        The default wraps `run` for backends that run circuits in-process."""
        if type(self).run is Backend.run:
            raise NotImplementedError(f"{type(self).__name__} must implement run() or executor()")
        return _RunExecutor(self, resource, config)

    def run(self, resource: Resource, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        """Run `jobs` on `resource` in-process; one `Outcome` per job, in order (counts keys with
        qubit 0 rightmost, `job.width` characters long)."""
        raise NotImplementedError

    def status(self, resource: Resource, config: Mapping[str, Any]) -> ResourceStatus | None:
        """Whether `resource` takes work now, its provider queue depth and estimated wait."""
        return None

    def noise(self, resource: Resource, config: Mapping[str, Any]) -> NoiseProfile | None:
        """Gate/readout errors and T1/T2 of `resource`, summarised robustly."""
        return None

    def cost(self, resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate | None:
        """Price of one task of `shots` shots on `resource`."""
        return None

    def price_tables(self) -> Sequence[Mapping[str, str]]:
        """Price tables this backend ships, each `{"name", "source", "as_of"}` (`as_of` an ISO
        date), so `qtau doctor` can warn about stale ones."""
        return ()

    def offline_resources(self, executor: str, config: Mapping[str, Any]) -> Sequence[Resource] | None:
        """The resources `executor` would offer, built only from data the plugin ships (no
        credentials, no network), so `qtau quote` can price them offline. Each carries
        `metadata[OFFLINE]`, a sentence saying what they were built from; QDREAMER asks only
        `cost` of such resources, never `status` or `noise`. None (the default): not possible."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} provider={self.provider!r}>"


class _RunExecutor(LocalExecutor):
    """A LocalExecutor that calls its Backend's `run` (the one-class backend)."""

    def __init__(self, backend: Backend, resource: Resource, config: Mapping[str, Any]) -> None:
        super().__init__(resource, config)
        self.backend = backend

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        return self.backend.run(self.resource, jobs)
