"""Loading plugins from the `qtau` entry-point group, and routing calls to their Backends.

Each plugin's load is isolated: an import error in one never breaks discovery of the others.
Hooks are called through pluggy's own loop (`pm.hook`), each implementation wrapped once at
registration: when one raises, its plugin is recorded and answers nothing in that call, and the
others run once as usual. A Backend belongs to the plugin (pluggy's name) whose `qtau_backends`
returned it. Executors leave the host in one of two shapes (LocalExecutor, RemoteExecutor; a v1
executor is wrapped by `qtau.plugins_v1`). Everything about a resource goes to the Backend whose provider matches
`resource.provider` (`PluginHost.status/noise/cost/create_executor`). Failures are recorded (shown
by `qtau plugins` and `qtau doctor`) and re-raised only in strict mode (`QTAU_STRICT_PLUGINS=1`).

Environment:
- `QTAU_PLUGINS`: comma-separated allowlist of plugin names to load (default: all installed).
- `QTAU_BLOCK_PLUGINS`: comma-separated names never to load.
- `QTAU_STRICT_PLUGINS=1`: a plugin that fails to load or answer raises `PluginError`.
- `QTAU_TEST_PLUGINS=1`: load test-only plugins without naming them (see qtau.test_plugins).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

import attrs
import pluggy

from qtau import hookspecs, test_plugins
from qtau.backend import OFFLINE, Backend
from qtau.errors import PluginError, QtauError, UnknownExecutorError
from qtau.executor import Executor, LocalExecutor, RemoteExecutor
from qtau.packing import CompactForms
from qtau.plugins_v1 import adapt, in_current_shape, v1_impls
from qtau.sdk_imports import import_one_at_a_time
from qtau.secrets import redact
from qtau.types import CostEstimate, ExecutorInfo, NoiseProfile, Resource, ResourceStatus

log = logging.getLogger("qtau.plugins")

GROUP = "qtau"

#: First-party executors and the distribution that adds each: named in "unknown executor" errors.
KNOWN_DISTRIBUTIONS: tuple[tuple[str, str], ...] = (
    ("qiskit_local", "qtau-qiskit"),
    ("ibmq_", "qtau-ibmq"),
    ("pennylane_", "qtau-pennylane"),
    ("braket_", "qtau-braket"),
)


def distribution_for(executor: str) -> str | None:
    for prefix, dist in KNOWN_DISTRIBUTIONS:
        if executor.startswith(prefix):
            return dist
    return None


def _env_list(name: str) -> frozenset[str] | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def strict_from_env() -> bool:
    return os.environ.get("QTAU_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


@attrs.frozen
class PluginFailure:
    """Why a plugin could not load or answer: shown to users, raised in strict mode."""

    plugin: str
    stage: str
    error_type: str
    message: str


@attrs.frozen
class HostSpec:
    """How to rebuild a host elsewhere (a Ray worker): plugin names and their module paths."""

    plugins: tuple[tuple[str, str], ...]
    strict: bool = False


#: Backend methods (each about one resource, their first argument) that use the provider's SDK:
#: the resource's `Backend.sdk_modules_for` are imported before them.
SDK_METHODS = frozenset({"executor", "status", "noise"})


class PluginHost:
    """A pluggy PluginManager for the `qtau` hooks, with isolation and a record of failures."""

    def __init__(self, *, strict: bool | None = None) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict_from_env() if strict is None else strict
        self.failures: list[PluginFailure] = []
        #: Failures already warned about (`_record`): each distinct one is warned once.
        self._warned: set[PluginFailure] = set()
        self.versions: dict[str, str] = {}
        self._modules: dict[str, str] = {}
        self._executors: list[ExecutorInfo] | None = None
        self._backends: dict[str, Backend] | None = None
        self._owners: dict[str, str] = {}
        self._lock = threading.RLock()
        #: Per thread, the failures of each `call` in progress (innermost last).
        self._calls = threading.local()

    # -- loading ---------------------------------------------------------------------------------

    @classmethod
    def from_environment(cls, *, strict: bool | None = None) -> PluginHost:
        """A host with every installed plugin the allow/block lists admit."""
        host = cls(strict=strict)
        host.load_entry_points(allow=_env_list("QTAU_PLUGINS"), block=_env_list("QTAU_BLOCK_PLUGINS"))
        return host

    def load_entry_points(
        self, *, allow: Iterable[str] | None = None, block: Iterable[str] | None = None
    ) -> None:
        allow = None if allow is None else frozenset(allow)
        block = frozenset(block or ())
        for ep in entry_points(group=GROUP):
            if (allow is not None and ep.name not in allow) or ep.name in block:
                continue
            if test_plugins.hidden(getattr(ep, "dist", None), named=allow is not None):
                continue
            if ep.name in self._modules:
                warnings.warn(
                    f"two installed plugins use the name {ep.name!r}; keeping the first "
                    f"({self._modules[ep.name]}), ignoring {ep.value}",
                    stacklevel=2,
                )
                continue
            version = getattr(getattr(ep, "dist", None), "version", "") or ""
            self._load(ep.name, ep.value, version, ep.load)

    def register_module(self, name: str, module_path: str, version: str = "") -> None:
        """Register a plugin module by import path (rebuilt the same way on Ray workers)."""
        self._load(name, module_path, version, lambda: importlib.import_module(module_path))

    def _load(self, name: str, module_path: str, version: str, loader) -> None:
        try:
            plugin = loader()
            self.pm.register(plugin, name=name)
        except Exception as err:  # a broken plugin must not break the others
            self._record(name, "load", err)
            return
        try:
            # A misspelled hook name (`qtau_resource` for `qtau_resources`) would otherwise never be called.
            self.pm.check_pending()
        except pluggy.PluginValidationError as err:
            self.pm.unregister(name=name)
            self._record(name, "load", err)
            return
        self._guard_impls(plugin)
        self._modules[name] = module_path
        self.versions[name] = version
        self._executors = None
        self._backends = None

    def _record(self, plugin: str, stage: str, err: BaseException) -> None:
        failure = PluginFailure(plugin, stage, type(err).__name__, str(err))
        with self._lock:
            self.failures.append(failure)
            again = failure in self._warned
            if not again and len(self._warned) < 256:
                self._warned.add(failure)
        # Once per distinct failure: a summary hook failing on a circuit is asked several times
        # for each task, and warned each time on stderr.
        log.log(logging.DEBUG if again else logging.WARNING, "plugin %r failed during %s: %s: %s",
                plugin, stage, failure.error_type, failure.message)
        if self.strict:
            raise PluginError(
                f"plugin {plugin!r} failed during {stage}: {failure.error_type}: {failure.message}",
                plugin=plugin,
                fix="fix or uninstall the plugin, block it with QTAU_BLOCK_PLUGINS, or unset QTAU_STRICT_PLUGINS",
            ) from err

    def spec(self) -> HostSpec:
        return HostSpec(plugins=tuple(sorted(self._modules.items())), strict=self.strict)

    @classmethod
    def from_spec(cls, spec: HostSpec) -> PluginHost:
        host = cls(strict=spec.strict)
        for name, module_path in spec.plugins:
            host.register_module(name, module_path.split(":")[0])
        return host

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._modules))

    # -- calling ---------------------------------------------------------------------------------

    def call(self, hook: str, *, required: bool = False, **kwargs: Any) -> Any:
        """pluggy's own call of `hook`, each implementation run once. A plugin whose impl raises
        (anything but a QtauError) is recorded and answers nothing (see `_guard`), and the call is
        answered by the others; when none answers and `required`, the failure is raised as a
        PluginError naming the plugin (a summary hook's own bug must not read as "unsupported
        circuit")."""
        failures: list[tuple[str, BaseException]] = []
        stack = self._calls.__dict__.setdefault("stack", [])
        stack.append(failures)
        try:
            answer = getattr(self.pm.hook, hook)(**kwargs)
        finally:
            stack.pop()
        if required and not answer and failures:
            name, err = failures[0]
            raise PluginError(f"plugin {name!r} failed in {hook}: {type(err).__name__}: {err}", plugin=name,
                              fix=f"report it to the plugin's authors; QTAU_BLOCK_PLUGINS={name} leaves it out")
        return answer

    def read_circuit(self, circuit: Any, circuit_format: str | None = None) -> tuple[str | None, int | None]:
        """What preparing a task asks of the plugins about a circuit object, in one call: its format
        (`circuit_format` when declared, else `qtau_circuit_format`) and its width where a plugin
        reads it cheaply (`qtau_circuit_width`). (None, None) when no plugin recognises it; a width
        of None when none reads it (a width read that raises a QtauError counts as none)."""
        fmt = circuit_format or self.call("qtau_circuit_format", circuit=circuit)
        if not fmt:
            return None, None
        try:
            return fmt, self.call("qtau_circuit_width", circuit=circuit, circuit_format=fmt)
        except QtauError:
            return fmt, None

    def compact_forms(self) -> CompactForms:
        """The installed plugins' compact forms of their SDKs' objects, for the journal's task
        payloads and RAY's (`qtau_compact_forms`), merged; an answer that is not a mapping of class names to
        functions is left out."""
        merged: dict[str, Any] = {}
        for answer in self.call("qtau_compact_forms") or ():
            if isinstance(answer, Mapping):
                merged.update({k: v for k, v in answer.items() if isinstance(k, str) and callable(v)})
        return CompactForms(merged)

    def _guard_impls(self, plugin: Any) -> None:
        """Wrap each of `plugin`'s hook implementations once, at registration, so that its failure
        leaves only that plugin out of a call (pluggy itself aborts the whole call). The v1 hooks
        are left as they are: only their adapter calls them, and it reports their failures."""
        for caller in self.pm.get_hookcallers(plugin) or ():
            if caller.name in hookspecs.V1_HOOKS:
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                    impl.function = self._guard(impl.plugin_name, caller.name, impl.function)

    def _guard(self, plugin: str, hook: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except QtauError:
                raise
            except Exception as err:  # the plugin's bug: recorded, and this impl answers nothing
                stack = getattr(self._calls, "stack", None)
                if stack:
                    stack[-1].append((plugin, err))
                self._record(plugin, hook, err)
                return None

        return guarded

    # -- backends --------------------------------------------------------------------------------

    def backends(self) -> dict[str, Backend]:
        """provider -> its Backend, from every plugin's `qtau_backends()` and v1 plugins' adapters."""
        with self._lock:
            if self._backends is None:
                self._backends = self._collect_backends()
            return self._backends

    def _collect_backends(self) -> dict[str, Backend]:
        found: dict[str, Backend] = {}
        self._owners = {}

        def add(plugin: str, backend: Any) -> None:
            if not isinstance(backend, Backend) or not isinstance(backend.provider, str) or not backend.provider:
                self._record(plugin, "qtau_backends", TypeError(
                    f"{backend!r} is not a qtau.Backend with a provider name"))
                return
            if backend.provider in found:
                self._record(plugin, "qtau_backends", ValueError(
                    f"provider {backend.provider!r} is already served by plugin {self._owners[backend.provider]!r}"))
                return
            found[backend.provider] = backend
            self._owners[backend.provider] = plugin

        # Each implementation in pluggy's own order (last registered first), so that every Backend
        # is known by the name of the plugin whose implementation returned it.
        for impl in reversed(self.pm.hook.qtau_backends.get_hookimpls()):
            if not (impl.hookwrapper or impl.wrapper):
                for backend in impl.function() or ():
                    add(impl.plugin_name, backend)
        for name in sorted(self._modules):
            impls = v1_impls(self.pm, name)
            if impls and name not in self._owners.values():
                try:
                    adapted = adapt(name, impls)
                except QtauError:
                    raise
                except Exception as err:  # a v1 plugin whose qtau_executors raises
                    self._record(name, "qtau_executors", err)
                    continue
                for backend in adapted:
                    add(name, backend)
        return found

    def owner(self, provider: str) -> str:
        """The name of the plugin that serves `provider`."""
        self.backends()
        return self._owners.get(provider, provider)

    def backend(self, provider: str) -> Backend:
        """The Backend serving `provider`, or a PluginError saying what to install."""
        found = self.backends().get(provider)
        if found is None:
            raise PluginError(
                f"no installed QTAU plugin serves provider {provider!r}", plugin=provider,
                fix=f"install the plugin that provides {provider!r} resources (on every node that runs tasks)",
            )
        return found

    def import_sdk(self, resource: Resource) -> None:
        """Import the modules `resource`'s Backend names for it, one thread at a time (before a hook
        about it that is not a Backend method, such as `qtau_optimisation_levels`)."""
        if resource.provider in self.backends():
            import_one_at_a_time(self.on_backend(resource.provider, "sdk_modules_for", resource))

    def on_backend(self, provider: str, method: str, *args: Any) -> Any:
        """`method(*args)` on the provider's Backend. QtauErrors pass as they are; anything else is
        the plugin's bug: recorded against it and raised as a PluginError naming it. Its SDK is
        imported first for the calls that use it (`SDK_METHODS`)."""
        backend = self.backend(provider)
        try:
            if method in SDK_METHODS:
                import_one_at_a_time(backend.sdk_modules_for(args[0]))
            return getattr(backend, method)(*args)
        except QtauError:
            raise
        except Exception as err:
            plugin = self.owner(provider)
            self._record(plugin, method, err)
            raise PluginError(
                f"plugin {plugin!r} failed in Backend.{method}: {type(err).__name__}: {redact(str(err))}",
                plugin=plugin, fix="report it to the plugin's authors, or block the plugin with QTAU_BLOCK_PLUGINS",
            ) from None

    def resources(self, executor: str, config: Mapping[str, Any]) -> list[Resource]:
        """The resources a pilot of `executor` gets with `config`, checked to be this provider's."""
        info = self.find_executor(executor)
        offered = list(self.on_backend(info.provider, "resources", executor, config) or ())
        for res in offered:
            if not isinstance(res, Resource) or res.provider != info.provider:
                raise PluginError(
                    f"plugin {self.owner(info.provider)!r} offered {res!r} for {executor!r}, which is not a "
                    f"Resource of provider {info.provider!r}", plugin=self.owner(info.provider),
                    fix="return qtau.Resource objects whose provider is the Backend's provider",
                )
        return offered

    def create_executor(self, resource: Resource, config: Mapping[str, Any]) -> LocalExecutor | RemoteExecutor:
        """An executor for `resource` in one of the two shapes core runs: a `LocalExecutor` (`run`)
        or a `RemoteExecutor` (`submit`/`poll`/`fetch`). A v1 executor (`submit` then a blocking
        `result`) is wrapped here, once, as a LocalExecutor (`qtau.plugins_v1.V1Executor`)."""
        created = self.on_backend(resource.provider, "executor", resource, config)
        if not isinstance(created, Executor):
            raise PluginError(
                f"the backend of {resource.id} returned {type(created).__name__}, not a qtau Executor",
                plugin=self.owner(resource.provider),
                fix="return a qtau.LocalExecutor or qtau.RemoteExecutor from Backend.executor",
            )
        return in_current_shape(created)

    def status(self, resource: Resource, config: Mapping[str, Any]) -> ResourceStatus | None:
        return self.on_backend(resource.provider, "status", resource, config)

    def noise(self, resource: Resource, config: Mapping[str, Any]) -> NoiseProfile | None:
        return self.on_backend(resource.provider, "noise", resource, config)

    def cost(self, resource: Resource, config: Mapping[str, Any], shots: int) -> CostEstimate | None:
        return self.on_backend(resource.provider, "cost", resource, config, shots)

    # -- discovery -------------------------------------------------------------------------------

    def executors(self) -> list[ExecutorInfo]:
        with self._lock:
            if self._executors is None:
                found: list[ExecutorInfo] = []
                for provider, backend in self.backends().items():
                    try:
                        infos = list(backend.executors())
                    except Exception as err:
                        self._record(self.owner(provider), "executors", err)
                        continue
                    found.extend(attrs.evolve(i, provider=provider) if i.provider != provider else i for i in infos)
                self._executors = found
            return list(self._executors)

    def offline_resources(self, executor: str, config: Mapping[str, Any]) -> list[Resource] | None:
        """What `executor` would offer, from the plugin's shipped data only (`Backend.offline_resources`);
        None when its plugin cannot say offline."""
        info = self.find_executor(executor)
        offered = self.on_backend(info.provider, "offline_resources", executor, config)
        if offered is None:
            return None
        offered = list(offered)
        for res in offered:
            if not isinstance(res, Resource) or res.provider != info.provider or not res.metadata.get(OFFLINE):
                raise PluginError(
                    f"plugin {self.owner(info.provider)!r} offered {res!r} offline for {executor!r}, which is "
                    f"not a Resource of provider {info.provider!r} with metadata[{OFFLINE!r}]",
                    plugin=self.owner(info.provider),
                    fix="return qtau.Resource objects of the Backend's provider, each saying in "
                        "metadata['offline'] what it was built from",
                )
        return offered

    def find_executor(self, executor: str) -> ExecutorInfo:
        """The plugin entry serving `executor`; exact names win over prefixes."""
        infos = self.executors()
        for info in infos:
            if not info.prefix and info.matches(executor):
                return info
        matching = sorted((i for i in infos if i.prefix and i.matches(executor)), key=lambda i: -len(i.name))
        if matching:
            return matching[0]
        raise unknown_executor(executor, infos, self.failures)


def unknown_executor(
    executor: Any, infos: Iterable[ExecutorInfo], failures: Iterable[PluginFailure] = ()
) -> UnknownExecutorError:
    known = sorted({f"{i.name}*" if i.prefix else i.name for i in infos})
    lines = [f"unknown executor {executor!r}."]
    lines.append("Installed executors: " + (", ".join(known) if known else "none (no backend plugin is installed)") + ".")
    dist = distribution_for(str(executor))
    if dist:
        lines.append(f"`pip install {dist}` adds it.")
    else:
        lines.append(
            "Executors of QTAU's own plugins: "
            + "; ".join(f"{p}* from {d}" if p.endswith("_") else f"{p} from {d}" for p, d in KNOWN_DISTRIBUTIONS)
            + "."
        )
    broken = [f.plugin for f in failures if f.stage == "load"]
    if broken:
        lines.append(f"Plugins that failed to load: {', '.join(sorted(set(broken)))} (see `qtau plugins`).")
    return UnknownExecutorError(
        " ".join(lines), field="quantum.executor", value=executor,
        fix="name an installed executor, or install the plugin that provides it",
    )


_default: PluginHost | None = None
_default_lock = threading.Lock()
_from_spec: dict[HostSpec, PluginHost] = {}


def default_host() -> PluginHost:
    """The process-wide host built from the environment, loaded once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PluginHost.from_environment()
        return _default


def host_for(spec: HostSpec) -> PluginHost:
    """A host rebuilt from `spec`, once per process (Ray workers, local pool threads)."""
    with _default_lock:
        host = _from_spec.get(spec)
        if host is None:
            host = _from_spec[spec] = PluginHost.from_spec(spec)
        return host


def missing_plugins(spec: HostSpec) -> list[str]:
    """Plugin modules of `spec` that cannot be imported in this process (checked on Ray nodes)."""
    missing = []
    for name, module_path in spec.plugins:
        try:
            importlib.import_module(module_path.split(":")[0])
        except Exception as err:
            missing.append(f"{name} ({module_path}): {type(err).__name__}: {err}")
    return missing
