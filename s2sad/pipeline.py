"""The pipeline, as one explicit list: user function → compiled derivative.

    parse → normalize → activity → reverse → optimize → codegen

Each stage is a module with one job; :func:`derive` runs them in order and
:func:`compiled` adds the cache. What each stage leans on (every module's first docstring
line says its job):

- parse: ``parse`` (source, names resolved to objects; ``self.method`` through the class
  of an ``("object", cls)`` argument).
- normalize: ``jumps`` (structured return/break/continue), ``iteration`` (enumerate, zip,
  reversed and dict views by index), ``comprehensions`` (the loops they stand for),
  ``lifting`` (nested defs and named lambdas become helpers), ``names``.
- reverse: ``primitives`` (what an operation is) and ``rules`` (its derivative),
  ``adjoints`` (each statement's contributions), ``calls`` (helpers as forward/backward
  pairs), ``broadcasting``/``shapes`` (where NumPy broadcast), ``tape``/``zero_seeds``
  (what to record, what may still be 0.0), ``assembly``. Before any code is written it
  refuses what it cannot differentiate: ``sequences`` (lists and tuples told from arrays),
  ``writes`` then ``aliasing``/``summaries``/``sharing`` (writes through aliases and views).
- optimize: ``zero_propagation``, ``seeds``, ``forward_substitution``, ``accumulation``,
  ``folding``, dead code (``dataflow``'s liveness and memory classes), ``tape_loops``.
- codegen, then ``cache`` (in memory, guarded by the globals a build read) and
  ``disk_cache``/``fingerprints`` (across processes, off by default).

Generated code calls only the helpers of ``runtime`` and of the ``runtime_*`` modules beside
it (``rules.registry.RUNTIME_MODULES``).
"""

from __future__ import annotations

from typing import Callable

from . import cache, codegen, disk_cache
from .activity import analyze
from .assembly import Derivative
from .calls import HelperRef, split_tree
from .normalize import normalize
from .optimize import optimize as optimize_derivative
from .parse import parse_function
from .reverse import reverse
from .syntax import names_stored


def derive(
    function: Callable, wrt, mode: str, optimize: bool = True, kinds: tuple = ()
) -> Derivative:
    """The derivative tree of ``function``; ``wrt`` as accepted by ``s2sad.grad``.

    ``kinds`` holds (parameter, kind) pairs for the calls this derivative serves: "number"
    for a Python number, "scalar" for a NumPy scalar, ("array", ndim, ones) for an array
    of known rank (parameters annotated ``float`` or ``int`` count as numbers too); the
    generated code then sums broadcast adjoints over exactly the right axes, or not at all.
    """
    from .api import resolve_wrt  # argument checking lives with the public API

    parsed = parse_function(function)
    parsed.classes = objects_of(parsed, kinds)
    parsed.supplied.update(functions_of(parsed, kinds))
    normalized = normalize(parsed)
    names, as_tuple = resolve_wrt(parsed, normalized.parameters, wrt)
    refuse_kinds(parsed, names, dict(kinds))
    activity = analyze(normalized, names)
    known = annotated_kinds(parsed)
    known.update(dict(kinds))
    derivative = reverse(normalized, activity, names, mode, as_tuple, known)
    if optimize:
        derivative = optimize_derivative(derivative)
    return derivative


def refuse_kinds(parsed, names, kinds: dict) -> None:
    """s2sad differentiates real functions of real numbers, held in arrays and containers:
    a complex argument or an object it is asked to differentiate with respect to is
    refused, not given a meaningless gradient."""
    from .api import InvalidArgumentError

    complex_ = [name for name in names if kinds.get(name) == "complex"]
    if complex_:
        raise InvalidArgumentError(
            f"{parsed.name}'s argument {complex_[0]} is complex; s2sad differentiates real "
            "functions of real numbers (pass the real and imaginary parts as two real "
            "arguments)"
        )
    objects = [
        name for name in names if isinstance(kinds.get(name), tuple) and kinds[name][0] == "object"
    ]
    if objects:
        cls = kinds[objects[0]][1].__name__
        raise InvalidArgumentError(
            f"{parsed.name}'s argument {objects[0]} is a {cls}; s2sad differentiates with "
            "respect to numbers, arrays, and lists, tuples and dicts of them, not other "
            "objects (pass the object's arrays, or a dict of them, as arguments)"
        )


