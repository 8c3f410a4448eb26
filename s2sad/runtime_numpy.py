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
from .runtime import array_grad, expand_reduced, extremum_grad, is_zero, unbroadcast

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
    "inner_grad_left",
    "inner_grad_right",
    "einsum_grad",
    "tensordot_grad",
    "kron_grad",
    "cross_grad",
    "multi_dot_grad",
    "polyval_grad",
    "interp_grad",
    "select_grad",
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


# ----- products -------------------------------------------------------------------------------
def inner_grad_left(g, a, b):
    """The adjoint of ``a`` in ``np.inner(a, b)`` (a sum over the last axes of both)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    result_axes = range(np.ndim(a) - 1, np.ndim(g))
    return np.tensordot(g, b, axes=(list(result_axes), list(range(np.ndim(b) - 1))))


def inner_grad_right(g, a, b):
    """The adjoint of ``b`` in ``np.inner(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    leading = list(range(np.ndim(a) - 1))
    return np.tensordot(g, a, axes=(leading, leading))


def einsum_grad(g, subscripts, operands, position, optimize):
    """The adjoint of ``operands[position]`` in ``np.einsum(subscripts, *operands)``: the
    einsum of ``g`` with the other operands, over that operand's labels. A label no other
    operand and not the output has (``ij->i``: j) spreads ``g`` along it; a label the
    operand has with size 1 where the others have more is summed back, as broadcasting is;
    a repeated label (``ii``) puts the gradient on that diagonal, zeros elsewhere."""
    if not isinstance(subscripts, str):
        raise NonDifferentiableError(
            "np.einsum",
            why="s2sad differentiates its subscripts form (np.einsum('ij,jk->ik', a, b)), "
            "not its sublist form (np.einsum(a, [0, 1], b, [1, 2]))",
        )
    arrays = [np.asarray(operand) for operand in operands]
    inputs, output = einsum_labels(subscripts, [array.ndim for array in arrays])
    labels, shape = inputs[position], arrays[position].shape
    distinct = "".join(dict.fromkeys(labels))  # in order, each once
    others = [i for i in range(len(arrays)) if i != position]
    seen = set(output).union(*(inputs[i] for i in others))
    kept = "".join(label for label in distinct if label in seen)
    spec = ",".join([output, *(inputs[i] for i in others)]) + "->" + kept
    grad = np.einsum(spec, g, *(arrays[i] for i in others), optimize=optimize)
    sizes = dict(zip(labels, shape))
    grad = np.expand_dims(grad, tuple(i for i, label in enumerate(distinct) if label not in seen))
    ones = tuple(i for i, label in enumerate(distinct) if sizes[label] == 1 and grad.shape[i] > 1)
    if ones:
        grad = np.sum(grad, axis=ones, keepdims=True)
    grad = np.broadcast_to(grad, tuple(sizes[label] for label in distinct))
    if distinct == labels:
        return grad
    spread = np.zeros(shape, _float(grad))
    np.einsum(f"{labels}->{distinct}", spread)[...] = grad  # a writeable view of the diagonal
    return spread


def einsum_labels(subscripts: str, ndims: list[int]) -> tuple[list[str], str]:
    """The labels of each operand of ``np.einsum(subscripts, ...)`` and of its output, with
    ``...`` spelt out as letters the subscripts do not use (aligned from the right, as
    broadcasting aligns axes) and the implicit output (no ``->``) spelt out as NumPy makes
    it: the broadcast axes, then each label used once, in sorted order.

    >>> einsum_labels("...ij,jk", [3, 2])
    (['aij', 'jk'], 'aik')
    """
    spec = subscripts.replace(" ", "")
    left, arrow, output = spec.partition("->")
    inputs = left.split(",")
    free = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    widths = [
        ndim - len(labels.replace("...", "")) if "..." in labels else 0
        for labels, ndim in zip(inputs, ndims)
    ]
    broadcast = "".join(free[: max(widths, default=0)])
    inputs = [
        labels.replace("...", broadcast[len(broadcast) - width :])
        for labels, width in zip(inputs, widths)
    ]
    if arrow:
        return inputs, output.replace("...", broadcast)
    named = "".join(inputs)
    once = sorted(c for c in set(named) if named.count(c) == 1 and c not in broadcast)
    return inputs, broadcast + "".join(once)


def tensordot_grad(g, a, b, axes, wrt):
    """The adjoint of ``wrt`` ("a" or "b") in ``np.tensordot(a, b, axes)``, as the einsum it
    is (``axes`` an int, or a pair of ints or of sequences of axes).

    >>> tensordot_grad(np.ones(2), np.ones((2, 3)), np.arange(3.0), 1, "a")
    array([[0., 1., 2.],
           [0., 1., 2.]])
    """
    a, b = np.asarray(a), np.asarray(b)
    if isinstance(axes, (int, np.integer)):
        summed_a, summed_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        summed_a, summed_b = (
            [i % ndim for i in (np.atleast_1d(side).tolist())]
            for side, ndim in zip(axes, (a.ndim, b.ndim))
        )
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    labels_a = [next(letters) for _ in range(a.ndim)]
    partner = dict(zip(summed_b, summed_a))
    labels_b = [labels_a[partner[j]] if j in partner else next(letters) for j in range(b.ndim)]
    output = [label for i, label in enumerate(labels_a) if i not in summed_a]
    output += [label for j, label in enumerate(labels_b) if j not in summed_b]
    spec = "".join(labels_a) + "," + "".join(labels_b) + "->" + "".join(output)
    return einsum_grad(g, spec, (a, b), 0 if wrt == "a" else 1, False)


def kron_grad(g, a, b, wrt):
    """The adjoint of ``wrt`` ("a" or "b") in ``np.kron(a, b)``: ``g`` split into the blocks
    ``a[i] * b`` (the operand of fewer dimensions padded with leading 1s), contracted with
    the other operand."""
    shape_a, shape_b = np.shape(a), np.shape(b)
    ndim = max(len(shape_a), len(shape_b))
    a = np.reshape(a, (1,) * (ndim - len(shape_a)) + shape_a)
    b = np.reshape(b, (1,) * (ndim - len(shape_b)) + shape_b)
    blocks = np.reshape(g, [n for pair in zip(a.shape, b.shape) for n in pair])
    if wrt == "a":
        return np.reshape(
            np.tensordot(blocks, b, (list(range(1, 2 * ndim, 2)), list(range(ndim)))), shape_a
        )
    return np.reshape(
        np.tensordot(blocks, a, (list(range(0, 2 * ndim, 2)), list(range(ndim)))), shape_b
    )


def cross_grad(g, a, b, axisa, axisb, axisc, axis, wrt):
    """The adjoint of ``wrt`` ("a" or "b") in ``np.cross(a, b, axisa, axisb, axisc, axis)``:
    ``b × g`` and ``g × a`` (vectors of 2 components are those of 3 with a 0 last), summed
    back where the operands were broadcast."""
    if axis is not None:
        axisa = axisb = axisc = axis
    moved_a, moved_b = np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1)
    planar = moved_a.shape[-1] == 2 and moved_b.shape[-1] == 2  # the result: a number each
    g = np.asarray(g)
    if planar:
        g = np.stack([np.zeros(g.shape), np.zeros(g.shape), g], axis=-1)
    else:
        g = np.moveaxis(g, axisc, -1)
    three_a, three_b = _three(moved_a), _three(moved_b)
    grad = np.cross(three_b, g) if wrt == "a" else np.cross(g, three_a)
    like = moved_a if wrt == "a" else moved_b
    grad = unbroadcast(grad[..., : like.shape[-1]], like)
    return np.moveaxis(grad, -1, axisa if wrt == "a" else axisb)


