"""Adjoints of ``np.linalg`` functions that take more than a one-line template (the rules
are in s2sad.rules.linalg). Matrices may come in stacks (``(..., n, n)``), as NumPy's
functions allow; each helper takes the adjoint ``g`` of the function's result and its
arguments, never changes them, and returns a new array.

>>> import numpy as np
>>> det_grad(1.0, np.array([[2.0, 0.0], [0.0, 3.0]]))  # the cofactors: det * inv.T
array([[3., 0.],
       [0., 2.]])
"""

from __future__ import annotations

import numpy as np

from .errors import NonDifferentiableError
from .runtime import expand_reduced, unbroadcast
from .runtime_numpy import _float, prod_grad

__all__ = ["norm_grad", "det_grad", "solve_grad"]


def norm_grad(g, x, ans, ord, axis, keepdims):
    """The adjoint of ``x`` in ``np.linalg.norm(x, ord, axis)``, for the 2-norm and the
    Frobenius norm, and for vector norms of any ``ord >= 1`` and ``±inf``. Where the norm is
    0 the gradient is 0: any vector of the unit ball is a subgradient there, and 0 is the
    one that keeps the gradient odd (the norm is even), as ``np.abs`` has 0 at 0 (JAX and
    autograd give NaN). Ties in the inf-norm share ``g`` equally, as in ``np.max``."""
    x = np.asarray(x)
    matrix = (isinstance(axis, tuple) and len(axis) == 2) or (
        axis is None and ord is not None and x.ndim == 2
    )
    g = expand_reduced(g, x, axis, keepdims)
    norm = expand_reduced(ans, x, axis, keepdims)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return g * np.divide(x, norm, out=np.zeros(x.shape, _float(x)), where=norm != 0)
    if matrix or isinstance(ord, str) or ord < 1 and ord != -np.inf:
        raise NonDifferentiableError(
            "np.linalg.norm",
            why=f"s2sad differentiates it for ord=None, 'fro', 2 and vector norms of ord >= 1 "
            f"or ±inf, not ord={ord!r} of a {'matrix' if matrix else 'vector'}",
        )
    if np.isinf(ord):  # the largest (smallest) magnitude; ties share g
        mask = np.abs(x) == norm
        return g * np.sign(x) * mask / np.sum(mask, axis=axis, keepdims=True)
    ratio = np.divide(np.abs(x), norm, out=np.zeros(x.shape, _float(x)), where=norm != 0)
    return g * np.sign(x) * ratio ** (ord - 1)


def det_grad(g, a):
    """The adjoint of ``a`` in ``np.linalg.det(a)``: ``g`` times the cofactor matrix, which
    is ``det(a) * inv(a).T`` but, made from the singular values, is also right (and finite)
    where ``a`` is singular."""
    u, s, vt = np.linalg.svd(a)
    others = prod_grad(1.0, s, -1, True)  # the product of the other singular values
    sign = np.linalg.det(u) * np.linalg.det(vt)
    cofactors = (u * others[..., None, :]) @ vt
    return (np.asarray(g) * sign)[..., None, None] * cofactors


_NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def solve_grad(g, a, b, x, wrt):
    """The adjoint of ``wrt`` ("a" or "b") in ``x = np.linalg.solve(a, b)``: with
    ``gb = solve(a.T, g)``, ``b`` gets ``gb`` and ``a`` gets ``-gb x.T``, each summed back
    over the axes NumPy broadcast it along. ``b`` is a vector (or a stack of them) where
    NumPy takes it for one: when 1-D (NumPy 1 also when it has one axis fewer than ``a``)."""
    transposed = np.swapaxes(a, -1, -2)
    if np.ndim(b) == 1 or _NUMPY_1 and np.ndim(b) == np.ndim(a) - 1:
        gb = np.linalg.solve(transposed, np.asarray(g)[..., None])[..., 0]
        if wrt == "b":
            return unbroadcast(gb, b)
        return unbroadcast(-gb[..., :, None] * np.asarray(x)[..., None, :], a)
    gb = np.linalg.solve(transposed, g)
    if wrt == "b":
        return unbroadcast(gb, b)
    return unbroadcast(-gb @ np.swapaxes(x, -1, -2), a)
