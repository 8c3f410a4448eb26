"""Rules for ``np.linalg``: norms, inverses, determinants, solves and factorisations.

Matrices may come in stacks (``(..., n, n)``), as NumPy's functions allow. The norm's
gradient at 0 is 0 (s2sad.runtime_linalg.norm_grad says why); the determinant's gradient is
the cofactor matrix, finite for singular matrices too. Where NumPy reads one triangle of a
matrix (cholesky, eigh, eigvalsh, ``hermitian=True``) the gradient is on that triangle.
Rules of functions returning tuples say ``shape="tuple"``: their adjoint is then a list
(one adjoint per part), added with ``add_grad``, never ``+`` (which would join the lists).
"""

import numpy as np

from .numpy import _reduced
from .registry import REGISTRY, BoundArguments, Rule, RuleError
from .shapes import defvjp

defvjp(
    np.linalg.norm,
    "x, ord=None, axis=None, keepdims=False",
    shape=_reduced,
    x="norm_grad(g, x, ans, ord, axis, keepdims)",
)


def _inv(args: BoundArguments) -> str:
    """d(inv(a)) = -inv(a) da inv(a), so the adjoint of ``a`` is ``-ans.T @ g @ ans.T``."""
    if args.ndim("a") == 2:
        return "-ans.T @ g @ ans.T"
    return "-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2)"


def _solve(role: str):
    """x = solve(a, b): ``b`` gets ``gb = solve(a.T, g)``, ``a`` gets ``-gb x.T``."""

    def template(args: BoundArguments) -> str:
        if args.ndim("a") != 2 or args.ndim("b") not in (1, 2):
            return f"solve_grad(g, a, b, ans, {role!r})"
        if role == "b":
            return "np.linalg.solve(a.T, g)"
        if args.ndim("b") == 1:
            return "-np.outer(np.linalg.solve(a.T, g), ans)"
        return "-np.linalg.solve(a.T, g) @ ans.T"

    return template


defvjp(np.linalg.inv, "a", a=_inv)
defvjp(np.linalg.det, "a", a="det_grad(g, a)")
defvjp(np.linalg.solve, "a, b", a=_solve("a"), b=_solve("b"))

# ----- functions returning tuples ----------------------------------------------------------
# Their adjoint ``g`` is a list with one adjoint per part (0.0 for parts the user never
# read), whether the user indexes the result, unpacks it or reads a field of NumPy 2's
# named tuples (the attribute rules below).
_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
_FIELDS = ("sign", "logabsdet", "eigenvalues", "eigenvectors", "U", "S", "Vh", "Q", "R")
for _field in _FIELDS:
    REGISTRY.add(
        Rule.define(
            ("attribute", _field),
            "x, /",
            {"x": f"field_grad(g, x, {_field!r})"},
            containers=frozenset({"x"}),
        )
    )

defvjp(np.linalg.slogdet, "a", shape="tuple", a="slogdet_grad(g, a)")
if _NUMPY_2:
    defvjp(np.linalg.cholesky, "a, /, *, upper=False", a="cholesky_grad(g, ans, upper)")
else:  # pragma: no cover - NumPy 1 has no upper=
    defvjp(np.linalg.cholesky, "a", a="cholesky_grad(g, ans, False)")
defvjp(np.linalg.eigh, "a, UPLO='L'", shape="tuple", a="eigh_grad(g, ans, UPLO)")
defvjp(np.linalg.eigvalsh, "a, UPLO='L'", a="eigvalsh_grad(g, a, UPLO)")
if _NUMPY_2:
    defvjp(
        np.linalg.pinv,
        "a, rcond=None, hermitian=False, *, rtol=None",
        a="pinv_grad(g, a, ans, hermitian)",
    )
else:  # pragma: no cover - NumPy 1 has no rtol=
    defvjp(np.linalg.pinv, "a, rcond=1e-15, hermitian=False", a="pinv_grad(g, a, ans, hermitian)")
defvjp(np.linalg.matrix_power, "a, n", a="matrix_power_grad(g, a, n)")
defvjp(
    np.linalg.lstsq,
    "a, b, rcond=None",
    shape="tuple",
    a="lstsq_grad(g, a, b, ans, 'a')",
    b="lstsq_grad(g, a, b, ans, 'b')",
)


def _qr_shape(args: BoundArguments) -> str | None:
    return None if args.constant("mode") == "r" else "tuple"


def _qr(args: BoundArguments) -> str:
    if args.constant("mode") == "raw":
        raise RuleError(
            "s2sad differentiates mode='reduced', 'complete' and 'r', not 'raw' (Householder "
            "reflectors, not Q)"
        )
    return "qr_grad(g, a, ans, mode)"


defvjp(np.linalg.qr, "a, mode='reduced'", shape=_qr_shape, a=_qr)


def _svd_shape(args: BoundArguments) -> str | None:
    return None if args.constant("compute_uv") is False else "tuple"


defvjp(
    np.linalg.svd,
    "a, full_matrices=True, compute_uv=True, hermitian=False",
    shape=_svd_shape,
    a="svd_grad(g, a, ans, full_matrices, compute_uv, hermitian)",
)
if hasattr(np.linalg, "svdvals"):
    defvjp(np.linalg.svdvals, "x, /", x="svdvals_grad(g, x)")


def _general_eigen(args: BoundArguments) -> str:
    raise RuleError(
        "a real matrix's eigenvalues may be complex, and its eigenvectors are neither "
        "orthogonal nor normalised uniquely, so s2sad does not differentiate np.linalg.eig "
        "and np.linalg.eigvals; for a symmetric matrix use np.linalg.eigh or "
        "np.linalg.eigvalsh"
    )


defvjp(np.linalg.eig, "a", shape="tuple", a=_general_eigen)
defvjp(np.linalg.eigvals, "a", a=_general_eigen)