def _three(vectors):
    """Vectors along the last axis, of 3 components (a 0 added to those of 2)."""
    if vectors.shape[-1] == 3:
        return vectors
    return np.concatenate([vectors, np.zeros(vectors.shape[:-1] + (1,))], axis=-1)


def multi_dot_grad(g, arrays):
    """The adjoints of ``arrays`` in ``np.linalg.multi_dot(arrays)`` (the first may be a row
    vector, the last a column vector): ``left.T @ g @ right.T`` for each, with ``left`` and
    ``right`` the products of the arrays before and after it."""
    matrices = [np.asarray(x) for x in arrays]
    if matrices[0].ndim == 1:
        matrices[0] = matrices[0][None, :]
    if matrices[-1].ndim == 1:
        matrices[-1] = matrices[-1][:, None]
    g = np.reshape(g, (matrices[0].shape[0], matrices[-1].shape[1]))
    before = [np.eye(matrices[0].shape[0])]
    for matrix in matrices[:-1]:
        before.append(before[-1] @ matrix)
    after = [np.eye(matrices[-1].shape[1])]
    for matrix in matrices[:0:-1]:
        after.append(matrix @ after[-1])
    after.reverse()
    grads = [left.T @ g @ right.T for left, right in zip(before, after)]
    grads = [np.reshape(grad, np.shape(x)) for grad, x in zip(grads, arrays)]
    return type(arrays)(grads) if isinstance(arrays, (list, tuple)) else grads


