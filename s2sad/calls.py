"""Calls to the user's own functions: each is differentiated once, as a forward/backward pair.

For a call ``y = helper(x, 3)`` whose result carries a gradient, the caller's primal sweep
runs ``y, helper_saved = helper_forward(x, 3)`` and its adjoint sweep runs
``helper_dx, = helper_backward(helper_saved, dy)`` then ``dx = dx + helper_dx``. The pair
is generated once per helper and per set of differentiated parameters, cached, and shared
by every call site; a recursive helper's pair calls itself.

The pair is cut from one ordinary derivative (mode "split") at the adjoint-sweep comment:
everything before it is the forward function, which returns the value and the names the
adjoint reads; everything after it is the backward function.
"""

from __future__ import annotations

import inspect
import numbers
import types
from dataclasses import dataclass

import gast

from . import cache
from .broadcasting import analyze_shapes
from .errors import S2SADError, UnsupportedSyntaxError
from .parse import UNRESOLVED
from .primitives import is_user_class, is_user_function, shadows_a_method
from .sequences import returns_display
from .shapes import ONE, Dim
from .syntax import (
    Comment,
    assign,
    clone,
    expression_statement,
    function_def,
    load,
    parameters,
    store,
    walk,
)


@dataclass(frozen=True)
class HelperRef:
    """A not-yet-bound function of a helper's pair: resolved to a closure cell when the
    generated code is bound (possibly a cell of the function being bound: recursion)."""

    key: tuple
    function: object
    part: str  # "forward" or "backward"

    def cell(self) -> types.CellType:
        pair = cache.peek(self.key)
        if pair is None:  # pragma: no cover - built before anything is bound
            raise RuntimeError("s2sad: a helper derivative was not built")
        return pair.cells(self.function)[self.part]


class CallSites:
    """The calls one derivative makes to helpers; ``reverse`` is the owning reverse mode."""

    def __init__(self, reverse):
        self.reverse = reverse
        self.refs: dict[tuple, HelperRef] = {}

    def differentiate(self, operation, statement, adjoint) -> None:
        """Fill ``adjoint`` (an AssignmentAdjoint) for ``target = helper(...)``."""
        from . import pipeline  # the pipeline builds the helper's pair

        reverse = self.reverse
        helper = operation.function
        where = reverse.parsed.location(statement)
        name = getattr(helper, "__name__", "helper")
        try:
            signature = inspect.signature(helper)
            bound = signature.bind(*operation.args, **operation.keywords)
        except (TypeError, ValueError) as error:
            raise UnsupportedSyntaxError(f"the call to {name}(): {error}", where) from None
        active = []
        for param, atom in bound.arguments.items():
            kind = signature.parameters[param].kind
            if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                if any(reverse.adjoints.active(a) for a in _atoms(atom)):
                    raise UnsupportedSyntaxError(
                        f"a gradient passed to {name}() through *{param}", where
                    )
                continue
            if reverse.adjoints.active(atom):
                active.append(param)
        kinds = []
        for param, spec in signature.parameters.items():
            if param in bound.arguments:
                argument = bound.arguments[param]
                kind = (
                    "sequence"
                    if reverse.adjoints.sequence(argument)
                    else object_kind(argument, reverse.function.parsed)
                    or kind_of(reverse.shapes.of(statement, argument))
                )
            elif isinstance(spec.default, numbers.Real) and not isinstance(spec.default, bool):
                kind = "scalar"
            else:
                kind = None
            if kind is not None:
                kinds.append((param, kind))
        key = pipeline.split(helper, tuple(active), tuple(sorted(kinds)))
        forward = self.binding(key, helper, "forward", f"{name}_forward")
        backward = self.binding(key, helper, "backward", f"{name}_backward")
        namer = reverse.namer
        saved = namer.fresh(f"{name}_saved")
        parts = [namer.fresh(f"{name}_d{param}") for param in active]
        target = adjoint.target
        call = gast.Call(
            func=load(forward),
            args=[clone(a) for a in operation.args],
            keywords=[gast.keyword(arg=k, value=clone(v)) for k, v in operation.keywords.items()],
        )

        def primal():
            targets = gast.Tuple(elts=[store(target), store(saved)], ctx=gast.Store())
            return gast.Assign(targets=[targets], value=call, type_comment=None)

        from .adjoints import RESULT, Contribution

        tuple_result = returns_display(helper) is gast.Tuple
        if tuple_result:
            adjoint.reads.add(RESULT)  # the parts' shapes, for the seed of an ignored part

        def prelude(g, ans):
            if tuple_result:  # a part nothing read has seed 0.0: give it the part's shape
                g = gast.Call(
                    func=load(reverse.global_name("seed_parts")), args=[g, ans], keywords=[]
                )
            run = gast.Call(func=load(backward), args=[load(saved), g], keywords=[])
            names = gast.Tuple(elts=[store(p) for p in parts], ctx=gast.Store())
            return [gast.Assign(targets=[names], value=run, type_comment=None)]

        adjoint.primal = primal
        adjoint.also_writes = {saved}
        adjoint.prelude = prelude
        for param, part in zip(active, parts):
            atom = bound.arguments[param]
            adjoint.contributions.append(Contribution(atom.id, lambda g, ans, d, p=part: load(p)))

    def binding(self, key, helper, part: str, preferred: str) -> str:
        ref = self.refs.setdefault((key, part), HelperRef(key, helper, part))
        return self.reverse.bindings.name_for(ref, preferred)


