"""s2sad.normalize: user functions rewritten into the core language, one operation per line.

Each test shows a small function before and after ``normalize`` (the printed core-language
source) and, where the rewrite could change what the function computes, runs both.
"""

import math
import textwrap

import gast
import numpy as np
import pytest

import s2sad
from s2sad.normalize import normalize
from s2sad.parse import function_from_source, parse_function
from s2sad.syntax import is_atom, to_source

NAMESPACE = {"np": np, "math": math}


def define(source: str):
    return function_from_source(source, NAMESPACE)


def core(function) -> str:
    return to_source(normalize(parse_function(function)).tree)


def rerun(function):
    """The normalised function, compiled back into Python."""
    scope = dict(NAMESPACE)
    exec(core(function), scope)  # noqa: S102
    return scope[function.__name__]


def expect(before: str, after: str):
    function = define(before)
    assert core(function) == textwrap.dedent(after).strip()
    return function


# ----- one operation per assignment -----------------------------------------------------------
def test_nested_expression_becomes_one_operation_per_assignment():
    expect(
        """
        def f(x, a):
            y = x * a + math.sin(x)
            return y
        """,
        """
        def f(x, a):
            x_times_a = x * a
            sin_x = math.sin(x)
            y = x_times_a + sin_x
            return y
        """,
    )


def test_returned_expression_is_named_after_the_function():
    expect(
        """
        def loss(w):
            return np.sum(w ** 2)
        """,
        """
        def loss(w):
            w_pow_two = w ** 2
            loss = np.sum(w_pow_two)
            return loss
        """,
    )


def _is_core_operation(node) -> bool:
    if is_atom(node):
        return True
    if isinstance(node, gast.BinOp):
        return is_atom(node.left) and is_atom(node.right)
    if isinstance(node, gast.UnaryOp):
        return is_atom(node.operand)
    if isinstance(node, gast.Compare):
        return len(node.ops) == 1 and is_atom(node.left) and is_atom(node.comparators[0])
    if isinstance(node, gast.Call):
        return all(is_atom(a) for a in node.args) and all(is_atom(k.value) for k in node.keywords)
    if isinstance(node, (gast.Tuple, gast.List)):
        return all(is_atom(e) for e in node.elts)
    if isinstance(node, gast.Attribute):
        return True  # np.pi, x.T: a name or a chain of attributes
    return False


def test_every_operand_of_a_realistic_function_is_an_atom():
    loss = define(
        """
        def loss(w, b, X, y, l2=0.01):
            z = X @ w + b
            p = 1.0 / (1.0 + np.exp(-z))
            data = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
            return data + l2 * np.sum(w**2)
        """
    )
    tree = normalize(parse_function(loss)).tree
    assignments = [s for s in tree.body if isinstance(s, gast.Assign)]
    assert len(assignments) >= 15
    for statement in assignments:
        assert _is_core_operation(statement.value), to_source(statement)
    assert isinstance(tree.body[-1], gast.Return) and is_atom(tree.body[-1].value)


def test_emitted_statements_keep_the_users_line():
    f = define(
        """
        def f(x, a):
            y = x * a + math.sin(x)
            z = np.exp(y) / (1.0 + y)
            return z * 2.0
        """
    )
    tree = normalize(parse_function(f)).tree
    lines = {
        to_source(s).split(" = ")[0]: s.lineno for s in tree.body if isinstance(s, gast.Assign)
    }
    assert lines["x_times_a"] == lines["sin_x"] == lines["y"] == 2
    assert lines["exp_y"] == lines["one_plus_y"] == lines["z"] == 3
    assert lines["f"] == tree.body[-1].lineno == 4


def test_normalised_code_computes_the_same_values():
    f = define(
        """
        def f(x, a):
            y = x * a + math.sin(x) ** 2 - a / (x + 1.0)
            return -y * np.tanh(a) + abs(x - a)
        """
    )
    same = rerun(f)
    for x, a in [(0.3, 1.7), (-2.0, 0.5), (4.0, -1.25)]:
        assert same(x, a) == f(x, a)


