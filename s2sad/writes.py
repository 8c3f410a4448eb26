r"""Whether a function could write into an array at all: the aliasing check's fast exit.

Most functions only compute new values: every target is a name, every call is a rule's
primitive (or a builtin that changes nothing) called plainly. Such a function cannot write
through an alias or a view, and s2sad.aliasing need not follow what each name holds.

>>> from s2sad.normalize import normalize
>>> from s2sad.parse import function_from_source, parse_function
>>> import numpy as np
>>> def normalized(text):
...     return normalize(parse_function(function_from_source(text, {"np": np})))
>>> may_write(normalized("def f(x):\n    return np.sum(np.sin(x) * x)\n"))
False
>>> may_write(normalized("def f(x):\n    y = x * 1.0\n    y[0] = 2.0\n    return y\n"))
True
"""

from __future__ import annotations

import inspect

import gast
import numpy as np

from . import rules
from .activity import walk_statements
from .dataflow import MUTATING_METHODS
from .parse import UNRESOLVED
from .sharing import ARRAY_MUTATORS, MUTATING_FUNCTIONS, from_numpy
from .syntax import walk


def may_write(function) -> bool:
    """Whether ``function`` has a statement that could write into an array: a target
    other than a name, ``z += e``, a call statement, or a call of something without a
    rule, of a mutator, or with ``out``. Most functions have none, and need no check."""
    if function.in_place or function.updated_items:
        return True
    for statement in walk_statements(function.tree.body):
        if isinstance(statement, gast.Expr) and not isinstance(statement.value, gast.Constant):
            return True
        if isinstance(statement, gast.Assign) and not isinstance(statement.targets[0], gast.Name):
            return True
        if isinstance(statement, (gast.Assign, gast.Return, gast.If, gast.While, gast.For)):
            header = {gast.If: "test", gast.While: "test", gast.For: "iter"}.get(
                type(statement), "value"
            )
            node = getattr(statement, header)
            if node is not None and any(_may_change(c, function.parsed) for c in _calls(node)):
                return True
        elif not isinstance(statement, (gast.Expr, gast.Pass, gast.Break, gast.Continue)):
            return True
    return False


_BUILTINS_THAT_WRITE_NOTHING = (
    *(range, len, enumerate, zip, reversed, sorted, isinstance, print),
    *(float, int, bool, abs, round, min, max, sum, list, tuple, dict),
)


def _calls(node) -> list:
    return [n for n in walk(node) if isinstance(n, gast.Call)]


def _may_change(call: gast.Call, parsed) -> bool:
    """Whether ``call`` might change one of its arguments (or hand back memory a later
    write could reach): anything but a rule's primitive called plainly."""
    if any(k.arg is None or k.arg == "out" for k in call.keywords):
        return True
    func = call.func
    function = parsed.resolve(func)
    if function is UNRESOLVED:
        if not isinstance(func, gast.Attribute):
            return True
        attr = func.attr
        return (
            attr in ARRAY_MUTATORS
            or attr in MUTATING_METHODS
            or rules.lookup(("method", attr)) is None
            or method_out(call) is not None
        )
    if any(function is f for f in _BUILTINS_THAT_WRITE_NOTHING):
        return False
    rule = rules.lookup(function)
    if rule is None or any(function is f for f in MUTATING_FUNCTIONS):
        return True
    nin = getattr(function, "nin", None)  # a ufunc's extra positional argument is out
    if isinstance(nin, int):
        return len(call.args) > nin or any(isinstance(a, gast.Starred) for a in call.args)
    return positional_out(function, call.args) is not None  # np.sum(x, 0, None, out)


def method_out(call: gast.Call):
    """The argument an array method call takes as ``out`` when passed by position
    (``y.sum(0, None, o)``): array methods take their arguments in the order of the NumPy
    function of the same name, after the array itself."""
    function = getattr(np, call.func.attr, None)
    if function is None or not callable(function) or not from_numpy(function):
        return None
    return positional_out(function, [call.func.value, *call.args])


def positional_out(function, args: list):
    """The argument a NumPy function takes as ``out`` when passed by position (None when
    there is none, or its signature cannot be read)."""
    if len(args) < 2:
        return None
    try:
        bound = inspect.signature(function).bind_partial(*args)
    except (TypeError, ValueError):
        return None
    out = bound.arguments.get("out")
    if isinstance(out, gast.Constant) and out.value is None:
        return None  # np.sum(x, 0, None, None, True): no out
    return out
