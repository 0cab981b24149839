"""Each test's services learn into a private cache, never the user's."""

import pytest


@pytest.fixture(autouse=True)
def private_qtau_cache(monkeypatch, tmp_path_factory):
    """QDREAMER's learned run times and waits never come from or go to the user's cache."""
    monkeypatch.setenv("QTAU_CACHE_DIR", str(tmp_path_factory.mktemp("qtau-cache")))

