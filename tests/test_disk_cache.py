"""The on-disk cache: a later process (or this one, after ``cache.clear()``) loads what an
earlier build stored, and builds again whenever anything the build looked at changed."""

import importlib.util
import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import cache, fingerprints
from s2sad.rules import REGISTRY

_MODULES = itertools.count()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "s2sad-cache"
    s2sad.cache_directory(directory)
    # Other test modules register rules of their own, which turns the disk cache off for
    # the rest of the process; none of them is used here.
    monkeypatch.setattr(REGISTRY, "customised", False)
    yield directory
    s2sad.cache_directory(None)


def write_module(directory: Path, text: str, name: str | None = None):
    """Write ``text`` to a file and import it as a fresh module."""
    name = name or f"disk_cache_case_{next(_MODULES)}"
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


SCALAR = """
import math

def helper(x, a):
    return x * a + math.sin(x)

def f(x, a):
    for i in range(3):
        x = helper(x, a)
    return x
"""


def f_closed_form(x, a):
    dx, da = 1.0, 0.0
    for _ in range(3):
        dx, da = dx * (a + math.cos(x)), da * (a + math.cos(x)) + x
        x = x * a + math.sin(x)
    return dx, da


def test_a_derivative_built_once_is_loaded_from_disk_after_the_memory_cache_is_cleared(
    tmp_path, cache_dir, builds
):
    module = write_module(tmp_path, SCALAR)
    first = s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2)
    shown = s2sad.source(module.f, wrt=(0, 1))
    assert sorted(builds) == ["f", "f", "helper", "helper"]  # general and for numbers
    assert cache.stats()["disk_writes"] == 4
    assert len(list(cache_dir.glob("*.s2sad"))) == 4

    cache.clear()
    builds.clear()
    again = s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2)
    assert builds == []
    assert cache.stats()["disk_hits"] == 2  # f's derivative and helper's pair
    assert again == pytest.approx(f_closed_form(0.3, 1.2), rel=1e-12)
    assert again == first
    assert s2sad.source(module.f, wrt=(0, 1)) == shown
    assert builds == []


def test_a_new_process_loads_the_stored_derivative_and_rebuilds_after_an_edit(tmp_path):
    """The real use: run a script twice, edit the helper's module, run it again."""
    (tmp_path / "lib.py").write_text("def helper(x, a):\n    return x * a\n")
    (tmp_path / "main.py").write_text(
        textwrap.dedent(
            """
            import json, sys
            import s2sad
            from s2sad import cache
            from lib import helper

            def f(x, a):
                return helper(x, a) * x

            gradient = s2sad.grad(f, wrt=(0, 1))(2.0, 3.0)
            print(json.dumps({"gradient": gradient, **cache.stats()}))
            """
        )
    )
    environment = {**os.environ, "S2SAD_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> dict:
        done = subprocess.run(
            [sys.executable, "main.py"],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)

    first, second = run(), run()
    assert first["gradient"] == second["gradient"] == pytest.approx([12.0, 4.0])  # 2ax, x²
    assert (first["disk_hits"], first["disk_writes"]) == (0, 2)
    assert (second["disk_hits"], second["disk_writes"]) == (2, 0)

    (tmp_path / "lib.py").write_text("def helper(x, a):\n    return x * a * a\n")
    edited = run()
    assert edited["gradient"] == pytest.approx([36.0, 24.0])  # f = a²x²: 2a²x, 4ax²
    assert edited["disk_writes"] == 2  # f's entry no longer holds: helper changed


def test_rebinding_a_global_name_builds_again(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, SCALAR)
    s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2)
    other = write_module(tmp_path, "def helper(x, a):\n    return x * x * a\n")
    module.helper = other.helper  # what `from other import helper` in a notebook does
    cache.clear()
    builds.clear()
    gradient = s2sad.grad(module.f, wrt=(0, 1))(0.5, 1.5)
    assert "f" in builds and cache.stats()["disk_hits"] == 0
    x, dx, da = 0.5, 1.0, 0.0
    for _ in range(3):
        dx, da = dx * 2 * x * 1.5, da * 2 * x * 1.5 + x * x
        x = x * x * 1.5
    assert gradient == pytest.approx((dx, da), rel=1e-12)


def test_editing_the_function_in_place_and_reloading_builds_again(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, "def f(x):\n    return x * x\n", name="reloaded_case")
    assert s2sad.grad(module.f)(3.0) == 6.0
    module = write_module(tmp_path, "def f(x):\n    return x * x * x\n", name="reloaded_case")
    assert s2sad.grad(module.f)(3.0) == 27.0
    assert builds == ["f", "f"]


