"""Adjoints of NumPy's array shaping and indexing functions (np.take, np.pad, np.split...):
the rules of s2sad.rules.arrays call them, as generated code calls s2sad.runtime's helpers.

Each takes the adjoint ``g`` of the function's result and the function's arguments, never
changes them, and returns a new array (or a list of them, one per array of a list argument).
Repeated indices accumulate:

>>> import numpy as np
>>> take_grad(np.array([1.0, 2.0, 3.0]), np.zeros(4), [0, 0, 3], None, "raise")
array([3., 0., 0., 3.])
>>> array_split_grad([0.0, np.ones(2)], np.zeros(4), 2, 0)  # a part nothing used: 0.0
array([0., 0., 1., 1.])
"""

from __future__ import annotations

import numpy as np

from .errors import NonDifferentiableError
from .runtime import is_zero, unbroadcast

__all__ = [
    "atleast_grad",
    "diff_grad",
    "hstack_grad",
    "vstack_grad",
    "dstack_grad",
    "column_stack_grad",
    "take_grad",
    "take_along_axis_grad",
    "pad_grad",
    "pad_values_grad",
    "array_split_grad",
    "linspace_grad",
]


def _float(g):
    """The dtype of a gradient array made from ``g`` (at least float64's kind); ``g`` may
    be a list or tuple of part gradients (of np.split's parts), of any shapes."""
    if isinstance(g, (list, tuple)):
        return np.result_type(*(_float(part) for part in g), np.float64)
    return np.result_type(np.asarray(g).dtype, np.float64)


# ----- adding axes of length 1 -----------------------------------------------------------
def atleast_grad(g, arys, position):
    """The adjoint of ``arys[position]`` in ``np.atleast_1d(*arys)`` (``_2d``, ``_3d``),
    which only adds axes of length 1: ``g`` reshaped back. With several arguments NumPy
    returns a tuple, and ``g`` holds one gradient per array (0.0 for one never used).

    >>> atleast_grad(np.ones((1, 2)), (np.zeros(2),), 0)
    array([1., 1.])
    """
    shape = np.shape(arys[position])
    if len(arys) > 1 and not is_zero(g):
        g = g[position]
    if np.ndim(g) == 0:  # 0.0 for no gradient, or a number standing for a filled array
        return np.full(shape, g, dtype=_float(g))
    return np.reshape(g, shape)


# ----- differences -----------------------------------------------------------------------
def diff_grad(g, a, n, axis, prepend, append, wrt):
    """The adjoint of ``wrt`` ("a", "prepend" or "append") in ``np.diff(a, n, axis,
    prepend=prepend, append=append)``; None stands for a prepend or append not given.

    NumPy differences ``a`` with ``prepend`` and ``append`` joined to it along ``axis`` (a
    number is one slice filled with it); one difference ``d[i] = x[i + 1] - x[i]`` has the
    adjoint ``x̄[j] = g[j - 1] - g[j]`` (``g`` taken as 0 past its ends).

    >>> diff_grad(np.array([1.0, 10.0]), np.zeros(3), 1, -1, None, None, "a")
    array([-1., -9., 10.])
    """
    a = np.asanyarray(a)
    parts = {"prepend": prepend, "a": a, "append": append}
    if n == 0:  # np.diff returns a itself and ignores prepend and append
        return g if wrt == "a" else np.zeros(np.shape(parts[wrt]))
    axis = axis % a.ndim
    lengths = {}
    for name, part in parts.items():
        if part is not None:
            lengths[name] = np.shape(part)[axis] if np.ndim(part) else 1
    for _ in range(n):
        g = -np.diff(g, axis=axis, prepend=0.0, append=0.0)
    start = 0
    for name, length in lengths.items():
        if name == wrt:
            break
        start += length
    index = (slice(None),) * axis + (slice(start, start + lengths[wrt]),)
    return unbroadcast(g[index], parts[wrt])  # a number was broadcast to a slice


# ----- joining along an axis -------------------------------------------------------------
def _unjoined(g, arrays, made, axis):
    """``g`` split where ``np.concatenate(made, axis)`` joined ``made`` (the arrays as the
    joining function shaped them), each part reshaped as the array it was made of."""
    sizes = np.cumsum([np.shape(each)[axis] for each in made])[:-1]
    parts = np.split(g, sizes, axis=axis)
    return [np.reshape(part, np.shape(array)) for part, array in zip(parts, arrays)]


