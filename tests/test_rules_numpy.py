"""End to end: the rules of NumPy's elementwise functions, casts, reductions and products
(and the ``math`` functions beside them), checked against central finite differences.

Each case is a user function that weighs its result with a fixed random array, so that every
element's gradient differs; edge points where a rule chose a convention (sinc at 0, ties,
NaN) are checked on their own.
"""

import math

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

R = np.random.default_rng(11)
VEC = R.uniform(-0.9, 0.9, size=5)
MAT = R.uniform(-0.9, 0.9, size=(3, 4))
W_VEC = R.normal(size=5)
W_MAT = R.normal(size=(3, 4))
ROW = R.uniform(-0.9, 0.9, size=(1, 4))
COL = R.uniform(-0.9, 0.9, size=(3, 1))


# ----- elementwise functions of one argument --------------------------------------------
def arcsinh(x):
    return np.sum(np.arcsinh(x) * W_MAT)


def arccosh(x):
    return np.sum(np.arccosh(x + 2.0) * W_MAT)


def arctanh(x):
    return np.sum(np.arctanh(x) * W_MAT)


def sinc(x):
    return np.sum(np.sinc(3.0 * x) * W_MAT)


def deg2rad(x):
    return np.sum(np.deg2rad(x) * W_MAT) + np.sum(np.radians(x * x) * W_MAT)


def rad2deg(x):
    return np.sum(np.rad2deg(x) * W_MAT) + np.sum(np.degrees(x * x) * W_MAT)


def real_parts(x):
    return np.sum(np.real(x) * W_MAT) + np.sum(np.conj(x * x) * W_MAT) + np.sum(x.real)


def conjugates(x):
    return np.sum(np.conjugate(x) * W_MAT) + np.sum(x.conj() * x.conjugate() * W_MAT)


@pytest.mark.parametrize(
    "f",
    [arcsinh, arccosh, arctanh, sinc, deg2rad, rad2deg, real_parts, conjugates],
    ids=lambda f: f.__name__,
)
def test_elementwise_functions_of_one_argument(f):
    assert check_grad(f, MAT) < 1e-6


@pytest.mark.parametrize("x", [0.3, -1.7, 2.5])
def test_elementwise_functions_of_a_python_number(x):
    def f(x):
        return np.arcsinh(x) * np.sinc(x) + np.deg2rad(x) * np.rad2deg(x) + np.real(x)

    assert check_grad(f, x) < 1e-6


def test_sinc_is_flat_at_zero_and_exact_near_it():
    x = np.array([0.0, 1e-9, -1e-6, 1e-3, 0.999e-3, 1.0, -2.5])
    assert check_grad(lambda_free_sinc, x) < 1e-6
    grad = s2sad.grad(lambda_free_sinc)(x)
    assert grad[0] == 0.0
    # the series near 0: -pi**2 x / 3
    assert np.isclose(grad[1], -(np.pi**2) * 1e-9 / 3.0 * W_VEC7[1], rtol=1e-12)


W_VEC7 = R.normal(size=7)


def lambda_free_sinc(x):
    return np.sum(np.sinc(x) * W_VEC7)


def complex_real(x):
    return np.sum(np.real(x) * 2.0)


def test_real_and_conj_of_a_complex_array_are_refused():
    z = np.array([1.0 + 2.0j, 3.0])
    with pytest.raises(s2sad.NonDifferentiableError, match="complex"):
        s2sad.grad(complex_real)(z)


# ----- elementwise functions of two arguments -------------------------------------------
def fmax(x, y):
    return np.sum(np.fmax(x, y) * W_MAT)


def fmin(x, y):
    return np.sum(np.fmin(x, y) * W_MAT)


def fmod(x, y):
    return np.sum(np.fmod(x, y) * W_MAT)


def remainder(x, y):
    return np.sum((np.remainder(x, y) + np.mod(x, y)) * W_MAT)


def float_power(x, y):
    return np.sum(np.float_power(x + 1.5, y) * W_MAT)


@pytest.mark.parametrize("f", [fmax, fmin, fmod, remainder, float_power], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "y", [MAT * 0.7 + 0.05, ROW + 2.0, COL - 2.0, 1.3], ids=["same", "row", "column", "number"]
)
def test_elementwise_functions_of_two_arguments_broadcast(f, y):
    assert check_grad(f, MAT, y, wrt=(0, 1)) < 1e-6


@pytest.mark.parametrize("f", [fmax, fmin, fmod, float_power], ids=lambda f: f.__name__)
def test_elementwise_functions_of_two_arguments_broadcast_the_first(f):
    assert check_grad(f, ROW + 2.0, MAT, wrt=(0, 1)) < 1e-6


