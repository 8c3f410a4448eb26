"""Forward substitution: push a definition's value into its uses, when that is safe.

A temporary used once is folded into its use (``t = x * a; y = t + 1`` → ``y = x * a + 1``),
a copy is propagated (``t = dx; z = t * 2`` → ``z = dx * 2``), an assignment ``v = A``
merges into a following ``v = v + B``. Nothing moves past a statement that rebinds or may
change what the value reads, nor across the adjoint-sweep comment.
"""

from __future__ import annotations

import gast

from .dataflow import EVERYTHING, Effects, is_compound
from .syntax import Comment, clone


class Definition:
    """The uses of one definition ``name = value`` at ``block[position]`` within its block."""

    def __init__(self, effects: Effects, block: list, position: int, name: str, value):
        self.block = block
        self.position = position
        self.name = name
        self.value = value
        self.value_reads = {n.id for n in gast.walk(value) if isinstance(n, gast.Name)}
        self.uses: list[tuple[int, int]] = []  # (position, count) of simple statements
        self.inner_use = False  # read inside a compound statement
        self.redefined = False
        self.effects = [effects.of(s) for s in block]
        for index in range(position + 1, len(block)):
            statement, effect = block[index], self.effects[index]
            if is_compound(statement) and name in effect.reads | effect.binds:
                self.inner_use = True  # read, or bound on some paths only: the value lives on
                break
            if name in effect.reads:
                self.uses.append((index, _count_loads(statement, name)))
            if name in effect.binds:
                self.redefined = True
                break

    def escapes(self, live_out: set) -> bool:
        return self.inner_use or (not self.redefined and self.name in live_out)

    def killed_between(self, start: int, stop: int) -> bool:
        """Whether a statement in ``block[start:stop]`` changes what ``value`` computes."""
        constant = isinstance(self.value, gast.Constant)
        for index in range(start, stop):
            effect = self.effects[index]
            if constant:
                continue
            if effect.binds & self.value_reads:
                return True
            if not isinstance(self.value, gast.Name):
                mutated = effect.mutates
                if mutated is EVERYTHING or mutated & self.value_reads or effect.barrier:
                    return True
        return False

    def movable_to(self, use_position: int) -> bool:
        return not self.killed_between(self.position + 1, use_position)

    def blocked_uses(self) -> list[int]:
        return [i for i, _ in self.uses if self.killed_between(self.position + 1, i)]

    def unblock(self) -> None:
        """Move uses blocked by a rebinding of the copied name up, before that rebinding."""
        blocked = self.blocked_uses()
        if not blocked:
            return
        first_kill = next(
            i
            for i in range(self.position + 1, len(self.block))
            if self.effects[i].binds & self.value_reads
        )
        moving = [i for i in blocked if i > first_kill]
        for index in moving:
            if not _can_move_up(self.block, self.effects, first_kill, index):
                return
        statements = [self.block[i] for i in moving]
        for index in reversed(moving):
            del self.block[index]
        self.block[first_kill:first_kill] = statements

    def substitute_all(self, replacement, live_out: set) -> bool:
        changed = False
        done = 0
        for index, _ in self.uses:
            statement = self.block[index]
            if self.killed_between(self.position + 1, index) or not substitutable(
                statement, self.name
            ):
                continue
            replace_loads(statement, self.name, replacement)
            done += 1
            changed = True
        if done == len(self.uses) and not self.escapes(live_out):
            del self.block[self.position]
            return True
        return changed


def _can_move_up(block, effects, destination: int, index: int) -> bool:
    """Whether ``block[index]`` may run before ``block[destination:index]``."""
    moving = effects[index]
    if not moving.pure:
        return False
    for between in range(destination, index):
        other = effects[between]
        if other.barrier or other.mutates is EVERYTHING:
            return False
        if other.binds & (moving.reads | moving.binds) or moving.binds & other.reads:
            return False
        if other.mutates & moving.reads:
            return False
    return True


def assigns(statement, name: str) -> bool:
    target = statement.targets[0]
    return isinstance(target, gast.Name) and target.id == name


def _count_loads(statement, name: str) -> int:
    return sum(
        1
        for n in gast.walk(statement)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id == name
    )


def substitutable(statement, name: str) -> bool:
    """A load of ``name`` in ``statement`` may be replaced by an expression (not as the
    container of a subscript store, where only a name can stand)."""
    if isinstance(statement, gast.Assign):
        target = statement.targets[0]
        if not isinstance(target, gast.Name):
            return name not in {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}
    return not isinstance(statement, Comment)


def replace_loads(statement, name: str, replacement) -> None:
    for parent in gast.walk(statement):
        for field_name, child in gast.iter_fields(parent):
            if (
                isinstance(child, gast.Name)
                and isinstance(child.ctx, gast.Load)
                and child.id == name
            ):
                setattr(parent, field_name, clone(replacement))
            elif isinstance(child, list):
                for index, item in enumerate(child):
                    if (
                        isinstance(item, gast.Name)
                        and isinstance(item.ctx, gast.Load)
                        and item.id == name
                    ):
                        child[index] = clone(replacement)
