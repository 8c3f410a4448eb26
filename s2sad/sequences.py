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
from .parse import ParsedFunction, parse_function
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
