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

from .dataflow import Effects, inner_blocks, names_bound
from .syntax import const, loads, map_children, walk


class ZeroPropagation:
    """Forward must-analysis: which adjoint variables certainly hold the constant 0.0.

    First the zero names each statement reads are found (loops iterate to a fixed point),
    then those reads are replaced by ``0.0``. ``changed`` lists the statements rewritten.
    """

    def __init__(self, adjoints: set[str], effects: Effects):
        self.adjoints = adjoints
        self.effects = effects
        self.reads_zero: dict[int, set[str]] = {}  # statement → zero names it reads
        self.breaks: list[set] = []
        self.changed: list[gast.stmt] = []

    def run(self, body) -> None:
        self.block(body, set())
        self.rewrite(body)

    def block(self, statements, zeros: set | None) -> set | None:
        """The zero names after ``statements``; ``zeros`` (before them) is updated in place."""
        for statement in statements:
            if zeros is None:
                return None
            zeros = self.statement(statement, zeros)
        return zeros

    def statement(self, statement, zeros: set):
        if isinstance(statement, gast.If):
            self.note(statement, loads(statement.test), zeros)
            body = self.block(statement.body, set(zeros))
            orelse = self.block(statement.orelse, zeros)
            if body is None or orelse is None:
                return orelse if body is None else body
            return body & orelse
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, zeros)
        if isinstance(statement, gast.Break):
            self.breaks.append(set(zeros))
            return None
        effect = self.effects.of(statement)
        self.note(statement, effect.reads, zeros)
        zeros -= effect.binds
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            if (
                isinstance(target, gast.Name)
                and target.id in self.adjoints
                and _is_float_zero(statement.value)
            ):
                zeros.add(target.id)
        return zeros

    def note(self, statement, reads: set, zeros: set) -> None:
        if zeros and not reads.isdisjoint(zeros):
            self.reads_zero[id(statement)] = reads & zeros
        else:
            self.reads_zero.pop(id(statement), None)

    def loop(self, loop, zeros: set) -> set:
        if isinstance(loop, gast.For):
            self.note(loop, loads(loop.iter), zeros)
            head = zeros - names_bound(loop.target)
        else:
            head = set(zeros)
        saved = self.breaks
        while True:
            self.breaks = []
            end = self.block(loop.body, set(head))
            new_head = head & end if end is not None else head
            if new_head == head:
                break
            head = new_head
        exits = [zeros, head, *([end] if end is not None else []), *self.breaks]
        self.breaks = saved
        result = set(exits[0])
        for each in exits[1:]:
            result &= each
        return result

    def rewrite(self, statements) -> None:
        for statement in statements:
            zeros = self.reads_zero.get(id(statement))
            if zeros:
                if isinstance(statement, gast.If):
                    self.replace(statement.test, zeros)
                elif isinstance(statement, gast.For):
                    self.replace(statement.iter, zeros)
                elif not isinstance(statement, gast.While):
                    self.replace(statement, zeros)
                self.changed.append(statement)
            for inner in inner_blocks(statement):
                self.rewrite(inner)

    def replace(self, node, zeros: set) -> None:
        def zero(child):
            return const(0.0) if _loads_one_of(child, zeros) else child

        for parent in list(walk(node)):
            map_children(parent, zero)


def _loads_one_of(node, names) -> bool:
    return isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in names


def _is_float_zero(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 0.0