def test_other_argument_kinds_and_options_are_other_entries(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, "import numpy as np\ndef f(x):\n    return np.sum(x * x)\n")
    s2sad.grad(module.f)(2.0)
    s2sad.grad(module.f)(np.ones(3))
    s2sad.grad(module.f, optimize=False)(2.0)
    assert len(builds) == 3 and cache.stats()["disk_writes"] == 3
    cache.clear()
    builds.clear()
    assert s2sad.grad(module.f)(np.arange(3.0)) == pytest.approx([0.0, 2.0, 4.0])
    assert s2sad.grad(module.f, optimize=False)(2.0) == 4.0
    assert builds == [] and cache.stats()["disk_hits"] == 2


def test_another_version_of_s2sad_does_not_read_the_entries(
    tmp_path, cache_dir, builds, monkeypatch
):
    module = write_module(tmp_path, "def f(x):\n    return x * x\n")
    s2sad.grad(module.f)(3.0)
    monkeypatch.setitem(fingerprints._PACKAGE, "digest", "another-version")
    cache.clear()
    assert s2sad.grad(module.f)(3.0) == 6.0
    assert builds == ["f", "f"]


def test_a_damaged_entry_is_rebuilt_and_replaced(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, SCALAR)
    s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2)
    for path in cache_dir.glob("*f-*.s2sad"):
        path.write_bytes(path.read_bytes()[:40])
    cache.clear()
    builds.clear()
    assert s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2) == pytest.approx(f_closed_form(0.3, 1.2))
    assert builds == ["f"]  # the helper's pair was intact
    cache.clear()
    builds.clear()
    s2sad.grad(module.f, wrt=(0, 1))(0.3, 1.2)
    assert builds == []


def test_builds_that_cannot_be_checked_later_are_not_stored(tmp_path, cache_dir):
    module = write_module(
        tmp_path,
        """
        import functools, math
        scaled = functools.partial(math.pow, 2.0)

        def uses_partial(x):
            return scaled(3.0) * x

        def uses_lambda(x):
            return square(x) + 1.0

        square = lambda y: y * y
        """,
    )
    assert s2sad.grad(module.uses_partial)(2.0) == 8.0  # a callable object
    assert s2sad.grad(module.uses_lambda)(3.0) == 6.0
    # A rule of the user's: its templates may be computed by any code, which a later
    # process cannot check; from now on this process stores nothing.
    other = write_module(
        tmp_path, "def double(x):\n    return 2.0 * x\n\ndef g(x):\n    return double(x) * x\n"
    )
    stored = write_module(tmp_path, "import numpy as np\ndef h(x):\n    return np.tanh(x)\n")
    assert s2sad.grad(stored.h)(0.5) == pytest.approx(1.0 - np.tanh(0.5) ** 2)
    assert cache.stats()["disk_writes"] == 1
    s2sad.defvjp(other.double, "x, /", x="2.0 * g")
    assert REGISTRY.customised
    assert s2sad.grad(other.g)(3.0) == 12.0
    cache.clear()
    s2sad.grad(stored.h)(0.5)  # the user's rules might replace np.tanh's: not loaded either
    assert cache.stats()["disk_writes"] == cache.stats()["disk_hits"] == 0


def test_two_closures_of_one_def_used_together_are_not_stored(tmp_path, cache_dir, builds):
    module = write_module(
        tmp_path,
        """
        import numpy as np

        def make(function):
            def applied(x):
                return function(x) * 2.0
            return applied

        first, second = make(np.sin), make(np.cos)

        def f(x):
            return np.sum(first(x) + second(x))
        """,
    )
    x = np.array([0.1, 0.7])
    expected = 2.0 * np.cos(x) - 2.0 * np.sin(x)
    assert np.allclose(s2sad.grad(module.f)(x), expected)
    cache.clear()
    builds.clear()
    assert np.allclose(s2sad.grad(module.f)(x), expected)
    assert builds == ["f"]  # f's calls to the two `applied` cannot be told apart on disk
    assert cache.stats()["disk_hits"] == 2  # each `applied`'s own pair can


