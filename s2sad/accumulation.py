"""Two contributions to the same part of an array's adjoint become one ``add_at``.

Reading ``x[:-1]`` twice (``(1.0 - x[:-1]) ** 2 + 100.0 * (x[1:] - x[:-1] ** 2) ** 2``)
gives two updates of the same slice::

    dx = add_at(0.0, slice(None, -1), -2.0 * one_minus_x_part, x)
    dminus = 200.0 * minus
    dx = add_at(dx, slice(None, -1), dminus * -2 * x_part, x)

which become one pass over the slice, as a person would write it::

    dminus = 200.0 * minus
    dx = add_at(0.0, slice(None, -1), -2.0 * one_minus_x_part + dminus * -2 * x_part, x)

Only for arrays (``like`` has a known array shape: for a list, ``+`` would concatenate),
and only when nothing between the two reads the adjoint or changes what the first
update's operands read.
"""

from __future__ import annotations

from typing import Callable

import gast

from . import runtime
from .dataflow import Effects
from .syntax import loads


def merge_updates(
    block: list, effects: Effects, shapes: dict, resolve: Callable
) -> list[gast.stmt]:
    """Merge the ``add_at`` pairs of ``block`` (in place); the statements changed."""
    changed = []
    position = 0
    while position < len(block):
        merged = _merge(block, position, effects, shapes, resolve)
        if merged is None:
            position += 1
        else:  # block[position] is gone; look again at what follows it
            changed.append(merged)
    return changed


def _merge(block: list, position: int, effects: Effects, shapes: dict, resolve: Callable):
    """Fold ``block[position]`` into a later update of the same part; the later one."""
    first = _update(block[position], resolve)
    if first is None:
        return None
    target, (start, index, value, like) = first
    if not (isinstance(like, gast.Name) and isinstance(shapes.get(like.id), tuple)):
        return None
    needed = loads(start) | loads(index) | loads(value) | loads(like)
    for statement in block[position + 1 :]:
        second = _update(statement, resolve)
        if second is not None and second[0] == target:
            previous, index_2, value_2, like_2 = second[1]
            if not (
                isinstance(previous, gast.Name)
                and previous.id == target
                and _same(index_2, index)
                and _same(like_2, like)
                and target not in loads(value_2)
            ):
                return None
            statement.value.args[0] = start
            statement.value.args[2] = gast.BinOp(left=value, op=gast.Add(), right=value_2)
            effects.forget(statement)
            del block[position]
            return statement
        effect = effects.of(statement)
        if (
            not effect.pure
            or effect.barrier
            or target in effect.reads | effect.binds
            or effect.binds & needed
        ):
            return None
    return None


def _update(statement, resolve: Callable):
    """``d = add_at(start, index, value, like)`` → (d, its four arguments), else None."""
    if not (
        isinstance(statement, gast.Assign)
        and isinstance(statement.targets[0], gast.Name)
        and isinstance(statement.value, gast.Call)
        and len(statement.value.args) == 4
        and not statement.value.keywords
        and resolve(statement.value.func) is runtime.add_at
    ):
        return None
    return statement.targets[0].id, statement.value.args


def _same(a, b) -> bool:
    return gast.dump(a) == gast.dump(b)
