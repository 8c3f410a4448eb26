"""A tape that one loop fills and one loop empties becomes the adjoint loop's iterable.

When the whole function pushes one value per pass of a loop and pops it once per pass of
one top-level adjoint loop, the tape holds exactly those values, in order::

    for i in reversed(range(1000)):            for x in reversed(tape):
        x = tape.pop()                   →         da = da + dx * x
        da = da + dx * x                           ...
        ...

which is what a person would write, and costs no ``pop`` call (nor, for a ``while``
loop, the trip counter the primal sweep kept only for the adjoint loop).
"""

from __future__ import annotations

from typing import Callable

import gast

from .syntax import Comment, load, loads, names_stored, store, walk


def iterate_tapes(tree: gast.FunctionDef, builtin: Callable[[str], bool]) -> bool:
    """Rewrite the adjoint loops of ``tree`` that can iterate over their tape; whether any
    changed. ``builtin(name)`` says whether ``name`` denotes the builtin of that name in the
    generated code."""
    if not (builtin("reversed") and builtin("range")):
        return False
    changed = False
    for statement in tree.body:
        if isinstance(statement, gast.Assign) and _is_empty_list(statement.value):
            target = statement.targets[0]
            if isinstance(target, gast.Name):
                changed |= _iterate(tree, target.id)
    return changed


def _iterate(tree: gast.FunctionDef, tape: str) -> bool:
    uses = [n for n in walk(tree) if isinstance(n, gast.Name) and n.id == tape]
    appends = [c for c in walk(tree) if _is_method_call(c, tape, "append", 1)]
    pops = [s for s in walk(tree) if _is_pop(s, tape)]
    # the tape's name: bound once, then one append and one pop, nothing else
    if len(appends) != 1 or len(pops) != 1 or len(uses) != 3:
        return False
    pop = pops[0]
    loop = next((s for s in tree.body if isinstance(s, gast.For) and pop in s.body), None)
    if loop is None:
        return False
    value = pop.targets[0].id
    before = loop.body[: loop.body.index(pop)]
    if any(value in loads(s) or value in names_stored(s) for s in before):
        return False  # the pass must not see the value before the pop gave it
    if not isinstance(loop.target, gast.Name) or not _counts_passes(loop.iter):
        return False
    rest = [s for s in loop.body if s is not pop]
    index = loop.target.id
    if any(index in loads(s) or index in names_stored(s) for s in rest):
        return False
    counter = _counter(loop.iter)
    loop.body = rest if any(not isinstance(s, Comment) for s in rest) else [*rest, gast.Pass()]
    loop.target = store(value)
    loop.iter = gast.Call(func=load("reversed"), args=[load(tape)], keywords=[])
    if counter is not None:
        _drop_counter(tree, counter)
    return True


def _counts_passes(iterable) -> bool:
    """``range(n)`` or ``reversed(range(...))``: the adjoint loop's trip count."""
    if not isinstance(iterable, gast.Call) or not isinstance(iterable.func, gast.Name):
        return False
    if iterable.func.id == "reversed" and len(iterable.args) == 1:
        return _counts_passes(iterable.args[0])
    return iterable.func.id == "range"


def _counter(iterable) -> str | None:
    """``n_steps`` of ``range(n_steps)``, the counter a ``while`` loop's primal kept."""
    if iterable.func.id == "range" and len(iterable.args) == 1:
        argument = iterable.args[0]
        if isinstance(argument, gast.Name):
            return argument.id
    return None


def _drop_counter(tree: gast.FunctionDef, counter: str) -> None:
    """Remove ``n = 0`` and ``n = n + 1`` when nothing else reads ``n``."""
    assignments = [
        s
        for s in walk(tree)
        if isinstance(s, gast.Assign)
        and isinstance(s.targets[0], gast.Name)
        and s.targets[0].id == counter
    ]
    reads = [
        n
        for n in walk(tree)
        if isinstance(n, gast.Name) and n.id == counter and isinstance(n.ctx, gast.Load)
    ]
    if len(reads) != sum(counter in loads(s.value) for s in assignments):
        return  # read by something else
    doomed = {id(s) for s in assignments}
    for node in walk(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and any(id(s) in doomed for s in block):
                kept = [s for s in block if id(s) not in doomed]
                block[:] = kept or [gast.Pass()]


def _is_empty_list(node) -> bool:
    return isinstance(node, gast.List) and not node.elts


def _is_method_call(node, owner: str, method: str, count: int) -> bool:
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, gast.Name)
        and node.func.value.id == owner
        and len(node.args) == count
        and not node.keywords
    )


def _is_pop(statement, tape: str) -> bool:
    return (
        isinstance(statement, gast.Assign)
        and isinstance(statement.targets[0], gast.Name)
        and _is_method_call(statement.value, tape, "pop", 0)
    )
