"""Which names hold lists, tuples or dicts rather than numbers or arrays.

``a + b`` and ``a * n`` are arithmetic on numbers and arrays but concatenation and
repetition on lists and tuples; their adjoints differ. So do writes: ``a += b`` extends a
list in place but adds into an array, and ``c[0] = v`` replaces a list's slot but writes
into an array's memory.
"""

from __future__ import annotations

import gast

from .activity import walk_statements
from .parse import ParsedFunction
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
    passed = {name for name, kind in kinds.items() if kind in ("sequence", "mapping")}
    assignments = _assignments(body)
    containers = _grown(assignments, passed, parsed, dicts=True)
    making = {id(target) for target, value in assignments if _makes(value, containers, parsed)}
    stores = [
        node
        for node in walk(gast.Module(body=body, type_ignores=[]))
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)
    ]
    return containers - {node.id for node in stores if id(node) not in making}


def _assignments(body) -> list:
    return [
        (statement.targets[0], statement.value)
        for statement in walk_statements(body)
        if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name)
    ]


def _grown(assignments: list, names: set[str], parsed: ParsedFunction, dicts: bool) -> set[str]:
    """``names`` and every name assigned a container made from them, to a fixed point."""
    names = set(names)
    grown = True
    while grown:
        grown = False
        for target, value in assignments:
            if target.id not in names and _makes(value, names, parsed, dicts):
                names.add(target.id)
                grown = True
    return names


def _makes(value, names: set[str], parsed: ParsedFunction, dicts: bool = True) -> bool:
    """Whether ``value`` is a list or tuple (or a dict, with ``dicts``) when ``names``
    hold containers."""
    displays = (gast.List, gast.Tuple, gast.Dict) if dicts else (gast.List, gast.Tuple)

    def held(node) -> bool:
        return isinstance(node, displays) or (isinstance(node, gast.Name) and node.id in names)

    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
        return held(value.left) or held(value.right)
    if isinstance(value, gast.Subscript):
        return isinstance(value.slice, gast.Slice) and held(value.value)
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args:
            return held(func.value)
        return parsed.resolve(func) in ((list, tuple, dict) if dicts else (list, tuple))
    return held(value)


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
