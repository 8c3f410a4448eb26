"""Rules for ``np.linalg``: norms, inverses, determinants and linear solves.

Matrices may come in stacks (``(..., n, n)``), as NumPy's functions allow. The norm's
gradient at 0 is 0 (s2sad.runtime_linalg.norm_grad says why); the determinant's gradient is
the cofactor matrix, finite for singular matrices too.
"""

import numpy as np

from .numpy import _reduced
from .registry import REGISTRY, BoundArguments, Rule
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