def test_a_negative_base_keeps_its_parentheses():
    f = define(
        """
        def f(x):
            y = (-2.0) ** 2 * x
            return y + x * (-1) ** 3
        """
    )
    assert f(1.0) == 3.0
    assert rerun(f)(1.0) == 3.0
    assert s2sad.grad(f)(1.0) == 3.0


# ----- augmented assignment ---------------------------------------------------------------
def test_augmented_assignment_becomes_a_plain_assignment():
    f = expect(
        """
        def f(x, a):
            x += a * 2.0
            x *= x
            x -= 1.0
            return x
        """,
        """
        def f(x, a):
            a_times_two = a * 2.0
            x = x + a_times_two
            x = x * x
            x = x - 1.0
            return x
        """,
    )
    assert rerun(f)(1.5, 0.25) == f(1.5, 0.25)


# ----- tuple unpacking --------------------------------------------------------------------
def test_swap_goes_through_a_tuple_so_both_sides_are_read_first():
    swap = expect(
        """
        def swap(a, b):
            a, b = b, a
            return a - b
        """,
        """
        def swap(a, b):
            tuple_1 = (b, a)
            a = tuple_1[0]
            b = tuple_1[1]
            swap = a - b
            return swap
        """,
    )
    assert rerun(swap)(1.0, 5.0) == swap(1.0, 5.0) == 4.0


def test_unpacking_that_reads_its_targets_keeps_python_semantics():
    fib = define(
        """
        def fib(a, b):
            for i in range(5):
                a, b = b, a + b
            return b
        """
    )
    assert rerun(fib)(0.0, 1.0) == fib(0.0, 1.0) == 8.0


def test_independent_unpacking_assigns_element_by_element():
    expect(
        """
        def f(x, y):
            a, b = x * 2.0, y
            return a + b
        """,
        """
        def f(x, y):
            a = x * 2.0
            b = y
            f = a + b
            return f
        """,
    )


def test_unpacking_a_name_reads_it_by_index():
    f = expect(
        """
        def f(x, pair):
            p, q = pair
            return p * x + q
        """,
        """
        def f(x, pair):
            pair_1 = pair
            p = pair_1[0]
            q = pair_1[1]
            p_times_x = p * x
            f = p_times_x + q
            return f
        """,
    )
    assert rerun(f)(2.0, (3.0, 4.0)) == 10.0


def test_chained_assignment_evaluates_once():
    expect(
        """
        def f(x):
            y = z = x * 2.0
            return y + z
        """,
        """
        def f(x):
            x_times_two = x * 2.0
            y = x_times_two
            z = x_times_two
            f = y + z
            return f
        """,
    )


# ----- comparisons and boolean operators -----------------------------------------------------
def test_chained_comparison_stops_at_the_first_false():
    f = expect(
        """
        def f(x, a, b):
            inside = a < x < b
            return inside
        """,
        """
        def f(x, a, b):
            in_order = a < x
            if in_order:
                in_order = x < b
            inside = in_order
            return inside
        """,
    )
    same = rerun(f)
    for x in (0.0, 1.5, 3.0):
        assert same(x, 1.0, 2.0) == f(x, 1.0, 2.0) == (1.0 < x < 2.0)


def test_and_or_evaluate_lazily_and_return_an_operand():
    f = expect(
        """
        def f(x, a, b):
            c = a and b or x
            return c
        """,
        """
        def f(x, a, b):
            both = a
            both_before = both
            if both_before:
                both = b
            either = both
            either_before = either
            if either_before:
                pass
            else:
                either = x
            c = either
            return c
        """,
    )
    same = rerun(f)
    for a, b in [(0.0, 2.0), (3.0, 0.0), (3.0, 2.0)]:
        assert same(7.0, a, b) == f(7.0, a, b)


def test_or_does_not_evaluate_the_right_operand_when_the_left_is_true():
    f = define(
        """
        def f(x, items):
            ok = x > 0.0 or items[5] > 0.0
            return ok
        """
    )
    assert rerun(f)(1.0, []) is True  # items[5] would raise IndexError


