"""Which names hold lists, tuples or dicts rather than numbers or arrays.

``a + b`` and ``a * n`` are arithmetic on numbers and arrays but concatenation and
repetition on lists and tuples; their adjoints differ. So do writes: ``a += b`` extends a
list in place but adds into an array, and ``c[0] = v`` replaces a list's slot but writes
into an array's memory.
"""

from __future__ import annotations

import gast

from . import cache
from .activity import walk_statements
from .errors import S2SADError
from .parse import UNRESOLVED, ParsedFunction, parse_function
from .primitives import is_user_function
from .syntax import walk


def sequence_names(body, parsed: ParsedFunction, kinds: dict) -> set[str]:
    r"""Names that may hold a list or a tuple: parameters passed one, and names bound to a
    display, ``list(...)``, ``tuple(...)``, a copy or slice of a sequence, or ``+`` and
    ``*`` with a sequence operand (whatever they hold at other times).

    >>> from s2sad.normalize import normalize
    >>> from s2sad.parse import function_from_source, parse_function
    >>> f = function_from_source("def f(x, y):\n    pair = [x] * 2\n    return pair[0] + y\n")
    >>> normalized = normalize(parse_function(f))
    >>> sorted(sequence_names(normalized.tree.body, normalized.parsed, {}))
    ['list_1', 'pair']
    """
    passed = {name for name, kind in kinds.items() if kind == "sequence"}
    return _grown(_assignments(body), passed, parsed, dicts=False)


def container_names(body, parsed: ParsedFunction, kinds: dict) -> set[str]:
    """Names that may hold a list, a tuple or a dict (their gradients are containers too)."""
    passed = {name for name, kind in kinds.items() if kind in ("sequence", "mapping")}
    return _grown(_assignments(body), passed, parsed, dicts=True)


def only_containers(body, parsed: ParsedFunction, kinds: dict) -> set[str]:
    r"""Names every binding of which is a list, a tuple or a dict: parameters passed one
    and never rebound, and names only ever bound to what :func:`sequence_names` counts,
    dict displays, ``dict(...)`` or a container's copy.

    >>> from s2sad.normalize import normalize
    >>> from s2sad.parse import function_from_source, parse_function
    >>> f = function_from_source(
    ...     "def f(x, d):\n    a = [x]\n    a = a + [x]\n    b = a\n    b = x\n    e = d.copy()\n"
    ... )
    >>> normalized = normalize(parse_function(f))
    >>> sorted(only_containers(normalized.tree.body, normalized.parsed, {"d": "mapping"}))
    ['a', 'd', 'e', 'list_1']
    """
    assignments = _assignments(body)
    containers = container_names(body, parsed, kinds)
    making = {
        id(target)
        for target, value in assignments
        if _makes(value, containers, parsed, True, assignments)
    }
    stores = [
        node
        for node in walk(gast.Module(body=body, type_ignores=[]))
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)
    ]
    return containers - {node.id for node in stores if id(node) not in making}


def _assignments(body) -> list:
    """(target, value) of each ``name = value``, and (target, iterable) of each ``for name
    in iterable`` (marked by a ``None`` value's place being taken by ``("for", iter)``)."""
    pairs = []
    for statement in walk_statements(body):
        if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name):
            pairs.append((statement.targets[0], statement.value))
        elif isinstance(statement, gast.For) and isinstance(statement.target, gast.Name):
            pairs.append((statement.target, ("for", statement.iter)))
    return pairs


def _grown(assignments: list, names: set[str], parsed: ParsedFunction, dicts: bool) -> set[str]:
    """``names`` and every name assigned a container made from them, to a fixed point."""
    names = set(names)
    grown = True
    while grown:
        grown = False
        for target, value in assignments:
            if target.id not in names and _makes(value, names, parsed, dicts, assignments):
                names.add(target.id)
                grown = True
    return names


def _makes(value, names: set, parsed: ParsedFunction, dicts: bool = True, pairs=()) -> bool:
    """Whether ``value`` is a list or tuple (or a dict, with ``dicts``) when ``names``
    hold containers (``pairs``: the function's assignments, to look into displays)."""
    displays = (gast.List, gast.Tuple, gast.Dict) if dicts else (gast.List, gast.Tuple)

    def held(node) -> bool:
        return isinstance(node, displays) or (isinstance(node, gast.Name) and node.id in names)

    def of_sequences(node) -> bool:  # [[x, y], [y, x]]: its items are sequences
        return isinstance(node, gast.Name) and any(
            target.id == node.id
            and isinstance(display, (gast.List, gast.Tuple, gast.Dict))
            and all(map(held, display.values if isinstance(display, gast.Dict) else display.elts))
            and (display.values if isinstance(display, gast.Dict) else display.elts)
            for target, display in pairs
        )

    if isinstance(value, tuple):  # for name in iterable
        return of_sequences(value[1])
    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
        return held(value.left) or held(value.right)
    if isinstance(value, gast.Subscript):
        if isinstance(value.slice, gast.Slice):
            return held(value.value)
        return of_sequences(value.value)
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args:
            return held(func.value)
        function = parsed.resolve(func)
        if function in ((list, tuple, dict) if dicts else (list, tuple)):
            return True
        return returns_display(function) is not None
    return held(value)


