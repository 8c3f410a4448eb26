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

from .syntax import clone, const, map_children


def fold(node: gast.expr) -> gast.expr:
    """Constant arithmetic and the identities of + and *, bottom up."""
    return fold_changed(node)[0]


def fold_changed(node: gast.expr) -> tuple[gast.expr, bool]:
    """``fold(node)``, and whether anything was folded."""
    folder = _Fold()
    folded = folder.visit(clone(node))
    return folded, folder.changed


def fold_in_place(node: gast.expr) -> tuple[gast.expr, bool]:
    """``fold_changed`` that may reuse (and change) ``node``'s own subtrees."""
    folder = _Fold()
    folded = folder.visit(node)
    return folded, folder.changed


class _Fold:
    """Folds bottom up, rewriting the tree it is given."""

    def __init__(self):
        self.changed = False

    def visit(self, node):
        if node.__class__ is gast.BinOp:
            result = self.visit_BinOp(node)
        elif node.__class__ is gast.UnaryOp:
            result = self.visit_UnaryOp(node)
        else:
            result = self.generic_visit(node)
        if result is not node:
            self.changed = True
        return result

    def generic_visit(self, node):
        map_children(node, self.visit)
        return node

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
            merged = _merge_factors(left, right)
            if merged is not None:
                return merged
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
        if isinstance(op, (gast.Mult, gast.Div)):
            # -a * 2 * x → a * -2 * x: the sign moves onto a constant factor
            unsigned = _negate_factor(node)
            moved = _negate_constant(unsigned) if unsigned is not None else None
            if moved is not None:
                return moved
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
    """``-node`` without a minus sign in front: a constant factor of the product takes the
    sign (``-(g * 2 * x)`` → ``g * -2 * x``, one array operation fewer), or a factor that
    already has one loses it."""
    return _negate_constant(node) or _negate_factor(node)


def _negate_constant(node):
    if _number(node):
        return const(-node.value)
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        if _number(node.right):
            return gast.BinOp(left=node.left, op=node.op, right=const(-node.right.value))
        left = _negate_constant(node.left)
        if left is not None:
            return gast.BinOp(left=left, op=node.op, right=node.right)
    return None


def _negate_factor(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left = _negate_factor(node.left)
        if left is not None:
            return gast.BinOp(left=left, op=node.op, right=node.right)
    return None


def _merge_factors(left, right):
    """``e * c1 * c2`` → ``e * (c1 * c2)`` when that is exact: one of the constants is a
    power of two, so rounding cannot differ."""
    if not (_number(right) and isinstance(left, gast.BinOp) and isinstance(left.op, gast.Mult)):
        return None
    if _number(left.right):
        other, constant = left.left, left.right.value
    elif _number(left.left):
        other, constant = left.right, left.left.value
    else:
        return None
    if not (_power_of_two(constant) or _power_of_two(right.value)):
        return None
    product = constant * right.value
    if not math.isfinite(product):
        return None
    return gast.BinOp(left=other, op=gast.Mult(), right=const(product))


def _power_of_two(value) -> bool:
    value = abs(value)
    return value != 0 and math.isfinite(value) and math.frexp(value)[0] == 0.5


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
