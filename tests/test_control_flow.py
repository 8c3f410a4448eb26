"""End to end: control flow (if/elif/else, for, while, break, continue, early return),
checked against central finite differences on every branch and trip count."""

import math

import numpy as np
import pytest

import s2sad
from s2sad import check_grad


# ----- if / elif / else ----------------------------------------------------------------
def piecewise(x):
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = math.sin(x) * 3.0
    else:
        y = -x * 2.0 + 1.0
    return y * x


@pytest.mark.parametrize("x", [2.0, 0.5, -1.5])
def test_if_elif_else_every_branch(x):
    assert check_grad(piecewise, x) < 1e-6


def branch_on_constant(x, flag):
    if flag:
        x = x * 3.0
    return x * x


@pytest.mark.parametrize("flag", [True, False])
def test_branch_on_an_input_that_is_not_differentiated(flag):
    assert check_grad(branch_on_constant, 1.3, flag) < 1e-6


def conditional_expression(x, y):
    z = x * y if x > y else x + y
    return z * z if z > 2.0 else -z


@pytest.mark.parametrize("x, y", [(2.0, 1.5), (1.0, 2.0), (0.5, 0.7)])
def test_conditional_expressions(x, y):
    assert check_grad(conditional_expression, x, y, wrt=(0, 1)) < 1e-6


def boolean_logic(x, y):
    if x > 0.0 and y > 0.0 or not x < 3.0:
        return x * y
    if 0.0 < x < 1.0:
        return x - y
    return x + y * y


@pytest.mark.parametrize("x, y", [(1.5, 2.0), (4.0, -1.0), (0.5, -1.0), (-1.0, -2.0)])
def test_and_or_not_and_chained_comparisons(x, y):
    assert check_grad(boolean_logic, x, y, wrt=(0, 1)) < 1e-6


def array_branch(x):
    if np.sum(x) > 0.0:
        y = np.sin(x) * x
    else:
        y = np.exp(x)
    return np.sum(y)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_branch_on_an_array_reduction(sign):
    assert check_grad(array_branch, sign * np.array([0.3, 0.8, 1.1])) < 1e-6


# ----- for loops ---------------------------------------------------------------------------
def range_loop(x, n):
    for i in range(n):
        x = x * 1.1 + math.sin(x) * i
    return x


@pytest.mark.parametrize("n", [0, 1, 7])
def test_range_loop_zero_once_many(n):
    assert check_grad(range_loop, 0.4, n) < 1e-6


def range_start_stop_step(x):
    total = 0.0
    for i in range(10, 2, -3):
        total = total + x**i
    for j in range(1, 8, 2):
        total = total * x + j
    return total


def test_range_with_start_stop_step():
    assert check_grad(range_start_stop_step, 0.9) < 1e-6


