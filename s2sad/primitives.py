"""What operation a core-language right-hand side performs, and on which operands.

Every stage after normalisation asks this module, never the tree directly, what ``y = E``
does: copy a name, apply a primitive with a rule, call a user function, build a tuple...

>>> import numpy as np
>>> from .syntax import parse_expr
>>> op = classify(parse_expr("x * a"), lambda node: UNRESOLVED)
>>> op.kind, op.rule.display_name, [a.id for a in op.args]
('primitive', 'operator.mul', ['x', 'a'])
"""

from __future__ import annotations

import inspect
import numbers
import operator
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gast
import numpy as np

from .parse import UNRESOLVED, MethodOf
from .rules import Rule, lookup
from .syntax import dotted_source

OPERATORS: dict[type, Callable] = {
    gast.Add: operator.add,
    gast.Sub: operator.sub,
    gast.Mult: operator.mul,
    gast.Div: operator.truediv,
    gast.FloorDiv: operator.floordiv,
    gast.Mod: operator.mod,
    gast.Pow: operator.pow,
    gast.MatMult: operator.matmul,
    gast.BitAnd: operator.and_,
    gast.BitOr: operator.or_,
    gast.BitXor: operator.xor,
    gast.LShift: operator.lshift,
    gast.RShift: operator.rshift,
    gast.USub: operator.neg,
    gast.UAdd: operator.pos,
    gast.Not: operator.not_,
    gast.Invert: operator.invert,
    gast.Eq: operator.eq,
    gast.NotEq: operator.ne,
    gast.Lt: operator.lt,
    gast.LtE: operator.le,
    gast.Gt: operator.gt,
    gast.GtE: operator.ge,
    gast.Is: operator.is_,
    gast.IsNot: operator.is_not,
    gast.In: operator.contains,
    gast.NotIn: operator.contains,
}


@dataclass
class Operation:
    """One right-hand side, classified.

    ``kind`` is one of: ``constant`` (a literal or a global object such as ``np.pi``),
    ``copy`` (a local name), ``primitive`` (a rule applies), ``user`` (a Python function
    s2sad can differentiate from source), ``unknown`` (a call or attribute with neither),
    ``subscript``, ``tuple``, ``list``, ``dict``.
    """

    kind: str
    args: list[gast.expr] = field(default_factory=list)
    keywords: dict[str, gast.expr] = field(default_factory=dict)
    rule: Rule | None = None
    function: Any = None
    name: str = ""

    @property
    def operands(self) -> list[gast.expr]:
        """Every atom the operation reads, positional then keyword."""
        return [*self.args, *self.keywords.values()]


Resolver = Callable[[gast.AST], Any]


def classify(node: gast.expr, resolve: Resolver) -> Operation:
    """Classify a core-language expression; ``resolve`` maps Name/Attribute to objects."""
    if isinstance(node, gast.Constant):
        return Operation("constant")
    if isinstance(node, gast.Name):
        if resolve(node) is not UNRESOLVED:
            return Operation("constant", name=node.id)
        return Operation("copy", args=[node])
    if isinstance(node, gast.BinOp):
        return _primitive(OPERATORS[type(node.op)], [node.left, node.right])
    if isinstance(node, gast.UnaryOp):
        return _primitive(OPERATORS[type(node.op)], [node.operand])
    if isinstance(node, gast.Compare):
        return _primitive(OPERATORS[type(node.ops[0])], [node.left, *node.comparators])
    if isinstance(node, gast.Attribute):
        if resolve(node) is not UNRESOLVED:
            return Operation("constant", name=dotted_source(node))
        rule = lookup(("attribute", node.attr))
        if rule is None:
            return Operation("unknown", args=[node.value], name=f".{node.attr}")
        return Operation("primitive", args=[node.value], rule=rule, name=rule.display_name)
    if isinstance(node, gast.Call):
        return _call(node, resolve)
    if isinstance(node, gast.Subscript):
        return Operation("subscript", args=[node.value], name="[]")
    if isinstance(node, (gast.Tuple, gast.List)):
        return Operation(type(node).__name__.lower(), args=list(node.elts))
    if isinstance(node, gast.Dict):
        return Operation("dict", args=list(node.values))
    return Operation("unknown", name=type(node).__name__)


def _primitive(function: Callable, args: list[gast.expr]) -> Operation:
    rule = lookup(function)
    return Operation("primitive", args=args, rule=rule, function=function, name=rule.display_name)


def _call(node: gast.Call, resolve: Resolver) -> Operation:
    args = list(node.args)
    keywords = {k.arg: k.value for k in node.keywords}
    func = node.func
    function = resolve(func)
    if function is UNRESOLVED:
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            rule = lookup(("method", func.attr))
            if rule is not None:
                return Operation(
                    "primitive", [func.value, *args], keywords, rule=rule, name=rule.display_name
                )
            return Operation("unknown", [func.value, *args], keywords, name=f".{func.attr}()")
        return Operation("unknown", args, keywords, name=dotted_source(func))
    rule = lookup(function)
    display = dotted_source(func)
    if rule is not None:
        return Operation("primitive", args, keywords, rule=rule, function=function, name=display)
    if is_user_function(function):
        return Operation("user", args, keywords, function=function, name=display)
    if isinstance(function, MethodOf):  # self.forward(x), self's class known
        receiver = [func.value, *args]
        return Operation("user", receiver, keywords, function=function.function, name=display)
    if isinstance(func, gast.Attribute) and _user_method(function):
        # model.loss(x) on a global model: the class's function, the model passed first
        receiver = [func.value, *args]
        return Operation("user", receiver, keywords, function=function.__func__, name=display)
    return Operation("unknown", args, keywords, function=function, name=display)


def _user_method(function: Any) -> bool:
    return inspect.ismethod(function) and is_user_function(function.__func__)


def is_user_function(function: Any) -> bool:
    """A Python function from the user's code, not from the standard library or a package."""
    if not inspect.isfunction(function):
        return False
    filename = getattr(function.__code__, "co_filename", "")
    if not filename or filename.startswith("<"):
        return True  # defined in a REPL: differentiate it, and say so if the source is missing
    return _users_file(filename)


def is_user_class(cls: type) -> bool:
    """A class from the user's code (its module's file outside the standard library and
    the installed packages), other than a kind of number, array or container (a subclass
    of np.ndarray or of dict is differentiated as what it extends)."""
    if not isinstance(cls, type) or issubclass(cls, _VALUES):
        return False
    module = sys.modules.get(getattr(cls, "__module__", ""), None)
    filename = getattr(module, "__file__", None)
    return bool(filename) and _users_file(filename)


def _users_file(filename: str) -> bool:
    """Whether ``filename`` is outside the standard library and the installed packages."""
    path = Path(filename).resolve()
    return not any(_inside(path, root) for root in _library_roots())


_VALUES = (numbers.Number, np.ndarray, np.generic, list, tuple, dict)


def shadows_a_method(obj: Any) -> bool:
    """Whether an attribute of ``obj`` itself hides a function its class defines
    (``obj.forward = other``): then ``obj.forward`` is not the class's function."""
    own = getattr(obj, "__dict__", None) or {}
    return any(inspect.isfunction(inspect.getattr_static(type(obj), name, None)) for name in own)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _library_roots() -> list[Path]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            roots.add(Path(value).resolve())
    roots.update(Path(p).resolve() for p in sys.path if "site-packages" in p)
    return sorted(roots)