def _atoms(node) -> list:
    return (
        list(node)
        if isinstance(node, (tuple, list))
        else list(getattr(node, "values", lambda: [])())
    )


def object_kind(argument: gast.expr, parsed) -> tuple | None:
    """("object", cls) when ``argument`` is an object of a class of the user's: a global
    one, or a parameter this build knows the class of (``self``); ("function", f) when it
    is a function of the user's (a nested def another one calls: ``cube(x, sq=sq)``)."""
    if not isinstance(argument, gast.Name):
        return None
    if argument.id in parsed.classes:
        return ("object", parsed.classes[argument.id])
    value = parsed.resolve(argument)
    if is_user_function(value):
        return ("function", value)
    if value is not UNRESOLVED and is_user_class(type(value)) and not shadows_a_method(value):
        return ("object", type(value))
    return None


def kind_of(shape):
    """A helper parameter's kind from the argument's shape at the call: a number, an array
    of known rank with its dimensions of length 1, or unknown (None)."""
    if not isinstance(shape, tuple):
        return None
    if shape == ():
        return "scalar"
    return (
        "array",
        len(shape),
        tuple(True if dim == ONE else (False if dim.certain else None) for dim in shape),
    )


@dataclass
class HelperShape:
    """The shape a helper returns for arguments of some kinds, in terms of its parameters:
    a tuple of ``ONE`` or ``(parameter, axis, offset)`` (that dimension of an argument,
    plus offset) or ``None`` (a length of its own); ``shape`` is None when unknown."""

    shape: tuple | None
    guards: tuple = ()


def result_shape(function, args: list, keywords: dict, shape_of, new_dim):
    """The shape of ``function(*args, **keywords)`` at a call site whose atoms have shapes
    ``shape_of(atom)``; ``new_dim()`` makes a length of its own. None when unknown."""
    try:
        signature = inspect.signature(function)
        bound = signature.bind(*args, **keywords)
    except (TypeError, ValueError):
        return None
    kinds, shapes = [], {}
    for param, spec in signature.parameters.items():
        atom = bound.arguments.get(param)
        if isinstance(atom, gast.expr):
            shapes[param] = shape_of(atom)
            kind = kind_of(shapes[param])
        elif param not in bound.arguments and isinstance(spec.default, numbers.Real):
            kind = "scalar"
        else:
            kind = None
        if kind is not None:
            kinds.append((param, kind))
    key = cache.key_for(function, "shape", tuple(sorted(kinds)))
    # a recursive helper asks for the shape being worked out: unknown
    found = cache.lookup_unless_building(key, lambda: _helper_shape(function, dict(kinds)))
    if found is None or found.shape is None:
        return None
    result = []
    for dim in found.shape:
        if dim == ONE:
            result.append(ONE)
            continue
        caller = shapes.get(dim[0]) if dim is not None else None
        if isinstance(caller, tuple) and isinstance(caller[dim[1]], Dim):
            d = caller[dim[1]]
            result.append(Dim(d.symbol, d.offset + dim[2], d.certain and dim[2] == 0))
        else:
            result.append(new_dim())
    return tuple(result)


