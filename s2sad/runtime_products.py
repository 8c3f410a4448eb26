"""Adjoints of NumPy's products (``inner``, ``einsum``, ``tensordot``, ``kron``, ``cross``,
``linalg.multi_dot``) and of functions that combine arrays position by position
(``polyval``, ``interp``, ``select``), for the rules of s2sad.rules.products and
s2sad.rules.numpy. Like s2sad.runtime_numpy's helpers, each takes the adjoint ``g`` of the
function's result and its arguments, never changes them, and returns a new array.

>>> import numpy as np
>>> einsum_grad(np.ones((2, 2)), "ij,jk->ik", (np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])), 0, False)
array([[3., 7.],
       [3., 7.]])
"""

from __future__ import annotations

import numpy as np

from .errors import NonDifferentiableError
from .runtime import array_grad, unbroadcast
from .runtime_numpy import _as_float, _float

__all__ = [
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
    """The adjoint of ``wrt`` ("p" or "x") in ``np.polyval(p, x)``, which is the sum of
    ``p[k] * x ** (n - 1 - k)`` (each ``p[k]`` may be an array broadcast with ``x``): for
    ``p[k]``, ``g * x ** (n - 1 - k)`` summed back to its shape; for ``x``, ``g`` times
    the derivative polynomial at ``x``."""
    coefficients = np.atleast_1d(_as_float(p))
    n = len(coefficients)
    x = _as_float(x)
    if wrt == "x":
        slope = sum(
            (n - 1 - k) * coefficients[k] * x ** (n - 2 - k) for k in range(n - 1)
        ) + np.zeros(np.shape(x))
        return unbroadcast(g * slope, x)
    parts = [unbroadcast(g * x ** (n - 1 - k), coefficients[k]) for k in range(n)]
    grad = np.reshape(
        np.stack([np.broadcast_to(part, coefficients.shape[1:]) for part in parts]), np.shape(p)
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
