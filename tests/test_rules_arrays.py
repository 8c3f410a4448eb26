"""End to end: the rules of s2sad.rules.arrays (array shaping and indexing), each checked
against central finite differences inside a function written as a user would write it.

Each result is weighted by a fixed random array before it is summed, so that every
element's gradient differs and a misplaced gradient cannot pass.
"""

from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

R = np.random.default_rng(11)
HERE = Path(__file__)


def line_of(text: str) -> int:
    """The line of this file that holds ``text`` (a refusal names the user's line)."""
    return next(n for n, line in enumerate(HERE.read_text().splitlines(), 1) if text in line)


M33 = R.uniform(-1.0, 1.0, size=(3, 3))
M33B = R.uniform(-1.0, 1.0, size=(3, 3))


# ----- np.concatenate with axis=None (a crash: the split back read shape[None]) -----------
def concatenate_flattened(x):
    return np.sum(np.concatenate([x, M33B], axis=None) ** 2)


def concatenate_flattened_mixed(x, v):
    return np.sum(np.concatenate((v, x), None) * np.arange(12.0))


def test_concatenate_with_axis_none_flattens_each_array():
    assert check_grad(concatenate_flattened, M33) < 1e-6
    assert check_grad(concatenate_flattened_mixed, M33, R.uniform(size=3), wrt=(0, 1)) < 1e-6


# ----- axes ------------------------------------------------------------------------------
T234 = R.uniform(-1.0, 1.0, size=(2, 3, 4))
W234 = R.uniform(-1.0, 1.0, size=(2, 3, 4))
W432 = R.uniform(-1.0, 1.0, size=(4, 3, 2))
W342 = R.uniform(-1.0, 1.0, size=(3, 4, 2))
W423 = R.uniform(-1.0, 1.0, size=(4, 2, 3))


def swapaxes(x):
    return np.sum(np.swapaxes(x, 0, 2) ** 2 * W432)


def swapaxes_negative(x):
    return np.sum(np.sin(np.swapaxes(x, -1, 0)) * W432)


def swapaxes_method(x):
    return np.sum(x.swapaxes(2, 0) ** 3 * W432)


def moveaxis(x):
    return np.sum(np.moveaxis(x, 0, -1) ** 2 * W342)


def moveaxis_several(x):
    return np.sum(np.moveaxis(x, [0, 1], [-1, -2]) ** 2 * W432) + np.sum(
        np.moveaxis(x, -1, 0) * W423
    )


def test_axes():
    for f in (swapaxes, swapaxes_negative, swapaxes_method, moveaxis, moveaxis_several):
        assert check_grad(f, T234) < 1e-6, f.__name__


def atleast_1d_of_a_number(s):
    return np.sum(np.atleast_1d(s) * np.array([2.0])) + s**2


def atleast_2d(v):
    return np.sum(np.atleast_2d(v) ** 2 * W234[:1, 0, :])


def atleast_3d(m):
    return np.sum(np.atleast_3d(m) ** 2 * W234[0][:, :, None])


def atleast_several(v, m, s):
    a, b, c = np.atleast_2d(v, m, s)
    return np.sum(a * W234[:1, 0, :]) + np.sum(b**2 * W234[0]) + np.sum(c * 5.0)


def atleast_several_partly_used(v, m):
    a, b = np.atleast_3d(v, m)
    return np.sum(np.sin(b) * W234[0][:, :, None])


