"""Deterministic, readable names for temporaries and adjoints that never clash with the user's.

>>> namer = Namer(["x", "dx", "a"])
>>> namer.adjoint("x"), namer.adjoint("a"), namer.fresh("sin_x"), namer.fresh("sin_x")
('d_x', 'da', 'sin_x', 'sin_x_1')
"""

from __future__ import annotations

import keyword
import re
from typing import Iterable

import gast

_OPERATOR_WORDS = {
    gast.Add: "plus",
    gast.Sub: "minus",
    gast.Mult: "times",
    gast.Div: "over",
    gast.FloorDiv: "floordiv",
    gast.Mod: "mod",
    gast.Pow: "pow",
    gast.MatMult: "at",
    gast.USub: "neg",
    gast.UAdd: "pos",
    gast.Not: "not",
    gast.Invert: "inv",
    gast.Eq: "eq",
    gast.NotEq: "ne",
    gast.Lt: "lt",
    gast.LtE: "le",
    gast.Gt: "gt",
    gast.GtE: "ge",
    gast.Is: "is",
    gast.IsNot: "isnot",
    gast.In: "in",
    gast.NotIn: "notin",
    gast.BitAnd: "and",
    gast.BitOr: "or",
    gast.BitXor: "xor",
    gast.LShift: "lshift",
    gast.RShift: "rshift",
}
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_LONGEST_DESCRIPTION = 20


class Namer:
    """Hands out fresh names; every name it returns is unique within one generated function.

    ``adjoint(name)`` is memoised: the adjoint of ``x`` is ``dx`` (or ``d_x``, ``dx_1`` when
    those are taken), the same every time it is asked for.
    """

    def __init__(self, taken: Iterable[str] = ()):
        self.taken: set[str] = set(taken)
        self._adjoints: dict[str, str] = {}

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def fresh(self, base: str) -> str:
        base = identifier(base)
        candidate, suffix = base, 0
        while candidate in self.taken:
            suffix += 1
            candidate = f"{base}_{suffix}"
        self.taken.add(candidate)
        return candidate

    def adjoint(self, name: str) -> str:
        if name not in self._adjoints:
            first = f"d{name}"
            if first in self.taken:
                first = f"d_{name}"
            self._adjoints[name] = self.fresh(first)
        return self._adjoints[name]

    def adjoint_names(self) -> dict[str, str]:
        """The primal name → adjoint name map handed out so far."""
        return dict(self._adjoints)


def identifier(text: str) -> str:
    """``text`` made into a valid, non-keyword Python identifier."""
    if text == "_":
        return text
    text = re.sub(r"\W+", "_", text).strip("_") or "t"
    if text[0].isdigit():
        text = f"t_{text}"
    if keyword.iskeyword(text):
        text += "_"
    return text


def describe(node: gast.AST) -> str:
    """A short readable name for the value of an expression: ``sin_x``, ``one_minus_p``."""
    text = _describe(node)
    if len(text) > _LONGEST_DESCRIPTION:
        text = _head(node)
    return identifier(text)


def _describe(node: gast.AST) -> str:
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "k"
        if float(value).is_integer() and 0 <= value < 10:
            return _NUMBER_WORDS[int(value)]
        if float(value).is_integer() and abs(value) < 10**6:
            return str(int(value)).replace("-", "minus")
        return "k"
    if isinstance(node, gast.BinOp):
        word = _OPERATOR_WORDS.get(type(node.op), "op")
        return f"{_describe(node.left)}_{word}_{_describe(node.right)}"
    if isinstance(node, gast.UnaryOp):
        return f"{_OPERATOR_WORDS.get(type(node.op), 'op')}_{_describe(node.operand)}"
    if isinstance(node, gast.Compare):
        word = _OPERATOR_WORDS.get(type(node.ops[0]), "cmp")
        return f"{_describe(node.left)}_{word}_{_describe(node.comparators[0])}"
    if isinstance(node, gast.Call):
        name = _head(node)
        first = node.args[0] if node.args else None
        if isinstance(first, gast.Name) or _is_number(first):
            return f"{name}_{_describe(first)}"
        return name  # np.einsum("ij,jk", a, b) is einsum, not einsum_k
    if isinstance(node, gast.Attribute):
        return f"{_describe(node.value)}_{node.attr}"
    if isinstance(node, gast.Subscript):
        index = node.slice
        if isinstance(index, gast.Name):
            return f"{_describe(node.value)}_{index.id}"
        if isinstance(index, gast.Constant) and isinstance(index.value, int):
            return f"{_describe(node.value)}_{index.value}".replace("-", "last")
        return f"{_describe(node.value)}_part"
    return _head(node)


def _is_number(node) -> bool:
    return (
        isinstance(node, gast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _head(node: gast.AST) -> str:
    """The operation's name alone: ``sin``, ``times``, ``tuple``."""
    if isinstance(node, gast.Call):
        func = node.func
        if isinstance(func, gast.Attribute):
            return func.attr
        if isinstance(func, gast.Name):
            return func.id
        return "call"
    if isinstance(node, gast.BinOp):
        return _OPERATOR_WORDS.get(type(node.op), "op")
    if isinstance(node, gast.UnaryOp):
        return _OPERATOR_WORDS.get(type(node.op), "op")
    if isinstance(node, gast.Compare):
        return "cond"
    if isinstance(node, (gast.BoolOp, gast.IfExp)):
        return "choice"
    if isinstance(node, gast.Attribute):
        return node.attr
    if isinstance(node, gast.Subscript):
        return "part"
    if isinstance(node, gast.Name):
        return node.id
    return type(node).__name__.lower()


class Bindings:
    """The names generated code uses for objects s2sad supplies (``np``, runtime helpers).

    A name the user's function already uses for the same object is reused (so ``onp.cos``
    where the user wrote ``import numpy as onp``); otherwise a fresh name is reserved and
    bound when the derivative is compiled.

    >>> import numpy
    >>> bindings = Bindings(Namer(["np"]), lambda name: None, ["np"])
    >>> bindings.name_for(numpy, "np"), bindings.bound
    ('np_1', {'np_1': <module 'numpy' ...>})
    """

    def __init__(self, namer: Namer, lookup, used_names: Iterable[str]):
        self.namer = namer
        self._lookup = lookup  # name → the object it denotes in the user's function
        self._used_set = set(used_names)
        self._used = sorted(self._used_set)
        self._names: dict[int, str] = {}
        self.bound: dict[str, object] = {}

    def name_for(self, obj: object, preferred: str) -> str:
        if id(obj) in self._names:
            return self._names[id(obj)]
        # 1. a name the user's function itself uses for obj; 2. the preferred name, when the
        # user's globals or builtins already hold obj under it; 3. a fresh, bound name
        candidates = [preferred, *self._used] if preferred in self._used_set else self._used
        used = [n for n in candidates if self._lookup(n) is obj]
        if used:
            name = used[0]
        elif self._lookup(preferred) is obj:
            name = preferred
            self.namer.reserve(name)
        else:
            name = self.namer.fresh(preferred)
            self.bound[name] = obj
        self._names[id(obj)] = name
        return name