def _helper_shape(function, kinds: dict) -> HelperShape:
    from .normalize import normalize
    from .parse import parse_function

    try:
        parsed = parse_function(function)
        normalized = normalize(parsed)
    except S2SADError:  # not differentiable: the call site says so if it matters
        return HelperShape(None)
    parameters = {name: kinds.get(name) for name in normalized.parameters}
    body = normalized.tree.body
    shapes = analyze_shapes(body, parameters, parsed.resolve, helper_shape=result_shape)
    shape = shapes.of(body[-1], normalized.output)
    guards = tuple((parsed.globals, n, v) for n, v in parsed.guards.items())
    if not isinstance(shape, tuple):
        return HelperShape(None, guards)
    axes = {}  # symbol → (parameter, axis, offset) of the first parameter dimension
    for name in normalized.parameters:
        own = shapes.of_parameter(name)
        for axis, dim in enumerate(own if isinstance(own, tuple) else ()):
            if isinstance(dim, Dim):
                axes.setdefault(dim.symbol, (name, axis, dim.offset))
    pattern = []
    for dim in shape:
        if dim == ONE or dim.symbol not in axes:
            pattern.append(ONE if dim == ONE else None)
        else:
            name, axis, offset = axes[dim.symbol]
            pattern.append((name, axis, dim.offset - offset))
    return HelperShape(tuple(pattern), guards)


def split_tree(derivative) -> tuple[gast.FunctionDef, gast.FunctionDef]:
    """Cut a "split" derivative into its forward and backward functions."""
    tree = derivative.tree
    body = tree.body
    marker = next(i for i, s in enumerate(body) if isinstance(s, Comment))
    docstring, primal = body[0], body[1:marker]
    adjoint, final = body[marker + 1 : -1], body[-1]
    value, gradients = final.value.elts
    params = [a.id for a in [*tree.args.posonlyargs, *tree.args.args, *tree.args.kwonlyargs]]
    seed = derivative.seed_name
    available = _bound(primal) | set(params)
    read_later = _read(adjoint) | _read(gradients)
    residuals = sorted((read_later & available) - {seed})
    name = derivative.function.parsed.name

    forward_args = clone(tree.args)
    forward_args.kwonlyargs = [a for a in forward_args.kwonlyargs if a.id != seed]
    forward_args.kw_defaults = forward_args.kw_defaults[: len(forward_args.kwonlyargs)]
    saved = gast.Tuple(elts=[load(r) for r in residuals], ctx=gast.Load())
    forward_return = gast.Return(value=gast.Tuple(elts=[clone(value), saved], ctx=gast.Load()))
    forward_return.lineno = final.lineno
    # residuals assigned only on some paths (inside an if or a loop) start out as None
    surely = set(params) | _bound([st for st in primal if not isinstance(st, _COMPOUND)])
    unset = [
        _located(assign(r, gast.Constant(value=None, kind=None)), tree.lineno)
        for r in residuals
        if r not in surely
    ]
    forward = function_def(
        f"{name}_forward",
        forward_args,
        [_doc(docstring, "Forward sweep"), *unset, *primal, forward_return],
        tree.lineno,
    )

    saved_name = "saved" if "saved" not in available | _bound(adjoint) else f"saved_{name}"
    backward_args = parameters([saved_name, seed])
    unpack = []
    if residuals:
        targets = gast.Tuple(elts=[store(r) for r in residuals], ctx=gast.Store())
        unpack = [gast.Assign(targets=[targets], value=load(saved_name), type_comment=None)]
        unpack[0].lineno = tree.lineno
    backward_return = gast.Return(value=clone(gradients))
    backward_return.lineno = final.lineno
    backward = function_def(
        f"{name}_backward",
        backward_args,
        [_doc(docstring, "Backward sweep"), *unpack, body[marker], *adjoint, backward_return],
        tree.lineno,
    )
    return forward, backward


_COMPOUND = (gast.If, gast.For, gast.While)


def _located(node, line):
    node.lineno = line
    return node


def _doc(docstring, what: str):
    text = docstring.value.value.replace("Derivative of", f"{what} of the derivative of", 1)
    return expression_statement(gast.Constant(value=text, kind=None), docstring.lineno)


def _bound(statements) -> set[str]:
    return {
        n.id
        for s in statements
        for n in walk(s)
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param))
    }


def _read(node) -> set[str]:
    nodes = node if isinstance(node, list) else [node]
    return {
        n.id
        for s in nodes
        for n in walk(s)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
    }


__all__ = ["CallSites", "HelperRef", "split_tree"]