def functions_of(parsed, kinds: tuple) -> dict[str, Callable]:
    """The functions of the user's that parameters never rebound are passed (a nested def
    capturing a sibling it calls): calls of them are differentiated as the callee's."""
    stored = names_stored(parsed.tree)
    return {
        name: kind[1]
        for name, kind in kinds
        if isinstance(kind, tuple) and kind[0] == "function" and name not in stored
    }


def objects_of(parsed, kinds: tuple) -> dict[str, type]:
    """The classes of parameters passed objects of the user's (never rebound inside)."""
    stored = names_stored(parsed.tree)  # parameters are not stored: they are Param
    return {
        name: kind[1]
        for name, kind in kinds
        if isinstance(kind, tuple) and kind[0] == "object" and name not in stored
    }


def annotated_kinds(parsed) -> dict[str, str]:
    """Parameters annotated as Python numbers (``x: float``)."""
    kinds = {}
    args = parsed.tree.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.annotation is not None and parsed.resolve(arg.annotation) in (float, int):
            kinds[arg.id] = "number"
    return kinds


def compiled(
    function: Callable,
    wrt,
    mode: str,
    optimize: bool = True,
    kinds: tuple = (),
) -> codegen.CompiledDerivative:
    """The compiled derivative, from the cache when this one was built before."""
    key = cache.key_for(function, _hashable(wrt), mode, optimize, kinds)
    options = (_hashable(wrt), mode, optimize, kinds)

    def build() -> codegen.CompiledDerivative:
        stored = disk_cache.load(function, options)
        if stored is not None:
            return stored
        derivative = derive(function, wrt, mode, optimize, kinds)
        source = codegen.derivative_source(derivative)
        filename = filename_for(derivative, kinds)
        helpers = helper_sources(derivative.bindings)
        compiled = codegen.compile_derivative(
            derivative, source, filename, helpers, guards_of(derivative)
        )
        parsed = derivative.function.parsed
        output = (parsed.filename, compiled.output_location.line)
        disk_cache.store(function, options, compiled, output)
        return compiled

    return cache.lookup(key, build)


def split(function: Callable, wrt: tuple[str, ...], kinds: tuple) -> tuple:
    """Build (once) the forward/backward pair of a helper; returns its cache key."""
    key = cache.key_for(function, wrt, "split", True, kinds)
    options = (wrt, "split", True, kinds)

    def build() -> codegen.CompiledSplit:
        stored = disk_cache.load(function, options)
        if stored is not None:
            return stored
        derivative = derive(function, wrt, "split", True, kinds)
        forward, backward = split_tree(derivative)
        filename = filename_for(derivative, kinds)
        compiled = codegen.compile_split(
            derivative,
            forward,
            backward,
            filename,
            helper_sources(derivative.bindings),
            guards_of(derivative),
        )
        disk_cache.store(function, options, compiled)
        return compiled

    cache.ensure(key, build)
    return key


def _helper_entries(bindings: dict) -> list:
    """The compiled pairs of the helpers a derivative with ``bindings`` calls, each once."""
    keys = []
    for value in bindings.values():
        if isinstance(value, HelperRef) and value.key not in keys:
            keys.append(value.key)
    entries = [cache.peek(key) for key in keys]
    return [entry for entry in entries if entry is not None]  # None: the one being built


def helper_sources(bindings: dict) -> str:
    """The sources of the helper pairs a derivative with ``bindings`` calls (each once),
    to print before it."""
    return "".join(entry.source + "\n" for entry in _helper_entries(bindings))


def guards_of(derivative: Derivative) -> tuple:
    """The global names the derivative was built for, its helpers' included."""
    parsed = derivative.function.parsed
    guards = {(id(parsed.globals), n): (parsed.globals, n, v) for n, v in parsed.guards.items()}
    guards.update({(id(g[0]), g[1]): g for g in parsed.class_guards})
    for entry in _helper_entries(derivative.bindings):
        guards.update({(id(g[0]), g[1]): g for g in entry.guards})
    return tuple(guards.values())


def filename_for(derivative: Derivative, kinds: tuple = ()) -> str:
    function = derivative.function.parsed.function
    module = getattr(function, "__module__", None) or "__main__"
    wrt = ",".join(derivative.wrt)
    described = [f"{n}:{k if isinstance(k, str) else f'{k[1]}-D'}" for n, k in kinds]
    suffix = f" {' '.join(described)}" if described else ""
    return f"<s2sad:{module}.{function.__qualname__} {derivative.mode} {wrt}{suffix}>"


def _hashable(wrt):
    return tuple(wrt) if isinstance(wrt, list) else wrt
