"""s2sad.parse: a user function's source as a gast tree, with its names resolved to objects."""

import functools
import linecache
import math
from pathlib import Path

import gast
import numpy as np
import numpy as onp
import pytest

import s2sad
from s2sad.parse import UNRESOLVED, function_from_source, parse_function
from s2sad.syntax import to_source

HERE = Path(__file__).resolve()
SCALE = 3.0


def line_starting(text: str) -> int:
    """The number of the one line of this file that starts (after indentation) with text."""
    lines = HERE.read_text().splitlines()
    numbers = [n for n, line in enumerate(lines, 1) if line.lstrip().startswith(text)]
    assert len(numbers) == 1, (text, numbers)
    return numbers[0]


def assert_lines_are_the_files(parsed) -> None:
    """Every statement of the parsed body sits on the line of the file that holds its text."""
    for statement in parsed.tree.body:
        text = linecache.getline(parsed.filename, statement.lineno).strip()
        assert text == to_source(statement)


# ----- module functions -------------------------------------------------------------------
def module_level(x, a):
    y = np.sin(x) * a
    return y + SCALE


def test_module_function_is_parsed_with_the_files_line_numbers():
    parsed = parse_function(module_level)
    assert isinstance(parsed.tree, gast.FunctionDef)
    assert parsed.name == "module_level"
    assert Path(parsed.filename).resolve() == HERE
    assert parsed.tree.lineno == line_starting("def module_level(")
    assert_lines_are_the_files(parsed)


def test_local_names_are_parameters_and_assigned_names():
    parsed = parse_function(module_level)
    assert parsed.local_names == {"x", "a", "y"}
    assert parsed.closure == {}


def test_names_resolve_to_globals_then_builtins():
    parsed = parse_function(module_level)
    assert parsed.lookup("SCALE") == 3.0
    assert parsed.lookup("np") is np
    assert parsed.lookup("len") is len
    assert parsed.lookup("y") is UNRESOLVED  # a local: never looked up outside
    assert parsed.lookup("no_such_name_anywhere") is UNRESOLVED
    call = parsed.tree.body[0].value.left  # np.sin(x)
    assert parsed.resolve(call.func) is np.sin


def shadows_np(x):
    np = 2.0
    return x * np


def test_a_local_shadows_a_global_module():
    parsed = parse_function(shadows_np)
    assert parsed.resolve(gast.parse("np.sin", mode="eval").body) is UNRESOLVED


# ----- NumPy under another name -------------------------------------------------------------
def aliased(x):
    return onp.sum(onp.sin(x))


def test_numpy_under_an_alias_resolves_to_numpy():
    parsed = parse_function(aliased)
    outer = parsed.tree.body[0].value
    assert parsed.resolve(outer.func) is np.sum
    assert parsed.resolve(outer.args[0].func) is np.sin


def test_numpy_under_an_alias_is_differentiated_with_that_alias():
    x = np.array([0.1, 0.7, 1.3])
    assert np.allclose(s2sad.grad(aliased)(x), np.cos(x))
    source = s2sad.source(aliased)
    assert "onp.cos(x)" in source


# ----- closures -----------------------------------------------------------------------------
def make_scaled(k):
    offset = 0.5

    def scaled(x):
        y = x * k + math.cos(x)
        return y + offset

    return scaled


def test_closure_values_are_captured():
    parsed = parse_function(make_scaled(2.0))
    assert parsed.name == "scaled"
    assert parsed.closure == {"k": 2.0, "offset": 0.5}
    assert parsed.lookup("k") == 2.0
    assert parsed.lookup("math") is math
    assert parsed.local_names == {"x", "y"}


def test_nested_function_keeps_the_files_line_numbers():
    parsed = parse_function(make_scaled(2.0))
    assert parsed.tree.lineno == line_starting("def scaled(")
    assert_lines_are_the_files(parsed)


def make_shadowing():
    SCALE = -1.0

    def uses_scale(x):
        return x * SCALE

    return uses_scale


def test_closure_wins_over_globals():
    assert parse_function(make_shadowing()).lookup("SCALE") == -1.0


def make_unassigned():
    def early(x):
        return x * later

    return early
    later = 1.0


def test_an_empty_closure_cell_is_unresolved():
    assert parse_function(make_unassigned()).closure == {"later": UNRESOLVED}


# ----- lambdas ------------------------------------------------------------------------------
SQUARE = lambda x: x * x
PAIR = (lambda x: x + 1.0, lambda x, y: x * y)


def test_lambda_becomes_a_function_with_one_return():
    parsed = parse_function(SQUARE)
    assert to_source(parsed.tree) == "def lambda_(x):\n    return x * x"
    assert parsed.tree.lineno == line_starting("SQUARE = lambda")
    assert parsed.tree.body[0].lineno == parsed.tree.lineno


