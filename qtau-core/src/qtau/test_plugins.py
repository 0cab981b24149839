"""Test-only plugins: installed for a test suite, never shown in a user's install.

A plugin distribution marks itself test-only with the keyword `qtau-test-plugin` in its package
metadata (`keywords = ["qtau-test-plugin"]` in its pyproject), read without importing it. Such a
plugin is loaded, listed and versioned (`qtau plugins`, `qtau doctor`, `qtau --version`) only
when `QTAU_TEST_PLUGINS=1`, or when it is named: in `QTAU_PLUGINS` or an allowlist given in code
(`PluginHost.load_entry_points(allow={"scripted"})`). The repository's test suite sets
`QTAU_TEST_PLUGINS=1` (tests/conftest.py), so its tests and their subprocesses see them.
"""

from __future__ import annotations

import os
import re
from typing import Any

#: The metadata keyword that marks a test-only plugin distribution.
TEST_KEYWORD = "qtau-test-plugin"
ENV = "QTAU_TEST_PLUGINS"


def enabled() -> bool:
    """Whether test-only plugins load without being named (`QTAU_TEST_PLUGINS=1`)."""
    return os.environ.get(ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def is_test_only(dist: Any) -> bool:
    """Whether a distribution (`importlib.metadata.Distribution`, or None) declares TEST_KEYWORD."""
    if dist is None:
        return False
    try:
        keywords = dist.metadata.get("Keywords") or ""
    except Exception:  # unreadable metadata: treat as an ordinary plugin, which is shown
        return False
    return TEST_KEYWORD in re.split(r"[,\s]+", keywords.strip().lower())


def hidden(dist: Any, named: bool = False) -> bool:
    """Whether a plugin of `dist` stays out of sight: test-only, not named, and not enabled."""
    return not named and not enabled() and is_test_only(dist)