def returns_display(function) -> type | None:
    """``gast.Tuple`` or ``gast.List`` when every ``return`` of the user's ``function``
    returns a display of that kind (its result is a tuple or a list), else None."""
    code = getattr(function, "__code__", None)
    if code is None or not is_user_function(function):
        return None

    def find() -> type | None:
        try:
            tree = parse_function(function).tree
        except S2SADError:
            return None
        kinds = {type(n.value) for n in walk(tree) if isinstance(n, gast.Return)}
        return kinds.pop() if len(kinds) == 1 and kinds <= {gast.Tuple, gast.List} else None

    return cache.lookup(("returns a display", code), find)


def containers_built(body) -> set[str]:
    """Names only ever bound to a list or dict built in the function (``[...]``, ``{...}``)."""
    displays = (gast.List, gast.Dict)
    nodes = list(walk(gast.Module(body=body, type_ignores=[])))
    built = {
        id(node.targets[0])
        for node in nodes
        if isinstance(node, gast.Assign) and isinstance(node.value, displays)
    }
    stores = [n for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    return {n.id for n in stores if id(n) in built} - {n.id for n in stores if id(n) not in built}


def parameter_objects(body, parameters) -> set[str]:
    """Names that may be the very object a parameter holds (not a copy of it): the
    parameters, and names assigned one of them (``e = d``, ``e = d if c else x``).

    >>> body = gast.parse("e = d\\nf = e if c else x\\ng = d.copy()").body
    >>> sorted(parameter_objects(body, ["d"]))
    ['d', 'e', 'f']
    """
    names = set(parameters)
    assignments = _assignments(body)
    grown = True
    while grown:
        grown = False
        for target, value in assignments:
            choices = [value.body, value.orelse] if isinstance(value, gast.IfExp) else [value]
            if target.id not in names and any(
                isinstance(c, gast.Name) and c.id in names for c in choices
            ):
                names.add(target.id)
                grown = True
    return names


def tuple_names(body) -> set[str]:
    """Names only ever bound to a tuple display (``t += (v,)`` makes a new tuple)."""
    pairs = _assignments(body)
    made = {target.id for target, value in pairs if isinstance(value, gast.Tuple)}
    return made - {target.id for target, value in pairs if not isinstance(value, gast.Tuple)}


def list_holders(body, parsed: ParsedFunction) -> dict[str, set[str]]:
    """For each name, the names that may be the same list or hold it as an item: ``b = a``
    and ``b = a if c else d`` (the same list either way), ``c = [a, x]``, ``c.append(a)``
    and ``c[k] = a`` (c holds a), ``b = c[i]`` and ``b = c.pop()`` (b may be an item of
    c), and what a call of the user's returns (its argument, maybe). Read transitively
    with :func:`holders_of`. Copies (``list(a)``, ``a[:]``, ``a.copy()``, ``a + [x]``) are
    new lists.

    >>> graph = list_holders(gast.parse("b = a\\nc = [b, x]\\nd = list(a)").body, None)
    >>> sorted(holders_of(graph, "a")), sorted(holders_of(graph, "x"))
    (['a', 'b', 'c'], ['c', 'x'])
    """
    graph: dict[str, set[str]] = {}

    def held_by(item: str, holder: str) -> None:
        graph.setdefault(item, set()).add(holder)

    for statement in walk_statements(body):
        if isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
            func = statement.value.func  # c.append(a), c.insert(i, a), c.setdefault(k, a)
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                for name in _names_in(statement.value.args):
                    held_by(name, func.value.id)
        if not isinstance(statement, gast.Assign):
            continue
        target, value = statement.targets[0], statement.value
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            for name in _names_in([value]):  # c[k] = a
                held_by(name, target.value.id)
        if not isinstance(target, gast.Name):
            continue
        same, holds, item_of = _list_sources(value, parsed)
        for name in same:
            held_by(name, target.id)
            held_by(target.id, name)
        for name in holds:
            held_by(name, target.id)
        for name in item_of:
            held_by(target.id, name)
    return graph


def holders_of(graph: dict[str, set[str]], name: str) -> set[str]:
    """``name`` and every name that may be its list or hold it, directly or not."""
    found, todo = {name}, [name]
    while todo:
        for holder in graph.get(todo.pop(), ()):
            if holder not in found:
                found.add(holder)
                todo.append(holder)
    return found


def _list_sources(value, parsed) -> tuple[list[str], list[str], list[str]]:
    """For ``target = value``: the names target may be the same list as, the names it
    holds as items, and the names it may be an item of."""
    if isinstance(value, gast.Name):
        return [value.id], [], []
    if isinstance(value, gast.IfExp):
        return _names_in([value.body, value.orelse]), [], []
    if isinstance(value, (gast.List, gast.Tuple)):
        return [], _names_in(value.elts), []
    if isinstance(value, gast.Dict):
        return [], _names_in(value.values), []
    if isinstance(value, gast.Subscript):  # an item of c may be a list; a slice is new
        return [], [], [] if isinstance(value.slice, gast.Slice) else _names_in([value.value])
    if isinstance(value, gast.Call):
        func = value.func
        function = parsed.resolve(func) if parsed is not None else UNRESOLVED
        if isinstance(func, gast.Attribute) and function is UNRESOLVED:  # a method
            if func.attr == "copy":  # a new list; c.pop(), d.get(k, a): an item
                return [], [], []
            return _names_in(value.args), [], _names_in([func.value])
        if function in (list, tuple, dict, sorted) or not is_user_function(function):
            return [], [], []
        return _names_in(value.args), [], []  # the user's function may hand back its argument
    return [], [], []


def _names_in(nodes) -> list[str]:
    return [n.id for n in nodes if isinstance(n, gast.Name)]
