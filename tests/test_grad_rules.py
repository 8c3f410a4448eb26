"""End to end: every rule of the core issue, checked against central finite differences.

Each case is a small function written the way a user would write it, checked on Python
scalars and on arrays, with broadcasting (scalar with vector, matrix with row, matrix with
column) and with axis/keepdims variants of the reductions.
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

R = np.random.default_rng(7)
VEC = R.uniform(0.5, 1.5, size=4)
VEC2 = R.uniform(0.5, 1.5, size=4)
MAT = R.uniform(0.5, 1.5, size=(3, 4))
MAT2 = R.uniform(0.5, 1.5, size=(3, 4))
ROW = R.uniform(0.5, 1.5, size=(1, 4))
COL = R.uniform(0.5, 1.5, size=(3, 1))
SQ = R.uniform(0.5, 1.5, size=(4, 4))


# ----- Python operators -------------------------------------------------------------------
def add(x, y):
    return x + y


def sub(x, y):
    return x - y


def mul(x, y):
    return x * y


def div(x, y):
    return x / y


def power(x, y):
    return x**y


def power_constant(x):
    return x**3 + x**0.5 - 2.0 * x**-1


def negate(x):
    return -x + (+x) * 2.0


def absolute(x):
    return abs(x - 1.0)


def mixed(x, y):
    return (x * y - x / (y + 1.0)) ** 2 + 3.0 * x - y


SCALAR_BINARY = [add, sub, mul, div, power, mixed]


@pytest.mark.parametrize("f", SCALAR_BINARY, ids=lambda f: f.__name__)
def test_operators_on_scalars(f):
    assert check_grad(f, 0.7, 1.3, wrt=(0, 1)) < 1e-6


@pytest.mark.parametrize("f", [power_constant, negate, absolute], ids=lambda f: f.__name__)
def test_unary_operators_on_scalars(f):
    assert check_grad(f, 1.7) < 1e-6


def summed(f):
    """``f`` made scalar-valued by summing its (array) result."""

    def loss(x, y):
        return np.sum(f(x, y))

    return loss


def sum_add(x, y):
    return np.sum(x + y)


def sum_sub(x, y):
    return np.sum(x - y)


def sum_mul(x, y):
    return np.sum(x * y)


def sum_div(x, y):
    return np.sum(x / y)


def sum_pow(x, y):
    return np.sum(x**y)


def sum_mixed(x, y):
    return np.sum((x * y - x / (y + 1.0)) ** 2 + 3.0 * x - y)


ARRAY_BINARY = [sum_add, sum_sub, sum_mul, sum_div, sum_pow, sum_mixed]
BROADCASTS = {
    "same": (MAT, MAT2),
    "scalar-vector": (0.8, VEC),
    "vector-scalar": (VEC, 1.2),
    "matrix-row": (MAT, ROW),
    "row-matrix": (ROW, MAT),
    "matrix-column": (MAT, COL),
    "column-matrix": (COL, MAT),
    "matrix-vector": (MAT, VEC),
    "column-row": (COL, ROW),
}


@pytest.mark.parametrize("shapes", list(BROADCASTS), ids=str)
@pytest.mark.parametrize("f", ARRAY_BINARY, ids=lambda f: f.__name__)
def test_operators_broadcast(f, shapes):
    x, y = BROADCASTS[shapes]
    assert check_grad(f, x, y, wrt=(0, 1)) < 1e-6


# ----- math ---------------------------------------------------------------------------------
def math_sin(x):
    return math.sin(x)


def math_cos(x):
    return math.cos(x)


def math_tan(x):
    return math.tan(x)


def math_exp(x):
    return math.exp(x)


def math_log(x):
    return math.log(x)


def math_sqrt(x):
    return math.sqrt(x)


def math_tanh(x):
    return math.tanh(x)


def math_composite(x, y):
    return math.exp(math.sin(x) * y) + math.log(1.0 + x * x) * math.sqrt(y) - math.tanh(x / y)


@pytest.mark.parametrize(
    "f",
    [math_sin, math_cos, math_tan, math_exp, math_log, math_sqrt, math_tanh],
    ids=lambda f: f.__name__,
)
def test_math_functions(f):
    assert check_grad(f, 0.8) < 1e-6


def test_math_composite():
    assert check_grad(math_composite, 0.8, 1.4, wrt=(0, 1)) < 1e-6


# ----- NumPy elementwise ------------------------------------------------------------------
def np_unary(name):
    def loss(x):
        return np.sum(getattr(np, name)(x) * VEC)

    return loss


def np_sin(x):
    return np.sum(np.sin(x) * x)


def np_cos(x):
    return np.sum(np.cos(x) * x)


def np_tan(x):
    return np.sum(np.tan(x) * x)


def np_exp(x):
    return np.sum(np.exp(x) * x)


def np_log(x):
    return np.sum(np.log(x) * x)


def np_sqrt(x):
    return np.sum(np.sqrt(x) * x)


def np_tanh(x):
    return np.sum(np.tanh(x) * x)


def np_abs(x):
    return np.sum(np.abs(x - 1.0) * x)


def np_negative(x):
    return np.sum(np.negative(x) * x)


ELEMENTWISE = [np_sin, np_cos, np_tan, np_exp, np_log, np_sqrt, np_tanh, np_abs, np_negative]


@pytest.mark.parametrize("x", [0.9, VEC, MAT], ids=["scalar", "vector", "matrix"])
@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_numpy_elementwise(f, x):
    assert check_grad(f, x) < 1e-6


def np_add(x, y):
    return np.sum(np.add(x, y) * np.subtract(x, y))


def np_multiply(x, y):
    return np.sum(np.multiply(x, y) + np.divide(x, y))


def np_power(x, y):
    return np.sum(np.power(x, y))


@pytest.mark.parametrize("shapes", ["same", "scalar-vector", "matrix-row", "matrix-column"])
@pytest.mark.parametrize("f", [np_add, np_multiply, np_power], ids=lambda f: f.__name__)
def test_numpy_binary_broadcast(f, shapes):
    x, y = BROADCASTS[shapes]
    assert check_grad(f, x, y, wrt=(0, 1)) < 1e-6


# ----- reductions ---------------------------------------------------------------------------
def sum_all(x):
    return np.sum(x * x)


def sum_axis0(x):
    return np.sum(np.sum(x**2, axis=0) * VEC)


def sum_axis1_keepdims(x):
    return np.sum(np.sum(x**2, axis=1, keepdims=True) * COL)


def sum_negative_axis(x):
    return np.sum(np.sum(np.sin(x), axis=-1) ** 2)


def sum_tuple_axis(x):
    return np.sum(x**2, axis=(0, 1))


def sum_method(x):
    return (x * x).sum(axis=0).sum()


def mean_all(x):
    return np.mean(x**3)


def mean_axis0(x):
    return np.sum(np.mean(x**2, axis=0) * VEC)


def mean_axis1_keepdims(x):
    return np.sum(np.mean(x**2, axis=1, keepdims=True) * COL)


def mean_method(x):
    return x.mean(axis=1).mean()


REDUCTIONS = [
    sum_all,
    sum_axis0,
    sum_axis1_keepdims,
    sum_negative_axis,
    sum_tuple_axis,
    sum_method,
    mean_all,
    mean_axis0,
    mean_axis1_keepdims,
    mean_method,
]


@pytest.mark.parametrize("f", REDUCTIONS, ids=lambda f: f.__name__)
def test_reductions(f):
    assert check_grad(f, MAT) < 1e-6


def max_all(x):
    return np.max(x) * 2.0


def max_axis0(x):
    return np.sum(np.max(x, axis=0) * VEC)


def max_axis1_keepdims(x):
    return np.sum(np.max(x, axis=1, keepdims=True) * COL)


def min_axis1(x):
    return np.sum(np.min(x, axis=1) ** 2)


def max_method(x):
    return x.max(axis=0).sum() + x.min()


@pytest.mark.parametrize(
    "f", [max_all, max_axis0, max_axis1_keepdims, min_axis1, max_method], ids=lambda f: f.__name__
)
def test_max_min(f):
    assert check_grad(f, MAT) < 1e-6


def test_max_ties_share_the_gradient_equally():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    assert np.allclose(s2sad.grad(max_all)(x), [0.0, 1.0, 1.0, 0.0])
    dm = s2sad.grad(max_axis0)(np.array([[1.0, 2.0, 0.0, 5.0], [1.0, 0.0, 0.0, 4.0]]))
    assert np.allclose(
        dm, [[VEC[0] / 2, VEC[1], VEC[2] / 2, VEC[3]], [VEC[0] / 2, 0.0, VEC[2] / 2, 0.0]]
    )


# ----- products -------------------------------------------------------------------------
def matmul_mm(a, b):
    return np.sum(np.sin(a @ b))


def matmul_mv(a, b):
    return np.sum(np.tanh(a @ b))


def matmul_vv(a, b):
    return a @ b


def matmul_function(a, b):
    return np.sum(np.matmul(a, b) ** 2)


def dot_function(a, b):
    return np.sum(np.dot(a, b) ** 2)


def dot_method(a, b):
    return np.sum(a.dot(b) ** 2)


PRODUCTS = {
    "matrix@matrix": (MAT, SQ),
    "matrix@vector": (MAT, VEC),
    "vector@matrix": (VEC, SQ),
    "vector@vector": (VEC, VEC2),
    "stack@matrix": (R.uniform(size=(2, 3, 4)), SQ),
    "matrix@stack": (MAT, R.uniform(size=(2, 4, 3))),
}


@pytest.mark.parametrize("shapes", list(PRODUCTS))
@pytest.mark.parametrize("f", [matmul_mm, matmul_function], ids=lambda f: f.__name__)
def test_matmul(f, shapes):
    a, b = PRODUCTS[shapes]
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


@pytest.mark.parametrize(
    "shapes", ["matrix@matrix", "matrix@vector", "vector@matrix", "vector@vector"]
)
@pytest.mark.parametrize("f", [dot_function, dot_method], ids=lambda f: f.__name__)
def test_dot(f, shapes):
    a, b = PRODUCTS[shapes]
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


def test_dot_with_a_scalar():
    assert check_grad(dot_function, 1.5, VEC, wrt=(0, 1)) < 1e-6


def test_vector_dot_vector_is_scalar():
    dx, dy = s2sad.grad(matmul_vv, wrt=(0, 1))(VEC, VEC2)
    assert np.allclose(dx, VEC2) and np.allclose(dy, VEC)


# ----- shape functions ------------------------------------------------------------------
def transpose_function(x):
    return np.sum(np.transpose(x) * MAT.T)


def transpose_axes(x):
    return np.sum(np.transpose(x, (2, 0, 1)) ** 2 * np.arange(24.0).reshape(4, 2, 3))


def transpose_attribute(x):
    return np.sum((x.T @ x) ** 2)


def transpose_method(x):
    return np.sum(x.transpose() * MAT.T) + np.sum(x.transpose(1, 0) ** 2)


def reshape_function(x):
    return np.sum(np.reshape(x, (4, 3)) * np.arange(12.0).reshape(4, 3))


def reshape_method(x):
    return np.sum(x.reshape(2, 6) ** 2 * np.arange(12.0).reshape(2, 6)) + np.sum(x.reshape(-1) ** 3)


@pytest.mark.parametrize(
    "f",
    [transpose_function, transpose_attribute, transpose_method, reshape_function, reshape_method],
    ids=lambda f: f.__name__,
)
def test_shape_functions(f):
    assert check_grad(f, MAT) < 1e-6


def test_transpose_with_axes():
    assert check_grad(transpose_axes, R.uniform(size=(2, 3, 4))) < 1e-6


# ----- maximum / minimum / where ---------------------------------------------------------
def maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) ** 2 + np.minimum(x, 2.0 * y))


def relu(x):
    return np.sum(np.maximum(x, 0.0) * VEC)


def where_function(x, y):
    return np.sum(np.where(x > 1.0, x * y, y**2))


def broadcast_explicitly(x, y):
    return np.sum(np.broadcast_to(x, (3, 4)) * y)


@pytest.mark.parametrize("x", [0.7, VEC, ROW, COL], ids=["number", "vector", "row", "column"])
def test_broadcast_to(x):
    assert check_grad(broadcast_explicitly, x, MAT, wrt=(0, 1)) < 1e-6
    expected = np.sum(np.broadcast_to(MAT, (3, 4)), axis=tuple(range(2 - np.ndim(x))))
    if np.ndim(x) == 2:
        expected = np.sum(MAT, axis=0 if np.shape(x)[0] == 1 else 1, keepdims=True)
    assert np.allclose(s2sad.grad(broadcast_explicitly)(x, MAT), expected)


def where_broadcast(x, y):
    return np.sum(np.where(MAT > 1.0, x, y) ** 2)


@pytest.mark.parametrize("shapes", ["same", "scalar-vector", "matrix-row", "matrix-column"])
def test_maximum_minimum(shapes):
    x, y = BROADCASTS[shapes]
    assert check_grad(maximum_minimum, x, y, wrt=(0, 1)) < 1e-6


def test_relu_at_kinks_and_away():
    x = np.array([-1.0, 0.0, 2.0, 3.0])
    assert np.allclose(s2sad.grad(relu)(x), [0.0, 0.5 * VEC[1], VEC[2], VEC[3]])
    assert check_grad(relu, np.array([-1.0, 0.5, 2.0, -3.0])) < 1e-6


def test_maximum_ties_split_equally():
    def tie(x, y):
        return np.maximum(x, y)

    assert s2sad.grad(tie, wrt=(0, 1))(2.0, 2.0) == (0.5, 0.5)


@pytest.mark.parametrize("shapes", ["same", "scalar-vector", "matrix-row"])
def test_where(shapes):
    x, y = BROADCASTS[shapes]
    assert check_grad(where_function, x, y, wrt=(0, 1)) < 1e-6


def test_where_with_broadcast_condition():
    assert check_grad(where_broadcast, ROW, COL, wrt=(0, 1)) < 1e-6


# ----- gradients come back as the argument's kind ---------------------------------------
def test_gradient_types_match_arguments():
    df = s2sad.grad(mul, wrt=(0, 1))
    dx, dy = df(2.0, 3.0)
    assert type(dx) is float and type(dy) is float
    dx, dy = s2sad.grad(sum_mul, wrt=(0, 1))(2.0, VEC)
    assert type(dx) is float and dx == pytest.approx(VEC.sum())
    assert isinstance(dy, np.ndarray) and dy.shape == VEC.shape


def unused_argument(x, y):
    return x * 2.0


def test_unused_argument_gets_zeros_of_its_shape():
    dx, dy = s2sad.grad(unused_argument, wrt=(0, 1))(1.0, MAT)
    assert dx == 2.0
    assert isinstance(dy, np.ndarray) and dy.shape == MAT.shape and not dy.any()


def test_integer_argument_gets_a_float_gradient():
    assert s2sad.grad(mul)(3, 4) == 4.0
    assert s2sad.grad(sum_mul)(np.arange(3), np.ones(3)).dtype == np.float64


# ----- powers at a zero base --------------------------------------------------------------
def power_of_an_array_at_zero(x, p):
    return np.sum(x**p)


def zero_to_the_power(x):
    return 0.0**x + x


def math_power_at_zero(x, p):
    return math.pow(x, p) + math.pow(0.0, p) * 3.0


def test_the_exponents_gradient_at_a_zero_base_is_zero_not_nan():
    """d(0 ** p)/dp is taken as 0 (the limit over positive p), as JAX and autograd do."""
    x = np.array([0.0, 0.5, 1.5])
    assert check_grad(power_of_an_array_at_zero, x, 2.0, wrt=(0, 1)) < 1e-6
    assert s2sad.grad(zero_to_the_power)(1.5) == 1.0
    assert check_grad(math_power_at_zero, 0.5, 2.5, wrt=(0, 1)) < 1e-6
    assert s2sad.grad(math_power_at_zero, wrt=(0, 1))(0.0, 2.5) == (0.0, 0.0)


# ----- clip ---------------------------------------------------------------------------------
LOW_ROW = R.uniform(0.7, 0.9, size=(1, 4))
HIGH_COLUMN = R.uniform(1.1, 1.3, size=(3, 1))


def clip_bounds(x, low, high):
    return np.sum(np.sin(3.0 * np.clip(x, low, high)))


def clip_below(x, low):
    return np.sum(np.sin(3.0 * np.clip(x, low, None)))


def clip_above(x, high):
    return np.sum(np.sin(3.0 * np.clip(x, None, high)))


def clip_method(x, low, high):
    return np.sum(np.sin(3.0 * x.clip(low, high))) + np.sum(x.clip(max=high) ** 2)


@pytest.mark.parametrize(
    "x, low, high",
    [
        (MAT, 0.8, 1.2),
        (MAT, LOW_ROW, HIGH_COLUMN),
        (VEC, 0.9, 1.1),
        (1.1, 0.8, 1.2),
        (0.5, 0.8, 1.2),
    ],
    ids=["numbers", "broadcast-arrays", "vector", "scalar-inside", "scalar-below"],
)
def test_clip(x, low, high):
    assert check_grad(clip_bounds, x, low, high, wrt=(0, 1, 2)) < 1e-6
    if isinstance(x, np.ndarray):  # a float has no .clip()
        assert check_grad(clip_method, x, low, high, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(clip_below, x, low, wrt=(0, 1)) < 1e-6
    assert check_grad(clip_above, x, high, wrt=(0, 1)) < 1e-6


def clip_sum(x, low, high):
    return np.sum(np.clip(x, low, high))


def test_clip_inside_outside_and_at_the_bounds():
    """Inside, g goes to x; outside, to the bound; at a bound, x and the bound share it, as
    in np.clip's definition np.minimum(np.maximum(x, low), high) and np.maximum's ties."""
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    dx, dlow, dhigh = s2sad.grad(clip_sum, wrt=(0, 1, 2))(x, 0.0, 1.0)
    assert np.array_equal(dx, [0.0, 0.5, 1.0, 0.5, 0.0])
    assert (dlow, dhigh) == (1.5, 1.5)
    dx, dlow, dhigh = s2sad.grad(clip_sum, wrt=(0, 1, 2))(x, np.zeros(5), np.ones(5))
    assert np.array_equal(dlow, [1.0, 0.5, 0.0, 0.0, 0.0])
    assert np.array_equal(dhigh, [0.0, 0.0, 0.0, 0.5, 1.0])
    dx, dlow = s2sad.grad(clip_below_sum, wrt=(0, 1))(x, 0.0)
    assert np.array_equal(dx, [0.0, 0.5, 1.0, 1.0, 1.0]) and dlow == 1.5
    dx, dhigh = s2sad.grad(clip_above_sum, wrt=(0, 1))(x, 1.0)
    assert np.array_equal(dx, [1.0, 1.0, 1.0, 0.5, 0.0]) and dhigh == 1.5


def clip_below_sum(x, low):
    return np.sum(np.clip(x, low, None))


def clip_above_sum(x, high):
    return np.sum(x.clip(max=high))


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.1.0", reason="min= is NumPy 2.1")
def test_clip_with_numpy_2_keywords():
    def clip_keywords(x, low, high):
        return np.sum(np.sin(3.0 * np.clip(x, min=low, max=high)))

    assert check_grad(clip_keywords, MAT, LOW_ROW, HIGH_COLUMN, wrt=(0, 1, 2)) < 1e-6


# ----- prod ---------------------------------------------------------------------------------
def prod_all(x):
    return np.prod(x)


def prod_axis0(x):
    return np.sum(np.prod(x, axis=0) * VEC)


def prod_negative_axis_keepdims(x):
    return np.sum(np.prod(x, axis=-1, keepdims=True) * COL)


def prod_tuple_axis(x):
    return np.prod(x * 0.8, axis=(0, 1))


def prod_method(x):
    return np.sum(x.prod(axis=1) ** 2) + x.prod()


def with_zeros(*places):
    x = MAT.copy()
    for place in places:
        x[place] = 0.0
    return x


@pytest.mark.parametrize(
    "x",
    [MAT, with_zeros((1, 2)), with_zeros((1, 2), (1, 3)), with_zeros((0, 2), (1, 2))],
    ids=["no-zero", "one-zero", "two-zeros-in-a-row", "two-zeros-in-a-column"],
)
@pytest.mark.parametrize(
    "f",
    [prod_all, prod_axis0, prod_negative_axis_keepdims, prod_tuple_axis, prod_method],
    ids=lambda f: f.__name__,
)
def test_prod(f, x):
    assert check_grad(f, x) < 1e-6


def test_prod_with_zeros_is_the_product_of_the_others():
    grad = s2sad.grad(prod_all)
    assert np.array_equal(grad(np.array([2.0, 0.0, 5.0])), [0.0, 10.0, 0.0])
    assert np.array_equal(grad(np.array([2.0, 0.0, 0.0, 5.0])), np.zeros(4))
    rows = s2sad.grad(prod_axis0)(np.array([[2.0, 0.0, 3.0, 0.0], [4.0, 5.0, 0.0, 0.0]]))
    assert np.array_equal(rows, [[4.0, 5.0, 0.0, 0.0], [2.0, 0.0, 3.0, 0.0]] * VEC)


# ----- cumsum -------------------------------------------------------------------------------
def weighted(y):
    """A scalar that depends on every element of ``y`` differently (so a gradient put in the
    wrong place, or scaled, is caught)."""
    return np.sum(np.sin(y) * np.cos(np.arange(np.size(y)).reshape(np.shape(y))))


def cumsum_flattened(x):
    return weighted(np.cumsum(x))


def cumsum_axis0(x):
    return weighted(np.cumsum(x, axis=0))


def cumsum_negative_axis(x):
    return weighted(np.cumsum(x, axis=-1))


def cumsum_method(x):
    return weighted(x.cumsum()) + weighted(x.cumsum(0))


@pytest.mark.parametrize("x", [VEC, MAT, R.uniform(size=(2, 3, 4))], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize(
    "f",
    [cumsum_flattened, cumsum_axis0, cumsum_negative_axis, cumsum_method],
    ids=lambda f: f.__name__,
)
def test_cumsum(f, x):
    assert check_grad(f, x) < 1e-6


def test_cumsum_without_axis_flattens():
    def total_of_running_sums(x):
        return np.sum(np.cumsum(x))

    # the k-th element (in C order) is in the running sums from k on: n - k of them
    assert np.array_equal(
        s2sad.grad(total_of_running_sums)(MAT), np.arange(12.0, 0, -1).reshape(3, 4)
    )


def cumprod_flattened(x):
    return weighted(np.cumprod(x))


def cumprod_axes(x):
    return weighted(np.cumprod(x, axis=0)) + weighted(x.cumprod(-1))


@pytest.mark.parametrize(
    "x",
    [MAT, with_zeros((1, 2)), with_zeros((1, 2), (1, 3)), with_zeros((0, 2), (1, 2))],
    ids=["no-zero", "one-zero", "two-zeros-in-a-row", "two-zeros-in-a-column"],
)
@pytest.mark.parametrize("f", [cumprod_flattened, cumprod_axes], ids=lambda f: f.__name__)
def test_cumprod(f, x):
    assert check_grad(f, x) < 1e-6


def test_cumprod_with_a_zero_is_exact():
    def total_of_running_products(x):
        return np.sum(np.cumprod(x))

    # [2, 0, 3]: running products 2, 0, 0; d/dx0 = 1, d/dx1 = 2 + 2 * 3, d/dx2 = 0
    grad = s2sad.grad(total_of_running_products)(np.array([2.0, 0.0, 3.0]))
    assert np.array_equal(grad, [1.0, 8.0, 0.0])


# ----- products, traces and diagonals -------------------------------------------------------
def outer_product(a, b):
    return weighted(np.outer(a, b))


def inner_product(a, b):
    return weighted(np.inner(a, b))


@pytest.mark.parametrize(
    "a, b",
    [(VEC, VEC2[:3]), (MAT, COL), (1.5, VEC)],
    ids=["vectors", "flattened-matrices", "number-vector"],
)
def test_outer(a, b):
    assert check_grad(outer_product, a, b, wrt=(0, 1)) < 1e-6


@pytest.mark.parametrize(
    "a, b",
    [(VEC, VEC2), (MAT, MAT2), (VEC, MAT), (MAT, VEC), (2.0, MAT)],
    ids=["vectors", "matrices", "vector-matrix", "matrix-vector", "number-matrix"],
)
def test_inner(a, b):
    assert check_grad(inner_product, a, b, wrt=(0, 1)) < 1e-6


def inner_of_vectors(a, b):
    return np.inner(a, b)


def test_inner_of_vectors_is_their_dot_product():
    dx, dy = s2sad.grad(inner_of_vectors, wrt=(0, 1))(VEC, VEC2)
    assert np.allclose(dx, VEC2) and np.allclose(dy, VEC)


def trace_square(x):
    return np.trace(x @ x.T)


def trace_offsets(x):
    return np.trace(x, 1) + 2.0 * np.trace(x, offset=-1) + x.trace() ** 2


def trace_stacked(x):
    return weighted(np.trace(x, axis1=1, axis2=2)) + weighted(np.trace(x, 1, 2, 0))


def diag_of_vector(v):
    return np.sum(np.diag(v) * SQ) + np.sum(np.diag(v, 1) * np.arange(25.0).reshape(5, 5))


def diag_of_matrix(x):
    return weighted(np.diag(x)) + weighted(np.diag(x, 1)) + weighted(np.diag(x, k=-1))


def diagonal_of_matrix(x):
    return weighted(np.diagonal(x, 1)) + weighted(x.diagonal())


def diagonal_of_stack(x):
    return weighted(np.diagonal(x, 0, 2, 1)) + weighted(x.diagonal(-1, 0, 2))


@pytest.mark.parametrize(
    "f, x",
    [
        (trace_square, MAT),
        (trace_offsets, MAT),
        (trace_offsets, SQ),
        (trace_stacked, R.uniform(size=(2, 3, 4))),
        (diag_of_vector, VEC),
        (diag_of_matrix, MAT),
        (diag_of_matrix, MAT.T),
        (diagonal_of_matrix, MAT),
        (diagonal_of_stack, R.uniform(size=(2, 3, 4))),
    ],
    ids=lambda v: getattr(v, "__name__", str(np.shape(v))),
)
def test_traces_and_diagonals(f, x):
    assert check_grad(f, x) < 1e-6


def test_diag_puts_the_gradient_on_the_diagonal():
    def diagonal_sum(x):
        return np.sum(np.diag(x, 1))

    assert np.array_equal(s2sad.grad(diagonal_sum)(MAT), np.eye(3, 4, 1))
    assert np.array_equal(
        s2sad.grad(trace_offsets)(np.zeros((3, 3))), np.eye(3, k=1) + 2.0 * np.eye(3, k=-1)
    )


# ----- tile, repeat, flips ------------------------------------------------------------------
def tile_int(x):
    return weighted(np.tile(x, 2))


def tile_tuple(x):
    return weighted(np.tile(x, (2, 1)))


def tile_more_reps_than_dimensions(x):
    return weighted(np.tile(x, (2, 1, 3)))


def repeat_flattened(x):
    return weighted(np.repeat(x, 2))


def repeat_axis(x):
    return weighted(np.repeat(x, 3, axis=0))


def repeat_negative_axis(x):
    return weighted(np.repeat(x, 2, axis=-1))


def repeat_counts(x):
    return weighted(np.repeat(x, [1, 0, 2], axis=0))


def repeat_method(x):
    return weighted(x.repeat(2)) + weighted(x.repeat(2, axis=0))


def flips(x):
    return weighted(np.flip(x)) + weighted(np.flip(x, axis=0)) + weighted(np.flip(x, -1) ** 2)


def flips_2d(x):
    return weighted(np.fliplr(x)) + weighted(np.flipud(x) ** 2)


def rotations_and_rolls(x):
    rotated = weighted(np.rot90(x)) + weighted(np.rot90(x, 3, (1, 0)))
    return rotated + weighted(np.roll(x, 2)) + weighted(np.roll(x, (1, -2), axis=(0, 1)))


@pytest.mark.parametrize(
    "f",
    [
        tile_int,
        tile_tuple,
        tile_more_reps_than_dimensions,
        repeat_flattened,
        repeat_axis,
        repeat_negative_axis,
        repeat_counts,
        repeat_method,
        flips,
        flips_2d,
        rotations_and_rolls,
    ],
    ids=lambda f: f.__name__,
)
def test_tile_repeat_and_flips(f):
    assert check_grad(f, MAT) < 1e-6


@pytest.mark.parametrize(
    "f", [tile_int, tile_tuple, repeat_flattened, flips], ids=lambda f: f.__name__
)
def test_tile_repeat_and_flips_of_vectors(f):
    assert check_grad(f, VEC) < 1e-6


def write_into_a_rotated_view(x):
    y = x * 1.0
    r = np.rot90(y)
    r *= 2.0  # changes y too
    return np.sum(y * x)


def write_into_a_flipped_view(x):
    y = x * 1.0
    r = np.fliplr(y)
    r[0] = x[0] * 3.0  # changes y's first row too
    return np.sum(y * x)


@pytest.mark.parametrize(
    "f", [write_into_a_rotated_view, write_into_a_flipped_view], ids=lambda f: f.__name__
)
def test_the_views_these_rules_differentiate_are_still_views(f):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="shares memory"):
        s2sad.grad(f)(MAT)


# ----- var and std --------------------------------------------------------------------------
def var_all(x):
    return np.var(x)


def var_axis0(x):
    return np.sum(np.var(x, axis=0) * VEC)


def var_negative_axis_keepdims(x):
    return np.sum(np.var(x, axis=-1, keepdims=True) * COL)


def var_ddof(x):
    return np.sum(np.var(x, axis=1, ddof=1) ** 2) + np.var(x, axis=(0, 1), ddof=1)


def var_method(x):
    return x.var(axis=0, ddof=1).sum() + x.var()


def std_all(x):
    return np.std(x)


def std_axis0_ddof(x):
    return np.sum(np.std(x, axis=0, ddof=1) * VEC)


def std_keepdims(x):
    return np.sum(np.std(x, axis=1, keepdims=True) * COL) + np.std(x, keepdims=True)[0, 0]


def std_method(x):
    return np.sum(x.std(-1) ** 3) + x.std(ddof=1)


@pytest.mark.parametrize(
    "f",
    [var_all, var_axis0, var_negative_axis_keepdims, var_ddof, var_method]
    + [std_all, std_axis0_ddof, std_keepdims, std_method],
    ids=lambda f: f.__name__,
)
def test_var_and_std(f):
    assert check_grad(f, MAT) < 1e-6


def reductions_with_every_argument_by_position(x):
    # NumPy's order: a, axis, dtype, out, keepdims (max: a, axis, out, keepdims; var and
    # std: a, axis, dtype, out, ddof, keepdims); keepdims=True keeps the (3, 1) shape
    total = np.sum(np.sum(x, 1, None, None, True) * COL) + np.sum(x.mean(1, None, None, True) * COL)
    total += np.sum(np.max(x, 1, None, True) * COL) + np.sum(x.min(1, None, True) * COL)
    total += np.sum(np.std(x, 1, None, None, 1, True) * COL) + np.sum(
        x.var(1, None, None, 0, True) * COL
    )
    return total + np.sum(np.prod(x, 1, None, None, True) * COL) + np.sum(x.cumsum(1, None) * MAT)


def test_reduction_arguments_passed_by_position_bind_as_in_numpy():
    assert check_grad(reductions_with_every_argument_by_position, MAT) < 1e-6


def test_a_rule_whose_parameters_are_out_of_numpys_order_is_refused():
    with pytest.raises(s2sad.rules.RuleError, match="'keepdims' is not in the function's place"):
        s2sad.defvjp(np.nansum, "a, axis=None, keepdims=False", a="np.broadcast_to(g, np.shape(a))")


def std_rows(x):
    return np.sum(np.std(x, axis=1) * np.arange(1.0, 4.0))


def test_std_of_equal_elements_has_gradient_zero():
    x = np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 4.0, 3.0], [0.5, 0.5, 0.5, 0.5]])
    dx = s2sad.grad(std_rows)(x)
    assert np.array_equal(dx[0], np.zeros(4)) and np.array_equal(dx[2], np.zeros(4))
    assert not np.array_equal(dx[1], np.zeros(4))
    assert check_grad(std_rows, x) < 1e-6  # central differences of |h| give 0 there too
    assert np.array_equal(s2sad.grad(std_all)(np.full((2, 2), 3.0)), np.zeros((2, 2)))


# ----- sort ---------------------------------------------------------------------------------
def sort_last_axis(x):
    return weighted(np.sort(x))


def sort_axis0(x):
    return weighted(np.sort(x, axis=0))


def sort_flattened(x):
    return weighted(np.sort(x, axis=None))


@pytest.mark.parametrize("x", [VEC, MAT], ids=["vector", "matrix"])
@pytest.mark.parametrize(
    "f", [sort_last_axis, sort_axis0, sort_flattened], ids=lambda f: f.__name__
)
def test_sort(f, x):
    assert check_grad(f, x) < 1e-6


def sort_ranked(x):
    return np.sum(np.sort(x) * np.arange(1.0, 5.0))


def sort_in_place_method(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(1.0, 5.0))


def test_sort_hands_each_element_the_gradient_of_its_place():
    # [2, 1, 2, 0] sorts to [0, 1, 2, 2]; the equal 2s keep their order (a stable sort)
    assert np.array_equal(
        s2sad.grad(sort_ranked)(np.array([2.0, 1.0, 2.0, 0.0])), [3.0, 2.0, 4.0, 1.0]
    )
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="in place"):
        s2sad.grad(sort_in_place_method)(VEC)  # the method changes y: still refused


# ----- logaddexp ----------------------------------------------------------------------------
def log_add_exp(x, y):
    return np.sum(np.logaddexp(x, y) ** 2 + np.logaddexp2(2.0 * x, y))


@pytest.mark.parametrize("shapes", ["same", "scalar-vector", "matrix-row", "matrix-column"])
def test_logaddexp(shapes):
    x, y = BROADCASTS[shapes]
    assert check_grad(log_add_exp, x, y, wrt=(0, 1)) < 1e-6


# ----- np.linalg ----------------------------------------------------------------------------
WELL = SQ + 4.0 * np.eye(4)  # well conditioned
STACK = R.uniform(0.5, 1.5, size=(2, 4, 4)) + 4.0 * np.eye(4)


def norm_default(x):
    return np.linalg.norm(x)


def norm_axis(x):
    return np.sum(np.linalg.norm(x, axis=1) * np.arange(1.0, 4.0))


def norm_axis_keepdims(x):
    return np.sum(np.linalg.norm(x, axis=-2, keepdims=True) ** 3 * ROW)


def norm_orders(x):
    return (
        np.linalg.norm(x, 1)
        + np.linalg.norm(x, np.inf)
        + np.linalg.norm(x, 3)
        + np.linalg.norm(x, -np.inf)
    )


def norm_frobenius(x):
    return np.linalg.norm(x, "fro") + np.sum(np.linalg.norm(x[None] * 2.0, axis=(1, 2)))


@pytest.mark.parametrize(
    "f, x",
    [
        (norm_default, VEC),
        (norm_default, MAT),
        (norm_default, R.uniform(size=(2, 3, 4))),
        (norm_axis, MAT),
        (norm_axis_keepdims, MAT),
        (norm_orders, VEC - 1.0),
        (norm_frobenius, MAT),
    ],
    ids=lambda v: getattr(v, "__name__", str(np.shape(v))),
)
def test_norm(f, x):
    assert check_grad(f, x) < 1e-6


def test_norm_at_zero_has_gradient_zero():
    assert np.array_equal(s2sad.grad(norm_default)(np.zeros(3)), np.zeros(3))
    x = MAT.copy()
    x[1] = 0.0
    dx = s2sad.grad(norm_axis)(x)
    assert np.array_equal(dx[1], np.zeros(4)) and not np.isnan(dx).any()
    assert np.allclose(dx[2], 3.0 * x[2] / np.linalg.norm(x[2]))


def max_column_sum_norm(x):
    return np.linalg.norm(x, 1)


def test_matrix_norms_without_a_rule_say_so():
    # ord=2, -2 and 'nuc' are differentiated (tests/test_rules_linalg.py); ord=1 is not
    with pytest.raises(s2sad.NonDifferentiableError, match="ord=1 of a matrix"):
        s2sad.grad(max_column_sum_norm)(MAT)


def inverse(a):
    return weighted(np.linalg.inv(a))


def determinant(a):
    return np.sum(np.linalg.det(a) ** 2)


def solve(a, b):
    return weighted(np.linalg.solve(a, b))


@pytest.mark.parametrize(
    "a", [WELL, WELL[[1, 0, 2, 3]], STACK], ids=["matrix", "negative-det", "stack"]
)
def test_inv_and_det(a):
    assert check_grad(inverse, a) < 1e-6
    assert check_grad(determinant, a) < 1e-6


def test_det_of_a_singular_matrix_is_its_cofactor_matrix():
    def det(a):
        return np.linalg.det(a)

    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert np.allclose(s2sad.grad(det)(singular), [[4.0, -2.0], [-2.0, 1.0]])
    assert check_grad(det, singular) < 1e-6


@pytest.mark.parametrize(
    "a, b",
    [(WELL, VEC), (WELL, MAT.T), (STACK, MAT.T), (STACK, R.uniform(size=(2, 4, 3)))],
    ids=["vector", "matrix", "stack-matrix", "stack-stack"],
)
def test_solve(a, b):
    assert check_grad(solve, a, b, wrt=(0, 1)) < 1e-6


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="NumPy 2 semantics")
def test_solve_a_stack_with_one_vector():
    assert check_grad(solve, STACK, VEC, wrt=(0, 1)) < 1e-6


# ----- review findings: integer dtype=, lists as arrays, empty arrays ----------------------
def cumsum_to_integers(x):
    return np.sum(np.cumsum(x, dtype=int) * np.arange(3.0))


def sum_in_float32(x):
    return np.sum(np.cumsum(x, dtype=np.float32) * np.arange(3.0)) + np.prod(x, dtype=float)


def test_a_cast_to_an_integer_dtype_carries_no_gradient():
    x = np.array([0.3, 1.2, 2.5])
    assert np.array_equal(s2sad.grad(cumsum_to_integers)(x), np.zeros(3))
    assert np.allclose(s2sad.grad(sum_in_float32)(x), [3.0 + 3.0, 3.0 + 0.75, 2.0 + 0.36])


def clip_of_lists(a, b):
    return np.sum(np.clip([a, b], [0.5, 0.0], 2.0)) + np.sum(np.clip([a, b], 0.0, 0.5))


def test_clip_of_python_lists():
    assert s2sad.grad(clip_of_lists, wrt=(0, 1))(0.2, 1.0) == (1.0, 1.0)
    assert s2sad.grad(clip_of_lists, wrt=(0, 1))(1.0, 0.3) == (1.0, 2.0)


def product_of_rows(x):
    return np.sum(np.prod(x, axis=1))


def test_product_of_an_empty_array_and_of_integers():
    assert s2sad.grad(product_of_rows)(np.zeros((0, 3))).shape == (0, 3)
    big = np.full((1, 40), 3, dtype=np.int64)  # 3 ** 39 overflows int64
    assert np.allclose(s2sad.grad(product_of_rows)(big), 3.0**39)


# ----- np.einsum ----------------------------------------------------------------------------
CUBE = R.uniform(0.5, 1.5, size=(2, 3, 4))
SQUARE = R.uniform(0.5, 1.5, size=(4, 4))
WEIGHTS = R.uniform(0.5, 1.5, size=(4, 5))


def einsum_matmul(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) ** 2)


def einsum_implicit_output(a, b):
    return np.sum(np.einsum("ij,jk", a, b) ** 2)  # output ik: the labels used once, sorted


def einsum_upper_case_labels(a, b):
    return np.sum(np.einsum("iJ,Jk", a, b) * np.arange(15.0).reshape(3, 5))  # "Jk": J < i


def einsum_three_operands(a, b):
    return np.sum(np.einsum("ij,jk,k->i", a, b, np.arange(5.0), optimize=True) ** 2)


def einsum_with_ellipsis(t, b):
    return np.sum(np.einsum("...j,jk->...k", t, b) ** 2)


def einsum_one_operand_twice(a, b):
    return np.einsum("ij,ij->", a, a) + np.sum(np.einsum("ij,jk->ik", a, b))


def einsum_size_one_broadcast(a, b):
    return np.sum(np.einsum("ij,ij->ij", a[:, :1], a) ** 2) + np.sum(b)


def einsum_scalar_operand(a, b):
    return np.sum(np.einsum(",ij->ij", a[0, 0], a) ** 2) + np.sum(b)


def einsum_subscripts_in_a_variable(a, b):
    spec = "ij,jk->ik"
    return np.sum(np.einsum(spec, a, b) ** 2)


@pytest.mark.parametrize(
    "f, args",
    [
        (einsum_matmul, (MAT, WEIGHTS)),
        (einsum_implicit_output, (MAT, WEIGHTS)),
        (einsum_upper_case_labels, (MAT, WEIGHTS)),
        (einsum_three_operands, (MAT, WEIGHTS)),
        (einsum_with_ellipsis, (CUBE, WEIGHTS)),
        (einsum_one_operand_twice, (MAT, WEIGHTS)),
        (einsum_size_one_broadcast, (MAT, WEIGHTS)),
        (einsum_scalar_operand, (MAT, WEIGHTS)),
        (einsum_subscripts_in_a_variable, (MAT, WEIGHTS)),
    ],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_einsum_of_every_operand(f, args):
    assert check_grad(f, *args, wrt=(0, 1)) < 1e-6


def einsum_trace(s):
    return np.einsum("ii", s) * 2.0


def einsum_diagonal(s):
    return np.sum(np.einsum("ii->i", s) ** 3)


def einsum_labels_only_one_operand_has(a):
    return np.sum(np.einsum("ij->i", a) ** 2) + np.sum(np.einsum("ij,k->ijk", a, VEC) ** 2)


def einsum_diagonal_of_a_stack(t):
    return np.sum(np.einsum("iji->ij", t) ** 2)


@pytest.mark.parametrize(
    "f, x",
    [
        (einsum_trace, SQUARE),
        (einsum_diagonal, SQUARE),
        (einsum_labels_only_one_operand_has, MAT),
        (einsum_diagonal_of_a_stack, R.uniform(0.5, 1.5, size=(3, 2, 3))),
    ],
    ids=lambda f: getattr(f, "__name__", ""),
)
def test_einsum_diagonals_and_sums(f, x):
    assert check_grad(f, x) < 1e-6


def test_a_diagonal_of_einsum_gets_its_gradient_on_the_diagonal_only():
    expected = np.diag(3.0 * np.diag(SQUARE) ** 2)  # d/ds of sum(diag(s)**3)
    assert np.allclose(s2sad.grad(einsum_diagonal)(SQUARE), expected)


def einsum_of_sublists(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2]))


def test_einsum_sublist_form_is_refused_with_its_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_grad_rules.py:\d+: .*sublist"):
        s2sad.grad(einsum_of_sublists)(MAT, WEIGHTS)
    with pytest.raises(s2sad.NonDifferentiableError, match="sublist form"):
        s2sad.grad(einsum_of_sublists, wrt=1)(MAT, WEIGHTS)  # a list where subscripts go


def einsum_into_integers(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b, dtype=int, casting="unsafe") * 1.0) + np.sum(
        a * b[0, 0]
    )


def test_einsum_into_an_integer_dtype_carries_no_gradient():
    da, db = s2sad.grad(einsum_into_integers, wrt=(0, 1))(MAT, WEIGHTS)
    assert np.allclose(da, WEIGHTS[0, 0]) and da.shape == MAT.shape
    expected = np.zeros(WEIGHTS.shape)
    expected[0, 0] = np.sum(MAT)
    assert np.allclose(db, expected)


def weighted_squares(*xs):
    return sum(x * x for x in xs)  # a generator: s2sad uses the rule below, not this source


def through_a_rule_of_star_args(a, b):
    return weighted_squares(a, 3.0, b * 2.0)


def test_a_rule_for_star_args_gives_each_argument_its_own_adjoint(monkeypatch):
    from s2sad.rules import registry

    monkeypatch.setattr(registry.REGISTRY, "_rules", dict(registry.REGISTRY._rules))
    monkeypatch.setattr(registry.REGISTRY, "customised", registry.REGISTRY.customised)
    s2sad.defvjp(weighted_squares, "*xs", xs="2.0 * g * xs[position]")
    assert s2sad.grad(through_a_rule_of_star_args, wrt=(0, 1))(0.5, 1.5) == (1.0, 12.0)


def log_determinant_twice(a):
    result = np.linalg.slogdet(a)
    same = result
    return result[1] + same[1]


def test_a_users_rule_may_return_a_tuple_without_saying_so(monkeypatch):
    from s2sad.rules import registry

    monkeypatch.setattr(registry.REGISTRY, "_rules", dict(registry.REGISTRY._rules))
    monkeypatch.setattr(registry.REGISTRY, "customised", registry.REGISTRY.customised)
    s2sad.defvjp(np.linalg.slogdet, "a", a="element(g, 1) * np.linalg.inv(a).T")  # no shape=
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    assert np.allclose(s2sad.grad(log_determinant_twice)(a), 2.0 * np.linalg.inv(a).T)