def hstack_grad(g, tup):
    """The adjoint of ``tup`` in ``np.hstack(tup)``: along axis 0 for vectors, else 1.

    >>> hstack_grad(np.arange(3.0), [np.zeros(2), 5.0])
    [array([0., 1.]), array(2.)]
    """
    made = [np.atleast_1d(array) for array in tup]
    return _unjoined(g, tup, made, 0 if made[0].ndim == 1 else 1)


def vstack_grad(g, tup):
    """The adjoint of ``tup`` in ``np.vstack(tup)`` (vectors are rows)."""
    return _unjoined(g, tup, [np.atleast_2d(array) for array in tup], 0)


def dstack_grad(g, tup):
    """The adjoint of ``tup`` in ``np.dstack(tup)`` (joined along the third axis)."""
    return _unjoined(g, tup, [np.atleast_3d(array) for array in tup], 2)


def column_stack_grad(g, tup):
    """The adjoint of ``tup`` in ``np.column_stack(tup)`` (vectors are columns)."""
    made = [np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else np.asanyarray(a) for a in tup]
    return _unjoined(g, tup, made, 1)


# ----- indexing --------------------------------------------------------------------------
def take_grad(g, a, indices, axis, mode):
    """The adjoint of ``a`` in ``np.take(a, indices, axis, mode=mode)``: each element of
    ``g`` added where it was taken from (an index taken twice gets both).

    >>> take_grad(np.array([[1.0, 2.0]]), np.zeros((1, 3)), [2, -1], 1, "raise")
    array([[0., 0., 3.]])
    """
    a = np.asarray(a)
    grad = np.zeros(a.shape, _float(g))
    if axis is None:
        positions = np.take(np.arange(a.size), indices, mode=mode)  # what mode made of them
        np.add.at(grad.reshape(-1), positions, g)
        return grad
    axis = axis % a.ndim
    positions = np.take(np.arange(a.shape[axis]), indices, mode=mode)
    taken = list(range(axis, axis + positions.ndim))
    # g's axes: a's before axis, the indices', a's after axis; add.at wants indices' first
    g = np.moveaxis(
        np.broadcast_to(g, _taken_shape(a.shape, positions.shape, axis)),
        taken,
        [*range(positions.ndim)],
    )
    np.add.at(np.moveaxis(grad, axis, 0), positions, g)
    return grad


def _taken_shape(shape, index_shape, axis):
    return shape[:axis] + index_shape + shape[axis + 1 :]


def take_along_axis_grad(g, arr, indices, axis):
    """The adjoint of ``arr`` in ``np.take_along_axis(arr, indices, axis)``: ``g`` added
    where each element was taken from (repeated indices accumulate).

    >>> take_along_axis_grad(np.ones((2, 2)), np.zeros((2, 3)), np.array([[0, 0], [2, 1]]), 1)
    array([[2., 0., 0.],
           [0., 1., 1.]])
    """
    arr = np.asarray(arr)
    grad = np.zeros(arr.shape, _float(g))
    indices = np.asarray(indices)
    if axis is None:
        np.add.at(grad.reshape(-1), indices, g)
        return grad
    axis = axis % arr.ndim
    index = tuple(
        indices if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (arr.ndim - d - 1))
        for d, n in enumerate(arr.shape)
    )
    np.add.at(grad, index, g)
    return grad


# ----- padding ---------------------------------------------------------------------------
#: np.pad's modes whose padding copies elements of the array (or, for "constant", a value)
PAD_COPYING_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad_grad(g, array, pad_width, mode):
    """The adjoint of ``array`` in ``np.pad(array, pad_width, mode)`` for the modes that
    copy elements: the gradient of each copy goes back to the element it copies. NumPy
    pads an array of the elements' positions (-1 in constant padding) to say which.

    >>> pad_grad(np.arange(4.0), np.zeros(2), 1, "edge")  # padded [a0, a0, a1, a1]
    array([1., 5.])
    """
    if not (isinstance(mode, str) and mode in PAD_COPYING_MODES):
        raise NonDifferentiableError("np.pad", why=f"{_PAD_MODES} not mode={mode!r}")
    shape = np.shape(array)
    positions = np.arange(int(np.prod(shape))).reshape(shape)
    if mode == "constant":
        copied = np.pad(positions, pad_width, mode, constant_values=-1)
    else:
        copied = np.pad(positions, pad_width, mode)
    g = np.broadcast_to(g, copied.shape)
    taken = copied >= 0
    sums = np.bincount(copied[taken], weights=g[taken], minlength=positions.size)
    return sums.reshape(shape).astype(_float(g), copy=False)