def trip_count_from_shape(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * (i + 1.0)
    return s


def loop_over_array_rows(x, w):
    total = 0.0
    for row in x:
        total = total + np.sum(np.tanh(row * w))
    return total


def test_loop_over_rows_of_a_constant_array():
    x = np.arange(12.0).reshape(4, 3) / 10.0
    assert check_grad(loop_over_array_rows, x, np.array([0.5, -1.0, 2.0]), wrt=1) < 1e-6


def loop_over_list(x, weights):
    for w in weights:
        x = x * w + 1.0
    return x


def test_loop_over_a_list_and_a_tuple():
    assert check_grad(loop_over_list, 0.7, [1.5, -0.5, 2.0]) < 1e-6
    assert check_grad(loop_over_list, 0.7, (0.5,)) < 1e-6
    assert check_grad(loop_over_list, 0.7, ()) < 1e-6


def enumerate_and_zip(x, a, b):
    for i, (u, v) in enumerate(zip(a, b)):
        x = x * u + v * i + math.cos(x)
    return x


def test_enumerate_and_zip():
    assert check_grad(enumerate_and_zip, 0.3, [1.1, 0.9, 1.2], [0.5, 0.25, -0.5]) < 1e-6


def nested_three_levels(x, y):
    for i in range(3):
        for j in range(i + 1):
            for k in range(2):
                if (i + j + k) % 2 == 0:
                    x = x * y + 0.1 * math.sin(x)
                else:
                    y = y * 0.9 + x * 0.01
    return x + y


def test_three_level_nesting():
    assert check_grad(nested_three_levels, 0.5, 1.1, wrt=(0, 1)) < 1e-6


def accumulate_in_loop(x):
    total = 0.0
    product = 1.0
    for i in range(5):
        total += x * i
        product *= x + i
        total -= product / 10.0
        product /= 2.0
        total **= 1.0
    return total + product


def test_augmented_assignment_in_loop():
    assert check_grad(accumulate_in_loop, 0.8) < 1e-6


# ----- while loops ---------------------------------------------------------------------------
def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


@pytest.mark.parametrize("a", [2.0, 1e6, 4.0])
def test_newton_while_loop(a):
    assert s2sad.grad(newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


def grow_until(x):
    y = x
    steps = 0
    while y < 10.0:
        y = y * 1.5 + x
        steps += 1
    return y * steps


@pytest.mark.parametrize("x", [0.5, 3.0, 20.0])
def test_while_trip_count_depends_on_input(x):
    assert check_grad(grow_until, x) < 1e-6


# ----- break / continue ------------------------------------------------------------------
def break_when_large(x, limit):
    for i in range(20):
        if x > limit:
            break
        x = x * 1.3 + 0.1
    return x * x


@pytest.mark.parametrize("limit", [0.0, 2.0, 1e9])
def test_break_first_iteration_midway_never(limit):
    assert check_grad(break_when_large, 0.5, limit) < 1e-6


def skip_some(x):
    total = 0.0
    for i in range(8):
        if i % 3 == 0:
            continue
        total = total + x**i
    return total


def test_continue():
    assert check_grad(skip_some, 0.9) < 1e-6


def nested_break_continue(x, y):
    total = 0.0
    for i in range(4):
        for j in range(4):
            if j > i:
                break
            if (i + j) % 2 == 1:
                if x > 100.0:
                    continue
                total = total + x * y
                continue
            total = total + math.sin(x * j) * y
        if total > 50.0:
            break
        x = x * 1.01
    return total


def test_break_and_continue_inside_if_inside_nested_loops():
    assert check_grad(nested_break_continue, 0.7, 1.3, wrt=(0, 1)) < 1e-6


def while_with_break(x):
    while True:
        x = x * 2.0 + math.sin(x)
        if x > 5.0:
            break
    return x


def test_while_true_with_break():
    assert check_grad(while_with_break, 0.3) < 1e-6


# ----- early return --------------------------------------------------------------------------
def early_return(x):
    if x < 0.0:
        return -x * 3.0
    y = x * x
    if y > 4.0:
        return y + x
    return math.sqrt(y + 1.0)


@pytest.mark.parametrize("x", [-1.0, 3.0, 1.0])
def test_several_returns(x):
    assert check_grad(early_return, x) < 1e-6


def return_from_loop(x, limit):
    for i in range(10):
        x = x * 1.5
        for j in range(3):
            if x > limit:
                return x * j + i
            x = x + 0.1 * math.sin(x)
    return -x


@pytest.mark.parametrize("limit", [0.0, 5.0, 1e9])
def test_early_return_from_inside_nested_loops(limit):
    assert check_grad(return_from_loop, 0.4, limit) < 1e-6


# ----- realistic -----------------------------------------------------------------------------
def rnn(W, U, xs, h):
    for x in xs:
        h = np.tanh(W @ h + U @ x)
    return np.sum(h * h)


def test_recurrent_network_over_rows():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 4)) * 0.5
    U = rng.normal(size=(4, 3)) * 0.5
    xs = rng.normal(size=(6, 3))
    h = rng.normal(size=4)
    assert check_grad(rnn, W, U, xs, h, wrt=(0, 1, 3)) < 1e-6


def long_loop(x, a):
    for i in range(100_000):
        x = x * a + 0.001 * math.sin(x)
    return x


def test_a_loop_of_100000_iterations():
    dx, da = s2sad.grad(long_loop, wrt=(0, 1))(0.5, 0.99999)
    assert check_grad(long_loop, 0.5, 0.99999, wrt=(0, 1), rtol=1e-4) < 1e-4
    assert math.isfinite(dx) and math.isfinite(da)


def test_loop_tape_holds_one_float_per_iteration():
    source = s2sad.grad(long_loop, wrt=(0, 1)).source_for(0.5, 0.9)
    assert source.count("tape.append(") == 1
    # the adjoint loop walks the tape backward (no pop per pass, nothing else stored)
    assert "for x in reversed(tape):" in source
    assert "tape.pop()" not in source


C3 = np.array([[-0.5, 1.4, 0.7], [-0.4, 0.8, -0.1], [0.1, -0.6, 0.7]])


def row_max(b):
    return np.max(b[2] * C3, axis=1)


def only_the_last_pass_counts(x):
    for i in range(4):
        v = row_max(x * (i + 1))  # every pass but the last binds v again unread
        w = C3 @ x[:3]
    return np.mean(v) + np.sum(w)


def test_values_bound_again_before_they_are_read():
    # the adjoint of v (and w) is 0.0 in all passes but the last: rules that need the
    # seed's shape (np.expand_dims of an axis, @, a helper's adjoint) must skip it
    x = np.array([0.1, 0.2, 0.3, 0.4])
    assert check_grad(only_the_last_pass_counts, x) < 1e-6
    assert "if not is_zero(dv):" in s2sad.source(only_the_last_pass_counts)


