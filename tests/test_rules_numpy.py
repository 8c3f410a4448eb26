"""End to end: the rules of NumPy's elementwise functions, casts, reductions and products
(and the ``math`` functions beside them), checked against central finite differences.

Each case is a user function that weighs its result with a fixed random array, so that every
element's gradient differs; edge points where a rule chose a convention (sinc at 0, ties,
NaN) are checked on their own.
"""

import math
import sys
import warnings

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
    with pytest.raises(s2sad.S2SADError, match="complex"):
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
    )


def math_functions_of_python_3_11(x):
    return math.cbrt(x) * 13.0 + math.exp2(x) * 17.0


@pytest.mark.parametrize("x", [0.3, 1.2, -0.7])
def test_math_functions(x):
    assert check_grad(math_functions, x) < 1e-6
    if sys.version_info >= (3, 11):  # math.cbrt and math.exp2 are new in 3.11
        assert check_grad(math_functions_of_python_3_11, x) < 1e-6


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


# ----- reductions ------------------------------------------------------------------------
CUBE = R.normal(size=(2, 3, 4))


def weighed(result):
    """``result`` summed with a weight for each element (the weights' shape is the result's)."""
    return np.sum(result * np.reshape(np.cos(np.arange(np.size(result))), np.shape(result)))


def nansum(x, axis, keepdims):
    return weighed(np.nansum(x, axis, keepdims=keepdims))


def nanmean(x, axis, keepdims):
    return weighed(np.nanmean(x, axis, keepdims=keepdims))


def nanmax(x, axis, keepdims):
    return weighed(np.nanmax(x, axis, keepdims=keepdims))


def nanmin(x, axis, keepdims):
    return weighed(np.nanmin(x, axis, keepdims=keepdims))


def ptp(x, axis, keepdims):
    return weighed(np.ptp(x, axis, keepdims=keepdims))


def median(x, axis, keepdims):
    return weighed(np.median(x, axis, keepdims=keepdims))


def average(x, axis, keepdims):
    return weighed(np.average(x, axis, keepdims=keepdims))


@pytest.mark.parametrize(
    "f", [nansum, nanmean, nanmax, nanmin, ptp, median, average], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    "axis, keepdims",
    [(None, False), (0, False), (1, False), (-1, False), ((0, 2), False), (1, True), (None, True)],
)
def test_reductions_with_axis_and_keepdims(f, axis, keepdims):
    assert check_grad(f, CUBE, axis, keepdims) < 1e-6


def reductions_with_literal_axes(x):
    return (
        weighed(np.nansum(x, axis=1))
        + weighed(np.nansum(x, keepdims=True))
        + np.nanmean(x) * 2.0
        + weighed(np.nanmax(x, 0))
        + np.nanmin(x) * 3.0
        + weighed(np.ptp(x, axis=-1, keepdims=True))
        + np.median(x) * 5.0
        + weighed(np.median(x, axis=(0, 1)))
        + weighed(np.average(x, 2))
    )


def test_reductions_with_literal_axes():
    assert check_grad(reductions_with_literal_axes, CUBE) < 1e-6
    assert check_grad(reductions_with_literal_axes, CUBE[:, :, :3]) < 1e-6  # odd lengths


HOLES = np.zeros((3, 4), dtype=bool)
HOLES[0, 1] = HOLES[2, 2] = HOLES[2, 3] = True


def nan_reductions_of_holes(x):
    y = np.where(HOLES, np.nan, x)
    return (
        weighed(np.nansum(y, axis=0))
        + weighed(np.nanmean(y, axis=1))
        + weighed(np.nanmax(y, axis=1))
        + np.nanmin(y) * 3.0
    )


def test_nan_reductions_skip_nans():
    assert check_grad(nan_reductions_of_holes, MAT) < 1e-6


def nan_reductions(y):
    return np.nansum(y) + np.nanmean(y, axis=1)[2] + weighed(np.nanmax(y, axis=0))


def test_nan_elements_get_zero_and_an_all_nan_slice_gets_zero():
    y = np.where(HOLES, np.nan, MAT)
    y[:, 3] = np.nan  # nanmax of an all-NaN column: NaN, and a warning
    with pytest.warns(RuntimeWarning):
        grad = s2sad.grad(nan_reductions)(y)
    assert np.all(grad[np.isnan(y)] == 0.0)
    assert np.all(np.isfinite(grad))
    assert grad[2, 0] == 1.0 + 0.5 + (np.argmax(y[:, 0]) == 2) * 1.0  # nanmean over 2 numbers


def ties(x):
    return (
        np.median(x) * 2.0
        + np.median(x[:4]) * 3.0
        + np.ptp(x) * 5.0
        + np.nanmax(x) * 7.0
        + np.nanmin(x[1:]) * 11.0
    )