def polyval_grad(g, p, x, wrt):
    """The adjoint of ``wrt`` ("p" or "x") in ``np.polyval(p, x)``: for ``p[k]``, the sum of
    ``g * x ** (n - 1 - k)``; for ``x``, ``g`` times the derivative polynomial at ``x``."""
    coefficients = np.atleast_1d(_as_float(p))
    n = len(coefficients)
    if wrt == "x":
        slope = np.polyval(np.polyder(coefficients), x) if n > 1 else np.zeros(np.shape(x))
        return g * slope
    x = _as_float(x)
    powers = x[..., None] ** np.arange(n - 1, -1, -1)
    grad = np.reshape(
        np.sum(np.broadcast_to(g, x.shape)[..., None] * powers, axis=tuple(range(x.ndim))),
        np.shape(p),
    )
    return array_grad(grad, p)


def interp_grad(g, x, xp, fp, left, right, wrt):
    """The adjoint of ``wrt`` ("x", "xp", "fp", "left" or "right") in ``np.interp(x, xp, fp,
    left, right)``. An ``x`` on a knot takes the slope of the segment to its right (of the
    last segment at the last knot), as JAX does; outside the knots the result is constant."""
    x, xp, fp = _as_float(x), _as_float(xp), _as_float(fp)
    g = np.broadcast_to(g, x.shape)
    n = len(xp)
    high = np.clip(np.searchsorted(xp, x, side="right"), 1, n - 1)
    low = high - 1
    width = xp[high] - xp[low]
    step = fp[high] - fp[low]
    slope = np.divide(step, width, out=np.zeros(x.shape), where=width != 0)
    t = np.divide(x - xp[low], width, out=np.zeros(x.shape), where=width != 0)
    below, above = x < xp[0], x > xp[-1]
    inside = ~below & ~above
    if wrt == "x":
        return g * slope * inside
    if wrt in ("left", "right"):
        return np.sum(g * (below if wrt == "left" else above))
    grad = np.zeros(n, _float(g))
    if wrt == "fp":
        np.add.at(grad, low, g * (1.0 - t) * inside)
        np.add.at(grad, high, g * t * inside)
        grad[0] += np.sum(g * below) if left is None else 0.0
        grad[-1] += np.sum(g * above) if right is None else 0.0
    else:
        np.add.at(grad, low, g * slope * (t - 1.0) * inside)
        np.add.at(grad, high, -g * slope * t * inside)
    return grad


def select_grad(g, condlist, choicelist, default, wrt):
    """The adjoint of ``wrt`` ("choicelist" or "default") in ``np.select(condlist,
    choicelist, default)``: each choice gets ``g`` where its condition is the first that
    holds, the default where none does; each summed back where it was broadcast."""
    taken = np.zeros(np.shape(g), dtype=bool)
    grads = []
    for condition, choice in zip(condlist, choicelist):
        here = np.asarray(condition, dtype=bool) & ~taken
        grads.append(unbroadcast(np.where(here, g, 0.0), choice))
        taken = taken | here
    if wrt == "default":
        return unbroadcast(np.where(taken, 0.0, g), default)
    if isinstance(choicelist, np.ndarray):
        return np.array(grads)
    return type(choicelist)(grads) if type(choicelist) in (list, tuple) else grads
