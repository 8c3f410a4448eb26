"""Writes that NumPy would make through an alias or a view: refused, with the line.

s2sad treats every name as its own value. NumPy arrays and lists can share memory
(``z = y``, ``v = y[1:]``, ``r = y.T``), and a write through one name then changes what
the others hold, which the adjoint would not see. So a write into an array or list that
shares memory with another name the function reads, or with an argument (the caller's
object), is refused:

>>> from .parse import function_from_source, parse_function
>>> f = function_from_source('''
... def f(x):
...     y = x * 1.0
...     v = y[1:]
...     v[0] = 0.0
...     return (y * y).sum()
... ''')
>>> check_aliasing(parse_function(f))
Traceback (most recent call last):
...
s2sad.errors.UnsupportedSyntaxError: <s2sad-source-...>:4: s2sad does not support writing into v, which shares memory with y; ...

``y += e`` on a name that nothing else shares is fine: s2sad computes ``y = y + e``.
Changing a list itself (``lst.append(v)``, ``lst[i] = v`` on a list built with ``[...]``)
writes into no element, so it is fine too.
"""

from __future__ import annotations

from dataclasses import dataclass

import gast
import numpy as np

from .errors import UnsupportedSyntaxError
from .parse import UNRESOLVED, ParsedFunction
from .syntax import operator_symbol, to_source, walk

#: attributes and methods whose result may share memory with the array they are read from
_VIEW_ATTRIBUTES = frozenset({"T", "real", "imag", "flat", "mT"})
_VIEW_METHODS = frozenset(
    {"reshape", "ravel", "transpose", "view", "squeeze", "swapaxes", "diagonal", "__getitem__"}
)
_VIEW_FUNCTIONS = (
    np.reshape,
    np.ravel,
    np.transpose,
    np.squeeze,
    np.expand_dims,
    np.asarray,
    np.atleast_1d,
    np.atleast_2d,
    np.broadcast_to,
    np.swapaxes,
    np.moveaxis,
    np.diagonal,
)
_MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "sort",
        "reverse",
        "fill",
        "update",
        "setdefault",
    }
)
#: methods that change a list or dict itself, not the arrays it holds
_LIST_METHODS = _MUTATING_METHODS - {"fill"}


def check_aliasing(parsed: ParsedFunction) -> dict[tuple, InPlaceAlias]:
    """Raise UnsupportedSyntaxError for a write through a shared array or list.

    ``z += e`` where z may share memory with a name read elsewhere is right when z is a
    number and wrong when it is an array; that waits for shapes. The result maps such
    statements (by line and column) to the error to raise if z may be an array.
    """
    check = _Check(parsed)
    check.run()
    return check.in_place