def test_conditional_expression_becomes_an_if():
    f = expect(
        """
        def f(x):
            y = x * 2.0 if x > 0.0 else -x
            return y
        """,
        """
        def f(x):
            x_gt_zero = x > 0.0
            if x_gt_zero:
                choice = x * 2.0
            else:
                choice = -x
            y = choice
            return y
        """,
    )
    assert rerun(f)(3.0) == 6.0 and rerun(f)(-3.0) == 3.0


# ----- loops over enumerate and zip ---------------------------------------------------------
def test_enumerate_zip_loop_becomes_a_range_loop_with_reads_by_index():
    f = expect(
        """
        def f(xs, ys):
            s = 0.0
            for i, (a, b) in enumerate(zip(xs, ys)):
                s = s + a * b * i
            return s
        """,
        """
        def f(xs, ys):
            s = 0.0
            len_xs = len(xs)
            len_ys = len(ys)
            n_xs = min(len_xs, len_ys)
            for k in range(n_xs):
                i = k
                a = xs[k]
                b = ys[k]
                a_times_b = a * b
                a_times_b_times_i = a_times_b * i
                s = s + a_times_b_times_i
            return s
        """,
    )
    xs, ys = [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0]
    assert rerun(f)(xs, ys) == f(xs, ys) == 0.0 + 12.0 * 1 + 21.0 * 2  # zip stops at ys's end


def test_enumerate_with_start_offsets_the_count():
    f = expect(
        """
        def f(xs):
            s = 0.0
            for i, x in enumerate(xs, start=1):
                s = s + x * i
            return s
        """,
        """
        def f(xs):
            s = 0.0
            n_xs = len(xs)
            for k in range(n_xs):
                i = k + 1
                x = xs[k]
                x_times_i = x * i
                s = s + x_times_i
            return s
        """,
    )
    assert rerun(f)([3.0, 4.0]) == f([3.0, 4.0]) == 11.0


def test_range_loop_is_kept_as_written():
    expect(
        """
        def f(x, a):
            for i in range(3):
                x = x * a + math.sin(x)
            return x
        """,
        """
        def f(x, a):
            for i in range(3):
                x_times_a = x * a
                sin_x = math.sin(x)
                x = x_times_a + sin_x
            return x
        """,
    )


# ----- what is not supported -----------------------------------------------------------------
UNSUPPORTED = {
    "with": (
        """
        def f(x):
            y = x * 2.0
            with open("data.txt") as handle:
                y = y + 1.0
            return y
        """,
        3,
        "`with`",
    ),
    "try": (
        """
        def f(x):
            y = x
            try:
                y = x * 2.0
            except ValueError:
                y = 0.0
            return y
        """,
        3,
        "`try`",
    ),
    "set comprehension": (
        """
        def f(x):
            y = x + 1.0
            z = sum({y * i for i in range(3)})
            return z
        """,
        3,
        "set comprehension",
    ),
    "lambda": (
        """
        def f(x):
            y = x * 2.0

            pairs = sorted([y, x], key=lambda t: -t)
            return pairs[0]
        """,
        4,
        "lambda",
    ),
    "global": (
        """
        def f(x):
            y = x * 2.0
            global COUNT
            return y
        """,
        3,
        "`global`",
    ),
    "generator expression": (
        """
        def f(x):
            return consume(x * i for i in range(3))
        """,
        2,
        "generator expression",
    ),
    "starred assignment": (
        """
        def f(x):
            a, *rest = x
            return a
        """,
        2,
        "starred assignment",
    ),
}


@pytest.mark.parametrize("construct", list(UNSUPPORTED))
def test_unsupported_syntax_names_the_construct_and_its_line(construct):
    source, line, named = UNSUPPORTED[construct]
    function = define(source)
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        normalize(parse_function(function))
    message = str(caught.value)
    filename = parse_function(function).filename
    assert message.startswith(f"{filename}:{line}: ")
    assert named in message
    assert caught.value.location.line == line


def test_nonlocal_names_its_line():
    outer = function_from_source(
        """
        def outer():
            y = 1.0

            def f(x):
                nonlocal y
                return x * y

            return f
        """,
        name="outer",
    )
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        normalize(parse_function(outer()))
    assert caught.value.location.line == 5
    assert "`nonlocal`" in str(caught.value)
