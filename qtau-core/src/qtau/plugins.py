"""Loading plugins from the `qtau` entry-point group, each load and each call isolated.

pluggy aborts a whole hook call when one impl raises, and an import error in one plugin would
break discovery of the others; the host wraps both, records failures (shown by `qtau plugins` and
`qtau doctor`) and re-raises only in strict mode (`QTAU_STRICT_PLUGINS=1`).

Environment:
- `QTAU_PLUGINS`: comma-separated allowlist of plugin names to load (default: all installed).
- `QTAU_BLOCK_PLUGINS`: comma-separated names never to load.
- `QTAU_STRICT_PLUGINS=1`: a plugin that fails to load or answer raises `PluginError`.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pluggy

from qtau import hookspecs
from qtau.errors import PluginError, QtauError, UnknownExecutorError
from qtau.types import ExecutorInfo

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


class PluginHost:
    """A pluggy PluginManager for the `qtau` hooks, with isolation and a record of failures."""

    def __init__(self, *, strict: bool | None = None) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict_from_env() if strict is None else strict
        self.failures: list[PluginFailure] = []
        self.versions: dict[str, str] = {}
        self._modules: dict[str, str] = {}
        self._executors: list[ExecutorInfo] | None = None
        self._lock = threading.RLock()

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
        from importlib.metadata import entry_points

        allow = None if allow is None else frozenset(allow)
        block = frozenset(block or ())
        for ep in entry_points(group=GROUP):
            if (allow is not None and ep.name not in allow) or ep.name in block:
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
        self._modules[name] = module_path
        self.versions[name] = version
        self._executors = None

    def _record(self, plugin: str, stage: str, err: BaseException) -> None:
        failure = PluginFailure(plugin, stage, type(err).__name__, str(err))
        with self._lock:
            self.failures.append(failure)
        log.warning("plugin %r failed during %s: %s: %s", plugin, stage, failure.error_type, failure.message)
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

    def each(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every plugin's impl of `hook`, isolated: (plugin name, answer) for those that answered."""
        answers = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            try:
                value = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except QtauError:
                raise
            except Exception as err:
                self._record(impl.plugin_name, hook, err)
                continue
            if value is not None:
                answers.append((impl.plugin_name, value))
        return answers

    def first(self, hook: str, *, owner: str | None = None, **kwargs: Any) -> Any:
        """The first non-None answer, asking `owner` first when given. QtauErrors propagate as is;
        any other exception is recorded against its plugin and the next plugin is asked."""
        impls = list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))
        if owner is not None:
            impls.sort(key=lambda impl: impl.plugin_name != owner)
        for impl in impls:
            try:
                value = impl.function(**{k: kwargs[k] for k in impl.argnames})
            except QtauError:
                raise
            except Exception as err:
                self._record(impl.plugin_name, hook, err)
                if impl.plugin_name == owner:
                    raise PluginError(
                        f"plugin {owner!r} failed in {hook}: {type(err).__name__}: {err}", plugin=owner
                    ) from err
                continue
            if value is not None:
                return value
        return None

    # -- discovery -------------------------------------------------------------------------------

    def executors(self) -> list[ExecutorInfo]:
        with self._lock:
            if self._executors is None:
                found: list[ExecutorInfo] = []
                for _, infos in self.each("qtau_executors"):
                    found.extend(infos)
                self._executors = found
            return list(self._executors)

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


def mapping_items(config: Mapping[str, Any]) -> tuple:
    """A hashable, order-independent key of a config mapping (for per-resource caches)."""

    def freeze(value: Any) -> Any:
        if isinstance(value, Mapping):
            return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
        if isinstance(value, (list, tuple, set, frozenset)):
            return tuple(freeze(v) for v in value)
        try:
            hash(value)
        except TypeError:
            return repr(value)
        return value

    return freeze(config)
