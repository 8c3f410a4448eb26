"""Expression folding for the adjoint sweep: constant arithmetic and the identities of + and *.

>>> from .syntax import parse_expr, to_source
>>> to_source(fold(parse_expr("0.0 + g * 1.0 - -x")))
'g + x'
>>> to_source(fold(parse_expr("-(-g / y * z)")))
'g / y * z'
"""

from __future__ import annotations

import math
import numbers

import gast

from .syntax import clone, const


def fold(node: gast.expr) -> gast.expr:
    """Constant arithmetic and the identities of + and *, bottom up."""
    return fold_changed(node)[0]


def fold_changed(node: gast.expr) -> tuple[gast.expr, bool]:
    """``fold(node)``, and whether anything was folded."""
    folder = _Fold()
    folded = folder.visit(clone(node))
    return folded, folder.changed


class _Fold(gast.NodeTransformer):
    def __init__(self):
        self.changed = False

    def visit(self, node):
        result = super().visit(node)
        if result is not node:
            self.changed = True
        return result

    def visit_BinOp(self, node: gast.BinOp):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _number(left) and _number(right):
            value = _evaluate(left.value, op, right.value)
            if value is not None:
                return const(value)
        if isinstance(op, gast.Add):
            if _is_value(left, 0):
                return right
            if _is_value(right, 0):
                return left
        if isinstance(op, gast.Sub):
            if _is_value(right, 0):
                return left
            if isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
                return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
            if _is_value(left, 0):
                return self.visit_UnaryOp(gast.UnaryOp(op=gast.USub(), operand=right))
        if (
            isinstance(op, gast.Add)
            and isinstance(right, gast.UnaryOp)
            and isinstance(right.op, gast.USub)
        ):
            return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
        if (
            isinstance(op, gast.Add)
            and isinstance(left, gast.UnaryOp)
            and isinstance(left.op, gast.USub)
        ):
            return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
        if isinstance(op, gast.Mult):
            if _is_value(right, 1):
                return left
            if _is_value(left, 1):
                return right
            if _is_value(right, -1):
                return gast.UnaryOp(op=gast.USub(), operand=left)
            if _is_value(left, -1):
                return gast.UnaryOp(op=gast.USub(), operand=right)
        if isinstance(op, gast.Div) and _is_value(right, 1):
            return left
        if isinstance(op, gast.Pow) and _is_value(right, 1):
            return left
        return node

    def visit_UnaryOp(self, node: gast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            negated = _negated(node.operand)
            if negated is not None:
                return negated
        return node


def _negated(node):
    """``-node`` without a minus sign in front, when a factor of ``node`` already has one."""
    if _number(node):
        return const(-node.value)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left = _negated(node.left)
        if left is not None:
            return gast.BinOp(left=left, op=node.op, right=node.right)
    return None


def _number(node) -> bool:
    return (
        isinstance(node, gast.Constant)
        and isinstance(node.value, numbers.Real)
        and not isinstance(node.value, bool)
    )


def _is_value(node, value) -> bool:
    return _number(node) and node.value == value


def _evaluate(left, op, right):
    try:
        if isinstance(op, gast.Add):
            result = left + right
        elif isinstance(op, gast.Sub):
            result = left - right
        elif isinstance(op, gast.Mult):
            result = left * right
        elif isinstance(op, gast.Div):
            result = left / right
        elif isinstance(op, gast.Pow) and abs(right) <= 64:
            result = left**right
        else:
            return None
    except (ArithmeticError, ValueError):
        return None
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        return None
    return result