def test_lambdas_on_one_line_are_told_apart_by_their_parameters():
    first = parse_function(PAIR[0])
    second = parse_function(PAIR[1])
    assert to_source(first.tree.body[0]) == "return x + 1.0"
    assert to_source(second.tree.body[0]) == "return x * y"
    assert s2sad.grad(PAIR[1], wrt=(0, 1))(2.0, 5.0) == (5.0, 2.0)


def test_ambiguous_lambdas_raise_source_unavailable():
    both = (lambda x: x * 2.0, lambda x: x * 3.0)
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        parse_function(both[1])
    message = str(caught.value)
    assert f"test_parse.py:{line_starting('both = (lambda')}:" in message
    assert "lambda" in message and "def" in message


SPLIT_LAMBDA = """
SPLIT = [
    lambda x: math.sin(x)
    * 2.0,
]
"""


def test_a_lambda_split_over_lines_is_never_differentiated_wrongly():
    split = function_from_source(SPLIT_LAMBDA, {"math": math}, name="SPLIT")[0]
    assert split(0.5) == pytest.approx(2.0 * math.sin(0.5))
    try:
        gradient = s2sad.grad(split)(0.5)
    except s2sad.SourceUnavailableError:
        return  # refusing is fine; a gradient of only part of the body is not
    assert gradient == pytest.approx(2.0 * math.cos(0.5))


# ----- decorators -------------------------------------------------------------------------
def passthrough(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)

    return wrapper


@passthrough
@functools.cache
def decorated(x):
    y = onp.sin(x) * 2.0
    return y


def test_decorators_are_stripped_and_lines_stay_the_files():
    parsed = parse_function(decorated)
    assert parsed.tree.decorator_list == []
    assert parsed.name == "decorated"
    assert parsed.tree.lineno == line_starting("def decorated(")
    assert_lines_are_the_files(parsed)
    assert parsed.resolve(parsed.tree.body[0].value.left.func) is np.sin


# ----- function_from_source -------------------------------------------------------------
def test_function_from_source_defines_a_readable_function():
    f = function_from_source(
        """
        def triple(x):
            return x * 3.0
        """
    )
    assert f(2.0) == 6.0
    parsed = parse_function(f)
    assert parsed.filename.startswith("<s2sad-source-")
    assert parsed.tree.lineno == 1
    assert to_source(parsed.tree.body[0]) == "return x * 3.0"


# ----- no source ------------------------------------------------------------------------
@pytest.mark.parametrize("builtin", [len, math.gamma, np.sin], ids=["len", "gamma", "np.sin"])
def test_builtins_have_no_source(builtin):
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        parse_function(builtin)
    message = str(caught.value)
    assert builtin.__name__ in message
    assert "not a Python function" in message


def test_exec_without_linecache_has_no_source():
    namespace = {}
    exec("def typed_in(x):\n    return x * 2.0\n", namespace)  # noqa: S102
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        parse_function(namespace["typed_in"])
    message = str(caught.value)
    assert "typed_in" in message
    assert "<string>" in message
    assert ".py file" in message


def test_source_unavailable_is_an_s2sad_error():
    assert issubclass(s2sad.SourceUnavailableError, s2sad.S2SADError)


async def asynchronous(x):
    return x * 2.0


def test_an_async_function_is_unsupported_syntax():
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        parse_function(asynchronous)
    message = str(caught.value)
    assert f"test_parse.py:{line_starting('async def asynchronous(')}:" in message
    assert "`async def`" in message


class Circle:
    k = 3.0

    @staticmethod
    def area(r):
        return np.pi * r**2

    def times_k(self, x):
        return x * self.k


def test_static_and_plain_methods_read_through_the_class():
    assert s2sad.grad(Circle.area)(2.0) == pytest.approx(4.0 * np.pi)
    assert s2sad.grad(Circle.times_k, wrt="x")(Circle(), 2.0) == 3.0


def test_a_bound_method_is_python_with_source():
    # SourceUnavailableError is for functions typed into a REPL and builtins, not methods.
    assert s2sad.grad(Circle().times_k)(2.0) == 3.0


def test_a_module_edited_and_reloaded_is_read_again(tmp_path, monkeypatch):
    import importlib
    import os

    module = tmp_path / "edited_module.py"
    module.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import edited_module

    x = np.array([1.0, 2.0])
    assert np.allclose(s2sad.grad(edited_module.f)(x), [2.0, 4.0])
    module.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(x * x * x)\n")
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later edit
    importlib.reload(edited_module)
    assert np.allclose(s2sad.grad(edited_module.f)(x), [3.0, 12.0])
