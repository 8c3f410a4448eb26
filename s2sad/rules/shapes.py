"""Registration helpers named after the mathematical shape of a rule.

Most rules fit one of these on one line:

>>> import math
>>> _ = unary(math.sinh, "g * math.cosh(x)")               # elementwise, one argument
>>> _ = binary(math.atan2, "g * x2 / (x1 ** 2 + x2 ** 2)",  # two arguments
...            "-g * x1 / (x1 ** 2 + x2 ** 2)", broadcasts=False)
>>> lookup(math.sinh).display_name
'math.sinh'
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .registry import REGISTRY, Rule, Template, lookup

__all__ = [
    "defvjp",
    "unary",
    "binary",
    "nondifferentiable",
    "method",
    "attribute",
    "primitive",
    "lookup",
]


def _each(primitives: Any) -> Iterable[Any]:
    return primitives if isinstance(primitives, list) else [primitives]


def defvjp(
    primitive: Any,
    signature: str | None = None,
    *,
    unbroadcast: Iterable[str] = (),
    name: str | None = None,
    shape: str | Callable | None = None,
    containers: Iterable[str] = (),
    **derivatives: Template,
) -> Any:
    """Register the reverse-mode rule of ``primitive``; returns ``primitive``.

    ``derivatives`` maps a parameter to its adjoint contribution, a Python expression over
    ``g`` (adjoint of the result), ``ans`` (the result), the parameters, ``np`` and ``math``::

        s2sad.defvjp(scipy.special.expit, "x, /", x="g * ans * (1 - ans)")

    ``signature`` is the parameter list as written in a ``def`` (read from the function when
    omitted); ``unbroadcast`` lists parameters whose contribution must be summed back to the
    parameter's shape when NumPy broadcast it. ``shape`` says what shape the result has:
    "elementwise" (its operands broadcast together), "scalar" (a Python number), "tuple"
    (a tuple or list of results: ``g`` is then a list, one adjoint per part, 0.0 for a
    part never used), "any" (a value of any kind, a container maybe), or a function of the bound arguments returning one of those (None:
    unknown; s2sad's own rules then return one array, the user's may return a tuple). ``containers``
    lists parameters that take lists or tuples. A list of primitives shares one rule.
    The template of a ``*args`` parameter is the contribution of one of the arguments it
    collects, the one at ``position`` among them (``*args`` itself is all of them).
    """
    for each in _each(primitive):
        REGISTRY.add(
            Rule.define(
                each,
                signature,
                derivatives,
                frozenset(unbroadcast),
                display_name=name,
                shape=shape,
                containers=frozenset(containers),
            )
        )
    return primitive


def unary(
    primitive: Any, template: Template, *, signature: str = "x, /", shape: str = "elementwise"
) -> Any:
    """An elementwise function of one argument ``x``: ``unary(np.sin, "g * np.cos(x)")``."""
    return defvjp(primitive, signature, shape=shape, x=template)


def binary(
    primitive: Any,
    x1: Template | None,
    x2: Template | None,
    *,
    broadcasts: bool = True,
    signature: str = "x1, x2, /",
    shape: str | None = None,
) -> Any:
    """A function of two arguments ``x1, x2`` (a ufunc or an operator).

    ``None`` marks an argument with no derivative. When ``broadcasts`` (the default) the
    result is elementwise and contributions are un-broadcast; ``broadcasts=False`` is for
    functions that do their own shape handling (``shape`` then says what they return).
    """
    derivatives = {k: v for k, v in (("x1", x1), ("x2", x2)) if v is not None}
    unbroadcast = set(derivatives) if broadcasts else set()
    shape = shape or ("elementwise" if broadcasts else None)
    return defvjp(primitive, signature, unbroadcast=unbroadcast, shape=shape, **derivatives)


def nondifferentiable(*primitives: Any, shape: str | None = None) -> None:
    """Functions whose results never carry a gradient (shapes, comparisons, rounding)."""
    for each in primitives:
        REGISTRY.add(Rule.define(each, "*args", {}, shape=shape))


def method(
    name: str,
    signature: str,
    *,
    shape: str | Callable | None = None,
    unbroadcast: Iterable[str] = (),
    containers: Iterable[str] = (),
    **derivatives: Template,
) -> None:
    """A method of arrays (``x.sum(axis)``) or of dicts (``d.get(key)``); the receiver is
    the signature's first parameter."""
    rule = Rule.define(
        ("method", name),
        signature,
        derivatives,
        frozenset(unbroadcast),
        shape=shape,
        containers=frozenset(containers),
    )
    REGISTRY.add(rule)


def attribute(name: str, template: Template | None, *, shape: str | None = None) -> None:
    """An attribute of arrays, ``x.T``; ``None`` for non-differentiable ones (``x.shape``)."""
    derivatives = {"x": template} if template is not None else {}
    REGISTRY.add(Rule.define(("attribute", name), "x, /", derivatives, shape=shape))


def primitive(**derivatives: Template) -> Callable[[Callable], Callable]:
    """Decorator: treat a Python function as a primitive with the given derivatives.

    s2sad then uses the rule instead of differentiating the function's source::

        @s2sad.primitive(x="g * 0.5 / ans")
        def my_sqrt(x):
            return x ** 0.5
    """

    def register(function: Callable) -> Callable:
        defvjp(function, None, **derivatives)
        return function

    return register
