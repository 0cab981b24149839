"""What to do when no conversion path joins a circuit's format to a resource's: the fix text of
the error, naming only the distributions that are really missing.

A format no loaded plugin converts from or to is taught by one of a few distributions. Each is
named once; a requirement met by a distribution already named ("qtau-qiskit or qtau-braket" after
"qtau-qiskit") is dropped; and a distribution that is installed but not loaded by this plugin host
(an allow or block list, a load failure, or `qtau.testing` loading only the plugin under test) is
said to be so, never to be installed again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from importlib import metadata

#: The distributions that teach QTAU a format (any one of them will do).
FORMAT_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "qiskit": ("qtau-qiskit",),
    "openqasm2": ("qtau-qiskit",),
    "openqasm3": ("qtau-qiskit", "qtau-braket"),
    "braket": ("qtau-braket",),
    "pennylane_qnode": ("qtau-pennylane",),
    "pennylane_tape": ("qtau-pennylane",),
}

#: Said of a distribution that is installed but that this plugin host did not load.
NOT_LOADED = ("installed but not loaded by this plugin host (see `qtau plugins`, QTAU_PLUGINS, "
              "QTAU_BLOCK_PLUGINS; in qtau.testing, companion_plugins)")


def is_installed(distribution: str) -> bool:
    """Whether `distribution` is installed here (read from package metadata; imports nothing)."""
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True


def needed_distributions(source: str, targets: Sequence[str], edges: Mapping[str, object],
                         formats: Collection[str]) -> list[tuple[str, ...]]:
    """Alternatives per format without a converter, deduplicated: a requirement that a distribution
    already required meets is dropped (one-choice requirements are met first)."""
    needs = []
    if not edges.get(source) and source in FORMAT_DISTRIBUTIONS:
        needs.append(FORMAT_DISTRIBUTIONS[source])
    needs += [FORMAT_DISTRIBUTIONS[t] for t in targets if t not in formats and t in FORMAT_DISTRIBUTIONS]
    chosen: list[tuple[str, ...]] = []
    for need in sorted(dict.fromkeys(needs), key=len):
        if not any(set(need) >= set(c) for c in chosen):
            chosen.append(need)
    return chosen


def missing_path_hint(source: str, targets: Sequence[str], edges: Mapping[str, object],
                      formats: Collection[str], installed: Callable[[str], bool] = is_installed) -> str:
    """The fix for a missing path from `source` to `targets`, given the loaded plugins' converter
    `edges` (by source format) and every format they touch."""
    to_install, to_load = [], []
    for need in needed_distributions(source, targets, edges, formats):
        present = [d for d in need if installed(d)]
        if present:
            to_load.extend(d for d in present if d not in to_load)
        else:
            to_install.append(" or ".join(need))
    parts = []
    if to_install:
        parts.append(f"install {' and '.join(to_install)} for a converter")
    if to_load:
        parts.append(f"{' and '.join(to_load)} {'is' if len(to_load) == 1 else 'are'} {NOT_LOADED}")
    return "; ".join(parts) or "install the QTAU plugin of the circuit's SDK and of the target backend"
