"""Functions defined inside a differentiated function become helpers of their own.

Before::

    def f(x, a):
        def inner(y):
            return y * a + math.sin(y)
        return inner(x) * inner(2.0 * x)

After (``inner`` lifted; ``a``, which it reads from ``f``, becomes a keyword parameter)::

    def inner(y, *, a):
        return y * a + math.sin(y)

    def f(x, a):
        return inner(x, a=a) * inner(2.0 * x, a=a)

A closure reads the variables it captures when it is called, so passing their values at
each call is the same thing. The lifted function is compiled in ``f``'s globals, with
``f``'s file and line numbers, and differentiated like any other helper.
"""

from __future__ import annotations

import ast
import types
from dataclasses import dataclass

import gast

from .errors import UnsupportedSyntaxError
from .parse import ParsedFunction, assigned_names
from .syntax import clone, function_def, load, parameters, walk


@dataclass
class Lifted:
    """A nested function turned into a helper: the function, and what it captures."""

    function: types.FunctionType
    captured: list[str]


def lift(node: gast.FunctionDef, parsed: ParsedFunction) -> Lifted:
    """Lift the nested ``def`` ``node`` of ``parsed``'s function."""
    where = parsed.location(node)
    args = node.args
    if node.decorator_list:
        raise UnsupportedSyntaxError("a decorated function defined inside", where)
    if args.kwarg is not None:
        raise UnsupportedSyntaxError("`**kwargs` on a function defined inside", where)
    for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
        if not isinstance(default, gast.Constant):
            raise UnsupportedSyntaxError(
                "a default value that is not a literal, on a function defined inside", where
            )
    own = assigned_names(node)
    read = {n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    outer = set(parsed.local_names) | set(parsed.closure)
    captured = sorted((read - own - {node.name}) & outer)  # its own name: itself
    lifted = clone(node)
    for name in captured:
        lifted.args.kwonlyargs.append(
            gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)
        )
        lifted.args.kw_defaults.append(None)
    for call in walk(lifted):  # a recursive call passes the captured values on
        if (
            isinstance(call, gast.Call)
            and isinstance(call.func, gast.Name)
            and call.func.id == node.name
        ):
            call.keywords += [gast.keyword(arg=n, value=load(n)) for n in captured]
    # compiled inside a factory, so that the function's own name reaches it (recursion)
    factory = function_def(
        "s2sad_lifted", parameters([]), [lifted, gast.Return(value=load(node.name))]
    )
    gast.copy_location(factory, node)
    module = gast.gast_to_ast(gast.Module(body=[factory], type_ignores=[]))
    ast.fix_missing_locations(module)
    code = compile(module, parsed.filename, "exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    function = types.FunctionType(factory_code, parsed.globals)()
    defaults = tuple(d.value for d in args.defaults) or None
    function.__defaults__ = defaults
    kw_defaults = {
        a.id: d.value for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None
    }
    function.__kwdefaults__ = kw_defaults or None
    function.__s2sad_tree__ = (lifted, parsed.filename)  # parse_function reads this
    # what s2sad.disk_cache needs to make it again in another process
    function.__s2sad_lifted__ = (parsed.function, node.name, factory_code)
    return Lifted(function, captured)
