"""Adjoints of NumPy functions that take more than a one-line template: the rules of
s2sad.rules call them, and generated code reaches them as it does s2sad.runtime's helpers.

Each takes the adjoint ``g`` of the function's result and the function's arguments (and its
result, where that saves work), never changes them, and returns a new array:

>>> import numpy as np
>>> prod_grad(1.0, np.array([2.0, 0.0, 5.0]), None, False)  # right where a is 0
array([ 0., 10.,  0.])
>>> clip_grad(1.0, np.array([-1.0, 0.0, 0.5]), 0.0, 1.0, "a")  # a tie splits g
array([0. , 0.5, 1. ])
"""

from __future__ import annotations

import numpy as np

from .errors import NonDifferentiableError
from .runtime import expand_reduced, extremum_grad, is_zero, unbroadcast

__all__ = [
    "sinc_slope",
    "real_input",
    "item_grad",
    "clip_grad",
    "prod_grad",
    "std_grad",
    "nanmean_grad",
    "nanextremum_grad",
    "ptp_grad",
    "average_grad",
    "median_grad",
    "sort_grad",
    "cumprod_grad",
    "tile_grad",
    "repeated_grad",
    "diagonal_grad",
    "trace_grad",
]


def _axes(axis, ndim: int) -> tuple:
    """``axis`` (None, an int or a tuple, maybe negative) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))


def _float(g):
    """The dtype a gradient array made from ``g`` has (at least float64's kind)."""
    return np.result_type(g, np.float64)


def _as_float(value):
    """``value`` (a number, a list, an array) as an array of a floating type."""
    value = np.asarray(value)
    return value.astype(_float(value), copy=False)


# ----- casts ---------------------------------------------------------------------------------
def item_grad(g, a, index):
    """The adjoint of ``a`` in ``a.item(*index)``: ``g`` at that element (a single index
    counts in the flattened array, as ``item`` does), zeros elsewhere.

    >>> item_grad(2.0, np.zeros((2, 2)), (3,))
    array([[0., 0.],
           [0., 2.]])
    """
    grad = np.zeros(np.shape(a), _float(g))
    if len(index) == 1 and np.ndim(index[0]) == 0:
        grad.reshape(-1)[index[0]] = g
    else:
        grad[tuple(index[0]) if len(index) == 1 else tuple(index)] = g
    return grad


# ----- elementwise and reductions -------------------------------------------------------------
def sinc_slope(x):
    """d sinc(x)/dx = (cos(pi x) - sinc(x)) / x, and its series -pi**2 x / 3 + pi**4 x**3 / 30
    near 0, where the quotient loses every digit to cancellation (it is 0 at 0).

    >>> sinc_slope(np.array([0.0, 1.0])) + 0.0  # + 0.0: the series gives -0.0 at 0
    array([ 0., -1.])
    """
    x = _as_float(x)
    near = np.abs(x) < 1e-3  # the series' next term is below 1e-12 of the first there
    far = np.where(near, 1.0, x)
    series = x * (-(np.pi**2) / 3.0 + (np.pi**4 / 30.0) * x * x)
    return np.where(near, series, (np.cos(np.pi * far) - np.sinc(far)) / far)


def real_input(g, x):
    """``g``, the adjoint of ``x`` in ``np.real(x)`` or ``np.conj(x)``, which are the
    identity for real ``x``; s2sad does not differentiate complex numbers, and says so."""
    if np.iscomplexobj(x):
        raise NonDifferentiableError(
            "np.real/np.conj",
            why="s2sad differentiates real numbers only, and this argument is complex",
        )
    return g


def clip_grad(g, a, a_min, a_max, wrt):
    """The adjoint of ``wrt`` ("a", "low" or "high") in ``np.clip(a, low, high)``, before it
    is summed back over broadcast axes. ``np.clip`` is ``np.minimum(np.maximum(a, low),
    high)`` and is differentiated as that: where ``a`` equals a bound, the two share ``g``
    equally, as ties do in ``np.maximum``/``np.minimum``. A bound of None is no bound."""
    a = np.asarray(a)  # lists compare as arrays, not as wholes
    a_min = None if a_min is None else np.asarray(a_min)
    a_max = None if a_max is None else np.asarray(a_max)
    low = a if a_min is None else np.maximum(a, a_min)
    if wrt == "high":
        return g * np.where(low == a_max, 0.5, a_max < low)
    upper = 1.0 if a_max is None else np.where(low == a_max, 0.5, low < a_max)
    if wrt == "low":
        return g * upper * np.where(a == a_min, 0.5, a_min > a)
    lower = 1.0 if a_min is None else np.where(a == a_min, 0.5, a > a_min)
    return g * upper * lower


def prod_grad(g, a, axis, keepdims):
    """The adjoint of ``a`` in ``np.prod(a, axis)``: ``g`` times the product of the other
    elements of each reduced group, from products of the elements before and after each
    one, so it is exact where ``a`` holds zeros (``g * ans / a`` is not)."""
    a = np.asarray(a)
    reduced = _axes(axis, a.ndim)
    order = [i for i in range(a.ndim) if i not in reduced] + list(reduced)
    moved = np.transpose(a, order).astype(np.result_type(a.dtype, float))  # ints overflow
    kept = moved.shape[: a.ndim - len(reduced)]
    groups = moved.reshape(kept + (int(np.prod(moved.shape[len(kept) :])),))  # size 0 too
    before = np.ones_like(groups)
    before[..., 1:] = np.cumprod(groups[..., :-1], axis=-1)
    after = np.ones_like(groups)
    after[..., :-1] = np.cumprod(groups[..., :0:-1], axis=-1)[..., ::-1]
    others = np.transpose((before * after).reshape(moved.shape), np.argsort(order))
    return expand_reduced(g, a, axis, keepdims) * others


def std_grad(g, a, ans, axis, ddof, keepdims):
    """The adjoint of ``a`` in ``np.std(a, axis, ddof=ddof)``: 0 where the deviation is 0
    (all the elements reduced together are equal), as for a norm at 0."""
    a = np.asarray(a)
    count = a.size / max(np.size(ans), 1) - ddof
    std = expand_reduced(ans, a, axis, keepdims)
    scale = np.divide(
        expand_reduced(g, a, axis, keepdims),
        std * count,
        out=np.zeros(np.shape(std), _float(g)),
        where=std != 0,
    )
    return scale * (a - np.mean(a, axis=axis, keepdims=True))


def nanmean_grad(g, a, axis, keepdims):
    """The adjoint of ``a`` in ``np.nanmean(a, axis)``: ``g`` over the number of elements
    that are not NaN, and 0 at the NaN ones."""
    a = np.asarray(a)
    present = ~np.isnan(a)
    count = np.sum(present, axis=axis, keepdims=True)
    share = np.divide(present, count, out=np.zeros(a.shape, _float(g)), where=count > 0)
    return expand_reduced(g, a, axis, keepdims) * share


def nanextremum_grad(g, a, ans, axis, keepdims):
    """The adjoint of ``a`` in ``np.nanmax(a, axis)`` / ``np.nanmin``: as ``np.max``'s (ties
    share ``g``), 0 at NaN elements, and 0 for a slice that is all NaN."""
    a = np.asarray(a)
    mask = a == expand_reduced(ans, a, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True)
    share = np.divide(mask, count, out=np.zeros(a.shape, _float(g)), where=count > 0)
    return expand_reduced(g, a, axis, keepdims) * share


def ptp_grad(g, a, axis, keepdims):
    """The adjoint of ``a`` in ``np.ptp(a, axis)``, ``max - min``: ties share as in
    ``np.max``, so a slice of equal elements gets 0."""
    a = np.asarray(a)
    largest = np.max(a, axis=axis, keepdims=keepdims)
    smallest = np.min(a, axis=axis, keepdims=keepdims)
    return extremum_grad(g, a, largest, axis, keepdims) - extremum_grad(
        g, a, smallest, axis, keepdims
    )


def average_grad(g, a, axis, weights, returned, keepdims, wrt):
    """The adjoint of ``wrt`` ("a" or "weights") in ``np.average(a, axis, weights)``, that is
    ``sum(a * w, axis) / sum(w, axis)``. With ``returned=True`` the result is the pair
    (average, sum of weights) and ``g`` the pair of their adjoints (0.0 for an unused one).

    >>> average_grad(1.0, np.array([1.0, 3.0]), None, np.array([1.0, 3.0]), False, False, "weights")
    array([-0.375,  0.125])
    """
    a = np.asarray(a)
    g_average, g_total = g if returned else (g, 0.0)
    spread = 0.0 if is_zero(g_average) else expand_reduced(g_average, a, axis, keepdims)
    if weights is None:
        count = np.prod([a.shape[i] for i in _axes(axis, a.ndim)])
        return np.broadcast_to(spread, a.shape) / count
    w = np.asarray(weights)
    axes = None if w.shape == a.shape else _given_axes(axis, a.ndim)
    aligned = w if axes is None else _aligned(w, a.shape, axes)
    total = np.sum(aligned, axis=axis, keepdims=True)
    if wrt == "a":
        return spread * np.broadcast_to(aligned, a.shape) / total
    average = np.sum(a * aligned, axis=axis, keepdims=True) / total
    grad = np.broadcast_to(spread * (a - average) / total, a.shape)
    if not is_zero(g_total):  # the sum of weights, which NumPy broadcasts to the average's
        grad = grad + expand_reduced(g_total, a, axis, keepdims)
    grad = unbroadcast(grad, aligned)
    if axes is None:
        return grad
    in_order = np.reshape(grad, tuple(a.shape[i] for i in sorted(axes)))
    return np.transpose(in_order, np.argsort(np.argsort(axes)))


def _given_axes(axis, ndim: int) -> tuple:
    """``axis`` (an int or a tuple, maybe negative) as non-negative axes, in the given order."""
    return tuple(i % ndim for i in (axis if isinstance(axis, tuple) else (axis,)))


def _aligned(w, shape, axes):
    """Weights of the averaged axes' shape (in the order of ``axes``) put in those axes and
    1 in the others, as ``np.average`` aligns them with ``a``."""
    w = np.transpose(w, np.argsort(axes))
    return np.reshape(w, tuple(n if i in axes else 1 for i, n in enumerate(shape)))


def median_grad(g, a, axis, keepdims):
    """The adjoint of ``a`` in ``np.median(a, axis)``: ``g`` goes to the middle element, or
    half of it to each of the two middle ones. Each middle value's share is split equally
    between the elements equal to it, as ties are in ``np.max`` (JAX gives it to one of
    them, by sort order). A slice holding a NaN gets 0.

    >>> median_grad(1.0, np.array([4.0, 1.0, 3.0, 2.0]), None, False)
    array([0. , 0. , 0.5, 0.5])
    """
    a = np.asarray(a)
    reduced = _axes(axis, a.ndim)
    order = [i for i in range(a.ndim) if i not in reduced] + list(reduced)
    moved = np.transpose(a, order)
    groups = moved.reshape(moved.shape[: a.ndim - len(reduced)] + (-1,))
    n = groups.shape[-1]
    ordered = np.sort(groups, axis=-1)
    share = np.zeros(groups.shape, _float(g))
    for middle in sorted({(n - 1) // 2, n // 2}):
        mask = groups == ordered[..., middle : middle + 1]
        count = np.sum(mask, axis=-1, keepdims=True)
        weight = 1.0 if n % 2 else 0.5
        share += np.divide(weight * mask, count, out=np.zeros(share.shape), where=count > 0)
    share = np.transpose(share.reshape(moved.shape), np.argsort(order))
    return expand_reduced(g, a, axis, keepdims) * share


def sort_grad(g, a, axis):
    """The adjoint of ``a`` in ``np.sort(a, axis)``: each element gets the gradient of the
    place it is sorted to; equal elements take their places in order (a stable sort)."""
    a = np.asarray(a)
    grad = np.zeros(a.shape, _float(g))
    if axis is None:
        grad.reshape(-1)[np.argsort(a, axis=None, kind="stable")] = g
        return grad
    np.put_along_axis(grad, np.argsort(a, axis=axis, kind="stable"), g, axis)
    return grad


def cumprod_grad(g, a, axis):
    """The adjoint of ``a`` in ``np.cumprod(a, axis)`` (of the flattened ``a`` when ``axis``
    is None): the sums from the end of ``g * ans``, divided by ``a``; where ``a`` holds a 0,
    the product's recurrence run backwards instead, which is exact there."""
    a = np.asarray(a)
    flat = a.reshape(-1) if axis is None else a
    x = np.moveaxis(flat, 0 if axis is None else axis, -1)
    g = np.moveaxis(np.broadcast_to(g, flat.shape), 0 if axis is None else axis, -1)
    ans = np.cumprod(x, axis=-1)
    if np.all(x != 0):
        grad = np.cumsum((g * ans)[..., ::-1], axis=-1)[..., ::-1] / x
    else:  # carried_j = g_j + x_(j+1) carried_(j+1); the adjoint of x_j is carried_j ans_(j-1)
        grad = np.zeros(x.shape, _float(g))
        carried = np.zeros(x.shape[:-1], _float(g))
        for j in range(x.shape[-1] - 1, -1, -1):
            carried = g[..., j] + carried * (x[..., j + 1] if j + 1 < x.shape[-1] else 0.0)
            grad[..., j] = carried * (ans[..., j - 1] if j else 1.0)
    return np.reshape(np.moveaxis(grad, -1, 0 if axis is None else axis), a.shape)


# ----- repetition and diagonals ---------------------------------------------------------------
def tile_grad(g, a, reps):
    """The adjoint of ``a`` in ``np.tile(a, reps)``: the copies of ``a`` summed."""
    shape = np.shape(a)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    ndim = max(len(reps), len(shape))
    reps = (1,) * (ndim - len(reps)) + reps
    padded = (1,) * (ndim - len(shape)) + shape
    split = np.reshape(g, [n for pair in zip(reps, padded) for n in pair])
    return np.reshape(np.sum(split, axis=tuple(range(0, 2 * ndim, 2))), shape)


def repeated_grad(g, a, repeats, axis):
    """The adjoint of ``a`` in ``np.repeat(a, repeats, axis)``: the repeats summed (over
    the flattened ``a`` when ``axis`` is None)."""
    shape = np.shape(a)
    if axis is None:
        g, axis, length = np.ravel(g), 0, int(np.prod(shape))
    else:
        length = shape[axis]
    g = np.moveaxis(g, axis, 0)
    if np.ndim(repeats) == 0:
        summed = np.sum(np.reshape(g, (length, int(repeats)) + g.shape[1:]), axis=1)
    else:  # a count for each element
        summed = np.zeros((length,) + g.shape[1:], _float(g))
        np.add.at(summed, np.repeat(np.arange(length), repeats), g)
    return np.reshape(np.moveaxis(summed, 0, axis), shape)


def diagonal_grad(g, a, offset, axis1, axis2):
    """The adjoint of ``a`` in ``np.diagonal(a, offset, axis1, axis2)`` (and of a 2-D ``a``
    in ``np.diag(a, offset)``): ``g`` on that diagonal, zeros elsewhere."""
    shape = np.shape(a)
    grad = np.zeros(shape, _float(g))
    steps = np.arange(np.shape(g)[-1])
    rows, cols = steps + max(-offset, 0), steps + max(offset, 0)
    np.moveaxis(grad, (axis1 % len(shape), axis2 % len(shape)), (-2, -1))[..., rows, cols] = g
    return grad


def trace_grad(g, a, offset, axis1, axis2):
    """The adjoint of ``a`` in ``np.trace(a, offset, axis1, axis2)``: ``g`` on the diagonal."""
    shape = np.shape(a)
    first, second = axis1 % len(shape), axis2 % len(shape)
    eye = np.eye(shape[first], shape[second], offset)
    if first > second:
        eye = eye.T
    low, high = sorted((first, second))
    others = tuple(i for i in range(len(shape)) if i not in (low, high))
    return np.expand_dims(g, (low, high)) * np.expand_dims(eye, others)