def test_ties_share_the_gradient_as_in_max():
    x = np.array([3.0, 2.0, 2.0, 1.0, 4.0, 4.0, 0.5])  # median 2: a tie in the middle pair
    assert check_grad(ties, x) < 1e-6  # at these ties, central differences give 0.5 each
    # three equal middle elements share g in thirds (central differences give 0 to each:
    # median is not differentiable there); a slice of equal elements has ptp gradient 0
    assert np.allclose(
        s2sad.grad(median_only)(np.array([2.0, 2.0, 2.0, 5.0, 1.0])), [1 / 3] * 3 + [0, 0]
    )
    assert np.all(s2sad.grad(ptp_only)(np.full(4, 1.5)) == 0.0)


def median_only(x):
    return np.median(x)


def ptp_only(x):
    return np.ptp(x)


def test_median_refuses_overwrite_input():
    def overwriting(x):
        return np.median(x, overwrite_input=True)

    with pytest.raises(s2sad.UnsupportedSyntaxError, match="overwrite_input"):
        s2sad.grad(overwriting)(VEC)


# weights: of a's shape, of the averaged axis, of several axes (in any order)
CUBE_WEIGHTS = R.uniform(0.5, 1.5, size=(2, 3, 4))


def average_weighted(x, w, axis):
    return weighed(np.average(x, axis, w))


@pytest.mark.parametrize(
    "w, axis",
    [
        (CUBE_WEIGHTS, None),
        (CUBE_WEIGHTS, 1),
        (CUBE_WEIGHTS[0, 0], -1),
        (CUBE_WEIGHTS[0, :, 0], 1),
        (CUBE_WEIGHTS[:, 0, :], (0, 2)),
        (CUBE_WEIGHTS[:, 0, :].T, (2, 0)),
    ],
    ids=["same-all", "same-axis", "last", "middle", "two-axes", "two-axes-reversed"],
)
def test_average_with_weights(w, axis):
    assert check_grad(average_weighted, CUBE, w, axis, wrt=(0, 1)) < 1e-6


def average_returned(x, w):
    mean, total = np.average(x, axis=1, weights=w, returned=True)
    plain, count = np.average(x, 0, None, True, keepdims=True)
    return weighed(mean) + weighed(total) * 3.0 + weighed(plain) + np.sum(count)


def average_returned_total_only(x, w):
    mean, total = np.average(x, axis=(0, 2), weights=w, returned=True)
    return weighed(total)


def test_average_returned():
    assert check_grad(average_returned, CUBE, CUBE_WEIGHTS[0, :, 0], wrt=(0, 1)) < 1e-6
    assert check_grad(average_returned_total_only, CUBE, CUBE_WEIGHTS[:, 0, :], wrt=(0, 1)) < 1e-6


def with_integers(x):
    ints = np.arange(12).reshape(3, 4)
    return np.sum(np.average(x, 1, ints[0] + 1) * np.median(ints, 0)[:3]) + np.nansum(x * ints)


def test_reductions_with_integer_arguments():
    assert check_grad(with_integers, MAT) < 1e-6


# ----- products ----------------------------------------------------------------------------
A3 = R.normal(size=(2, 3, 4))
B3 = R.normal(size=(4, 3, 5))


def weighed_product(function):
    def f(a, b):
        return weighed(function(a, b))

    return f


def tensordot_default(a, b):
    return weighed(np.tensordot(a, b))


def tensordot_int(a, b):
    return weighed(np.tensordot(a, b, 1))


def tensordot_zero(a, b):
    return weighed(np.tensordot(a, b, axes=0))


def tensordot_pairs(a, b):
    return weighed(np.tensordot(a, b, axes=([1, 2], [1, 0])))


def tensordot_ints(a, b):
    return weighed(np.tensordot(a, b, axes=(2, 0)))


