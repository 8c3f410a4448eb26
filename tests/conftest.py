"""Shared fixtures: a seeded random generator and a clean derivative cache per test.

The on-disk cache is off for the suite whatever ``S2SAD_CACHE_DIR`` says: every test
builds what it checks (tests/test_disk_cache.py turns it on where it is the subject).
"""

import numpy as np
import pytest

from s2sad import cache, disk_cache, pipeline

disk_cache.cache_directory(None)


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield


@pytest.fixture
def builds(monkeypatch):
    """The names of the functions the pipeline transforms, in order (a hit in the cache,
    in memory or on disk, transforms nothing)."""
    names = []
    original = pipeline.derive

    def counting(function, *args, **kwargs):
        names.append(function.__name__)
        return original(function, *args, **kwargs)

    monkeypatch.setattr(pipeline, "derive", counting)
    return names
