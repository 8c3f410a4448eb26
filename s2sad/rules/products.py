"""Derivative templates of matrix products, chosen by the ranks of the operands.

When the derivative is specialised for arrays of known rank, a careful person's formula
is written out (``g @ x2.T``, ``np.outer(g, x2)``); otherwise a runtime helper decides.
"""

from .registry import BoundArguments

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
