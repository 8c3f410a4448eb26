"""What each statement of generated code reads, binds and mutates; liveness over a function.

The optimiser asks these questions of the code reverse mode generated, where calls are to
known primitives, runtime helpers, the tape, or (opaque) user functions:

>>> import gast
>>> body = gast.parse("y = x * 2\\nz = y + 1\\nreturn y").body
>>> effects = Effects(lambda call: True, set())
>>> [sorted(effects.of(s).reads) for s in body]
[['x'], ['y'], ['y']]
>>> sorted(liveness(body, effects)[id(body[0])])
['y']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import gast

from .syntax import Comment, loads, walk

#: Methods that change their receiver in place.
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "sort",
        "reverse",
        "update",
        "fill",
        "resize",
        "setdefault",
        "popitem",
    }
)


class _Everything:
    """The set of all names: what an opaque call may mutate."""

    def __contains__(self, name) -> bool:
        return True

    def __and__(self, other):
        return set(other)

    def __rand__(self, other):
        return set(other)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERYTHING"


EVERYTHING = _Everything()


@dataclass
class Effect:
    """``reads``: names loaded; ``binds``: names assigned; ``mutates``: names whose objects may
    change in place (or EVERYTHING); ``pure``: a name bound to a pure expression."""

    reads: set[str] = field(default_factory=set)
    binds: set[str] = field(default_factory=set)
    mutates: set[str] | _Everything = field(default_factory=set)
    pure: bool = False
    barrier: bool = False  # raise/assert/break/return: nothing moves across it


class Effects:
    """Computes :class:`Effect`\\ s; ``pure_call(call)`` says whether a call is side-effect free."""

    def __init__(
        self,
        pure_call: Callable[[gast.Call], bool],
        local_names: set[str],
        updates_first_argument: Callable[[gast.Call], bool] = lambda call: False,
        sharing: Callable[[], dict[str, frozenset[str]]] | None = None,
    ):
        self.pure_call = pure_call
        self.local_names = local_names
        self.updates_first_argument = updates_first_argument
        #: a name → the names that may share its memory (a write into one changes all),
        #: worked out when the first write needs it
        self._sharing = sharing
        self._classes: dict[str, frozenset[str]] | None = None
        self._memo: dict[int, tuple[gast.stmt, Effect]] = {}
        self.changes: dict[int, int] = {}  # how often each statement was changed (forget)

    def forget(self, statement: gast.stmt) -> None:
        """Drop the remembered effect of a statement that was just changed in place."""
        self._memo.pop(id(statement), None)
        self.changes[id(statement)] = self.changes.get(id(statement), 0) + 1

    def forget_all(self) -> None:
        """Drop every remembered effect (after a pass rewrote statements all over)."""
        self._memo.clear()

    def is_pure(self, node: gast.AST) -> bool:
        _, calls, opaque = _scan(node)
        return self._pure(calls, opaque)

    def mutated_by(self, node: gast.AST) -> set[str] | _Everything:
        """Names whose objects the calls inside ``node`` may change."""
        return self._mutated(_scan(node)[1])

    def _pure(self, calls: list[gast.Call], opaque: bool) -> bool:
        return not opaque and all(self.pure_call(call) for call in calls)

    def _mutated(self, calls: list[gast.Call]) -> set[str] | _Everything:
        mutated: set[str] = set()
        for call in calls:
            if self.pure_call(call):
                continue
            func = call.func
            if (
                isinstance(func, gast.Attribute)
                and isinstance(func.value, gast.Name)
                and func.attr in MUTATING_METHODS
                and all(_is_plain(a) for a in call.args)
            ):
                mutated.add(func.value.id)
            elif (
                self.updates_first_argument(call)
                and call.args
                and isinstance(call.args[0], gast.Name)
                and all(_is_plain(a) or isinstance(a, gast.Call) for a in call.args[1:])
            ):
                mutated.add(call.args[0].id)
            else:
                return EVERYTHING
        return self._shared(mutated)

    def _shared(self, names: set[str]) -> set[str]:
        """``names`` and every name that may share memory with one of them."""
        if self._sharing is None or not names:
            return names
        if self._classes is None:
            self._classes = self._sharing()
        classes = self._classes
        return set().union(names, *(classes.get(name, ()) for name in names))

    def of(self, statement: gast.stmt) -> Effect:
        """The effect of ``statement`` (remembered for simple statements until ``forget``)."""
        if isinstance(statement, (gast.If, gast.For, gast.While)):
            return self._compound(statement)
        memo = self._memo.get(id(statement))
        if memo is not None and memo[0] is statement:
            return memo[1]
        effect = self._simple(statement)
        self._memo[id(statement)] = (statement, effect)
        return effect

    def inside(self, statement) -> set[str]:
        """The names read inside a compound statement's blocks (not its header)."""
        reads: set[str] = set()
        for inner in [*statement.body, *statement.orelse]:
            reads |= self.of(inner).reads
        return reads

    def _compound(self, statement) -> Effect:
        """Everything inside an if or a loop, as one statement."""
        header = statement.iter if isinstance(statement, gast.For) else statement.test
        reads = _loads(header)
        binds = names_bound(statement.target) if isinstance(statement, gast.For) else set()
        mutates = self.mutated_by(header)
        barrier = False
        for inner in [*statement.body, *statement.orelse]:
            effect = self.of(inner)
            reads |= effect.reads
            binds |= effect.binds
            barrier |= effect.barrier
            if mutates is not EVERYTHING:
                mutates = EVERYTHING if effect.mutates is EVERYTHING else mutates | effect.mutates
        return Effect(reads, binds, mutates, barrier=barrier)

    def _simple(self, statement: gast.stmt) -> Effect:
        if isinstance(statement, Comment):
            return Effect(barrier=True)  # the sweeps' boundary: nothing moves across it
        if isinstance(statement, gast.Pass):
            return Effect()
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            reads, calls, opaque = _scan(statement.value)
            if isinstance(target, gast.Name):
                if self._pure(calls, opaque):
                    return Effect(reads, {target.id}, set(), pure=True)
                return Effect(reads, {target.id}, self._mutated(calls))
            reads |= _loads(target)
            container = _root_name(target)
            mutated = self._mutated(calls)
            if mutated is not EVERYTHING and container is not None:
                mutated = mutated | self._shared({container})
            binds = names_bound(target)
            return Effect(reads, binds, mutated if container else EVERYTHING)
        if isinstance(statement, gast.Expr):
            reads, calls, _ = _scan(statement.value)
            return Effect(reads, set(), self._mutated(calls))
        return Effect(_loads(statement), set(), set(), barrier=True)


