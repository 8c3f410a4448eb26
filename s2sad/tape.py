"""Decide which overwritten values the primal sweep must push on the tape.

The adjoint sweep undoes assignments in reverse order. Where it undoes ``x = ...`` it must
give ``x`` back its old value only if that old value is read by adjoint code that runs
later (in adjoint time, earlier in primal time). This is a forward data-flow problem over
the core language: a value is *read since written* once some adjoint code reads it; an
assignment that overwrites such a value pushes it. Loops iterate to a fixed point, so
``x = x * a + math.sin(x)`` in a loop pushes one float per iteration, and a temporary
that no adjoint reads is never pushed.

>>> import gast
>>> from .syntax import parse_expr
>>> body = gast.parse("for i in range(3):\\n    x = x * a").body
>>> assignment = body[0].body[0]
>>> plan = plan_tape(body, {id(assignment): Uses(before={"x", "a"})}, {"x", "a"})
>>> id(assignment) in plan.pushes
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .sharing import VIEW_ATTRIBUTES, VIEW_FUNCTIONS, VIEW_METHODS
from .syntax import walk


@dataclass
class Uses:
    """Primal names the adjoint of one statement reads.

    ``before``: values as they were before the statement ran (its operands).
    ``after``: values as the statement left them (its result; an ``if``'s test, a loop's
    range arguments and trip counter, read when the adjoint reaches the statement's end).
    ``counter``: a trip counter the primal sweep sets to 0 before the loop (a write).
    ``also_writes``: names the statement's primal form assigns besides its target (the
    values a helper's forward function saves for its backward function).
    ``resupplied``: a loop target the adjoint loop provides itself (``reversed(range)``
    or popping it each iteration), so the header's writes never push it.
    """

    before: set[str] = field(default_factory=set)
    after: set[str] = field(default_factory=set)
    counter: str | None = None
    resupplied: str | None = None
    also_writes: set[str] = field(default_factory=set)


@dataclass
class TapePlan:
    """What the primal sweep records.

    ``pushes``: ids of assignments that push their target's old value first (and of
    ``c[i] = v`` that push the old ``c[i]``; of ``c.append(v)`` that the adjoint undoes).
    ``counter_pushes``: ids of loops whose trip counter is pushed before it is reset.
    ``before_loop``: ids of loops whose target's value before the loop is pushed.
    ``maybe_unbound``: pushed names that may be unassigned when pushed (set to None first).
    """

    pushes: set[int] = field(default_factory=set)
    extra_pushes: dict[int, set[str]] = field(default_factory=dict)
    counter_pushes: set[int] = field(default_factory=set)
    before_loop: set[int] = field(default_factory=set)
    maybe_unbound: set[str] = field(default_factory=set)

    def records(self, statements: list[gast.stmt]) -> bool:
        """Whether anything inside ``statements`` pushes (so its adjoint pops)."""
        for node in statements:
            for inner in walk(node):
                if id(inner) in self.pushes | self.counter_pushes | self.before_loop:
                    return True
                if id(inner) in self.extra_pushes:
                    return True
        return False


def _changed_in_place(statement) -> str | None:
    """The container ``c`` of ``c[...] = v`` or ``c.append(v)``."""
    if isinstance(statement, gast.Assign):
        target = statement.targets[0]
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            return target.value.id
        return None
    if isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
        func = statement.value.func
        if (
            isinstance(func, gast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, gast.Name)
        ):
            return func.value.id
    return None


@dataclass
class _State:
    read: frozenset[str] = frozenset()  # current value already read by adjoint code
    unbound: frozenset[str] = frozenset()  # may not be assigned yet

    def join(self, other: _State | None) -> _State:
        if other is None:
            return self
        return _State(self.read | other.read, self.unbound | other.unbound)


def plan_tape(body: list[gast.stmt], uses: dict[int, Uses], parameters: set[str]) -> TapePlan:
    """The tape plan for a core-language ``body`` whose adjoint reads ``uses``."""
    names = {n.id for s in body for n in walk(s) if isinstance(n, gast.Name)}
    names |= {u.counter for u in uses.values() if u.counter}
    names |= {name for u in uses.values() for name in u.also_writes}
    analysis = _Analysis(uses, _copies(body))
    analysis.block(body, _State(unbound=frozenset(names - parameters)))
    return analysis.plan


#: calls that may give a view of their operand, by name (a wrong guess costs a push)
_VIEW_CALLS = VIEW_METHODS | {function.__name__ for function in VIEW_FUNCTIONS}


def _copies(body: list[gast.stmt]) -> dict[str, frozenset[str]]:
    """For each name bound to a copy or a view of another (``a = b``, ``a = b.T``,
    ``a = b[1:]``, ``a = b.reshape(...)``), the names that may share its memory: an
    in-place write through one changes what the adjoint reads through the others."""
    groups: dict[str, frozenset[str]] = {}
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name):
            a = node.targets[0].id
            for b in _viewed(node.value):
                merged = groups.get(a, frozenset({a})) | groups.get(b, frozenset({b}))
                for name in merged:
                    groups[name] = merged
    return groups


def _viewed(value) -> list[str]:
    """The names whose memory ``value`` may be (a view of)."""
    if isinstance(value, gast.Name):
        return [value.id]
    if isinstance(value, gast.IfExp):
        return _viewed(value.body) + _viewed(value.orelse)
    if isinstance(value, gast.Subscript) or (
        isinstance(value, gast.Attribute) and value.attr in VIEW_ATTRIBUTES
    ):
        return _viewed(value.value)
    if isinstance(value, gast.Call):
        func = value.func
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
        if name in _VIEW_CALLS:
            viewed = _viewed(func.value) if isinstance(func, gast.Attribute) else []
            return viewed + (_viewed(value.args[0]) if value.args else [])
    return []


class _Analysis:
    def __init__(self, uses: dict[int, Uses], copies: dict[str, frozenset[str]]):
        self.uses = uses
        self.copies = copies
        self.plan = TapePlan()
        self.breaks: list[_State] = []  # states at `break`s of the innermost loop

    def block(self, statements, state: _State) -> _State | None:
        """The state after ``statements``, or None when every path breaks out."""
        for statement in statements:
            if state is None:
                return None
            state = self.statement(statement, state)
        return state

    def write(self, statement_id: int, name: str, state: _State, kind: str = "pushes") -> _State:
        if name in state.read:
            getattr(self.plan, kind).add(statement_id)
            if name in state.unbound:
                self.plan.maybe_unbound.add(name)
        return _State(state.read - {name}, state.unbound - {name})

    def statement(self, statement, state: _State) -> _State | None:
        uses = self.uses.get(id(statement), Uses())
        state = _State(state.read | uses.before, state.unbound)
        changed = _changed_in_place(statement)
        if changed is not None:
            # c[i] = v or c.append(v): record (or undo) it when c was read, and c stays read,
            # since its other parts still hold the values that were read. The undoing
            # writes through the name c, so c itself is read: rebinding c later must give
            # the adjoint this array back, not the new one (c = c * 1.0 after c[i] = v
            # read through the view c.T)
            if self.copies.get(changed, frozenset({changed})) & state.read:
                self.plan.pushes.add(id(statement))
                state = _State(state.read | {changed}, state.unbound)
        elif isinstance(statement, gast.Assign):
            target = statement.targets[0]
            if isinstance(target, gast.Name):
                state = self.write(id(statement), target.id, state)
            for name in uses.also_writes:
                if name in state.read:
                    self.plan.extra_pushes.setdefault(id(statement), set()).add(name)
                    if name in state.unbound:
                        self.plan.maybe_unbound.add(name)
                state = _State(state.read - {name}, state.unbound - {name})
        elif isinstance(statement, gast.Break):
            self.breaks.append(state)
            return None
        elif isinstance(statement, gast.If):
            body = self.block(statement.body, state)
            orelse = self.block(statement.orelse, state)
            if body is None and orelse is None:
                return None
            state = body.join(orelse) if body is not None else orelse
        elif isinstance(statement, (gast.For, gast.While)):
            state = self.loop(statement, uses, state)
        return _State(state.read | uses.after, state.unbound)

    def loop(self, loop, uses: Uses, state: _State) -> _State:
        if uses.counter:
            state = self.write(id(loop), uses.counter, state, kind="counter_pushes")
        target = loop.target.id if isinstance(loop, gast.For) else None
        if target is not None:
            if target in state.read:
                self.plan.before_loop.add(id(loop))
                if target in state.unbound:
                    self.plan.maybe_unbound.add(target)
            entry = _State(state.read - {target}, state.unbound - {target})
        else:
            entry = state
        outer_breaks, self.breaks = self.breaks, []
        exit_state = state  # the loop may run zero times
        head = entry
        while True:
            end = self.block(loop.body, head)
            exits = [s for s in [end, *self.breaks] if s is not None]
            for each in exits:
                if target is not None:
                    # reads of the target inside the loop are met by the adjoint loop's
                    # own resupply; they need nothing restored from outside it
                    each = _State(each.read - {target}, each.unbound)
                exit_state = exit_state.join(each)
            following = end if end is not None else None
            if following is not None and target is not None:
                following = _State(following.read - {target}, following.unbound)
            new_head = head.join(following)
            if new_head == head:
                break
            head = new_head
        self.breaks = outer_breaks
        return exit_state
