"""Shared fixtures: a seeded random generator and a clean derivative cache per test."""

import numpy as np
import pytest

from s2sad import cache


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
