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
from .syntax import loads, walk


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


def passed_items(body, kinds: dict) -> set[str]:
    r"""Names bound to an item of a list or tuple argument, or to an item of such an item
    (``a = L[0]``, ``for a in L``): s2sad is not told whether they hold lists or arrays.

    >>> from s2sad.normalize import normalize
    >>> from s2sad.parse import function_from_source, parse_function
    >>> f = function_from_source("def f(L, x):\n    a = L[0]\n    return a[1] + x\n")
    >>> normalized = normalize(parse_function(f))
    >>> sorted(passed_items(normalized.tree.body, {"L": "sequence"}))
    ['a', 'a_1']
    """
    items = set()
    holders = {name for name, kind in kinds.items() if kind == "sequence"}
    pairs = _assignments(body)
    while holders:
        found = set()
        for target, value in pairs:
            if isinstance(value, tuple):  # for name in iterable
                value = gast.Subscript(value=value[1], slice=None, ctx=gast.Load())
            if (
                isinstance(value, gast.Subscript)
                and isinstance(value.value, gast.Name)
                and value.value.id in holders
                and target.id not in items
            ):
                found.add(target.id)
        items |= found
        holders = found
    return items


def joined_from(body, parsed: ParsedFunction, names: set[str]) -> set[str]:
    """``names`` and the names bound to a list or tuple made from them (joined, repeated,
    copied), whatever they hold at other times."""
    return _grown(_assignments(body), names, parsed, dicts=False)


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
    bindings = _bindings(assignments)
    making = {
        id(target)
        for target, value in assignments
        if _makes(value, containers, parsed, True, bindings)
    }
    stores = [
        node
        for node in walk(gast.Module(body=body, type_ignores=[]))
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)
    ]
    return containers - {node.id for node in stores if id(node) not in making}


def _assignments(body) -> list:
    """(target, value) of each ``name = value``, and (target, ("for", iterable)) of each
    ``for name in iterable``."""
    pairs = []
    for statement in walk_statements(body):
        if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name):
            pairs.append((statement.targets[0], statement.value))
        elif isinstance(statement, gast.For) and isinstance(statement.target, gast.Name):
            pairs.append((statement.target, ("for", statement.iter)))
    return pairs


def _bindings(assignments: list) -> dict[str, list]:
    """Each name → the values assigned to it (loops aside), to look into displays."""
    bound: dict[str, list] = {}
    for target, value in assignments:
        if not isinstance(value, tuple):
            bound.setdefault(target.id, []).append(value)
    return bound


def _grown(assignments: list, names: set[str], parsed: ParsedFunction, dicts: bool) -> set[str]:
    """``names`` and every name assigned a container made from them, to a fixed point."""
    names = set(names)
    bindings = _bindings(assignments)
    grown = True
    while grown:
        grown = False
        for target, value in assignments:
            if target.id not in names and _makes(value, names, parsed, dicts, bindings):
                names.add(target.id)
                grown = True
    return names


def _makes(value, names: set, parsed: ParsedFunction, dicts: bool, bindings: dict) -> bool:
    """Whether ``value`` is a list or tuple (or a dict, with ``dicts``) when ``names``
    hold containers (``bindings``: what each name is assigned, to look into displays)."""
    displays = (gast.List, gast.Tuple, gast.Dict) if dicts else (gast.List, gast.Tuple)

    def held(node) -> bool:
        return isinstance(node, displays) or (isinstance(node, gast.Name) and node.id in names)

    def of_sequences(node) -> bool:  # [[x, y], [y, x]], [[x]] * n: its items are sequences
        return isinstance(node, gast.Name) and _holds_sequences(node, held, bindings, ())

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
        if function in ((list, tuple, dict, sorted) if dicts else (list, tuple, sorted)):
            return True  # sorted(...) makes a new list too
        if is_user_function(function) and any(map(held, value.args)):
            return True  # the user's function may hand its list back
        return returns_display(function) is not None
    return held(value)


