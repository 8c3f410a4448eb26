"""Forward substitution: push a definition's value into its uses, when that is safe.

A temporary used once is folded into its use (``t = x * a; y = t + 1`` → ``y = x * a + 1``),
a copy is propagated (``t = dx; z = t * 2`` → ``z = dx * 2``), a constant is propagated,
and an assignment ``v = A`` merges into a following ``v = v + B``. Nothing moves past a
statement that rebinds or may change what the value reads, nor across the adjoint-sweep
comment (a barrier).

One pass over a block indexes where each name is bound and mutated and which uses each
definition reaches, then decides every definition in order: linear in the block's size
(times a logarithm), so long straight-line functions stay cheap to optimise.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

import gast

from .dataflow import EVERYTHING, Effects, is_compound
from .syntax import Comment, clone, loads, map_children, walk


@dataclass
class Policy:
    """Which names a substitution may remove: ``inlinable`` (temporaries, whose every use
    may take their value), ``merging`` (adjoint variables: ``v = A; v = v + B`` merges)."""

    inlinable: set[str]
    merging: set[str]
    constants: set[str] = field(default_factory=set)  # names whose constant values propagate


def substitute_block(block: list, effects: Effects, live_out: set, policy: Policy) -> bool:
    """Forward-substitute within ``block`` (not its nested blocks); True if it changed."""
    return _Pass(block, effects, live_out, policy).run()


class _Pass:
    def __init__(self, block, effects: Effects, live_out, policy: Policy):
        self.block = block
        self.effects_of = effects
        self.live_out = live_out
        self.policy = policy
        self.effects = [effects.of(s) for s in block]
        self.binds_at: dict[str, list[int]] = {}
        self.mutates_at: dict[str, list[int]] = {}
        self.opaque_at: list[int] = []  # may change anything, or a barrier
        self.uses: dict[int, list[int]] = {}
        self.escapes: set[int] = set()
        self.deleted: set[int] = set()
        self.blocked_copies: list[int] = []
        self._index()

    def _index(self) -> None:
        current: dict[str, int] = {}
        for position, (statement, effect) in enumerate(zip(self.block, self.effects)):
            for name in effect.binds:
                self.binds_at.setdefault(name, []).append(position)
            if effect.mutates is EVERYTHING or effect.barrier:
                self.opaque_at.append(position)
            else:
                for name in effect.mutates:
                    self.mutates_at.setdefault(name, []).append(position)
            if is_compound(statement):
                test = _if_test(statement)
                for name in effect.reads | effect.binds:
                    if name not in current:
                        continue
                    if (
                        name == test
                        and name not in effect.binds
                        and name not in self.effects_of.inside(statement)
                    ):
                        self.uses.setdefault(current[name], []).append(position)
                    else:  # read inside, or bound on some paths only
                        self.escapes.add(current.pop(name))
                continue
            for name in effect.reads:
                if name in current:
                    self.uses.setdefault(current[name], []).append(position)
            for name in effect.binds:
                current.pop(name, None)
            if effect.pure and _defines_name(statement):
                current[statement.targets[0].id] = position
        for name, position in current.items():
            if name in self.live_out:
                self.escapes.add(position)

    def run(self) -> bool:
        changed = False
        for position in range(len(self.block)):
            if position in self.uses or (
                position not in self.escapes and _defines_name(self.block[position])
            ):
                changed |= self.decide(position)
        if self.deleted:
            self.block[:] = [s for i, s in enumerate(self.block) if i not in self.deleted]
            changed = True
        elif self.blocked_copies:
            changed |= self.unblock(self.blocked_copies[0])
        return changed

    def decide(self, position: int) -> bool:
        statement = self.block[position]
        if not (self.effects[position].pure and _defines_name(statement)):
            return False
        name, value = statement.targets[0].id, statement.value
        uses = self.uses.get(position, [])
        escapes = position in self.escapes
        policy = self.policy
        if isinstance(value, gast.Constant) and (
            name in policy.constants or name in policy.inlinable
        ):
            return self.substitute(position, name, value, uses, escapes)
        if isinstance(value, gast.Name) and name in policy.inlinable:
            return self.substitute(position, name, value, uses, escapes)
        if len(uses) != 1 or escapes:
            return False
        use = uses[0]
        statement_at_use = self.block[use]
        # ``v = A`` merges into an adjacent ``v = v + B``; merging distant ones would grow
        # one expression per contribution (and cost quadratic time)
        merges = (
            _assigns(statement_at_use, name)
            and name in policy.merging
            and (use == position + 1 or _size(value) <= _SMALL)
        )
        if not (name in policy.inlinable or merges):
            return False
        if _load_count(_header(statement_at_use), name) != 1 or self.killed(position, use, value):
            return False
        if not substitutable(statement_at_use, name):
            return False
        self.replace(use, name, value)
        self.deleted.add(position)
        return True

    def substitute(self, position, name, value, uses, escapes) -> bool:
        done = 0
        for use in uses:
            if self.killed(position, use, value) or not substitutable(self.block[use], name):
                continue
            self.replace(use, name, value)
            done += 1
        if done < len(uses) and isinstance(value, gast.Name):
            self.blocked_copies.append(position)
        if done == len(uses) and not escapes:
            self.deleted.add(position)
            return True
        return done > 0

    def replace(self, use: int, name: str, value) -> None:
        statement = self.block[use]
        replace_loads(statement, name, value)
        self.effects_of.forget(statement)

    def killed(self, start: int, stop: int, value) -> bool:
        """Whether a statement strictly between ``start`` and ``stop`` changes what ``value``
        computes: it rebinds a name the value reads, or (unless the value is a plain name,
        whose object stays the same) may change one of their objects."""
        if isinstance(value, gast.Constant):
            return False
        reads = loads(value)
        for name in reads:
            if _any_between(self.binds_at.get(name, ()), start, stop):
                return True
        if isinstance(value, gast.Name):
            return False
        if _any_between(self.opaque_at, start, stop):
            return True
        return any(_any_between(self.mutates_at.get(name, ()), start, stop) for name in reads)

    def unblock(self, position: int) -> bool:
        """A copy ``t = m`` whose uses follow a rebinding of ``m``: move those uses up, before
        the rebinding, when nothing depends on the order (then the copy can propagate)."""
        copied = self.block[position].value.id
        kills = [i for i in self.binds_at.get(copied, ()) if i > position]
        if not kills:
            return False
        first_kill = kills[0]
        moving = [u for u in self.uses.get(position, []) if u > first_kill]
        if not all(_can_move_up(self.block, self.effects, first_kill, u) for u in moving):
            return False
        statements = [self.block[i] for i in moving]
        for index in reversed(moving):
            del self.block[index]
        self.block[first_kill:first_kill] = statements
        return True


_SMALL = 12  # nodes: an expression this small may merge into a later, non-adjacent use


def _size(node) -> int:
    """Nodes in ``node``, its context and operator markers counted too."""
    size = 0
    for child in walk(node):
        size += 1
        size += len(getattr(child, "ops", ()))  # a comparison's operators
        size += hasattr(child, "ctx") + isinstance(getattr(child, "op", None), gast.AST)
    return size


def _any_between(positions, start: int, stop: int) -> bool:
    """Whether the sorted ``positions`` hold one strictly between ``start`` and ``stop``."""
    index = bisect_right(positions, start)
    return index < len(positions) and positions[index] < stop


def _header(statement):
    """What of ``statement`` a substitution may touch: all of it, or an ``if``'s test."""
    return statement.test if isinstance(statement, gast.If) else statement


