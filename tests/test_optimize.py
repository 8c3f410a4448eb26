"""s2sad.optimize: generated code before and after the optimiser, and that it never changes
what the derivative computes."""

import math
import re

import numpy as np
import pytest

import s2sad
from s2sad import check_grad
from s2sad.folding import fold
from s2sad.syntax import parse_expr, to_source

R = np.random.default_rng(3)
VEC = R.uniform(0.5, 1.5, size=4)
MAT = R.uniform(0.5, 1.5, size=(3, 4))


def body_lines(source: str) -> list[str]:
    """The code lines of a generated function: no comments, no docstring, no def line."""
    lines = [line.strip() for line in source.splitlines()[2:]]
    return [line for line in lines if line and not line.startswith("#")]


def zero_initialisations(source: str) -> list[str]:
    return [line for line in body_lines(source) if re.fullmatch(r"d\w* = 0\.0", line)]


# ----- before / after ---------------------------------------------------------------------
def looped(x, a):
    for i in range(3):
        x = x * a + math.sin(x)
    return x


def test_loop_example_folds_temporaries_back_into_one_line():
    df = s2sad.grad(looped, wrt=("x", "a"))
    before = s2sad.source(looped, wrt=("x", "a"), optimize=False)
    after = df.source_for(0.5, 1.2)
    # before: one operation per line, and an adjoint for every temporary
    assert "x_times_a = x * a" in before and "sin_x = math.sin(x)" in before
    assert "dx_times_a = 0.0" in before and "dsin_x = 0.0" in before
    # after: the user's line back, and the adjoint loop of three statements
    assert "x_times_a" not in after and "sin_x" not in after
    # the adjoint loop walks the tape backward: the values it pops are its elements
    loop = after[after.index("for x in reversed(tape):") :].splitlines()
    assert [line.strip() for line in loop[1:4] if not line.strip().startswith("#")] == [
        "da = da + dx * x",
        "dx = dx * math.cos(x) + dx * a",
    ]
    assert "tape.append(x)\n        x = x * a + math.sin(x)" in after
    assert df(0.5, 1.2) == pytest.approx((2.1890958018804207, 3.384143105406457))


def poly(x):
    return 3.0 * x**3 - 2.0 * x + 1.0


def test_zero_adjoints_and_constant_arithmetic_are_folded():
    before = s2sad.source(poly, optimize=False)
    after = s2sad.source(poly)
    assert len(zero_initialisations(before)) >= 4
    assert zero_initialisations(after) == []
    assert "x ** (3 - 1)" in before
    assert "x ** 2" in after and "(3 - 1)" not in after
    assert len(body_lines(after)) < len(body_lines(before)) / 3


def with_dead_code(x, a):
    unused = np.cos(a) * 3.0  # noqa: F841
    return np.sum(np.sin(x) * 2.0)


def test_assignments_nobody_reads_are_removed():
    before = s2sad.source(with_dead_code, optimize=False)
    after = s2sad.source(with_dead_code)
    assert "np.cos(a)" in before
    assert "np.cos(a)" not in after and "unused" not in after


def adds_zero(x):
    y = x + 0.0
    return y * y


def test_the_primal_sweep_keeps_the_users_arithmetic():
    after = s2sad.source(adds_zero)
    assert "x + 0.0" in after  # y = x + 0.0 still copies x
    assert s2sad.grad(adds_zero)(1.5) == 3.0


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_a_full_sums_seed_is_folded_where_the_summand_has_its_shape():
    x = np.linspace(-1.0, 1.2, 7)
    before = s2sad.grad(rosenbrock, optimize=False).source_for(x)
    after = s2sad.grad(rosenbrock).source_for(x)
    assert "np.broadcast_to(" in before
    # the summand itself was computed only for its shape: gone with the seed
    assert "np.broadcast_to" not in after and "100.0 * minus ** 2" not in after
    assert check_grad(rosenbrock, x) < 1e-6
    r = x[1:] - x[:-1] ** 2
    expected = np.zeros_like(x)
    expected[1:] += 200.0 * r
    expected[:-1] += -400.0 * r * x[:-1] - 2.0 * (1.0 - x[:-1])
    assert np.allclose(s2sad.grad(rosenbrock)(x), expected)


def dot_with(x, y):
    return np.dot(x, y)


def test_a_gradient_never_shares_memory_with_an_argument():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    gx = s2sad.grad(dot_with)(x, y)  # d(x . y)/dx is y itself: it must come back as a copy
    assert np.array_equal(gx, y) and not np.shares_memory(gx, y)
    gx[0] = 100.0
    assert y[0] == 3.0


def sum_of_product(x, y):
    return np.sum(x * y)


def test_arguments_whose_shapes_do_not_broadcast_raise():
    with pytest.raises(ValueError, match="do not broadcast"):
        s2sad.grad(sum_of_product)(np.ones(3), np.arange(4.0))


LOG = []


def with_side_effects(x):
    y = np.sin(x)
    LOG.append(y)
    z = y * 2.0
    print("z is", z)
    return z * x