def test_fmax_and_fmin_split_ties_and_pass_over_nan():
    x = np.array([1.0, 2.0, np.nan, 4.0, np.nan])
    y = np.array([1.0, 3.0, 5.0, np.nan, 0.5])
    weights = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])

    def largest(x, y):
        return np.sum(np.fmax(x, y) * weights)

    def smallest(x, y):
        return np.sum(np.fmin(x, y) * weights)

    def largest_pair(x, y):
        return np.sum(np.fmax(x, y) * weights[:2])

    def smallest_pair(x, y):
        return np.sum(np.fmin(x, y) * weights[:2])

    for f in (largest, smallest):
        gx, gy = s2sad.grad(f, wrt=(0, 1))(x, y)
        assert gx[0] == gy[0] == 0.5  # a tie splits g, as np.maximum does
        assert gx[2] == 0.0 and gy[2] == 100.0  # x is NaN: y is the result
        assert gx[3] == 1000.0 and gy[3] == 0.0  # y is NaN: x is the result
    for f in (largest_pair, smallest_pair):  # central differences cannot step a NaN
        assert check_grad(f, x[:2], y[:2], wrt=(0, 1)) < 1e-6  # a tie: 0.5 either way


def test_float_power_of_integers():
    def f(p):
        return np.sum(np.float_power(np.arange(1, 5), p) * W_VEC[:4])

    assert check_grad(f, 1.5) < 1e-6
    assert check_grad(f, np.array([0.5, 1.0, 2.0, -1.0])) < 1e-6


# ----- math ---------------------------------------------------------------------------
def math_functions(x):
    return (
        math.asinh(x) * 2.0
        + math.acosh(x + 2.0) * 3.0
        + math.atanh(x / 2.0) * 5.0
        + math.degrees(x) * 7.0
        + math.radians(x) * 11.0
        + math.cbrt(x) * 13.0
        + math.exp2(x) * 17.0
    )


@pytest.mark.parametrize("x", [0.3, 1.2, -0.7])
def test_math_functions(x):
    assert check_grad(math_functions, x) < 1e-6


# ----- casts and constants --------------------------------------------------------------
def float64_cast(x):
    return np.sum(np.float64(x) * W_MAT) + np.float64(x[0, 0]) * 3.0


def test_float64_passes_the_gradient_on():
    assert check_grad(float64_cast, MAT) < 1e-6
    assert check_grad(lambda_free_float64, 0.7) < 1e-6


def lambda_free_float64(x):
    return np.float64(x) * np.float64(x)


def float32_cast(x):
    return float(np.float32(x)) * 3.0


def test_float32_passes_the_gradient_on():
    # float32 rounding is too coarse for central differences; the derivative is 3 exactly
    assert s2sad.grad(float32_cast)(0.7) == 3.0


def item_of_one(x):
    return np.reshape(x[:1], (1, 1)).item() * 2.0 + x[1:2].item() ** 2


def item_at(x):
    return x.item(5) * 2.0 + x.item(1, 2) ** 2 + x.item((2, 3)) * 7.0


def test_item():
    assert check_grad(item_of_one, VEC[:2]) < 1e-6
    assert check_grad(item_at, MAT) < 1e-6


def full_like(x, v):
    return np.sum(np.full_like(x, v) * W_MAT) + np.sum(np.full_like(x, v, shape=(2, 3, 4)))


@pytest.mark.parametrize(
    "v", [0.7, np.array(0.7), ROW[0], COL, MAT], ids=["number", "0-d", "row", "column", "same"]
)
def test_full_like_gives_the_fill_value_the_summed_gradient(v):
    assert check_grad(full_like, MAT, v, wrt=1) < 1e-6


def full(v):
    return np.sum(np.full((3, 4), v) * W_MAT) + np.sum(np.full((3, 4), v, dtype=int) * 1.0)


def full_like_of_integers(v):
    ints = np.arange(12).reshape(3, 4)
    return np.sum(np.full_like(ints, v) * W_MAT) + np.sum(np.full_like(ints, v, float) * W_MAT)


def test_full_and_casts_to_integers():
    assert check_grad(full, ROW[0], wrt=0) < 1e-6
    assert check_grad(full, 0.7) < 1e-6
    assert check_grad(full_like_of_integers, 0.7) < 1e-6  # the integer one is constant


def constants_like(x):
    y = np.ones_like(x) + np.zeros_like(x) + np.empty_like(x) * 0.0 + np.heaviside(x, 0.5)
    return np.sum(y * x * W_MAT)


def test_ones_like_zeros_like_empty_like_heaviside_carry_no_gradient():
    assert check_grad(constants_like, MAT) < 1e-6