@pytest.mark.parametrize(
    "f, a, b",
    [
        (tensordot_default, A3, R.normal(size=(3, 4, 2))),
        (tensordot_int, A3, B3),
        (tensordot_zero, MAT, VEC),
        (tensordot_pairs, A3, B3),
        (tensordot_ints, A3, B3),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_tensordot(f, a, b):
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


def vdot(a, b):
    return np.vdot(a, b) * 2.0


def kron(a, b):
    return weighed(np.kron(a, b))


@pytest.mark.parametrize(
    "f, a, b",
    [
        (vdot, MAT, MAT.T.copy()),
        (vdot, VEC, VEC[::-1].copy()),
        (kron, MAT, R.normal(size=(2, 3))),
        (kron, VEC, MAT),
        (kron, A3, VEC[:2]),
        (kron, 1.5, VEC),
    ],
    ids=lambda v: getattr(v, "__name__", "") or str(np.shape(v)),
)
def test_vdot_and_kron(f, a, b):
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


def cross(a, b):
    return weighed(np.cross(a, b))


def cross_axes(a, b):
    return weighed(np.cross(a, b, axisa=0, axisb=1, axisc=0))


def cross_axis(a, b):
    return weighed(np.cross(a, b, axis=0))


@pytest.mark.parametrize(
    "f, a, b",
    [
        (cross, R.normal(size=3), R.normal(size=3)),
        (cross, R.normal(size=(4, 3)), R.normal(size=3)),
        (cross, R.normal(size=(2, 1, 3)), R.normal(size=(4, 3))),
        (cross_axes, R.normal(size=(3, 4)), R.normal(size=(4, 3))),
        (cross_axis, R.normal(size=(3, 4)), R.normal(size=(3, 4))),
    ],
    ids=["vectors", "broadcast", "broadcast-both", "axes", "axis"],
)
def test_cross(f, a, b):
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


def multi_dot(a, b, c):
    return weighed(np.linalg.multi_dot([a, b, c]))


def multi_dot_of_two(a, b):
    return weighed(np.linalg.multi_dot((a, b)))


MIDDLE = R.normal(size=(4, 5))


@pytest.mark.parametrize(
    "a, c",
    [(MAT, R.normal(size=(5, 2))), (VEC[:4], R.normal(size=(5, 2))), (MAT, VEC), (VEC[:4], VEC)],
    ids=["matrices", "row-first", "column-last", "vectors-at-both-ends"],
)
def test_multi_dot(a, c):
    assert check_grad(multi_dot, a, MIDDLE, c, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(multi_dot_of_two, MIDDLE, c, wrt=(0, 1)) < 1e-6


# ----- polynomials, interpolation, selection ----------------------------------------------
def polyval(p, x):
    return weighed(np.polyval(p, x))


def polyval_of_a_list(a, b, x):
    return weighed(np.polyval([a, b, 2.0], x))


@pytest.mark.parametrize(
    "p, x",
    [
        (R.normal(size=4), MAT),
        (R.normal(size=1), VEC),
        (R.normal(size=3), 0.7),
        (R.normal(size=(3, 5)), VEC),  # a row of coefficients per element of x
        (R.normal(size=(2, 1)), MAT),  # coefficients broadcast along x's rows
    ],
    ids=["cubic", "constant", "number", "rows", "broadcast"],
)
def test_polyval(p, x):
    assert check_grad(polyval, p, x, wrt=(0, 1)) < 1e-6


def test_polyval_of_a_list_of_numbers():
    assert check_grad(polyval_of_a_list, 0.3, -1.2, VEC, wrt=(0, 1, 2)) < 1e-6


KNOTS = np.array([-1.0, -0.2, 0.1, 0.5, 1.2])
HEIGHTS = R.normal(size=5)


def interp(x, xp, fp):
    return weighed(np.interp(x, xp, fp))


def interp_beyond(x, xp, fp, low, high):
    return weighed(np.interp(x, xp, fp, left=low, right=high))


# between knots, and beyond them at both ends
POINTS = np.array([-1.5, -0.7, -0.05, 0.3, 0.45, 0.9, 2.0])


def test_interp():
    assert check_grad(interp, POINTS, KNOTS, HEIGHTS, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(interp, 0.3, KNOTS, HEIGHTS, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(interp_beyond, POINTS, KNOTS, HEIGHTS, -3.0, 4.0, wrt=(0, 1, 2, 3, 4)) < 1e-6


def interp_only(x):
    return np.interp(x, KNOTS, HEIGHTS)


def test_interp_on_a_knot_takes_the_slope_to_its_right():
    slopes = np.diff(HEIGHTS) / np.diff(KNOTS)
    assert np.isclose(s2sad.grad(interp_only)(KNOTS[2]), slopes[2])
    assert np.isclose(s2sad.grad(interp_only)(KNOTS[0]), slopes[0])
    assert np.isclose(s2sad.grad(interp_only)(KNOTS[-1]), slopes[-1])  # the last: to its left


def interp_periodic(x):
    return np.interp(x, KNOTS, HEIGHTS, period=3.0)


def test_interp_with_a_period_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="period"):
        s2sad.grad(interp_periodic)(0.3)


def select(a, b, d):
    return weighed(np.select([a > 0.3, b < 0.0], [a * 2.0, b], d))


def select_tuple(a, b):
    return weighed(np.select((a > 0.0, a > 0.5), (a, b)))


@pytest.mark.parametrize(
    "b, d", [(MAT * 0.5, MAT * 0.1), (ROW, 0.3), (COL, ROW)], ids=["same", "row", "column"]
)
def test_select(b, d):
    assert check_grad(select, MAT, b, d, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(select_tuple, MAT, b, wrt=(0, 1)) < 1e-6


def test_cross_of_two_component_vectors():
    a, b = R.normal(size=(4, 2)), R.normal(size=2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cross(a, b)
    except ValueError:  # NumPy 2.5 removed what 2.0 deprecated: the function itself raises
        with pytest.raises(ValueError, match="3-dimensional"):
            s2sad.grad(cross, wrt=(0, 1))(a, b)
        return
    with pytest.warns(DeprecationWarning):  # NumPy 2.0-2.4 deprecate them; the rule takes them
        assert check_grad(cross, a, b, wrt=(0, 1)) < 1e-6