def test_a_loop_reading_every_value_it_binds_has_no_zero_guards():
    source = s2sad.grad(rnn, wrt=(0, 1, 3)).source
    assert "is_zero" not in source


def zeros_like_reads_no_adjoint(x, n):
    w = C3 @ x[:3]
    u = w[:2]
    acc = np.zeros_like(w)  # reads w, adds nothing to its adjoint
    if n > 0:
        acc = acc + np.sum(u) * x[:3]
    return np.sum(acc) + np.sum(x)


def where_condition_in_a_loop(x):
    s = 0.0
    for i in range(3):
        w = C3 @ x[:3]
        s = s + np.sum(np.where(w, x[:3], 0.0))  # w as a condition carries no gradient
    return np.sum(w) + s


def loop_over_rows_that_may_not_run(x, n):
    xs = np.expand_dims(x[:n], 1)
    s = 0.0
    for v in xs:
        s = s + np.sum(v)
    return s + np.sum(x)


@pytest.mark.parametrize(
    "f, args",
    [
        (zeros_like_reads_no_adjoint, (0,)),
        (zeros_like_reads_no_adjoint, (1,)),
        (where_condition_in_a_loop, ()),
        (loop_over_rows_that_may_not_run, (0,)),
        (loop_over_rows_that_may_not_run, (3,)),
    ],
)
def test_seeds_that_may_stay_zero_where_reads_add_nothing(f, args):
    assert check_grad(f, np.array([0.1, 0.2, 0.3, 0.4]), *args) < 1e-6


def loop_target_rebound_over_a_constant_list(x, weights):
    total = 0.0
    for w in weights:
        w = w * x  # the loop variable, rebound to a value that depends on x
        total = total + np.sum(w * w)
    return total


def test_a_loop_variable_rebound_over_a_list_not_differentiated():
    for optimize in (True, False):
        gradient = s2sad.grad(loop_target_rebound_over_a_constant_list, wrt=0, optimize=optimize)
        assert gradient(0.7, [0.5, 0.3]) == pytest.approx(2 * 0.7 * (0.25 + 0.09))
        assert (
            check_grad(
                loop_target_rebound_over_a_constant_list,
                0.7,
                np.ones((3, 2)),
                gradient=s2sad.grad(
                    loop_target_rebound_over_a_constant_list, wrt=0, optimize=optimize
                ),
            )
            < 1e-6
        )


# ----- comprehensions: the loops they stand for -------------------------------------------
WEIGHTS = np.array([0.5, -1.2, 2.0])


def squash(t):
    return np.tanh(t) * 2.0


def list_comprehension_with_a_condition(x):
    k = 5.0  # the comprehension's own k does not change this one
    ys = [x * k for k in range(4) if k != 2]
    return np.sum(sum(ys) * k)


def comprehension_calling_a_helper(x):
    return np.sum(np.stack([squash(x * w) for w in WEIGHTS]) ** 2)


def generator_expressions_in_builtins(x):
    dot = sum(a * b for a, b in zip(x, WEIGHTS))
    return dot + max(v * v for v in x) - min(np.sin(v) for v in x)


def nested_comprehensions(x):
    grid = [[x[i] * x[j] for j in range(3)] for i in range(3)]
    return sum(sum(row) for row in grid) + sum(v for i, v in enumerate(x) if i != 1)


def comprehension_shadowing_inside(x):
    pairs = [([k * 2.0 for k in range(2)], x[k]) for k in range(3)]
    return sum(p[1] * p[0][1] for p in pairs)


def comprehension_over_its_own_target(x):
    x = [v * 2.0 for v in x]
    return sum(x) * x[0]


def dict_comprehension(x):
    d = {name: x[i] ** 2 for i, name in enumerate(["a", "b", "c"])}
    return d["a"] * d["c"] + sum(v for v in d.values())


def comprehension_in_a_while_test(x):
    t = 0.0
    while sum([v * t for v in x]) < 3.0 and t < 10.0:
        t = t + 0.5
    return t * np.sum(x)


def comprehensions_in_both_branches(x):
    y = [v * 2.0 for v in x] if np.sum(x) > 100.0 else [v * 3.0 for v in x]
    return sum(y) * y[1]


def two_loops_in_one_comprehension(x):
    layers = [x * 1.0, x * 2.0]
    return sum(np.sum(np.tanh(layer * h)) for layer in layers for h in [0.5, 1.5])


