"""Versions of qtau-core and of every installed QTAU plugin distribution, from package metadata.

The repository's VERSION file is the one source: each package's build reads it, and everything
that shows a version (`qtau --version`, `qtau doctor`, `qtau.__version__`) reads the installed
metadata, so no version string is written twice.
"""

from __future__ import annotations

from qtau import test_plugins

# importlib.metadata is imported where it is read, not here: `import qtau` imports this module (for
# `qtau.__version__`) and would otherwise pay for it on every start.

CORE = "qtau-core"


def core_version() -> str:
    from importlib import metadata

    try:
        return metadata.version(CORE)
    except metadata.PackageNotFoundError:
        return "unknown (qtau-core is not installed; pip install qtau-core)"


#: What `installed_versions` reports for a package that is not installed.
NOT_INSTALLED = "not installed"


def installed_versions(*packages: str) -> dict[str, str]:
    """`{package: version}` read from package metadata, NOT_INSTALLED for a missing one: what a
    plugin's `qtau_versions` hook returns for its SDKs (imports none of them)."""
    from importlib import metadata

    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = NOT_INSTALLED
    return out


def package_versions() -> dict[str, str]:
    """`{distribution: version}` for qtau-core and every distribution registering a `qtau` entry
    point, sorted by name, qtau-core first (test-only plugins only with QTAU_TEST_PLUGINS=1 or when
    named in QTAU_PLUGINS: see qtau.test_plugins). Reading metadata imports no plugin."""
    import os
    from importlib import metadata

    named = {n.strip() for n in os.environ.get("QTAU_PLUGINS", "").split(",") if n.strip()}
    found: dict[str, str] = {}
    for ep in metadata.entry_points(group="qtau"):
        dist = getattr(ep, "dist", None)
        if dist is not None and not test_plugins.hidden(dist, named=ep.name in named):
            found[dist.metadata["Name"]] = dist.version
    return {CORE: core_version(), **dict(sorted(found.items()))}