@pytest.mark.parametrize("optimize", [False, True])
def test_the_users_side_effects_run_once(optimize, capsys):
    LOG.clear()
    gradient = s2sad.grad(with_side_effects, optimize=optimize)(0.5)
    assert gradient == pytest.approx(2.0 * math.cos(0.5) * 0.5 + 2.0 * math.sin(0.5))
    assert LOG == [pytest.approx(math.sin(0.5))]
    assert capsys.readouterr().out == f"z is {2.0 * np.sin(0.5)}\n"


# ----- fold ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "before, after",
    [
        ("0.0 + g", "g"),
        ("g + 0.0", "g"),
        ("g - 0.0", "g"),
        ("0.0 - g", "-g"),
        ("g * 1.0", "g"),
        ("1.0 * g", "g"),
        ("g / 1", "g"),
        ("g ** 1", "g"),
        ("g * -1", "-g"),
        ("-(-g)", "g"),
        ("a + -b", "a - b"),
        ("2.0 * 3.0", "6.0"),
        ("x ** (3 - 1)", "x ** 2"),
        ("(0.0 + g) * (h * 1.0)", "g * h"),
    ],
)
def test_fold(before, after):
    assert to_source(fold(parse_expr(before))) == after


def test_fold_leaves_what_cannot_be_evaluated():
    assert to_source(fold(parse_expr("1.0 / 0.0"))) == "1.0 / 0.0"
    assert to_source(fold(parse_expr("g * h"))) == "g * h"


# ----- optimised and unoptimised derivatives agree ---------------------------------------
def logistic(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)) + 0.01 * np.sum(w**2)


def broadcasting(x, row):
    y = np.tanh(x * row + 1.0) - x / (row + 2.0)
    return np.sum(y**2, axis=(0, 1))


def reductions(x):
    m = np.max(x, axis=0)
    s = np.sum(x, axis=1, keepdims=True)
    return np.sum(m * VEC) + np.mean(s * x) - np.min(x)


def relu_net(w, x):
    h = np.maximum(w @ x, 0.0)
    return np.sum(np.where(h > 0.5, h * h, h))


def loop_of_numbers(x, a):
    for i in range(4):
        x = x * a + math.sin(x) - math.exp(-x * x) / (i + 1.0)
    return x * x


CASES = {
    "logistic": (
        logistic,
        (VEC[:3], 0.3, MAT.T, (R.uniform(size=4) > 0.5).astype(float)),
        (0, 1),
    ),
    "broadcasting": (broadcasting, (MAT, VEC[None, :]), (0, 1)),
    "reductions": (reductions, (MAT,), 0),
    "relu": (relu_net, (R.normal(size=(3, 3)), MAT[:, 0]), (0, 1)),
    "loop of numbers": (loop_of_numbers, (0.4, 0.9), (0, 1)),
    "polynomial": (poly, (1.3,), 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_optimised_and_unoptimised_gradients_agree(case):
    f, args, wrt = CASES[case]
    optimised = s2sad.grad(f, wrt)
    plain = s2sad.grad(f, wrt, optimize=False)
    assert check_grad(f, *args, wrt=wrt, gradient=optimised) < 1e-6
    assert check_grad(f, *args, wrt=wrt, gradient=plain) < 1e-6
    fast, slow = optimised(*args), plain(*args)
    for a, b in zip(*((fast, slow) if isinstance(wrt, tuple) else ((fast,), (slow,)))):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_the_optimiser_shortens_the_code(case):
    f, _, wrt = CASES[case]
    before = s2sad.source(f, wrt, optimize=False)
    after = s2sad.source(f, wrt)
    assert len(body_lines(after)) < len(body_lines(before))


@pytest.mark.parametrize("case", list(CASES))
def test_optimised_value_and_grad_keeps_the_value(case):
    f, args, wrt = CASES[case]
    value, _ = s2sad.value_and_grad(f, wrt)(*args)
    plain_value, _ = s2sad.value_and_grad(f, wrt, optimize=False)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert plain_value == pytest.approx(f(*args), rel=1e-12)


def test_two_updates_of_one_slice_become_one():
    x = np.linspace(-1.0, 1.5, 6)
    source = s2sad.grad(rosenbrock).source_for(x)
    assert source.count("add_at(") == 2  # x[:-1] once (two terms summed), x[1:] once
    assert check_grad(rosenbrock, x) < 1e-6


def two_reads_of_a_list_slice(xs):
    a, b = xs[0:2]
    c, d = xs[0:2]
    return a * d + b * c


def test_updates_of_a_list_are_not_summed_into_one():
    # for a list ``+`` would concatenate the parts: each update stays on its own
    assert check_grad(two_reads_of_a_list_slice, [0.3, 0.7, 1.1]) < 1e-6


def loop_that_only_binds(x, a):
    k = a * 2.0
    for k in range(3):
        pass
    return k * x  # k is 2: the loop's last binding


def test_a_loop_whose_body_does_nothing_still_binds_its_variable():
    for optimize in (True, False):
        assert s2sad.grad(loop_that_only_binds, wrt=(0, 1), optimize=optimize)(0.3, 0.37) == (
            2.0,
            0.0,
        )
