"""Zero propagation: reads of adjoint variables that certainly hold 0.0 become the constant.

Before::

    dx = 0.0
    if c:
        dx = dx + g
    else:
        dx = dx + h

After (the optimiser's other passes then turn ``0.0 + g`` into ``g``)::

    dx = 0.0
    if c:
        dx = 0.0 + g
    else:
        dx = 0.0 + h
"""

from __future__ import annotations

import gast

from .dataflow import inner_blocks, names_bound
from .syntax import const, walk


class ZeroPropagation:
    """Forward must-analysis: which adjoint variables certainly hold the constant 0.0.

    First the states before every statement are found (loops iterate to a fixed point),
    then reads of those variables are replaced by ``0.0``.
    """

    def __init__(self, adjoints: set[str]):
        self.adjoints = adjoints
        self.before: dict[int, frozenset] = {}
        self.breaks: list[frozenset] = []
        self.changed = False

    def run(self, body) -> None:
        self.block(body, frozenset())
        self.rewrite(body)

    def block(self, statements, zeros):
        for statement in statements:
            if zeros is None:
                return None
            self.before[id(statement)] = zeros
            zeros = self.statement(statement, zeros)
        return zeros

    def statement(self, statement, zeros: frozenset):
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            value = statement.value
            if isinstance(target, gast.Name):
                if target.id in self.adjoints and _is_float_zero(value):
                    return zeros | {target.id}
                return zeros - {target.id}
            return zeros - names_bound(target)
        if isinstance(statement, gast.Break):
            self.breaks.append(zeros)
            return None
        if isinstance(statement, gast.If):
            body = self.block(statement.body, zeros)
            orelse = self.block(statement.orelse, zeros)
            if body is None or orelse is None:
                return orelse if body is None else body
            return body & orelse
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, zeros)
        return zeros - names_bound(statement)

    def loop(self, loop, zeros: frozenset) -> frozenset:
        head = zeros - names_bound(loop.target) if isinstance(loop, gast.For) else zeros
        saved = self.breaks
        while True:
            self.breaks = []
            end = self.block(loop.body, head)
            new_head = head & end if end is not None else head
            if new_head == head:
                break
            head = new_head
        exits = [zeros, head, *([end] if end is not None else []), *self.breaks]
        self.breaks = saved
        result = exits[0]
        for each in exits[1:]:
            result = result & each
        return result

    def rewrite(self, statements) -> None:
        for statement in statements:
            zeros = self.before.get(id(statement), frozenset())
            if isinstance(statement, gast.If):
                self.replace(statement.test, zeros)
            elif isinstance(statement, gast.For):
                self.replace(statement.iter, zeros)
            elif not isinstance(statement, gast.While):
                self.replace(statement, zeros)
            for inner in inner_blocks(statement):
                self.rewrite(inner)

    def replace(self, node, zeros: frozenset) -> None:
        if not zeros:
            return
        for parent in walk(node):
            for field_name, child in gast.iter_fields(parent):
                if _loads_one_of(child, zeros):
                    setattr(parent, field_name, const(0.0))
                    self.changed = True
                elif isinstance(child, list):
                    for index, item in enumerate(child):
                        if _loads_one_of(item, zeros):
                            child[index] = const(0.0)
                            self.changed = True


def _loads_one_of(node, names) -> bool:
    return isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in names


def _is_float_zero(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 0.0
