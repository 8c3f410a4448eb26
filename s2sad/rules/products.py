"""Rules of products (tensordot, kron, cross, multi_dot...) and the templates of matmul/dot.

When the derivative is specialised for arrays of known rank, a careful person's formula
is written out (``g @ x2.T``, ``np.outer(g, x2)``); otherwise a runtime helper decides.
Polynomials, interpolation and np.select, which weigh their operands, are here too.
"""

import numpy as np

from .registry import BoundArguments, RuleError
from .shapes import defvjp

_LEFT = {(2, 2): "g @ x2.T", (2, 1): "np.outer(g, x2)", (1, 2): "x2 @ g", (1, 1): "g * x2"}
_RIGHT = {(2, 2): "x1.T @ g", (2, 1): "g @ x1", (1, 2): "np.outer(x1, g)", (1, 1): "g * x1"}


def matmul_left(args: BoundArguments) -> str:
    """The adjoint of ``x1`` in ``x1 @ x2``."""
    return _LEFT.get((args.ndim("x1"), args.ndim("x2")), "matmul_grad_left(g, x1, x2)")


def matmul_right(args: BoundArguments) -> str:
    """The adjoint of ``x2`` in ``x1 @ x2``."""
    return _RIGHT.get((args.ndim("x1"), args.ndim("x2")), "matmul_grad_right(g, x1, x2)")


def dot_left(args: BoundArguments) -> str:
    """The adjoint of ``a`` in ``np.dot(a, b)`` (scalars, vectors, matrices)."""
    ranks = (args.ndim("a"), args.ndim("b"))
    template = _LEFT.get(ranks)
    return template.replace("x2", "b") if template else "dot_grad_left(g, a, b)"


def dot_right(args: BoundArguments) -> str:
    """The adjoint of ``b`` in ``np.dot(a, b)``."""
    ranks = (args.ndim("a"), args.ndim("b"))
    template = _RIGHT.get(ranks)
    return template.replace("x1", "a") if template else "dot_grad_right(g, a, b)"


# ----- products whose adjoints a runtime helper computes -----------------------------------
defvjp(
    np.tensordot,
    "a, b, axes=2",
    a="tensordot_grad(g, a, b, axes, 'a')",
    b="tensordot_grad(g, a, b, axes, 'b')",
)
defvjp(
    np.vdot,
    "a, b, /",
    shape="scalar",
    a="np.reshape(g * np.ravel(b), np.shape(a))",
    b="np.reshape(g * np.ravel(a), np.shape(b))",
)
defvjp(np.kron, "a, b", a="kron_grad(g, a, b, 'a')", b="kron_grad(g, a, b, 'b')")
_CROSS = "a, b, axisa=-1, axisb=-1, axisc=-1, axis=None"
defvjp(
    np.cross,
    _CROSS,
    a="cross_grad(g, a, b, axisa, axisb, axisc, axis, 'a')",
    b="cross_grad(g, a, b, axisa, axisb, axisc, axis, 'b')",
)
defvjp(
    np.linalg.multi_dot,
    "arrays, *, out=None",
    containers=("arrays",),
    arrays="multi_dot_grad(g, arrays)",
)

# ----- polynomials, interpolation, selection ---------------------------------------------
defvjp(
    np.polyval,
    "p, x",
    containers=("p",),
    p="polyval_grad(g, p, x, 'p')",
    x="polyval_grad(g, p, x, 'x')",
)


def _interp(wrt: str):
    """np.interp's adjoint of ``wrt``; a ``period`` (periodic interpolation) is refused."""

    def template(args: BoundArguments) -> str:
        if not args.is_none("period"):
            raise RuleError("s2sad differentiates np.interp without period=")
        return f"interp_grad(g, x, xp, fp, left, right, {wrt!r})"

    return template


defvjp(
    np.interp,
    "x, xp, fp, left=None, right=None, period=None",
    **{wrt: _interp(wrt) for wrt in ("x", "xp", "fp", "left", "right")},
)
defvjp(
    np.select,
    "condlist, choicelist, default=0",
    containers=("condlist", "choicelist"),
    choicelist="select_grad(g, condlist, choicelist, default, 'choicelist')",
    default="select_grad(g, condlist, choicelist, default, 'default')",
)