def _if_test(statement) -> str | None:
    """The name an ``if`` tests (the only place in a compound statement a value may go)."""
    if isinstance(statement, gast.If) and isinstance(statement.test, gast.Name):
        return statement.test.id
    return None


def _defines_name(statement) -> bool:
    return isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name)


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


def _assigns(statement, name: str) -> bool:
    return _defines_name(statement) and statement.targets[0].id == name


def _load_count(statement, name: str) -> int:
    return Counter(
        n.id for n in walk(statement) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    )[name]


def substitutable(statement, name: str) -> bool:
    """A load of ``name`` in ``statement`` may be replaced by an expression (not as the
    container of a subscript store, where only a name can stand)."""
    if isinstance(statement, gast.If):
        return True  # only its test reads the name (see _index)
        target = statement.targets[0]
        if not isinstance(target, gast.Name):
            return name not in loads(target)
    return not isinstance(statement, Comment)


def replace_loads(statement, name: str, replacement) -> None:
    """Replace every load of ``name`` inside ``statement`` by a copy of ``replacement``
    (in an ``if``, only in its test)."""
    if isinstance(statement, gast.If):
        statement.test = clone(replacement)
        return

    def replaced(child):
        if isinstance(child, gast.Name) and child.id == name and isinstance(child.ctx, gast.Load):
            return clone(replacement)
        return child

    for parent in list(walk(statement)):  # not into the replacements themselves
        map_children(parent, replaced)