_PAD_MODES = f"s2sad differentiates its modes {', '.join(map(repr, PAD_COPYING_MODES))},"


def pad_values_grad(g, array, pad_width, constant_values):
    """The adjoint of ``constant_values`` in ``np.pad(array, pad_width,
    constant_values=constant_values)``: the sum of ``g`` over the padding each value fills
    (NumPy pads one axis after the other, so a corner takes the last axis's value).

    >>> pad_values_grad(np.ones((3, 3)), np.zeros((1, 1)), 1, ((1.0, 2.0), (3.0, 4.0)))
    array([[1., 1.],
           [3., 3.]])
    """
    ndim = np.ndim(array)
    zeros = np.zeros(np.shape(array))
    sums = np.zeros((ndim, 2), _float(g))
    for axis, side in np.ndindex(ndim, 2):
        values = np.zeros((ndim, 2))
        values[axis, side] = 1.0
        sums[axis, side] = np.sum(g * np.pad(zeros, pad_width, constant_values=values))
    return unbroadcast(sums, constant_values)


# ----- splitting -------------------------------------------------------------------------
def array_split_grad(g, ary, indices_or_sections, axis):
    """The adjoint of ``ary`` in ``np.array_split(ary, indices_or_sections, axis)`` (and
    ``np.split``, ``np.hsplit``...): ``g`` holds one gradient per part, 0.0 for a part
    never used; each is added where its part was sliced from.

    >>> array_split_grad([np.ones(2), 2.0], np.zeros(3), [2], 0)
    array([1., 1., 2.])
    """
    shape = np.shape(ary)
    grad = np.zeros(shape, _float(g))
    if is_zero(g):
        return grad
    axis = axis % len(shape)
    length = shape[axis]
    if np.ndim(indices_or_sections) == 0:  # as np.array_split cuts ``sections`` parts
        each, extra = divmod(length, int(indices_or_sections))
        sizes = [each + 1] * extra + [each] * (int(indices_or_sections) - extra)
        points = [0, *np.cumsum(sizes).tolist()]
    else:  # slices [0:i0], [i0:i1], ..., [ik:] as Python slices them (negative too)
        points = [0, *(int(i) for i in indices_or_sections), length]
    if not isinstance(g, (list, tuple)) and np.ndim(g) == 0:
        g = [g] * (len(points) - 1)  # a number standing for every part filled with it
    for start, stop, part in zip(points[:-1], points[1:], g):
        if not is_zero(part):
            grad[(slice(None),) * axis + (slice(start, stop),)] += part
    return grad


# ----- ranges --------------------------------------------------------------------------------
def linspace_grad(g, start, stop, num, endpoint, axis, wrt):
    """The adjoint of ``wrt`` ("start" or "stop") in ``np.linspace(start, stop, num,
    endpoint, axis=axis)``, whose samples are ``start + (stop - start) * t`` with ``t``
    from 0 to 1 (1 excluded without ``endpoint``): ``start`` gets ``g`` weighted by
    ``1 - t``, ``stop`` by ``t``, summed along the samples' axis and back over broadcasting.

    >>> float(linspace_grad(np.ones(3), 0.0, 1.0, 3, True, 0, "stop"))  # t = 0, 0.5, 1
    1.5
    """
    divisions = num - 1 if endpoint else num
    t = np.arange(num) / divisions if divisions > 0 else np.zeros(num)
    weights = 1.0 - t if wrt == "start" else t
    total = np.tensordot(weights, np.moveaxis(np.asarray(g), axis, 0), axes=(0, 0))
    return unbroadcast(total, start if wrt == "start" else stop)