def sharing_classes(body: list[gast.stmt], held: Callable[[gast.expr], list[str]]) -> dict:
    """Names that may share memory, in classes: ``a = value`` joins ``a`` with every name
    ``held(value)`` says the value may be, view or hold (``b`` for ``b``, ``b[i]``,
    ``b.T``, ``(b, c)``). Returns a name → its class, for names in a class of two or more.

    >>> body = gast.parse("r = y[1]\\nt = r.T\\nz = y * 2").body
    >>> def held(value):  # arithmetic makes a new array
    ...     names = [n.id for n in walk(value) if isinstance(n, gast.Name)]
    ...     return [] if isinstance(value, gast.BinOp) else names[:1]
    >>> classes = sharing_classes(body, held)
    >>> sorted(classes["t"]), "z" in classes
    (['r', 't', 'y'], False)
    """
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        root = name
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[name] != root:  # compress the path
            parent[name], name = root, parent[name]
        return root

    for statement in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            targets = names_bound(target)
            if isinstance(target, gast.Subscript):
                targets = {_root_name(target)} - {None}  # c[i] = v: c holds v
            sources = held(statement.value)
        elif isinstance(statement, gast.For):  # the rows or items of what it iterates over
            targets, sources = names_bound(statement.target), _loads(statement.iter)
        else:
            continue
        for source in sources:
            for name in targets:
                parent[find(name)] = find(source)
    classes: dict[str, set[str]] = {}
    for name in list(parent):
        classes.setdefault(find(name), set()).add(name)
    return {name: frozenset(c) for c in classes.values() if len(c) > 1 for name in c}