def test_atleast():
    v, m = R.uniform(size=4), R.uniform(size=(3, 4))
    assert check_grad(atleast_1d_of_a_number, 0.7) < 1e-6
    assert check_grad(atleast_2d, v) < 1e-6
    assert check_grad(atleast_3d, m) < 1e-6
    assert check_grad(atleast_several, v, m, 0.3, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(atleast_several_partly_used, v, m, wrt=(0, 1)) < 1e-6


# ----- triangles and differences ---------------------------------------------------------
M34 = R.uniform(-1.0, 1.0, size=(3, 4))
W34 = R.uniform(-1.0, 1.0, size=(3, 4))
W44 = R.uniform(-1.0, 1.0, size=(4, 4))


def triu(x):
    return np.sum(np.triu(x) ** 2 * W34)


def triu_above(x):
    return np.sum(np.triu(x, 1) ** 2 * W34)


def tril_below(x):
    return np.sum(np.tril(x, k=-1) ** 2 * W34)


def tril_stack(x):
    return np.sum(np.exp(np.tril(x, 2)) * W234)


def triu_of_a_vector(v):
    return np.sum(np.triu(v, -1) ** 2 * W44)


def tril_of_a_vector_k_by_position(v):
    return np.sum(np.tril(v * 2.0, 1) * W44)


def test_triangles():
    for f in (triu, triu_above, tril_below):
        assert check_grad(f, M34) < 1e-6, f.__name__
    assert check_grad(tril_stack, T234) < 1e-6
    assert check_grad(triu_of_a_vector, R.uniform(size=4)) < 1e-6
    assert check_grad(tril_of_a_vector_k_by_position, R.uniform(size=4)) < 1e-6


def diff(v):
    return np.sum(np.diff(v) ** 2 * W34[0, :3])


def diff_twice(v):
    return np.sum(np.diff(v, 2) ** 2 * W34[0, :2])


def diff_of_rows(x):
    return np.sum(np.diff(x, axis=0) ** 2 * W34[:2])


def diff_negative_axis(x):
    return np.sum(np.diff(x, 3, -2) * W234[:, :0, :]) + np.sum(np.diff(x, 1, -2) ** 2 * W234[:, :2])


def diff_none(v):
    return np.sum(np.diff(v, 0) ** 2 * W34[0])


def diff_prepend_append(v, first, last):
    return np.sum(np.diff(v, prepend=first, append=last) ** 2 * W44[0, :])


def diff_prepend_array(x, column):
    return np.sum(np.diff(x, n=2, axis=1, prepend=column) ** 2 * W34[:, :2])


def test_differences():
    v = R.uniform(size=4)
    for f in (diff, diff_twice, diff_none):
        assert check_grad(f, v) < 1e-6, f.__name__
    assert check_grad(diff_of_rows, M34) < 1e-6
    assert check_grad(diff_negative_axis, T234) < 1e-6
    assert check_grad(diff_prepend_append, R.uniform(size=3), 0.3, 0.9, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(diff_prepend_array, M34[:, :3], R.uniform(size=(3, 1)), wrt=(0, 1)) < 1e-6


# ----- joining ---------------------------------------------------------------------------
W37 = R.uniform(-1.0, 1.0, size=(3, 7))


def hstack_vectors(u, v, s):
    return np.sum(np.hstack([u, v, s]) ** 2 * np.arange(1.0, 9.0))


def hstack_matrices(x, y):
    return np.sum(np.hstack((x, y)) ** 2 * W37)


def vstack(v, x):
    return np.sum(np.vstack([v, x, v * 2.0]) ** 2 * W44.repeat(2, axis=0)[:5])


def column_stack(u, x):
    return np.sum(np.column_stack((u, x, u)) ** 2 * np.arange(15.0).reshape(3, 5))


def dstack(x, y):
    return np.sum(np.sin(np.dstack([x, y])) * W342)


def append_flat(x, v):
    return np.sum(np.append(x, v) ** 2 * np.arange(21.0))


def append_rows(x, y):
    return np.sum(np.append(x, y, axis=0) ** 2 * np.arange(20.0).reshape(5, 4))


def append_negative_axis(x, y):
    return np.sum(np.append(x, y, -1) ** 2 * np.arange(18.0).reshape(3, 6))


def append_a_number(v, s):
    return np.sum(np.append(v, s) ** 2 * np.arange(5.0))


def test_joining():
    u, v = R.uniform(size=3), R.uniform(size=4)
    x, y = R.uniform(size=(3, 4)), R.uniform(size=(3, 3))
    assert check_grad(hstack_vectors, u, v, 0.5, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(hstack_matrices, x, y, wrt=(0, 1)) < 1e-6
    assert check_grad(vstack, v, x, wrt=(0, 1)) < 1e-6
    assert check_grad(column_stack, u, y, wrt=(0, 1)) < 1e-6
    assert check_grad(dstack, x, x * 2.0, wrt=(0, 1)) < 1e-6
    assert check_grad(append_flat, x, y, wrt=(0, 1)) < 1e-6
    assert check_grad(append_rows, x, R.uniform(size=(2, 4)), wrt=(0, 1)) < 1e-6
    assert check_grad(append_negative_axis, y, y * 0.5, wrt=(0, 1)) < 1e-6
    assert check_grad(append_a_number, v, 0.25, wrt=(0, 1)) < 1e-6


# ----- taking ----------------------------------------------------------------------------
def take_flat(x):
    return np.sum(np.take(x, [0, 5, 5, -1, 2]) ** 2 * np.arange(1.0, 6.0))


def take_one_element(x):
    return np.take(x, 7) ** 3


def take_columns(x):
    return np.sum(np.take(x, [3, 0, 3], axis=1) ** 2 * W34[:, :3])


def take_negative_axis_matrix_of_indices(x):
    taken = np.take(x, np.array([[1, 1], [0, 2]]), -2)
    return np.sum(np.sin(taken) * np.arange(16.0).reshape(2, 2, 4))


def take_one_row(x):
    return np.sum(np.take(x, 2, axis=0) * W34[0])


def take_modes(x):
    wrapped = np.take(x, [4, -5, 1], mode="wrap")
    clipped = np.take(x, [7, -3, 0], axis=0, mode="clip")
    return np.sum(wrapped**2 * np.arange(3.0)) + np.sum(clipped**3 * W34)


def take_method(x):
    return np.sum(x.take([1, 1, 2], 0) ** 2 * W34) + np.sum(x.take([11, 0]) * 3.0)


def take_along_axis(x):
    order = np.argsort(x, axis=1)
    return np.sum(np.take_along_axis(x, order, axis=1) ** 2 * W34)


def take_along_axis_repeated(x):
    picked = np.take_along_axis(x, np.array([[0, 0, 3]] * 3), 1)
    return np.sum(picked**2 * W34[:, :3])


def take_along_axis_broadcast(x):
    picked = np.take_along_axis(x, np.array([[2], [2]]), axis=-2)  # rows, broadcast
    return np.sum(picked**2 * W34[:2])


def take_along_axis_flat(x):
    return np.sum(np.take_along_axis(x, np.array([11, 0, 11]), None) ** 2 * np.arange(3.0))


def test_take():
    x = M34
    for f in (take_flat, take_one_element, take_columns, take_one_row, take_modes, take_method):
        assert check_grad(f, x) < 1e-6, f.__name__
    assert check_grad(take_negative_axis_matrix_of_indices, x) < 1e-6
    for f in (take_along_axis, take_along_axis_repeated, take_along_axis_broadcast):
        assert check_grad(f, x) < 1e-6, f.__name__
    assert check_grad(take_along_axis_flat, x) < 1e-6
    assert check_grad(take_flat, x.round(1).tolist()) < 1e-6  # a list taken as an array


# ----- padding ---------------------------------------------------------------------------
def pad_same_everywhere(x):
    return np.sum(np.pad(x, 1) ** 2 * np.arange(30.0).reshape(5, 6))


def pad_before_after(x):
    return np.sum(np.pad(x, (2, 1)) ** 2 * np.arange(42.0).reshape(6, 7))


def pad_per_axis(x):
    return np.sum(np.pad(x, ((0, 1), (2, 0))) ** 2 * np.arange(24.0).reshape(4, 6))


def pad_with_values(x, value):
    return np.sum(np.pad(x, 1, constant_values=value) ** 2 * np.arange(30.0).reshape(5, 6))


def pad_with_value_pairs(x, before, after):
    padded = np.pad(x, ((1, 2), (1, 1)), "constant", constant_values=((before, after), (1.5, 2.5)))
    return np.sum(padded**2 * np.arange(36.0).reshape(6, 6))


def pad_copying_modes(x):
    total = 0.0
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        total = total + np.sum(
            np.pad(x, ((1, 2), (3, 1)), mode) ** 2 * np.arange(48.0).reshape(6, 8)
        )
    return total


def pad_mode_by_keyword(x):
    return np.sum(np.sin(np.pad(x, [(4, 0)], mode="reflect")) * np.arange(8.0))


def test_pad():
    x = M34
    for f in (pad_same_everywhere, pad_before_after, pad_per_axis, pad_copying_modes):
        assert check_grad(f, x) < 1e-6, f.__name__
    assert check_grad(pad_with_values, x, 0.3, wrt=(0, 1)) < 1e-6
    assert check_grad(pad_with_value_pairs, x, 0.3, -0.7, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(pad_mode_by_keyword, R.uniform(size=4)) < 1e-6


# ----- splitting (a list of arrays; its adjoint holds 0.0 for a part never used) ----------
def split_unpacked(x):
    a, b, c = np.split(x, 3)
    return np.sum(a**2 * W34[0, :2]) + np.sum(np.sin(c) * W34[1, :2]) + np.sum(b * 0.0)


def split_one_part_used(x):
    parts = np.split(x, 4, axis=1)
    return np.sum(parts[1] ** 2 * W34[:, :1])


def split_at_indices(x):
    left, middle, right = np.split(x, [1, -1], -1)
    return np.sum(left**2 * 3.0) + np.sum(middle**3 * W34[:, :2]) + np.sum(right * W34[:, 3:])


def split_at_unsorted_indices(x):
    first, empty, last = np.split(x, [3, 1])  # NumPy slices x[:3], x[3:1], x[1:]: overlap
    return np.sum(first**2 * W34[0, :3]) + np.sum(empty) + np.sum(last**3 * W34.ravel()[4:9])


def split_in_a_loop(x):
    total = 0.0
    for k, part in enumerate(np.array_split(x, 3)):
        total = total + (k + 1.0) * np.sum(part**2)
    return total


def array_split_uneven(x):
    a, b = np.array_split(x, 2, axis=0)
    return np.sum(a**2 * W34[:2]) + np.sum(np.exp(b) * W34[2])


def hsplit(x, v):
    left, right = np.hsplit(x, 2)
    first, second = np.hsplit(v, [1])
    return np.sum(left**2 * W34[:, :2]) + np.sum(right * W34[:, 2:]) + np.sum(second**2 * first)


def vsplit(x):
    top, bottom = np.vsplit(x, [2])
    return np.sum(top**2 * W34[:2]) + np.sum(bottom**3 * W34[2:])


def dsplit(t):
    front, back = np.dsplit(t, [1])
    return np.sum(np.sin(back) * W234[:, :, 1:])


def split_rejoined(x):
    return np.sum(np.concatenate(np.split(x, 2, axis=1)[::-1], axis=0) ** 2 * W34.reshape(6, 2))


def split_stacked(x):
    return np.sum(np.stack(np.split(x, 2, axis=1)) ** 2 * W234[:, :, :2])


def test_split():
    for f in (split_unpacked, split_at_unsorted_indices):
        assert check_grad(f, R.uniform(size=6)) < 1e-6, f.__name__
    for f in (split_one_part_used, split_at_indices, split_in_a_loop, array_split_uneven, vsplit):
        assert check_grad(f, M34) < 1e-6, f.__name__
    assert check_grad(hsplit, M34, R.uniform(size=3), wrt=(0, 1)) < 1e-6
    assert check_grad(dsplit, T234) < 1e-6
    assert check_grad(split_rejoined, M34) < 1e-6
    assert check_grad(split_stacked, M34) < 1e-6


# ----- refused, with the line ------------------------------------------------------------
def pad_mean(x):
    return np.sum(np.pad(x, 1, mode="mean") ** 2)


def pad_odd_reflection(x):
    return np.sum(np.pad(x, 1, "reflect", reflect_type="odd") ** 2)


def pad_mode_of_the_caller(x, mode):
    return np.sum(np.pad(x, 1, mode) ** 2)


def test_pad_modes_that_do_not_copy_are_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"np\.pad.*mode='mean'") as error:
        s2sad.grad(pad_mean)(M34)
    assert error.value.location.line == line_of('np.pad(x, 1, mode="mean")')
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"np\.pad.*reflect_type='odd'"):
        s2sad.grad(pad_odd_reflection)(M34)
    assert check_grad(pad_mode_of_the_caller, M34, "wrap") < 1e-6
    with pytest.raises(s2sad.NonDifferentiableError, match=r"np\.pad.*mode='maximum'"):
        s2sad.grad(pad_mode_of_the_caller)(M34, "maximum")


# ----- a list of parts as the output: vjp's seed is one gradient per part -------------------
def doubled_parts(x):
    return np.split(x * 2.0, [1])


def test_split_as_the_output_takes_a_seed_per_part():
    pull = s2sad.vjp(doubled_parts)
    x = np.arange(4.0)
    seed = [np.array([5.0]), np.array([1.0, 2.0, 3.0])]
    np.testing.assert_allclose(pull(x, seed=seed), [10.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(pull(x, seed=(seed[0], np.zeros(3))), [10.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(pull(x, seed=[0.0, seed[1]]), [0.0, 2.0, 4.0, 6.0])


# ----- ranges ----------------------------------------------------------------------------
def arange_from_a_value(a, step):
    return np.sum(np.arange(a, 5.0, step) ** 2) + np.sum(np.arange(4) * a)


def linspace_of_values(a, b):
    ramp = np.linspace(a, b, 5)
    open_ramp = np.linspace(b, a, 4, endpoint=False)
    return np.sum(ramp**2 * np.arange(5.0)) + np.sum(np.sin(open_ramp)) + np.linspace(a, b, 1)[0]


def linspace_of_arrays(a, b):
    grid = np.linspace(a, b, 4, axis=-1)  # (2, 3, 4): the samples along the last axis
    return np.sum(grid**2 * np.arange(4.0)) + np.sum(np.linspace(a, b[0], 3, axis=1) ** 3)


def test_arange_and_linspace_are_differentiated_in_their_endpoints_and_step():
    assert check_grad(arange_from_a_value, 0.3, 0.5, wrt=(0, 1)) < 1e-6  # 10 values: steady
    assert check_grad(linspace_of_values, 0.3, 1.7, wrt=(0, 1)) < 1e-6
    a, b = np.array([0.5, -1.0, 2.0]), np.array([[1.0, 0.2, -0.3], [0.4, 0.9, 1.5]])
    assert check_grad(linspace_of_arrays, a, b, wrt=(0, 1)) < 1e-6


def split_parts_under_two_names(x):
    parts = np.split(x * 1.0, 3)
    same = parts  # the adjoints of parts and same are lists: added part by part, not joined
    return np.sum(parts[0] * 2.0) + np.sum(same[2] ** 2) + np.sum(parts[2])


def atleast_of_two_under_two_names(x):
    pair = np.atleast_1d(x * 1.0, x * 2.0)
    same = pair
    return np.sum(pair[0] * 2.0) + np.sum(same[1] ** 2) + np.sum(pair[1])


def test_lists_of_parts_held_by_two_names():
    assert check_grad(split_parts_under_two_names, np.arange(1.0, 7.0)) < 1e-6
    assert check_grad(atleast_of_two_under_two_names, np.arange(1.0, 7.0)) < 1e-6
