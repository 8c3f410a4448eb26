"""s2sad.runtime: the helpers generated code calls, checked against explicit formulas."""

import itertools

import numpy as np
import pytest

import s2sad
from s2sad.runtime import (
    cast_like,
    dot_grad_left,
    dot_grad_right,
    expand_reduced,
    extremum_grad,
    matmul_grad_left,
    matmul_grad_right,
    scalar_seed,
    unbroadcast,
)

R = np.random.default_rng(11)


# ----- unbroadcast ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "g_shape, like_shape, axes",
    [
        ((2, 3), (3,), (0,)),
        ((2, 3), (1, 3), (0,)),
        ((2, 3), (2, 1), (1,)),
        ((4, 2, 3), (2, 1), (0, 2)),
        ((4, 2, 3), (1, 1, 3), (0, 1)),
        ((2, 3), (), (0, 1)),
    ],
)
def test_unbroadcast_sums_the_broadcast_axes(g_shape, like_shape, axes):
    g = R.normal(size=g_shape)
    like = np.zeros(like_shape) if like_shape else 2.0
    expected = np.sum(g, axis=axes).reshape(like_shape)
    result = unbroadcast(g, like)
    assert np.shape(result) == like_shape
    assert np.allclose(result, expected)


def test_unbroadcast_returns_g_itself_when_shapes_agree():
    g = R.normal(size=(2, 3))
    assert unbroadcast(g, np.zeros((2, 3))) is g


# ----- cast_like --------------------------------------------------------------------------
def test_cast_like_gives_a_float_for_a_number():
    for g in (np.float64(2.5), np.array(2.5), 2.5, 2):
        for like in (1.0, 3):
            result = cast_like(g, like)
            assert type(result) is float and result == float(g)


def test_cast_like_gives_an_array_of_the_arguments_shape():
    like = np.ones((2, 3))
    zeros = cast_like(0.0, like)
    assert isinstance(zeros, np.ndarray) and zeros.shape == (2, 3) and not zeros.any()
    zeros[0, 0] = 1.0  # a real, writeable array, not a broadcast view
    row = cast_like(np.array([1.0, 2.0, 3.0]), like)
    assert np.array_equal(row, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])


def test_cast_like_keeps_float_dtypes_and_makes_integer_ones_float():
    assert cast_like(np.ones(2), np.ones(2, dtype=np.float32)).dtype == np.float32
    assert cast_like(np.ones(2), np.arange(2)).dtype == np.float64
    scalar = cast_like(1.5, np.float32(2.0))
    assert type(scalar) is np.float32 and scalar == 1.5


# ----- scalar_seed ------------------------------------------------------------------------
@pytest.mark.parametrize("value", [2.0, 3, np.float64(1.5), np.float32(1.5), np.array(4.0)])
def test_scalar_seed_is_one_for_a_scalar(value):
    assert scalar_seed(value) == 1.0


def test_scalar_seed_rejects_an_array_naming_its_shape():
    with pytest.raises(s2sad.NonScalarOutputError) as caught:
        scalar_seed(np.ones((2, 3)))
    message = str(caught.value)
    assert "(2, 3)" in message and "vjp" in message


def test_scalar_seed_rejects_a_list():
    with pytest.raises(s2sad.NonScalarOutputError, match="a list"):
        scalar_seed([1.0, 2.0])


# ----- matmul ---------------------------------------------------------------------------------
def linear_gradient(product, a, b, g, wrt):
    """The gradient of sum(g * product(a, b)) with respect to a or b, one basis vector at a
    time: exact, because the product is linear in each operand."""
    operand = a if wrt == "a" else b
    gradient = np.zeros(np.shape(operand))
    for index in np.ndindex(*np.shape(operand)):
        basis = np.zeros(np.shape(operand))
        basis[index] = 1.0
        value = product(basis, b) if wrt == "a" else product(a, basis)
        gradient[index] = np.sum(g * value)
    return gradient


MATMUL_SHAPES = {
    "vector@vector": ((4,), (4,)),
    "matrix@vector": ((3, 4), (4,)),
    "vector@matrix": ((4,), (4, 5)),
    "matrix@matrix": ((3, 4), (4, 5)),
    "stack@vector": ((2, 3, 4), (4,)),
    "vector@stack": ((4,), (2, 4, 5)),
    "stack@matrix": ((2, 3, 4), (4, 5)),
    "matrix@stack": ((3, 4), (2, 4, 5)),
    "stack@stack": ((2, 3, 4), (2, 4, 5)),
    "broadcast stacks": ((2, 1, 3, 4), (5, 4, 2)),
}