def _is_plain(node) -> bool:
    return isinstance(node, (gast.Name, gast.Constant))


_OPAQUE = (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr, gast.Lambda)


def _scan(node: gast.AST) -> tuple[set[str], list[gast.Call], bool]:
    """In one walk: the names ``node`` loads, its calls, and whether it holds an
    expression whose effects s2sad does not follow (yield, await, :=, lambda)."""
    reads: set[str] = set()
    calls: list[gast.Call] = []
    opaque = False
    for child in walk(node):
        if child.__class__ is gast.Name:
            if isinstance(child.ctx, gast.Load):
                reads.add(child.id)
        elif child.__class__ is gast.Call:
            calls.append(child)
        elif isinstance(child, _OPAQUE):
            opaque = True
    return reads, calls, opaque


def _loads(node: gast.AST) -> set[str]:
    return loads(node)


def names_bound(node: gast.AST) -> set[str]:
    return {
        n.id
        for n in walk(node)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
    }


def _root_name(target: gast.expr) -> str | None:
    while isinstance(target, (gast.Subscript, gast.Attribute)):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


def liveness(body: list[gast.stmt], effects: Effects) -> dict[int, set[str]]:
    """For each statement (keyed by ``id``), the names it binds that are live just after
    it; for each statement list (keyed by ``id(list)``), the names live at its end."""
    result: dict[int, set[str]] = {}
    _Liveness(effects, result).block(body, set())
    return result


def live_after(body: list[gast.stmt], effects: Effects) -> dict[int, set[str]]:
    """For each simple statement (keyed by ``id``), every name live just after it."""
    after: dict[int, set[str]] = {}
    _Liveness(effects, {}, after).block(body, set())
    return after


class _Liveness:
    def __init__(
        self,
        effects: Effects,
        result: dict[int, set[str]],
        after: dict[int, set[str]] | None = None,
    ):
        self.effects = effects
        self.result = result
        self.after = after  # when given: every name live after each simple statement
        self.loop_exits: list[set[str]] = []

    def block(self, statements, live: set[str]) -> set[str]:
        """The names live at the start of ``statements`` (``live``, at their end, is
        updated in place: pass a copy to keep it)."""
        self.result[id(statements)] = set(live)
        for statement in reversed(statements):
            live = self.statement(statement, live)
        return live

    def statement(self, statement, live: set[str]) -> set[str]:
        if isinstance(statement, gast.If):
            body = self.block(statement.body, set(live))
            orelse = self.block(statement.orelse, live)
            return body | orelse | _loads(statement.test)
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, live)
        if isinstance(statement, gast.Break):
            return set(self.loop_exits[-1]) if self.loop_exits else live
        if isinstance(statement, gast.Return):
            return _loads(statement)
        effect = self.effects.of(statement)
        if self.after is not None:
            self.after[id(statement)] = set(live)
        if effect.binds:
            self.result[id(statement)] = effect.binds & live
        if isinstance(statement, gast.Assign) and not isinstance(statement.targets[0], gast.Name):
            live |= effect.reads  # a subscript store keeps the container alive
            return live
        live -= effect.binds
        live |= effect.reads
        return live

    def loop(self, loop, after: set[str]) -> set[str]:
        if isinstance(loop, gast.For):
            head_reads, target = _loads(loop.iter), names_bound(loop.target)
        else:
            head_reads, target = _loads(loop.test), set()
        self.loop_exits.append(set(after))
        body_out = set(after) | head_reads
        while True:
            body_in = self.block(loop.body, set(body_out))
            head = (body_in - target) | head_reads
            new_out = body_out | head
            if new_out == body_out:
                break
            body_out = new_out
        self.loop_exits.pop()
        return head | after


def inner_blocks(statement) -> list[list]:
    if isinstance(statement, gast.If):
        return [statement.body, statement.orelse]
    if isinstance(statement, (gast.For, gast.While)):
        return [statement.body]
    return []


def is_compound(statement) -> bool:
    return isinstance(statement, (gast.If, gast.For, gast.While))


