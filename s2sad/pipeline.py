"""The pipeline, as one explicit list: user function → compiled derivative.

    parse → normalize → activity → reverse → optimize → codegen

Each stage is a module with one job; :func:`derive` runs them in order and
:func:`compiled` adds the cache.
"""

from __future__ import annotations

import numbers
from typing import Callable

from . import cache, codegen
from .activity import analyze
from .normalize import normalize
from .optimize import optimize as optimize_derivative
from .parse import parse_function
from .reverse import Derivative, reverse


def derive(
    function: Callable, wrt, mode: str, optimize: bool = True, scalars: tuple[bool, ...] = ()
) -> Derivative:
    """The derivative tree of ``function``; ``wrt`` as accepted by ``s2sad.grad``.

    ``scalars[i]`` says the i-th positional argument is a Python number (parameters
    annotated ``float`` or ``int`` are taken to be numbers too).
    """
    from .api import resolve_wrt  # argument checking lives with the public API

    parsed = parse_function(function)
    normalized = normalize(parsed)
    names, as_tuple = resolve_wrt(parsed, normalized.parameters, wrt)
    activity = analyze(normalized, names)
    kinds = annotated_kinds(parsed)
    if scalars:
        kinds.update(_call_kinds(parsed, scalars))
    derivative = reverse(normalized, activity, names, mode, as_tuple, kinds)
    if optimize:
        derivative = optimize_derivative(derivative)
    return derivative


def _call_kinds(parsed, scalars: tuple[bool, ...]) -> dict[str, str]:
    """Kinds at a call: numbers passed, and numbers left to their defaults."""
    positional = [a.id for a in [*parsed.tree.args.posonlyargs, *parsed.tree.args.args]]
    kinds = {name: "scalar" for name, scalar in zip(positional, scalars) if scalar}
    defaults = parsed.function.__defaults__ or ()
    for name, default in zip(positional[len(positional) - len(defaults) :], defaults):
        if positional.index(name) >= len(scalars) and _is_number(default):
            kinds[name] = "scalar"
    return kinds


def _is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def annotated_kinds(parsed) -> dict[str, str]:
    """Parameters annotated as Python numbers (``x: float``)."""
    kinds = {}
    args = parsed.tree.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.annotation is not None and parsed.resolve(arg.annotation) in (float, int):
            kinds[arg.id] = "scalar"
    return kinds


def compiled(
    function: Callable, wrt, mode: str, optimize: bool = True, scalars: tuple[bool, ...] = ()
) -> codegen.CompiledDerivative:
    """The compiled derivative, from the cache when this one was built before."""
    key = cache.key_for(function, _hashable(wrt), mode, optimize, scalars)

    def build() -> codegen.CompiledDerivative:
        derivative = derive(function, wrt, mode, optimize, scalars)
        source = codegen.derivative_source(derivative)
        return codegen.compile_derivative(derivative, source, filename_for(derivative, scalars))

    return cache.lookup(key, build)


def filename_for(derivative: Derivative, scalars: tuple[bool, ...] = ()) -> str:
    function = derivative.function.parsed.function
    module = getattr(function, "__module__", None) or "__main__"
    wrt = ",".join(derivative.wrt)
    kinds = "".join("s" if s else "a" for s in scalars)
    suffix = f" {kinds}" if kinds else ""
    return f"<s2sad:{module}.{function.__qualname__} {derivative.mode} {wrt}{suffix}>"


def _hashable(wrt):
    return tuple(wrt) if isinstance(wrt, list) else wrt
