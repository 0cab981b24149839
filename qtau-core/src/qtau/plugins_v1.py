"""Adapter: a plugin written against the v1 per-provider hooks, served as a v2 `Backend`.

v1 plugins implemented `qtau_executors`, `qtau_resources`, `qtau_create_executor`,
`qtau_resource_status`, `qtau_noise_profile` and `qtau_cost_estimate`, each answering None for
resources that were not theirs. The adapter calls that plugin's own impls directly (never the
other plugins'), and its executors keep working as they are (a v1 `Executor` runs on a worker
with `result(submit(jobs))`, behind `V1Executor`). Loading one warns with a DeprecationWarning
naming the plugin.

Everything v1 lives here: the plugin host calls `adapt` once when it collects Backends, and
`in_current_shape` once per executor it creates, so the worker and the tracker only ever see a
`LocalExecutor` or a `RemoteExecutor`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from qtau.backend import Backend
from qtau.errors import PluginError
from qtau.executor import CircuitJob, Executor, LocalExecutor, RemoteExecutor
from qtau.hookspecs import V1_HOOKS
from qtau.types import Outcome


def v1_impls(pm: Any, plugin_name: str) -> dict[str, Any]:
    """The v1 hook impls one registered plugin provides: hook name -> HookImpl."""
    found = {}
    for hook in V1_HOOKS:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin_name == plugin_name:
                found[hook] = impl
    return found


def _call(impl: Any, **kwargs: Any) -> Any:
    return impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})


def adapt(plugin_name: str, impls: dict[str, Any]) -> list[Backend]:
    """One Backend per provider the v1 plugin's `qtau_executors` names."""
    warnings.warn(
        f"QTAU plugin {plugin_name!r} uses the v1 hooks ({', '.join(sorted(impls))}); they are "
        "deprecated and will be removed in a later minor release. Return a qtau.Backend from "
        "qtau_backends() instead (see docs/plugins.md).",
        DeprecationWarning, stacklevel=3,
    )
    infos = list(_call(impls["qtau_executors"]) or []) if "qtau_executors" in impls else []
    providers = sorted({info.provider for info in infos})
    return [V1Backend(plugin_name, provider, [i for i in infos if i.provider == provider], impls)
            for provider in providers]


class V1Backend(Backend):
    """A v1 plugin's hooks behind the Backend interface (one instance per provider)."""

    def __init__(self, plugin_name: str, provider: str, infos: Sequence[Any], impls: dict[str, Any]) -> None:
        self.plugin_name = plugin_name
        self.provider = provider  # type: ignore[misc]  (instance value of a class attribute)
        self._infos = list(infos)
        self._impls = impls

    def executors(self) -> Sequence[Any]:
        return list(self._infos)

    def _ask(self, hook: str, **kwargs: Any) -> Any:
        impl = self._impls.get(hook)
        return None if impl is None else _call(impl, **kwargs)

    def resources(self, executor: str, config: Mapping[str, Any]) -> Sequence[Any]:
        return self._ask("qtau_resources", executor=executor, config=config) or []

    def executor(self, resource: Any, config: Mapping[str, Any]) -> Executor:
        created = self._ask("qtau_create_executor", resource=resource, config=config)
        if created is None:
            raise PluginError(
                f"plugin {self.plugin_name!r} created no executor for {resource.id}", plugin=self.plugin_name,
                fix="implement qtau_create_executor for its resources (or move the plugin to qtau.Backend)",
            )
        return created

    def status(self, resource: Any, config: Mapping[str, Any]) -> Any:
        return self._ask("qtau_resource_status", resource=resource, config=config)

    def noise(self, resource: Any, config: Mapping[str, Any]) -> Any:
        return self._ask("qtau_noise_profile", resource=resource, config=config)

    def cost(self, resource: Any, config: Mapping[str, Any], shots: int) -> Any:
        return self._ask("qtau_cost_estimate", resource=resource, config=config, shots=shots)


class V1Executor(LocalExecutor):
    """A v1 executor (`submit(jobs)` returning a handle, then a blocking `result(handle, timeout)`)
    as a LocalExecutor: `run(jobs)` is `result(submit(jobs), None)`. It runs on a worker like any
    local executor, whose task timeout bounds the wait."""

    def __init__(self, inner: Executor) -> None:
        super().__init__(inner.resource, inner.config)
        self.inner = inner

    def run(self, jobs: Sequence[CircuitJob]) -> list[Outcome]:
        return self.inner.result(self.inner.submit(jobs), None)

    def cancel(self, handle: Any) -> bool:
        return self.inner.cancel(handle)

    def close(self) -> None:
        self.inner.close()


def in_current_shape(executor: Executor) -> LocalExecutor | RemoteExecutor:
    """`executor` as one of the two shapes core runs: LocalExecutors and RemoteExecutors as they
    are, a v1 executor wrapped once in `V1Executor`."""
    if isinstance(executor, (LocalExecutor, RemoteExecutor)):
        return executor
    return V1Executor(executor)
