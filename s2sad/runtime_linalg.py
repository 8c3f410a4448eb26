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
from .runtime import expand_reduced, is_zero, unbroadcast
from .runtime_numpy import _float, prod_grad

__all__ = [
    "norm_grad",
    "det_grad",
    "solve_grad",
    "field_grad",
    "slogdet_grad",
    "cholesky_grad",
    "eigh_grad",
    "eigvalsh_grad",
]


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


# ----- results that are tuples: slogdet, eigh, svd, qr, lstsq ------------------------------
def _parts(g, count):
    """The adjoints of the ``count`` parts of a tuple result, None for a part nothing
    read: ``g`` is 0.0 (no adjoint yet) or a list of per-part adjoints, 0.0 for parts
    never used."""
    if is_zero(g):
        return [None] * count
    if not isinstance(g, (list, tuple)) or len(g) != count:
        raise TypeError(f"s2sad: expected the adjoint of a {count}-part result, got {g!r}")
    return [None if is_zero(part) else np.asarray(part) for part in g]


def field_grad(g, result, name):
    """The adjoint of ``result`` in ``result.<name>``, for the named tuples NumPy 2's
    linalg functions return (``np.linalg.eigh(a).eigenvalues``): ``g`` at the field's
    place, 0.0 for the others.

    >>> field_grad(2.0, np.linalg.slogdet(np.eye(2)), "logabsdet")
    [0.0, 2.0]
    """
    fields = getattr(type(result), "_fields", ())
    if name not in fields:
        raise NonDifferentiableError(
            f".{name}",
            why=f"s2sad differentiates .{name} of the named tuples np.linalg returns "
            f"(SlogdetResult, EighResult, SVDResult, QRResult), not of a {type(result).__name__}",
        )
    parts = [0.0] * len(fields)
    parts[fields.index(name)] = g
    return parts


def _t(x):
    return np.swapaxes(x, -1, -2)


def _read_triangle(s, lower):
    """The adjoint of a matrix of which NumPy reads one triangle (cholesky, eigh, hermitian
    svd and pinv): ``s`` is the adjoint of the symmetric matrix that triangle stands for;
    an entry off the diagonal stands for two, so it gets both of theirs, and the triangle
    NumPy never reads gets 0."""
    both = s + _t(s)
    diagonal = s * np.eye(s.shape[-1])
    return (np.tril(both, -1) if lower else np.triu(both, 1)) + diagonal


def _reciprocal_gaps(values, what):
    """``1 / (values[j] - values[i])`` off the diagonal, 0 on it; refuses values that are
    equal to rounding (eigenvectors and singular vectors are not unique there)."""
    gaps = values[..., None, :] - values[..., :, None]
    n = values.shape[-1]
    scale = np.max(np.abs(values), axis=-1, keepdims=True)[..., None]
    tied = (np.abs(gaps) <= n * np.finfo(_float(values)).eps * scale) & ~np.eye(n, dtype=bool)
    if np.any(tied):
        raise NonDifferentiableError(
            what,
            why="two of its values are equal, and the vectors that go with them are not "
            "unique there (their gradient is undefined; JAX and autograd give inf or NaN). "
            "Functions of the values alone (eigvalsh, svd(compute_uv=False)) are "
            "differentiable there",
        )
    with np.errstate(divide="ignore"):
        return np.where(np.eye(n, dtype=bool), 0.0, 1.0 / np.where(tied, 1.0, gaps))


def slogdet_grad(g, a):
    """The adjoint of ``a`` in ``sign, logabsdet = np.linalg.slogdet(a)``: ``inv(a).T``
    times the adjoint of ``logabsdet`` (the sign is piecewise constant)."""
    g_log = _parts(g, 2)[1]
    if g_log is None:
        return np.zeros(np.shape(a))
    return g_log[..., None, None] * _t(np.linalg.inv(a))


def cholesky_grad(g, ans, upper):
    """The adjoint of ``a`` in ``L = np.linalg.cholesky(a)`` (``a = L L.T``). NumPy reads
    only the lower triangle of ``a`` (the upper one when ``upper``), so the gradient is
    there: the exact derivative of what NumPy computes. JAX and autograd give its
    symmetric part instead; the two agree on every symmetric change of ``a``."""
    low = _t(ans) if upper else ans
    g_low = _t(g) if upper else np.asarray(g)
    inner = _t(low) @ g_low
    phi = np.tril(inner) - 0.5 * inner * np.eye(inner.shape[-1])
    left = np.linalg.solve(_t(low), phi)  # L^-T phi
    s = _t(np.linalg.solve(_t(low), _t(left)))  # L^-T phi L^-1
    return _read_triangle(s, not upper)


def _eigh_adjoint(w, v, g_w, g_v):
    """The adjoint of the symmetric matrix whose eigendecomposition is ``w, v``."""
    inner = np.zeros(v.shape) if g_w is None else g_w[..., None, :] * np.eye(w.shape[-1])
    if g_v is not None:
        inner = inner + _reciprocal_gaps(w, "np.linalg.eigh's eigenvectors") * (_t(v) @ g_v)
    return v @ inner @ _t(v)


def eigh_grad(g, ans, UPLO):
    """The adjoint of ``a`` in ``w, v = np.linalg.eigh(a, UPLO)``: ``v (diag(gw) +
    F * (v.T gv)) v.T`` with ``F[i, j] = 1 / (w[j] - w[i])``, placed on the triangle
    NumPy reads. Equal eigenvalues with an eigenvector adjoint are refused."""
    w, v = ans
    g_w, g_v = _parts(g, 2)
    return _read_triangle(_eigh_adjoint(w, v, g_w, g_v), UPLO.upper() == "L")


def eigvalsh_grad(g, a, UPLO):
    """The adjoint of ``a`` in ``w = np.linalg.eigvalsh(a, UPLO)``: ``v diag(g) v.T``
    (right for equal eigenvalues too, when the function of them is symmetric)."""
    w, v = np.linalg.eigh(a, UPLO)
    return _read_triangle(_eigh_adjoint(w, v, np.asarray(g), None), UPLO.upper() == "L")
