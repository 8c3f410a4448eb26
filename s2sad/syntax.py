"""Constructors and queries for the gast trees every pipeline stage builds and reads.

>>> to_source(assign("y", binop(load("x"), "*", const(2.0))))
'y = x * 2.0'
>>> sorted(names_read(parse_expr("np.sin(x) + x * a")))
['a', 'np', 'x']
"""

from __future__ import annotations

from typing import Any, Iterable

import gast

_BINOPS = {
    "+": gast.Add,
    "-": gast.Sub,
    "*": gast.Mult,
    "/": gast.Div,
    "//": gast.FloorDiv,
    "%": gast.Mod,
    "**": gast.Pow,
    "@": gast.MatMult,
}


def operator_symbol(op: gast.operator) -> str:
    """``+`` for ``gast.Add()``."""
    return next((symbol for symbol, kind in _BINOPS.items() if isinstance(op, kind)), "<op>")


def load(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def store(name: str) -> gast.Name:
    return gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)


def const(value: Any) -> gast.Constant:
    return gast.Constant(value=value, kind=None)


def binop(left: gast.expr, op: str, right: gast.expr) -> gast.BinOp:
    return gast.BinOp(left=left, op=_BINOPS[op](), right=right)


def attribute(value: gast.expr, attr: str) -> gast.Attribute:
    return gast.Attribute(value=value, attr=attr, ctx=gast.Load())


def call(
    func: gast.expr, args: Iterable[gast.expr] = (), keywords: dict | None = None
) -> gast.Call:
    keyword_nodes = [gast.keyword(arg=k, value=v) for k, v in (keywords or {}).items()]
    return gast.Call(func=func, args=list(args), keywords=keyword_nodes)


def method_call(receiver: str, method: str, *args: gast.expr) -> gast.Call:
    return call(attribute(load(receiver), method), args)


def assign(target: str | gast.expr, value: gast.expr, line: int | None = None) -> gast.Assign:
    if isinstance(target, str):
        target = store(target)
    node = gast.Assign(targets=[target], value=value, type_comment=None)
    if line is not None:
        node.lineno = line
    return node


def parameters(names: list[str]) -> gast.arguments:
    """Plain positional parameters ``names``."""
    return gast.arguments(
        args=[gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None) for n in names],
        posonlyargs=[],
        vararg=None,
        kwonlyargs=[],
        kw_defaults=[],
        kwarg=None,
        defaults=[],
    )


def function_def(
    name: str, args: gast.arguments, body: list, line: int | None = None
) -> gast.FunctionDef:
    """``def name(args): body``, undecorated and unannotated."""
    node = gast.FunctionDef(
        name=name,
        args=args,
        body=body,
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    if line is not None:
        node.lineno = line
    return node


def expression_statement(value: gast.expr, line: int | None = None) -> gast.Expr:
    node = gast.Expr(value=value)
    if line is not None:
        node.lineno = line
    return node


def if_statement(test: gast.expr, body: list, orelse: list | None = None, line=None) -> gast.If:
    node = gast.If(test=test, body=body or [gast.Pass()], orelse=orelse or [])
    if line is not None:
        node.lineno = line
    return node


def for_statement(target: str, iterable: gast.expr, body: list, line=None) -> gast.For:
    node = gast.For(
        target=store(target),
        iter=iterable,
        body=body or [gast.Pass()],
        orelse=[],
        type_comment=None,
    )
    if line is not None:
        node.lineno = line
    return node


def parse_expr(text: str) -> gast.expr:
    """The gast tree of one Python expression."""
    return gast.parse(text, mode="eval").body


def to_source(node: gast.AST) -> str:
    """Python source for ``node`` (statements without a line number are printed too).

    ``Constant(-2.0)`` prints as ``-2.0``, which binds looser than ``**`` and ``.attr``;
    such constants are first rewritten, in place, to a unary minus, for which the unparser
    adds the parentheses it needs: ``(-2.0) ** 2``.
    """
    node = _positive(node)
    for current in list(walk(node)):
        if isinstance(current, gast.stmt) and getattr(current, "lineno", None) is None:
            current.lineno = 0  # the unparser only uses it to look up type comments
        map_children(current, _positive)
    return gast.unparse(node).strip()


def dotted_source(node: gast.expr) -> str:
    """``to_source`` for a name or a chain of attributes (``np.linalg.norm``), faster."""
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Attribute) and isinstance(node.value, (gast.Name, gast.Attribute)):
        return f"{dotted_source(node.value)}.{node.attr}"
    return to_source(node)


def _is_negative(node) -> bool:
    if node.__class__ is not gast.Constant:
        return False
    value = node.value
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0


def _positive(node: gast.AST) -> gast.AST:
    """A negative constant as a unary minus on its absolute value; any other node as is."""
    if _is_negative(node):
        return gast.UnaryOp(op=gast.USub(), operand=const(-node.value))
    return node


