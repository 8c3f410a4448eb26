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
    "pinv_grad",
    "matrix_power_grad",
    "lstsq_grad",
    "qr_grad",
    "svd_grad",
    "svdvals_grad",
]


def norm_grad(g, x, ans, ord, axis, keepdims):
    """The adjoint of ``x`` in ``np.linalg.norm(x, ord, axis)``, for the 2-norm and the
    Frobenius norm, the matrix norms 2, -2 and 'nuc' (made of singular values), and vector
    norms of any ``ord >= 1`` and ``±inf``. Where the norm is 0 the gradient is 0: any vector of the unit ball is a subgradient there, and 0 is the
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
    if matrix and (ord in (2, -2) or ord == "nuc"):
        return _spectral_norm_grad(g, x, ord, axis if axis is not None else (0, 1))
    if matrix or isinstance(ord, str) or ord < 1 and ord != -np.inf:
        raise NonDifferentiableError(
            "np.linalg.norm",
            why=f"s2sad differentiates it for ord=None, 'fro', 2, -2 and 'nuc', and vector "
            f"norms of ord >= 1 or ±inf, not ord={ord!r} of a {'matrix' if matrix else 'vector'}",
        )
    if np.isinf(ord):  # the largest (smallest) magnitude; ties share g
        mask = np.abs(x) == norm
        return g * np.sign(x) * mask / np.sum(mask, axis=axis, keepdims=True)
    ratio = np.divide(np.abs(x), norm, out=np.zeros(x.shape, _float(x)), where=norm != 0)
    return g * np.sign(x) * ratio ** (ord - 1)


def _spectral_norm_grad(g, x, ord, axes):
    """The matrix norms made of singular values: ``ord=2`` (the largest) has gradient
    ``u[:, 0] vh[0]``, ``-2`` (the smallest) ``u[:, -1] vh[-1]``, where ties share ``g``
    equally as in ``np.max``; ``'nuc'`` (their sum) has ``u vh`` over the nonzero singular
    values (at a zero one, 0 is the subgradient of least size). ``g`` is already expanded
    to ``x``'s axes."""
    matrices = np.moveaxis(x, axes, (-2, -1))
    g = np.moveaxis(g, axes, (-2, -1))[..., 0, 0]
    u, s, vh = np.linalg.svd(matrices, full_matrices=False)
    if ord == "nuc":
        weights = (~_small(s)).astype(s.dtype)
    else:
        chosen = s == (s[..., :1] if ord == 2 else s[..., -1:])
        weights = chosen / np.sum(chosen, axis=-1, keepdims=True)
    adjoint = (u * (g[..., None] * weights)[..., None, :]) @ vh
    return np.moveaxis(adjoint, (-2, -1), axes)


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


def _ties(values):
    """``ties[..., i, j]``: whether ``values[i]`` and ``values[j]`` are equal to rounding
    (always on the diagonal)."""
    scale = np.max(np.abs(values), axis=-1, keepdims=True)[..., None]
    gaps = values[..., None, :] - values[..., :, None]
    return np.abs(gaps) <= values.shape[-1] * np.finfo(_float(values)).eps * scale


def _shared_at_ties(values, g):
    """``g``, the adjoint of eigenvalues or singular values, with equal values sharing
    theirs equally (as ties in ``np.max``): there a function of them is differentiable only
    when it is symmetric in them, and sharing makes ``v diag(g) v.T`` the same for every
    basis of their vectors.

    >>> _shared_at_ties(np.array([2.0, 2.0, 1.0]), np.array([1.0, 0.0, 5.0]))
    array([0.5, 0.5, 5. ])
    """
    ties = _ties(values)
    return (ties @ np.asarray(g)[..., None])[..., 0] / np.sum(ties, axis=-1)


def _reciprocal_gaps(values, function, what):
    """``1 / (values[j] - values[i])`` off the diagonal, 0 on it; refuses values that are
    equal to rounding (eigenvectors and singular vectors are not unique there)."""
    n = values.shape[-1]
    tied = _ties(values) & ~np.eye(n, dtype=bool)
    if np.any(tied):
        raise NonDifferentiableError(
            function,
            why=f"two of the matrix's {what}values are equal (to rounding), and "
            f"the {what}vectors that go with them are not unique there, so the gradient "
            "through them is undefined (JAX and autograd give inf or NaN). Functions of "
            "the values alone (np.linalg.eigvalsh, np.linalg.svd(a, compute_uv=False)) are "
            "differentiable there",
        )
    gaps = values[..., None, :] - values[..., :, None]
    with np.errstate(divide="ignore"):
        return np.where(np.eye(n, dtype=bool), 0.0, 1.0 / np.where(tied, 1.0, gaps))