@pytest.mark.parametrize(
    "f",
    [
        list_comprehension_with_a_condition,
        comprehension_calling_a_helper,
        generator_expressions_in_builtins,
        nested_comprehensions,
        comprehension_shadowing_inside,
        comprehension_over_its_own_target,
        dict_comprehension,
        comprehension_in_a_while_test,
        comprehensions_in_both_branches,
        two_loops_in_one_comprehension,
    ],
    ids=lambda f: f.__name__,
)
def test_comprehensions(f):
    assert check_grad(f, np.array([0.3, 0.7, 1.1])) < 1e-6


def test_a_comprehension_is_written_as_its_loop():
    source = s2sad.source(list_comprehension_with_a_condition)
    assert "    k = 5.0\n    ys = []\n    for k_1 in range(4):\n" in source
    assert "            ys.append(x * k_1)\n" in source


def squares_of_a_list(xs):
    return sum(v * v for v in xs)


def test_a_generator_over_a_list_argument():
    assert s2sad.grad(squares_of_a_list)([0.5, -1.0, 2.0]) == [1.0, -2.0, 4.0]


def horner_backwards(x):
    t = 0.0
    for a in reversed(x):
        t = t * 0.5 + a * a
    return t


def reversed_list_of_arrays(xs):
    t = 0.0
    for a in reversed(xs):
        t = t * 0.5 + np.sum(np.sin(a))
    return t


def reversed_in_a_comprehension(x):
    ys = [a * 2.0 for a in reversed(x)]
    return ys[0] * 3.0 + ys[2]


def test_loops_over_reversed_sequences():
    assert check_grad(horner_backwards, np.array([0.3, 0.7, 1.1])) < 1e-6
    assert check_grad(reversed_list_of_arrays, [np.ones(2), np.arange(2.0)]) < 1e-6
    assert np.allclose(s2sad.grad(reversed_in_a_comprehension)(np.ones(3)), [2.0, 0.0, 6.0])


def loop_variable_reused_by_a_range_loop(x, a):
    s = 0.0
    for k in [a * 2.0, a * 3.0]:
        s = s + k
    for k in range(2):  # k is a count here: the adjoint of the k above ends at this binding
        s = s + x * k
    return s + k * a


def comprehensions_sharing_a_variable(x, a):
    firsts = [k * 1.0 for k in [a * 2.0, a * 3.0]]
    return sum(x * k for k in range(3)) + firsts[1]


def test_a_loop_variable_reused_by_a_range_loop():
    assert s2sad.grad(loop_variable_reused_by_a_range_loop, wrt=(0, 1))(0.3, 0.37) == (1.0, 6.0)
    assert s2sad.grad(comprehensions_sharing_a_variable, wrt=(0, 1))(0.3, 0.37) == (3.0, 3.0)


def or_returning_a_value(x):
    return x < 0.0 or x * 3.0


def and_or_returning_values(x):
    return (x > 5.0 and x * x) or x * 3.0


def test_and_or_as_values_differentiate_the_operand_they_return():
    assert s2sad.grad(or_returning_a_value)(0.7) == 3.0
    assert s2sad.grad(and_or_returning_values)(0.7) == 3.0
    assert s2sad.grad(and_or_returning_values)(6.0) == 12.0


K = 3.0


def comprehension_variable_named_like_a_global(x):
    a = sum(x * K for K in [1.0, 2.0])  # this K is the comprehension's own
    b = sum(x * K for j in range(2))  # the global K
    return a + b


def test_a_comprehension_variable_does_not_hide_a_global():
    assert s2sad.value_and_grad(comprehension_variable_named_like_a_global)(0.7) == (
        comprehension_variable_named_like_a_global(0.7),
        9.0,
    )


def enumerate_a_reversed_sequence(x):
    s = 0.0
    for i, v in enumerate(reversed(x)):
        s = s + v * (i + 1)
    return s


def zip_a_sequence_with_itself_reversed(x):
    return sum(a * b for a, b in zip(reversed(x), x))


def test_reversed_inside_enumerate_and_zip():
    x = np.array([0.3, 1.1, -0.7])
    assert np.allclose(s2sad.grad(enumerate_a_reversed_sequence)(x), [3.0, 2.0, 1.0])
    assert check_grad(zip_a_sequence_with_itself_reversed, x) < 1e-6


def loops_over_dict_views_and_reversed_ranges(x, a):
    d = {"w": x, "b": a}
    s = 0.0
    for i, v in enumerate(d.values()):
        s = s + v * (i + 1)
    for count, (name, v) in zip(reversed(range(2)), d.items()):
        s = s + v * count
    pairs = d.items()
    return s + sum(v * v for name, v in pairs)


def test_loops_over_dict_views_and_reversed_ranges():
    assert check_grad(loops_over_dict_views_and_reversed_ranges, 0.3, 0.37, wrt=(0, 1)) < 1e-6
