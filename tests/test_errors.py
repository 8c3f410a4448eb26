"""Every error s2sad raises on purpose is an S2SADError whose message starts with the user's
``file.py:LINE:`` and names the construct."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad.errors import Location
from s2sad.rules import registry

HERE = Path(__file__).resolve()


def line_of(text: str) -> int:
    lines = HERE.read_text().splitlines()
    numbers = [n for n, line in enumerate(lines, 1) if line.strip() == text]
    assert len(numbers) == 1, (text, numbers)
    return numbers[0]


def assert_located(error: Exception, line: int, filename: Path = HERE) -> str:
    """The message starts with ``file:LINE: `` naming ``filename``; returns the rest."""
    message = str(error)
    where = re.match(r"(.+?):(\d+): ", message)
    assert where is not None, message
    assert Path(where.group(1)).resolve() == filename, message
    assert int(where.group(2)) == line, message
    assert error.location is not None and error.location.line == line
    return message[where.end() :]


@pytest.mark.parametrize(
    "error",
    [
        s2sad.UnsupportedSyntaxError,
        s2sad.NonDifferentiableError,
        s2sad.SourceUnavailableError,
        s2sad.NonScalarOutputError,
        s2sad.InvalidArgumentError,
    ],
)
def test_every_error_is_an_s2sad_error(error):
    assert issubclass(error, s2sad.S2SADError)
    assert issubclass(s2sad.S2SADError, Exception)


def test_a_located_message_starts_with_file_and_line():
    error = s2sad.UnsupportedSyntaxError("a `with` statement", Location("model.py", 12))
    assert str(error) == "model.py:12: s2sad does not support a `with` statement"
    assert error.location == Location("model.py", 12) and error.construct == "a `with` statement"


# ----- UnsupportedSyntaxError ---------------------------------------------------------------
def opens_a_file(x):
    y = x * 2.0
    with open(__file__) as handle:
        y = y + len(handle.read())
    return y


def comprehends(x):
    ys = np.array(x * i for i in range(3))
    return ys[0]


def makes_a_generator(x):
    yield x * 2.0


@pytest.mark.parametrize(
    "function, line, construct",
    [
        (opens_a_file, "with open(__file__) as handle:", "`with`"),
        (comprehends, "ys = np.array(x * i for i in range(3))", "generator expression"),
        (makes_a_generator, "yield x * 2.0", "`yield`"),
    ],
)
def test_unsupported_syntax_is_located_and_named(function, line, construct):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        s2sad.grad(function)(1.0)
    rest = assert_located(caught.value, line_of(line))
    assert rest.startswith("s2sad does not support")
    assert construct in rest


# ----- NonDifferentiableError -------------------------------------------------------------
def condition_number(a):
    d = np.linalg.cond(a) * 2.0
    return d


def gamma(x):
    return math.gamma(x) + x


@pytest.mark.parametrize(
    "function, argument, line, name",
    [
        (condition_number, np.eye(2) * 2.0, "d = np.linalg.cond(a) * 2.0", "np.linalg.cond"),
        (gamma, 1.5, "return math.gamma(x) + x", "math.gamma"),
    ],
)
def test_a_call_without_a_rule_is_located_and_named(function, argument, line, name):
    with pytest.raises(s2sad.NonDifferentiableError) as caught:
        s2sad.grad(function)(argument)
    rest = assert_located(caught.value, line_of(line))
    assert f"cannot differentiate through {name}" in rest
    assert caught.value.name == name


def test_the_message_says_how_to_register_a_rule():
    with pytest.raises(s2sad.NonDifferentiableError) as caught:
        s2sad.grad(gamma)(1.5)
    message = str(caught.value)
    assert re.search(r"s2sad(\.rules)?\.defvjp\(math\.gamma", message), message
    # defvjp is called, not used as a decorator: `@...defvjp(math.gamma, ...)` above a
    # def would call math.gamma on the function.
    assert "@s2sad.rules.defvjp" not in message and "@s2sad.defvjp" not in message


def complementary_error(x):
    return math.erfc(x) * 3.0


def test_following_the_advice_makes_the_call_differentiable(monkeypatch):
    monkeypatch.setattr(registry.REGISTRY, "_rules", dict(registry.REGISTRY._rules))
    with pytest.raises(s2sad.NonDifferentiableError, match="math.erfc"):
        s2sad.grad(complementary_error)(0.4)
    s2sad.defvjp(math.erfc, "x, /", x="-2.0 / math.sqrt(math.pi) * math.exp(-x * x) * g")
    s2sad.cache.clear()
    expected = -3.0 * 2.0 / math.sqrt(math.pi) * math.exp(-0.16)
    assert s2sad.grad(complementary_error)(0.4) == pytest.approx(expected)


def gamma_of_a_constant(x, n):
    return x * math.gamma(n)


def test_a_call_without_a_rule_is_fine_when_no_gradient_flows_through_it():
    assert s2sad.grad(gamma_of_a_constant)(1.5, 4.0) == pytest.approx(6.0)


# ----- SourceUnavailableError -------------------------------------------------------------
def test_a_builtin_has_no_source():
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        s2sad.grad(len)([1.0])
    assert "len" in str(caught.value)


def test_a_function_without_source_is_located_where_it_was_defined():
    namespace = {}
    exec("\n\ndef typed_in(x):\n    return x * 2.0\n", namespace)  # noqa: S102
    with pytest.raises(s2sad.SourceUnavailableError) as caught:
        s2sad.grad(namespace["typed_in"])(1.0)
    message = str(caught.value)
    assert "typed_in" in message
    assert message.startswith("<string>:3: "), message


# ----- NonScalarOutputError -----------------------------------------------------------------
def elementwise(x):
    y = np.exp(x)
    return y * 2.0


def test_an_array_output_is_located_at_the_return():
    with pytest.raises(s2sad.NonScalarOutputError) as caught:
        s2sad.grad(elementwise)(np.ones((2, 3)))
    rest = assert_located(caught.value, line_of("return y * 2.0"))
    assert "(2, 3)" in rest and "s2sad.vjp" in rest


def test_invalid_arguments_are_value_errors_too():
    with pytest.raises(ValueError, match="no parameter 'z'"):
        s2sad.grad(elementwise, wrt="z")(1.0)


def assign_a_slice_of_a_list(x, y):
    items = [y, x]
    items[:] = [np.sin(y), x]
    return items[0] * items[1]


def test_assigning_a_slice_of_a_list_is_refused_with_the_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="slice of the list items") as caught:
        s2sad.grad(assign_a_slice_of_a_list)(0.3, 0.5)
    assert_located(caught.value, line_of("items[:] = [np.sin(y), x]"))


# ----- errors raised while a derivative runs -------------------------------------------------
def eigenvectors_of_a_repeated_eigenvalue(a):
    w, v = np.linalg.eigh(a * 1.0)
    return np.sum(v[:, 0] ** 3)


def matrix_norm_without_a_rule(x):
    m = np.outer(x, x)
    return np.linalg.norm(m, 1) * 2.0


def helper_with_a_matrix_norm(m):
    return np.linalg.norm(m, np.inf)


def through_a_helper(x):
    m = np.outer(x, x)
    return helper_with_a_matrix_norm(m) + np.sum(x)


@pytest.mark.parametrize(
    "function, argument, line",
    [
        (eigenvectors_of_a_repeated_eigenvalue, np.eye(3), "w, v = np.linalg.eigh(a * 1.0)"),
        (matrix_norm_without_a_rule, np.array([1.0, 2.0]), "return np.linalg.norm(m, 1) * 2.0"),
        (through_a_helper, np.array([1.0, 2.0]), "return np.linalg.norm(m, np.inf)"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_an_error_while_the_gradient_runs_names_the_users_line(function, argument, line):
    with pytest.raises(s2sad.NonDifferentiableError) as caught:
        s2sad.grad(function)(argument)
    assert_located(caught.value, line_of(line))
    with pytest.raises(s2sad.NonDifferentiableError) as again:  # not through the dispatcher
        s2sad.grad(function).s2sad(argument)
    assert_located(again.value, line_of(line))