_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def clone(node, replacements: dict[str, gast.expr] | None = None):
    """A deep copy of a gast tree (faster than copy.deepcopy, which keeps a memo); with
    ``replacements``, each loaded Name they map becomes a copy of its replacement.

    Context and operator markers (``Load()``, ``Add()``) carry no data and are shared.
    """
    if node.__class__ is list:
        return [clone(item, replacements) for item in node]
    if not isinstance(node, gast.AST):
        return node
    if (
        replacements
        and node.__class__ is gast.Name
        and node.id in replacements
        and isinstance(node.ctx, gast.Load)
    ):
        return clone(replacements[node.id])
    cls = node.__class__
    new = cls.__new__(cls)
    fields = new.__dict__
    copied = _CHILD_FIELDS.get(cls)
    if copied is None:
        copied = child_fields(cls)
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            value = clone(value, replacements) if name in copied else list(value)
        elif name in copied and isinstance(value, gast.AST):
            value = clone(value, replacements)
        fields[name] = value
    for name in _LOCATION:
        value = getattr(node, name, None)
        if value is not None:
            fields[name] = value
    return new


def walk(node: gast.AST, into_functions: bool = True):
    """Every node inside ``node`` (a faster ``gast.walk``; the order is unspecified);
    with ``into_functions=False``, not the insides of nested defs and lambdas.

    Context and operator markers (``Load()``, ``Add()``, ...) are not yielded: no pass
    looks for them on their own, and skipping them makes every walk a third shorter.
    """
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    ast, functions = gast.AST, (gast.FunctionDef, gast.Lambda)
    children = _CHILD_FIELDS
    while stack:
        current = pop()
        yield current
        if not into_functions and current is not node and isinstance(current, functions):
            continue
        fields = children.get(current.__class__)
        if fields is None:
            fields = child_fields(current.__class__)
        for name in fields:
            child = getattr(current, name, None)
            if child.__class__ is list:
                extend([c for c in child if isinstance(c, ast)])
            elif isinstance(child, ast):
                push(child)


#: fields that never hold a node worth visiting: markers, names, comments
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "type_comment", "kind"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class ``cls`` that may hold nodes other than markers."""
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = () if cls is gast.Constant else tuple(set(cls._fields) - _LEAF_FIELDS)
        fields = _CHILD_FIELDS[cls] = tuple(n for n in cls._fields if n in fields)
    return fields


def children(node: gast.AST):
    """The nodes directly inside ``node`` (markers aside), in field order."""
    for name in child_fields(node.__class__):
        child = getattr(node, name, None)
        if child.__class__ is list:
            yield from (item for item in child if isinstance(item, gast.AST))
        elif isinstance(child, gast.AST):
            yield child


def map_children(node: gast.AST, change) -> None:
    """Replace each node directly inside ``node`` (markers aside), in a field or in a list,
    by ``change(child)``, in place."""
    for name in child_fields(node.__class__):
        child = getattr(node, name, None)
        if child.__class__ is list:
            for index, item in enumerate(child):
                if isinstance(item, gast.AST):
                    child[index] = change(item)
        elif isinstance(child, gast.AST):
            setattr(node, name, change(child))


def loads(node: gast.AST) -> set[str]:
    """The names loaded anywhere in ``node`` (a fast ``names_read`` for expressions)."""
    found = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, gast.Name):
            if isinstance(current.ctx, gast.Load):
                found.add(current.id)
            continue
        for name in current._fields:
            child = getattr(current, name, None)
            if isinstance(child, list):
                stack.extend(c for c in child if isinstance(c, gast.AST))
            elif isinstance(child, gast.AST):
                stack.append(child)
    return found


def is_dict_view(node: gast.AST) -> bool:
    """``d.values()``, ``d.items()`` or ``d.keys()``: a view of a dict, sized and live, but
    not indexable."""
    return (
        isinstance(node, gast.Call)
        and isinstance(node.func, gast.Attribute)
        and node.func.attr in ("values", "items", "keys")
        and not node.args
        and not node.keywords
    )


def is_atom(node: gast.AST) -> bool:
    """Names and constants: the operands of a primitive operation."""
    return isinstance(node, (gast.Name, gast.Constant))


def is_name(node: gast.AST, name: str | None = None) -> bool:
    return isinstance(node, gast.Name) and (name is None or node.id == name)


def names_read(node: gast.AST) -> set[str]:
    """Every name loaded anywhere inside ``node`` (nested lambdas and defs excluded)."""
    found = set()
    for child in walk(node, into_functions=False):
        if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Load):
            found.add(child.id)
    return found


def names_stored(node: gast.AST) -> set[str]:
    """Every name bound (assigned, loop target) anywhere inside ``node``."""
    found = set()
    for child in walk(node, into_functions=False):
        if isinstance(child, gast.Name) and isinstance(child.ctx, gast.Store):
            found.add(child.id)
    return found


def set_line(node: gast.AST, line: int | None) -> gast.AST:
    """Give ``node`` and every statement inside it without a line the user's ``line``."""
    if line is None:
        return node
    for child in walk(node):
        if isinstance(child, gast.stmt) and getattr(child, "lineno", None) is None:
            child.lineno = line
    return node


def substitute(tree: gast.AST, replacements: dict[str, gast.expr]) -> gast.AST:
    """A copy of ``tree`` with each loaded Name in ``replacements`` replaced by a copy."""
    return clone(tree, replacements)


class Comment(gast.stmt):
    """A comment line in generated code; compiles to nothing, prints as ``# text``."""

    _fields = ("text",)


def comment(text: str, line: int | None = None) -> Comment:
    node = Comment(text=text)
    node.lineno = line
    return node
