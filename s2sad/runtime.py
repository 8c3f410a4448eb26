"""The only helpers generated derivative code may call; each is small and pure.

Generated code uses plain operators and NumPy calls wherever it can; these functions exist
for the few steps that need a decision at run time (whether NumPy broadcast an operand,
what kind of value a gradient must be returned as):

>>> import numpy as np
>>> unbroadcast(np.ones((2, 3)), np.zeros(3))
array([2., 2., 2.])
>>> cast_like(0.0, np.zeros(2))
array([0., 0.])
"""

from __future__ import annotations

import numpy as np

from .errors import NonScalarOutputError

__all__ = [
    "unbroadcast",
    "cast_like",
    "scalar_seed",
    "matmul_grad_left",
    "matmul_grad_right",
    "dot_grad_left",
    "dot_grad_right",
    "expand_reduced",
    "extremum_grad",
]

_SCALAR_TYPES = (float, int, np.number)


def unbroadcast(g, like):
    """Sum ``g`` down to the shape of ``like``, undoing NumPy broadcasting.

    Axes NumPy prepended are summed away; axes where ``like`` has length 1 are summed
    with keepdims. ``g`` is returned as it is when the shapes already agree.
    """
    shape = np.shape(like)
    g_shape = np.shape(g)
    if g_shape == shape or len(g_shape) < len(shape):
        return g
    if not shape:
        return np.sum(g)
    extra = len(g_shape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g


def cast_like(g, like):
    """``g`` as the gradient of ``like``: a float for a number, an array of its shape for an array."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        g = np.asarray(g, dtype=dtype)
        if g.shape != like.shape:
            g = np.broadcast_to(g, like.shape)
        if not g.flags.writeable:
            g = g.copy()
        return g
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        return float(g)
    if isinstance(like, np.generic) and like.dtype.kind in "fc":
        return like.dtype.type(g)
    return g


def scalar_seed(value):
    """The seed 1.0 for the adjoint sweep, after checking that ``value`` is a scalar."""
    if type(value) is float or (
        isinstance(value, _SCALAR_TYPES + (np.ndarray,)) and np.ndim(value) == 0
    ):
        return 1.0
    shape = np.shape(value) if isinstance(value, np.ndarray) else None
    what = f"an array of shape {shape}" if shape is not None else f"a {type(value).__name__}"
    raise NonScalarOutputError(
        f"grad needs a function that returns a scalar, but it returned {what}; "
        "use s2sad.vjp(f) to pull back a seed of the output's shape"
    )


def matmul_grad_left(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (vectors, matrices and stacks of them)."""
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    if b_ndim == 1:
        if a_ndim == 1:
            return g * b
        return np.multiply.outer(g, b)
    if a_ndim == 1:
        return unbroadcast(np.matmul(b, g[..., None])[..., 0], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


def matmul_grad_right(g, a, b):
    """The adjoint of ``b`` in ``a @ b``."""
    a_ndim, b_ndim = np.ndim(a), np.ndim(b)
    if a_ndim == 1:
        if b_ndim == 1:
            return g * a
        return np.multiply.outer(a, g) if b_ndim == 2 else a[:, None] * g[..., None, :]
    if b_ndim == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g[..., None])[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


def dot_grad_left(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)`` for scalars, vectors and matrices."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    _check_dot(a, b)
    return matmul_grad_left(g, a, b)


def dot_grad_right(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    _check_dot(a, b)
    return matmul_grad_right(g, a, b)


def _check_dot(a, b):
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise NotImplementedError(
            "s2sad differentiates np.dot for scalars, vectors and matrices; "
            "use np.matmul or np.einsum for stacks of matrices"
        )


def expand_reduced(value, like, axis, keepdims):
    """A reduction's result (or its adjoint) reshaped to broadcast against ``like``."""
    if keepdims:
        return value
    if axis is None:
        return np.reshape(value, (1,) * np.ndim(like))
    return np.expand_dims(value, axis)


def extremum_grad(g, a, ans, axis, keepdims):
    """The adjoint of ``a`` in ``np.max(a, axis)`` / ``np.min``: ties share ``g`` equally."""
    mask = a == expand_reduced(ans, a, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True)
    return expand_reduced(g, a, axis, keepdims) * mask / count