def _holds_sequences(node, held, bindings: dict, seen: tuple) -> bool:
    """Whether every item of ``node`` is a sequence (``held``), as far as its displays and
    the names bound to them tell (a module-level function: a recursive closure would make
    a reference cycle each build)."""
    if isinstance(node, (gast.List, gast.Tuple, gast.Dict)):
        elements = node.values if isinstance(node, gast.Dict) else node.elts
        return bool(elements) and all(map(held, elements))
    if isinstance(node, gast.BinOp):
        sides = (node.left, node.right)
        return any(_holds_sequences(side, held, bindings, seen) for side in sides)
    if isinstance(node, gast.Name) and node.id not in seen:
        return any(
            _holds_sequences(bound, held, bindings, (*seen, node.id))
            for bound in bindings.get(node.id, ())
        )
    return False


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


def tuple_names(body) -> set[str]:
    """Names only ever bound to a tuple display (``t += (v,)`` makes a new tuple)."""
    pairs = _assignments(body)
    made = {target.id for target, value in pairs if isinstance(value, gast.Tuple)}
    return made - {target.id for target, value in pairs if not isinstance(value, gast.Tuple)}


def _names_in(nodes) -> list[str]:
    return [n.id for n in nodes if isinstance(n, gast.Name)]


class ContainerAliases:
    r"""Which names may be the same list, tuple or dict object, and which may hold it.

    A change made to a container in place (``c[k] = v``, ``c += [v]``) is seen by every
    name that may be that object, and every container that may hold it, at any depth. A
    small points-to analysis, flow-insensitive: each name may point to objects made by a
    statement (a display, a copy, a call) or passed in (a parameter, and the items inside
    it); ``b = a`` points ``b`` where ``a`` points, ``b = c[i]`` (``c.pop()``, ``for b in
    c``) where ``c``'s items point, ``c = [a, x]``, ``c.append(a)`` and ``c[k] = a`` put
    ``a``'s objects among ``c``'s items, copies (``list(c)``, ``c[:]``, ``c + d``) are new
    objects holding ``c``'s items, and the user's functions may hand back an argument or
    anything inside it.

    >>> body = gast.parse("a = [x]\nb = a\nc = [b, y]\nd = c[:]\ne = d[0]\nf = L[0]").body
    >>> aliases = ContainerAliases(body, None, ["L", "x", "y"])
    >>> sorted(aliases.visible("a")), sorted(aliases.callers & set("abcdef"))
    (['a', 'b', 'c', 'd', 'e'], ['e', 'f'])
    """

    def __init__(self, body, parsed, parameters):
        self.points: dict[str, set] = {p: {("argument", p)} for p in parameters}
        self.items: dict[object, set] = {("argument", p): {("item", p)} for p in parameters}
        for p in parameters:
            self.items[("item", p)] = {("item", p)}  # the caller's lists inside lists
        self.caller_objects = {o for p in parameters for o in (("argument", p), ("item", p))}
        self.rules: list = []  # (kind, target, source) constraints, solved together
        for statement in walk_statements(body):
            self._statement(statement, parsed)
        self._solve()
        self.callers = {n for n, objects in self.points.items() if objects & self.caller_objects}

    def visible(self, name: str) -> set[str]:
        """The names that see a change made in place to the object ``name`` holds."""
        mine = self.points.get(name, set())
        seen = {name}
        for other, objects in self.points.items():
            if objects & mine or self._inside(objects) & mine:
                seen.add(other)
        return seen

    def _inside(self, objects: set) -> set:
        """Every object held by ``objects``, at any depth."""
        found, todo = set(), list(objects)
        while todo:
            for item in self.items.get(todo.pop(), ()):
                if item not in found:
                    found.add(item)
                    todo.append(item)
        return found

    def _solve(self) -> None:
        grown = True
        while grown:
            grown = False
            for kind, target, source in self.rules:
                if kind == "points":  # target = source
                    new = self.points.get(source, set())
                elif kind == "item":  # target = source[i]
                    new = set().union(*(self.items.get(o, ()) for o in self.points.get(source, ())))
                elif kind == "within":  # target = helper(source): it, or anything inside it
                    new = self.points.get(source, set())
                    new = new | self._inside(new)
                else:  # "holds" (c.append(a), c[k] = a), "spreads" (c.extend(d), list(d))
                    new = self.points.get(source, set())
                    if kind == "spreads":
                        new = set().union(*(self.items.get(o, ()) for o in new))
                    for container in list(self.points.get(target, ())):
                        if not new <= self.items.setdefault(container, set()):
                            self.items[container] |= new
                            grown = True
                    continue
                if not new <= self.points.setdefault(target, set()):
                    self.points[target] |= new
                    grown = True

    def _made(self, name: str, statement) -> tuple:
        made = ("made", id(statement))
        self.points.setdefault(name, set()).add(made)
        return made

    def _statement(self, statement, parsed) -> None:
        rules = self.rules
        if isinstance(statement, gast.For):
            for target in _names_in([statement.target]):
                rules.extend(("item", target, n) for n in sorted(loads(statement.iter)))
            return
        if isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
            func = statement.value.func  # c.append(a), c.insert(i, a), c.extend(d)
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                for source in _names_in(statement.value.args):
                    rules.append(("holds", func.value.id, source))
                    rules.append(("spreads", func.value.id, source))
            return
        if not isinstance(statement, gast.Assign):
            return
        target, value = statement.targets[0], statement.value
        if isinstance(target, gast.Subscript):  # c[k] = a: c holds a
            if isinstance(target.value, gast.Name):
                for source in _names_in([value]):
                    rules.append(("holds", target.value.id, source))
            return
        if not isinstance(target, gast.Name):
            return
        name = target.id
        if isinstance(value, gast.Name):
            rules.append(("points", name, value.id))
        elif isinstance(value, gast.IfExp):
            rules.extend(("points", name, n) for n in _names_in([value.body, value.orelse]))
        elif isinstance(value, (gast.List, gast.Tuple, gast.Dict)):
            self._made(name, statement)
            elements = value.values if isinstance(value, gast.Dict) else value.elts
            rules.extend(("holds", name, source) for source in _names_in(elements))
        elif isinstance(value, gast.Subscript):
            if isinstance(value.slice, gast.Slice):
                self._copy(name, statement, _names_in([value.value]))
            else:
                rules.extend(("item", name, n) for n in _names_in([value.value]))
        elif isinstance(value, gast.BinOp):
            self._copy(name, statement, _names_in([value.left, value.right]))
        elif isinstance(value, gast.Call):
            self._call(name, statement, value, parsed)
        else:
            self._made(name, statement)

    def _copy(self, name: str, statement, sources: list[str]) -> None:
        """``name`` is a new container holding the items of ``sources``."""
        self._made(name, statement)
        self.rules.extend(("spreads", name, source) for source in sources)

    def _call(self, name: str, statement, call, parsed) -> None:
        func = call.func
        function = parsed.resolve(func) if parsed is not None else UNRESOLVED
        arguments = _names_in(call.args)
        if isinstance(func, gast.Attribute) and function is UNRESOLVED:  # a method
            owner = _names_in([func.value])
            if func.attr == "copy":
                self._copy(name, statement, owner)
            else:  # c.pop(), d.get(k, a): an item, or the default; maybe new
                self._made(name, statement)
                self.rules.extend(("item", name, n) for n in owner)
                self.rules.extend(("points", name, n) for n in arguments)
        elif function in (list, tuple, dict, sorted, reversed):
            self._copy(name, statement, arguments)
        else:
            self._made(name, statement)
            if is_user_function(function) and returns_display(function) is not None:
                self.rules.extend(("holds", name, n) for n in arguments)  # [u, 2 * u]: new
            elif is_user_function(function) or function is UNRESOLVED:  # handed back
                self.rules.extend(("within", name, n) for n in arguments)