def slogdet_grad(g, a):
    """The adjoint of ``a`` in ``sign, logabsdet = np.linalg.slogdet(a)``: ``inv(a).T``
    times the adjoint of ``logabsdet`` (the sign is piecewise constant).

    >>> slogdet_grad([0.0, 1.0], np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    g_log = _parts(g, 2)[1]
    if g_log is None:
        return np.zeros(np.shape(a))
    return g_log[..., None, None] * _t(np.linalg.inv(a))


def cholesky_grad(g, ans, upper):
    """The adjoint of ``a`` in ``L = np.linalg.cholesky(a)`` (``a = L L.T``). NumPy reads
    only the lower triangle of ``a`` (the upper one when ``upper``), so the gradient is
    there: the exact derivative of what NumPy computes. JAX and autograd give its
    symmetric part instead; the two agree on every symmetric change of ``a``.

    >>> cholesky_grad(np.ones((1, 1)), np.array([[2.0]]), False)  # d sqrt(a) = 1 / (2 sqrt(a))
    array([[0.25]])
    """
    low = _t(ans) if upper else ans
    g_low = _t(g) if upper else np.asarray(g)
    inner = _t(low) @ g_low
    phi = np.tril(inner) - 0.5 * inner * np.eye(inner.shape[-1])
    left = np.linalg.solve(_t(low), phi)  # L^-T phi
    s = _t(np.linalg.solve(_t(low), _t(left)))  # L^-T phi L^-1
    return _read_triangle(s, not upper)


def _eigh_adjoint(w, v, g_w, g_v):
    """The adjoint of the symmetric matrix whose eigendecomposition is ``w, v``."""
    inner = np.zeros(v.shape)
    if g_w is not None:
        inner = _shared_at_ties(w, g_w)[..., None, :] * np.eye(w.shape[-1])
    if g_v is not None:
        inner = inner + _reciprocal_gaps(w, "np.linalg.eigh", "eigen") * (_t(v) @ g_v)
    return v @ inner @ _t(v)


def eigh_grad(g, ans, UPLO):
    """The adjoint of ``a`` in ``w, v = np.linalg.eigh(a, UPLO)``: ``v (diag(gw) +
    F * (v.T gv)) v.T`` with ``F[i, j] = 1 / (w[j] - w[i])``, placed on the triangle
    NumPy reads. Equal eigenvalues with an eigenvector adjoint are refused."""
    w, v = ans
    g_w, g_v = _parts(g, 2)
    return _read_triangle(_eigh_adjoint(w, v, g_w, g_v), UPLO.upper() == "L")


def eigvalsh_grad(g, a, UPLO):
    """The adjoint of ``a`` in ``w = np.linalg.eigvalsh(a, UPLO)``: ``v diag(g) v.T``,
    equal eigenvalues sharing their adjoints.

    >>> eigvalsh_grad(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 2.0]]), "L")
    array([[1., 0.],
           [0., 0.]])
    """
    w, v = np.linalg.eigh(a, UPLO)
    return _read_triangle(_eigh_adjoint(w, v, np.asarray(g), None), UPLO.upper() == "L")


# ----- pseudo-inverses, powers, least squares ----------------------------------------------
def _lower_symmetric(a):
    """The symmetric matrix NumPy's ``hermitian=True`` paths see: ``a``'s lower triangle."""
    return np.tril(a) + _t(np.tril(a, -1))


def pinv_grad(g, a, ans, hermitian):
    """The adjoint of ``a`` in ``p = np.linalg.pinv(a)``, where ``a``'s rank does not change
    (full rank, or singular values well above the cutoff):
    ``-p.T g p.T + (I - a p) g.T p p.T + p.T p g.T (I - p a)`` (Golub and Pereyra).

    >>> a = np.array([[2.0], [0.0]])
    >>> pinv_grad(np.array([[1.0, 0.0]]), a, np.linalg.pinv(a), False)
    array([[-0.25],
           [ 0.  ]])
    """
    p, g = ans, np.asarray(g)
    if hermitian:
        a = _lower_symmetric(a)
    left = _t(g) @ p @ _t(p)
    right = _t(p) @ p @ _t(g)
    s = -_t(p) @ g @ _t(p) + left - a @ (p @ left) + right - (right @ p) @ a
    return _read_triangle(s, True) if hermitian else s


def matrix_power_grad(g, a, n):
    """The adjoint of ``a`` in ``np.linalg.matrix_power(a, n)``: for ``n > 0`` the sum over
    ``k`` of ``(a**k).T g (a**(n-1-k)).T``; for ``n < 0`` the same for ``inv(a)``, then
    through the inverse; 0 for ``n == 0``.

    >>> matrix_power_grad(np.ones((1, 1)), np.array([[3.0]]), 2)
    array([[6.]])
    """
    if n == 0:
        return np.zeros(np.shape(a))
    base = np.asarray(a, dtype=float) if n > 0 else np.linalg.inv(a)
    powers = [np.broadcast_to(np.eye(base.shape[-1]), base.shape)]
    for _ in range(abs(n) - 1):
        powers.append(powers[-1] @ base)
    g = np.asarray(g)
    total = sum(_t(powers[k]) @ g @ _t(powers[-1 - k]) for k in range(abs(n)))
    if n < 0:
        return -_t(base) @ total @ _t(base)
    return total


def lstsq_grad(g, a, b, ans, wrt):
    """The adjoint of ``wrt`` ("a" or "b") in ``x, residuals, rank, s = np.linalg.lstsq(a,
    b)``, for the solution ``x = pinv(a) b`` of a full-rank ``a``; adjoints of the residuals
    and singular values are refused (the rank is an integer and has none)."""
    g_x, g_residuals, _, g_s = _parts(g, 4)
    if g_residuals is not None or g_s is not None:
        raise NonDifferentiableError(
            "np.linalg.lstsq",
            why="s2sad differentiates its solution (the first part of its result), not the "
            "residuals or singular values; compute them from the solution, e.g. "
            "np.sum((a @ x - b) ** 2, axis=0)",
        )
    if ans[2] < min(np.shape(a)):
        raise NonDifferentiableError(
            "np.linalg.lstsq",
            why=f"s2sad differentiates it for matrices of full rank, and this one has rank "
            f"{ans[2]} of {min(np.shape(a))}",
        )
    if g_x is None:
        return np.zeros(np.shape(a if wrt == "a" else b))
    p = np.linalg.pinv(a)
    if wrt == "b":
        return _t(p) @ g_x
    g_p = np.outer(g_x, b) if np.ndim(b) == 1 else g_x @ _t(b)
    return pinv_grad(g_p, a, p, False)


# ----- QR and SVD --------------------------------------------------------------------------
def _copy_lower_to_upper(m):
    return np.tril(m) + _t(np.tril(m, -1))


def _qr_square_or_tall(q, r, g_q, g_r):
    """The adjoint of ``a`` (m >= n) from ``q, r = qr(a)``: ``(gq + q copyltu(M)) r^-T``
    with ``M = r gr.T - gq.T q`` (Walter and Lehmann; as JAX and PyTorch)."""
    m = r @ _t(g_r) - _t(g_q) @ q
    return _t(np.linalg.solve(r, _t(g_q + q @ _copy_lower_to_upper(m))))


def qr_grad(g, a, ans, mode):
    """The adjoint of ``a`` in ``np.linalg.qr(a, mode)``, modes "reduced", "complete" and
    "r" (the rule refuses "raw"). A wide ``a`` (m < n) is ``[x | y]`` with ``x`` square: ``q, u = qr(x)`` and
    ``v = q.T y``. The columns ``mode="complete"`` adds to ``q`` for a tall ``a`` are not
    unique, and an adjoint of them is refused."""
    if mode not in ("reduced", "complete", "r"):  # spelt out, the rule refuses it
        raise NonDifferentiableError("np.linalg.qr", why=f"mode={mode!r} is not differentiated")
    if mode == "r":
        q, r = np.linalg.qr(a)
        g_q, g_r = np.zeros(q.shape), np.asarray(g)
    else:
        (q, r), (g_q, g_r) = ans, _parts(g, 2)
        g_q = np.zeros(q.shape) if g_q is None else g_q
        g_r = np.zeros(r.shape) if g_r is None else g_r
    rows, cols = np.shape(a)[-2:]
    if rows > cols and q.shape[-1] > cols:  # "complete" for a tall a
        if np.any(g_q[..., cols:]):
            raise NonDifferentiableError(
                "np.linalg.qr",
                why="the columns of q that mode='complete' adds to a tall matrix's are not "
                "unique, so their gradient is undefined; use mode='reduced'",
            )
        q, g_q, r, g_r = q[..., :cols], g_q[..., :cols], r[..., :cols, :], g_r[..., :cols, :]
    if rows >= cols:
        return _qr_square_or_tall(q, r, g_q, g_r)
    y, g_v = np.asarray(a)[..., rows:], g_r[..., rows:]
    g_x = _qr_square_or_tall(q, r[..., :rows], g_q + y @ _t(g_v), g_r[..., :rows])
    return np.concatenate([g_x, q @ g_v], axis=-1)


def _small(s):
    """Singular values that are 0 to rounding."""
    tolerance = np.max(s, axis=-1, keepdims=True) * max(s.shape[-1], 1) * np.finfo(s.dtype).eps
    return s <= tolerance


def svd_grad(g, a, ans, full_matrices, compute_uv, hermitian):
    """The adjoint of ``a`` in ``np.linalg.svd(a, full_matrices, compute_uv, hermitian)``.

    Singular values alone: ``u diag(gs) vh`` (equal ones share their adjoints). With the vectors (Townsend, "Differentiating
    the singular value decomposition"): ``u [J s + diag(gs) + s K] vh + (I - u u.T) gu
    s^-1 vh + u s^-1 gv.T (I - v v.T)``, ``J = F * (u.T gu - gu.T u)``, ``K = F * (v.T gv -
    gv.T v)``, ``F[i, j] = 1 / (s[j]**2 - s[i]**2)``. Equal singular values with a
    vector adjoint are refused, as are the columns ``full_matrices`` adds (not unique).

    >>> svd_grad(np.array([1.0, 0.0]), np.diag([3.0, -1.0]), None, True, False, False)
    array([[1., 0.],
           [0., 0.]])
    """
    if hermitian:
        a = _lower_symmetric(a)
    if not compute_uv:
        u, s, vh = np.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        s_adjoint = u @ (_shared_at_ties(s, g)[..., :, None] * vh)
        return _read_triangle(s_adjoint, True) if hermitian else s_adjoint
    (u, s, vh), (g_u, g_s, g_vh) = ans, _parts(g, 3)
    k = s.shape[-1]
    g_u = np.zeros(u.shape) if g_u is None else g_u
    g_vh = np.zeros(vh.shape) if g_vh is None else g_vh
    if np.any(g_u[..., k:]) or np.any(g_vh[..., k:, :]):
        raise NonDifferentiableError(
            "np.linalg.svd",
            why="the columns of u (rows of vh) that full_matrices=True adds beyond the "
            "smaller dimension are not unique, so their gradient is undefined; use "
            "full_matrices=False",
        )
    u, g_u, vh, g_vh = u[..., :k], g_u[..., :k], vh[..., :k, :], g_vh[..., :k, :]
    v, g_v = _t(vh), _t(g_vh)
    inner = np.zeros(u.shape[:-2] + (k, k))
    if g_s is not None:
        inner = _shared_at_ties(s, g_s)[..., None, :] * np.eye(k)
    rows, cols = u.shape[-2], v.shape[-2]
    if np.any(g_u) or np.any(g_v):
        gaps = _reciprocal_gaps(s**2, "np.linalg.svd", "singular ")
        j = gaps * (_t(u) @ g_u - _t(g_u) @ u)
        k_ = gaps * (_t(v) @ g_v - _t(g_v) @ v)
        inner = inner + j * s[..., None, :] + s[..., :, None] * k_
    result = u @ inner @ vh
    if (rows > k and np.any(g_u)) or (cols > k and np.any(g_v)):
        if np.any(_small(s)):
            raise NonDifferentiableError(
                "np.linalg.svd",
                why="the matrix is not of full rank, and the singular vectors of a "
                "rectangular one are not unique there",
            )
        if rows > k:
            scaled = g_u / s[..., None, :]
            result = result + (scaled - u @ (_t(u) @ scaled)) @ vh
        if cols > k:
            scaled = _t(g_v / s[..., None, :])  # s^-1 gv.T
            result = result + u @ (scaled - (scaled @ v) @ vh)
    return _read_triangle(result, True) if hermitian else result


def svdvals_grad(g, x):
    """The adjoint of ``x`` in ``np.linalg.svdvals(x)``: ``u diag(g) vh``."""
    return svd_grad(g, x, None, False, False, False)