class _Check:
    def __init__(self, parsed: ParsedFunction):
        self.parsed = parsed
        self.parent: dict[str, str] = {}
        self.in_place: dict[tuple, InPlaceAlias] = {}

    # ----- which names may share memory -------------------------------------------------
    def find(self, name: str) -> str:
        while self.parent.get(name, name) != name:
            name = self.parent[name]
        return name

    def share(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb

    def local(self, name: str) -> bool:
        return name in self.parsed.local_names

    def sources(self, node) -> set[str]:
        """The local names whose memory the value of ``node`` may share."""
        if isinstance(node, gast.Name):
            return {node.id} if self.local(node.id) else set()
        if isinstance(node, gast.Subscript):
            return self.sources(node.value)
        if isinstance(node, gast.Attribute):
            return self.sources(node.value) if node.attr in _VIEW_ATTRIBUTES else set()
        if isinstance(node, (gast.Tuple, gast.List)):
            return set().union(*(self.sources(e) for e in node.elts)) if node.elts else set()
        if isinstance(node, gast.IfExp):
            return self.sources(node.body) | self.sources(node.orelse)
        if isinstance(node, gast.BoolOp):
            return set().union(*(self.sources(v) for v in node.values))
        if isinstance(node, gast.Call):
            func = node.func
            if isinstance(func, gast.Attribute) and func.attr in _VIEW_METHODS:
                if self.parsed.resolve(func.value) is UNRESOLVED:
                    return self.sources(func.value)
            function = self.parsed.resolve(func)
            if any(function is f for f in _VIEW_FUNCTIONS) and node.args:
                return self.sources(node.args[0])
        return set()

    def bind(self, target, sources: set[str]) -> None:
        for name in _names_bound(target):
            for source in sources:
                self.share(name, source)

    def check_unpacking(self, statement: gast.Assign, lists: set[str]) -> None:
        """``m[0], m[1] = m[1], m[0]``: when ``m[0]`` is a view (a row), the second store
        copies the row the first store just wrote. Right when the elements are numbers;
        that waits for shapes, like ``z += e``."""
        target, value = statement.targets[0], statement.value
        if not (
            len(statement.targets) == 1
            and isinstance(target, (gast.Tuple, gast.List))
            and isinstance(value, (gast.Tuple, gast.List))
            and len(target.elts) == len(value.elts)
        ):
            return
        risky: dict[int, str] = {}
        for i, element_target in enumerate(target.elts):
            for root in _written(element_target, lists):
                for j in range(i + 1, len(value.elts)):
                    element = value.elts[j]
                    shared = {self.find(n) for n in self.sources(element)}
                    if self.find(root) in shared and not isinstance(element, gast.Name):
                        risky.setdefault(j, root)
        if risky:
            first = min(risky)
            self.in_place[_key(statement)] = InPlaceAlias(
                None,
                UnsupportedSyntaxError(
                    f"`{to_source(value.elts[first])}`, which may share memory with "
                    f"{risky[first]}, in an unpacking assignment that writes into "
                    f"{risky[first]}",
                    self.parsed.location(statement),
                    hint="NumPy reads the view after the earlier store; copy it first "
                    f"(`{to_source(value.elts[first])}.copy()`) or assign one at a time",
                ),
                tuple(sorted(risky)),
            )

    # ----- the check ----------------------------------------------------------------------
    def run(self) -> None:
        body = self.parsed.tree.body
        lists = _lists(body)
        writes = []
        for statement in _statements(body):
            if isinstance(statement, gast.Assign):
                sources = self.sources(statement.value)
                for target in statement.targets:
                    self.bind(target, sources)
                    writes += [(statement, n) for n in _written(target, lists)]
                self.check_unpacking(statement, lists)
            elif isinstance(statement, gast.AugAssign):
                root = _root(statement.target)
                if root is not None:
                    writes.append((statement, root))
            elif isinstance(statement, gast.For):
                self.bind(statement.target, self.sources(statement.iter))
            elif isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
                func = statement.value.func
                if isinstance(func, gast.Attribute) and func.attr in _MUTATING_METHODS:
                    root = _root(func.value)
                    own_list = isinstance(func.value, gast.Name) and root in lists
                    if root is not None and not (own_list and func.attr in _LIST_METHODS):
                        writes.append((statement, root))
        read = {
            n.id
            for n in walk(self.parsed.tree)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
        }
        parameters = set(_parameters(self.parsed.tree))
        for statement, name in writes:
            if not self.local(name):
                continue
            group = {n for n in self.parsed.local_names if self.find(n) == self.find(name)}
            others = sorted((group - {name}) & read)
            arguments = sorted(group & parameters)
            location = self.parsed.location(statement)
            if isinstance(statement, gast.AugAssign) and isinstance(statement.target, gast.Name):
                # ``z += e`` writes into z only when z is an array; numbers are rebound
                if others:
                    symbol = operator_symbol(statement.op)
                    self.in_place[_key(statement)] = InPlaceAlias(
                        name,
                        UnsupportedSyntaxError(
                            f"`{to_source(statement)}` on an array that shares memory "
                            f"with {others[0]}",
                            location,
                            hint=f"NumPy changes {others[0]} too; write "
                            f"`{name} = {name} {symbol} ...` or copy the array first",
                        ),
                    )
                continue
            if arguments:
                raise UnsupportedSyntaxError(
                    f"writing into {name}, which shares memory with the argument "
                    f"{arguments[0]} (the caller's object)",
                    location,
                    hint=f"copy it first: {arguments[0]} = {arguments[0]}.copy()",
                )
            if others:
                raise UnsupportedSyntaxError(
                    f"writing into {name}, which shares memory with {others[0]}",
                    location,
                    hint="the adjoint would not see the change; copy the array (.copy()) "
                    "before writing into it",
                )


@dataclass
class InPlaceAlias:
    """``name += ...`` where another name may share name's memory, or the ``elements`` of
    an unpacking assignment that may be views of an array it writes into: refused unless
    the shapes show numbers (``()``)."""

    name: str | None
    error: UnsupportedSyntaxError
    elements: tuple[int, ...] = ()


def _key(node) -> tuple:
    return (getattr(node, "lineno", None), getattr(node, "col_offset", None))


def _statements(body):
    for statement in body:
        yield statement
        if isinstance(statement, (gast.If, gast.For, gast.While, gast.With, gast.Try)):
            for block in ("body", "orelse", "finalbody"):
                yield from _statements(getattr(statement, block, []) or [])


def _names_bound(target) -> list[str]:
    if isinstance(target, gast.Name):
        return [target.id]
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for e in target.elts for n in _names_bound(e)]
    return []


def _written(target, lists: set[str]) -> list[str]:
    """Names whose object a subscript store changes: ``y[i] = v`` writes into ``y``.

    ``lst[i] = v`` on one of ``lists`` replaces a slot and writes into no array;
    ``lst[i][j] = v`` writes into the array in that slot.
    """
    if isinstance(target, gast.Subscript):
        if isinstance(target.value, gast.Name) and target.value.id in lists:
            return []
        root = _root(target)
        return [root] if root is not None else []
    if isinstance(target, (gast.Tuple, gast.List)):
        return [n for e in target.elts for n in _written(e, lists)]
    return []


def _lists(body) -> set[str]:
    """Names only ever bound to a list or dict built in the function (``[...]``, ``{...}``)."""
    displays = (gast.List, gast.Dict, gast.ListComp, gast.DictComp)
    nodes = list(walk(gast.Module(body=body, type_ignores=[])))
    built = {
        id(target)
        for node in nodes
        if isinstance(node, gast.Assign) and isinstance(node.value, displays)
        for target in node.targets
        if isinstance(target, gast.Name)
    }
    stores = [n for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    return {n.id for n in stores if id(n) in built} - {n.id for n in stores if id(n) not in built}


def _root(node) -> str | None:
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _parameters(tree) -> list[str]:
    args = tree.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    params += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [p.id for p in params]
