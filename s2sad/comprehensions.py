"""Comprehensions become the loops they stand for, which s2sad differentiates like any loop.

Before::

    ys = [np.sin(x * k) for k in range(3) if k != 1]

After (:func:`loops`, before the loop is normalised)::

    ys = []
    for k in range(3):
        if k != 1:
            ys.append(np.sin(x * k))

A comprehension's variables are its own in Python 3: one whose name occurs elsewhere in the
function (in another comprehension too), that an enclosing comprehension binds, or that
names a global or a builtin, is renamed, ``k_1``, so that the loop leaves those alone. A dict comprehension sets ``d[key] = value`` in its loop.
A generator expression is read as a list comprehension where a list gives the same result:
as the argument of ``sum``, ``min``, ``max``, ``any``, ``all``, ``list``, ``tuple`` or
``sorted`` (``any`` and ``all`` then evaluate every item rather than stopping early).

>>> from s2sad.names import Namer
>>> from s2sad.syntax import parse_expr, to_source
>>> node = parse_expr("[v * x for v in xs if v > 0 for w in v]")
>>> statements, bound = loops(node, "ys", Namer({"v", "w", "x", "xs", "ys"}), {"v"})
>>> print(to_source(gast.Module(body=statements, type_ignores=[])))
for v_1 in xs:
    if v_1 > 0:
        for w in v_1:
            ys.append(v_1 * x)
>>> sorted(bound)
['v_1', 'w']
"""

from __future__ import annotations

import builtins
from collections import Counter

import gast

from .names import Namer
from .syntax import attribute, call, children, clone, load, names_stored, walk

_SCOPES = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)
#: builtins for which a generator expression argument may be a list instead
CONSUMERS = (
    builtins.sum,
    builtins.min,
    builtins.max,
    builtins.any,
    builtins.all,
    builtins.list,
    builtins.tuple,
    builtins.sorted,
)


def name_counts(tree: gast.AST) -> Counter:
    """How many times each name occurs in ``tree``: a comprehension's variable must be
    renamed when its name occurs outside the comprehension too."""
    return Counter(node.id for node in walk(tree) if isinstance(node, gast.Name))


def loops(node, result: str, namer: Namer, taken: set[str]) -> tuple[list, set[str]]:
    """The loops that fill ``result`` (already an empty list or dict) as comprehension
    ``node`` would, and the names they bind. Variables named in ``taken`` are renamed."""
    renames = {}
    bound = set()
    for generator in node.generators:
        for name in names_stored(generator.target):
            if name in taken and name not in renames:
                renames[name] = namer.fresh(name)
            bound.add(renames.get(name, name))
    if isinstance(node, gast.DictComp):
        target = gast.Subscript(
            value=load(result), slice=_renamed(node.key, renames), ctx=gast.Store()
        )
        body = [gast.Assign(targets=[target], value=_renamed(node.value, renames))]
    else:
        append = call(attribute(load(result), "append"), [_renamed(node.elt, renames)])
        body = [gast.Expr(value=append)]
    for position in reversed(range(len(node.generators))):
        generator = node.generators[position]
        for test in reversed(generator.ifs):
            body = [gast.If(test=_renamed(test, renames), body=body, orelse=[])]
        iterable = clone(generator.iter) if position == 0 else _renamed(generator.iter, renames)
        loop = gast.For(
            target=_renamed(generator.target, renames),
            iter=iterable,
            body=body,
            orelse=[],
            type_comment=None,
        )
        body = [loop]
    return body, bound


def _renamed(node: gast.AST, renames: dict[str, str]) -> gast.AST:
    """A copy of ``node`` with every Name in ``renames`` renamed, except inside a nested
    comprehension that binds the name again (there it is that comprehension's own)."""
    copy = clone(node)
    if renames:
        _rename(copy, renames)
    return copy


def _rename(node: gast.AST, renames: dict[str, str]) -> None:
    if isinstance(node, gast.Name):
        node.id = renames.get(node.id, node.id)
        return
    if isinstance(node, _SCOPES):
        _rename(node.generators[0].iter, renames)
        rebound = set().union(*(names_stored(g.target) for g in node.generators))
        inner = {name: new for name, new in renames.items() if name not in rebound}
        if inner:
            parts = [node.generators[0].target, *node.generators[0].ifs]
            parts += [part for g in node.generators[1:] for part in (g.target, g.iter, *g.ifs)]
            parts += [getattr(node, f) for f in ("elt", "key", "value") if hasattr(node, f)]
            for part in parts:
                _rename(part, inner)
        return
    for child in children(node):
        _rename(child, renames)