def read_before_rebound(
    body: list[gast.stmt], ignored=frozenset(), adds_to: dict[int, set[str]] | None = None
) -> dict[int, set[str]]:
    """For each simple statement of normalized code, the names whose adjoint every path
    after it adds to before binding them again or leaving the function (for ``body``
    itself, keyed by ``id(body)``: the names every path adds to before binding them).

    Reverse mode resets an adjoint to ``0.0`` where its variable is bound, so when a name
    is missing here its adjoint may still be that ``0.0`` where the statement's adjoint
    runs (``y = A @ x`` in a loop whose ``y`` only the last pass reads). A statement adds
    to the adjoints of the names it reads, unless its ``id`` is in ``ignored`` (it has no
    adjoint, or one that may be skipped; a ``for`` loop whose element has no adjoint), and
    only to those in ``adds_to[id(statement)]`` where that is given (``np.zeros_like(w)``
    reads ``w`` but adds nothing to its adjoint); a ``for`` loop adds to its iterable's
    in a pass; tests of ``if`` and ``while`` add to none, nor does a write into a container
    (``c[i] = v``, ``c.append(v)``) to ``c``'s.

    >>> body = gast.parse("for i in r:\\n    y = x\\n    z = y\\nreturn z").body
    >>> [sorted(read_before_rebound(body)[id(s)]) for s in body[0].body]
    [['y'], []]

    (``z`` is bound again by the next pass before anything reads it; ``r`` is read by a
    next pass, which may not come.)
    """
    module = gast.Module(body=body, type_ignores=[])
    universe = {n.id for n in walk(module) if isinstance(n, gast.Name)}
    walker = _ReadBeforeRebound(universe, ignored, adds_to)
    walker.result[id(body)] = walker.block(body, set())
    return walker.result


class _ReadBeforeRebound:
    """The walk of :func:`read_before_rebound` (methods, not closures that refer to each
    other, so that nothing of it waits for the garbage collector)."""

    def __init__(self, universe: set[str], ignored, adds_to):
        self.universe = universe
        self.ignored = ignored
        self.adds_to = adds_to
        self.result: dict[int, set[str]] = {}
        self.exits: list[set[str]] = []

    def block(self, statements, read: set[str]) -> set[str]:
        for statement in reversed(statements):
            read = self.one(statement, read)
        return read

    def one(self, statement, read: set[str]) -> set[str]:
        if isinstance(statement, gast.If):
            return self.block(statement.body, set(read)) & self.block(statement.orelse, set(read))
        if isinstance(statement, (gast.For, gast.While)):
            head_reads, target = set(), set()
            if isinstance(statement, gast.For):  # its element's adjoint goes back to the iter
                target = names_bound(statement.target)
                if id(statement) not in self.ignored:
                    head_reads = loads(statement.iter)
            head = set(self.universe)  # the greatest fixpoint: shrink from everything
            while True:
                self.exits.append(read)
                start = self.block(statement.body, set(head)) - target
                self.exits.pop()
                new_head = (start | head_reads) & read  # the element's, only in a pass
                if new_head == head:
                    return head
                head = new_head
        if isinstance(statement, gast.Break):
            return set(self.exits[-1]) if self.exits else set(read)
        if isinstance(statement, gast.Return):
            return loads(statement)
        self.result[id(statement)] = set(read)
        if (
            self.adds_to is not None
            and id(statement) in self.adds_to
            and id(statement) not in self.ignored
        ):
            bound = (
                names_bound(statement.targets[0]) if isinstance(statement, gast.Assign) else set()
            )
            return (read - bound) | self.adds_to[id(statement)]
        bound = set()
        if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name):
            bound = names_bound(statement.targets[0])
        if id(statement) in self.ignored:
            return read - bound
        if isinstance(statement, gast.Assign) and not bound:  # c[i] = v
            target = statement.targets[0]
            index = loads(target.slice) if isinstance(target, gast.Subscript) else set()
            return read | loads(statement.value) | index
        call = getattr(statement, "value", None)
        if (
            isinstance(call, gast.Call)
            and isinstance(call.func, gast.Attribute)
            and call.func.attr in MUTATING_METHODS
        ):  # c.append(v)
            return read | set().union(*(loads(a) for a in call.args))
        return (read - bound) | loads(statement.value if bound else statement)