def test_an_unwritable_directory_warns_once_and_the_gradient_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(REGISTRY, "customised", False)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    s2sad.cache_directory(blocker / "cache")  # a directory below a file cannot be made
    try:
        module = write_module(tmp_path, "def f(x):\n    return x * x\n\ndef g(x):\n    return -x\n")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert s2sad.grad(module.f)(3.0) == 6.0
            assert s2sad.grad(module.g)(3.0) == -1.0
        assert len(caught) == 1
        assert "cannot write to the cache directory" in str(caught[0].message)
    finally:
        s2sad.cache_directory(None)


def test_errors_from_a_loaded_derivative_still_name_the_users_line(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, "import numpy as np\ndef f(x):\n    return x * 2.0\n")
    with pytest.raises(s2sad.NonScalarOutputError, match=r"\.py:3"):
        s2sad.grad(module.f)(np.ones(2))
    cache.clear()
    builds.clear()
    with pytest.raises(s2sad.NonScalarOutputError, match=r"\.py:3"):
        s2sad.grad(module.f)(np.ones(2))
    assert builds == []


def test_the_source_names_the_file_as_seen_from_the_working_directory(
    tmp_path, cache_dir, monkeypatch
):
    module = write_module(tmp_path, SCALAR)
    monkeypatch.chdir(tmp_path)
    here = s2sad.source(module.f, wrt=(0, 1))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    cache.clear()
    there = s2sad.source(module.f, wrt=(0, 1))
    s2sad.cache_directory(None)
    cache.clear()
    assert there == s2sad.source(module.f, wrt=(0, 1))  # as a build here prints it
    assert there != here and f"{module.__name__}.py:" in here


WRAPPED = """
import functools
import numpy as np

def total(x):
    return np.sum(x * x)

def square(x):
    return x * x

def kernel(x):  # a wrapper that does not copy its target's name, as some decorators do
    return kernel.__wrapped__(x)

kernel.__wrapped__ = total

def traced(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)
    return wrapper

@traced
def cube(x):
    return x * x * x

def f(x):
    return np.sum(kernel(x) * np.array([1.0, 2.0])) + 0.0 * total(x) + np.sum(cube(x))
"""


def test_a_helper_wrapping_another_function_is_checked_by_what_it_wraps(
    tmp_path, cache_dir, builds
):
    """s2sad differentiates what ``__wrapped__`` leads to: that is part of the helper."""
    module = write_module(tmp_path, WRAPPED)
    x = np.array([0.7, 0.3])
    assert s2sad.grad(module.f)(x) == pytest.approx(3.0 * 2.0 * x + 3.0 * x * x)
    cache.clear()
    builds.clear()
    assert s2sad.grad(module.f)(x) == pytest.approx(3.0 * 2.0 * x + 3.0 * x * x)
    assert builds == []  # the functools.wraps helper `cube` is found again too
    module.kernel.__wrapped__ = module.square
    cache.clear()
    assert s2sad.grad(module.f)(x) == pytest.approx(2.0 * x * np.array([1.0, 2.0]) + 3.0 * x * x)
    assert "f" in builds


NESTED = """
import math

def f(x, a):
    def inner(y):
        return y * a + math.sin(y)

    def power(y, n):
        if n == 0:
            return 1.0
        return y * power(y, n - 1)

    return inner(x) * inner(2.0 * x) + power(x, 3)
"""


def test_functions_defined_inside_are_stored_and_made_again_from_disk(tmp_path, cache_dir, builds):
    module = write_module(tmp_path, NESTED)

    def expected(x, a):
        inner, slope = (lambda y: y * a + math.sin(y)), (lambda y: a + math.cos(y))
        dx = slope(x) * inner(2 * x) + inner(x) * 2 * slope(2 * x) + 3 * x * x
        return dx, x * inner(2 * x) + inner(x) * 2 * x

    assert s2sad.grad(module.f, wrt=(0, 1))(0.4, 1.3) == pytest.approx(expected(0.4, 1.3))
    written = cache.stats()["disk_writes"]
    assert written == 3  # f's derivative, and the pairs of inner and power
    cache.clear()
    builds.clear()
    assert s2sad.grad(module.f, wrt=(0, 1))(0.7, -0.2) == pytest.approx(expected(0.7, -0.2))
    assert builds == [] and cache.stats()["disk_hits"] == 3
    for path in cache_dir.glob("*power*"):  # without its pair, f is built again
        path.unlink()
    cache.clear()
    assert s2sad.grad(module.f, wrt=(0, 1))(0.7, -0.2) == pytest.approx(expected(0.7, -0.2))
    assert sorted(builds) == ["f", "power"]  # inner's pair still loads