@pytest.mark.parametrize("shapes", list(MATMUL_SHAPES))
def test_matmul_gradients_match_the_explicit_formula(shapes):
    a_shape, b_shape = MATMUL_SHAPES[shapes]
    a, b = R.normal(size=a_shape), R.normal(size=b_shape)
    g = R.normal(size=np.shape(a @ b))
    left = matmul_grad_left(g, a, b)
    right = matmul_grad_right(g, a, b)
    assert np.shape(left) == a_shape and np.shape(right) == b_shape
    assert np.allclose(left, linear_gradient(np.matmul, a, b, g, "a"))
    assert np.allclose(right, linear_gradient(np.matmul, a, b, g, "b"))


@pytest.mark.parametrize(
    "a_shape, b_shape", list(itertools.product([(), (4,), (3, 4)], [(), (4,), (4, 2)]))[1:]
)
def test_dot_gradients_match_the_explicit_formula(a_shape, b_shape):
    a, b = R.normal(size=a_shape), R.normal(size=b_shape)
    g = R.normal(size=np.shape(np.dot(a, b)))
    assert np.allclose(dot_grad_left(g, a, b), linear_gradient(np.dot, a, b, g, "a"))
    assert np.allclose(dot_grad_right(g, a, b), linear_gradient(np.dot, a, b, g, "b"))


def test_dot_of_stacks_is_refused():
    a, b = np.ones((2, 3, 4)), np.ones((4, 5))
    with pytest.raises(NotImplementedError, match="np.matmul"):
        dot_grad_left(np.ones((2, 3, 5)), a, b)


# ----- reductions ---------------------------------------------------------------------------
def test_expand_reduced_makes_the_reduction_broadcast_against_its_input():
    x = np.ones((2, 3, 4))
    assert expand_reduced(np.ones((2, 4)), x, 1, False).shape == (2, 1, 4)
    assert expand_reduced(np.ones((2, 1, 4)), x, 1, True).shape == (2, 1, 4)
    assert expand_reduced(np.ones(3), x, (0, 2), False).shape == (1, 3, 1)
    assert expand_reduced(np.float64(1.0), x, None, False).shape == (1, 1, 1)


def test_extremum_ties_share_the_gradient_equally():
    a = np.array([1.0, 3.0, 3.0, 2.0])
    assert np.allclose(extremum_grad(2.0, a, np.max(a), None, False), [0.0, 1.0, 1.0, 0.0])
    three = np.array([5.0, 0.0, 5.0, 5.0])
    assert np.allclose(
        extremum_grad(1.0, three, np.max(three), None, False), [1 / 3, 0, 1 / 3, 1 / 3]
    )


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_extremum_along_an_axis_routes_each_slices_gradient_to_its_maxima(axis, keepdims):
    a = np.array([[1.0, 4.0, 4.0], [2.0, 2.0, 0.0]])
    ans = np.max(a, axis=axis, keepdims=keepdims)
    g = R.normal(size=ans.shape)
    result = extremum_grad(g, a, ans, axis, keepdims)
    # explicit: each slice along the axis splits its g equally between its maxima
    expected = np.zeros_like(a)
    moved = np.moveaxis(a, axis, -1)
    g_slices = np.reshape(g, moved.shape[:-1])
    out = np.moveaxis(expected, axis, -1)
    for index in np.ndindex(*moved.shape[:-1]):
        maxima = moved[index] == moved[index].max()
        out[index] = g_slices[index] * maxima / maxima.sum()
    assert result.shape == a.shape
    assert np.allclose(result, expected)


def test_extremum_over_a_tuple_of_axes():
    a = np.zeros((2, 2, 3))
    a[0, 1, 2] = a[1, 0, 2] = 7.0
    ans = np.max(a, axis=(0, 1))
    result = extremum_grad(np.array([1.0, 1.0, 4.0]), a, ans, (0, 1), False)
    assert np.allclose(result[..., 2], [[0.0, 2.0], [2.0, 0.0]])
    assert np.allclose(result[..., 0], 0.25)
