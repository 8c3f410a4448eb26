"""Rules for Python's operators (``+``, ``*``, ``@``, unary ``-``) and number builtins.

The transformer sees ``a * b`` as a call of ``operator.mul``; these rules are the same
mathematics as NumPy's, so a scalar expression and its array twin differentiate alike.
"""

import builtins
import operator

import numpy as np

from .products import matmul_left, matmul_right
from .registry import BoundArguments, RuleError
from .shapes import binary, defvjp, method, nondifferentiable, unary


def _power_base(args: BoundArguments) -> str:
    """d(x ** n)/dx; for a constant n of 0 or 1 written so that x = 0 is not a problem."""
    if args.is_constant("x2") and args.constant("x2") == 0:
        return "0.0 * g"
    if args.is_constant("x2") and args.constant("x2") == 1:
        return "g"
    if args.is_constant("x2"):
        return "g * x2 * x1 ** (x2 - 1)"
    return "g * power_slope(x1, x2)"  # the exponent may be 0 where x1 is 0


# Each operator shares its rule with the NumPy function it stands for.
binary([operator.add, np.add], "g", "g")
binary([operator.sub, np.subtract], "g", "-g")
binary([operator.mul, np.multiply], "g * x2", "g * x1")
binary([operator.truediv, np.divide], "g / x2", "-g * x1 / (x2 * x2)")
binary([operator.pow, np.power], _power_base, "g * exponent_slope(x1, ans)")
binary([operator.mod, np.mod], "g", "-g * np.floor_divide(x1, x2)")
binary(
    [operator.matmul, np.matmul],
    matmul_left,
    matmul_right,
    broadcasts=False,  # the products sum over broadcast batch axes themselves
)
binary(operator.floordiv, None, None)  # elementwise, no gradient
unary([operator.neg, np.negative], "-g")
unary([operator.pos, np.positive], "g")
unary([builtins.abs, np.abs], "g * np.sign(x)")
defvjp(
    [builtins.list, builtins.tuple],
    "iterable=(), /",
    containers=("iterable",),
    iterable="items_grad(g, iterable)",
)
defvjp(builtins.dict, "mapping=(), /", containers=("mapping",), mapping="items_grad(g, mapping)")
defvjp(
    builtins.sum,
    "iterable, /, start=0",
    containers=("iterable",),
    iterable="repeat_grad(g, iterable)",
    start="g",
)


def _extreme(which: str, wins: str):
    """``max(a, b)``: ``g`` to the larger, shared 0.5/0.5 on a tie (``wins`` compares
    the two); ``max(items)`` and ``max(a, b, c, ...)``: ``g`` to the largest, shared
    between ties."""

    def of_all(position: str) -> str:  # max(a, b, c, ...): the argument at ``position``
        return f"element(extreme_item_grad(g, (x1, x2) + more, {which!r}), {position})"

    def x1(args: BoundArguments) -> str:
        if args.is_none("x2"):
            return f"extreme_item_grad(g, x1, {which!r})"
        if args["more"].elts:
            return of_all("0")
        return f"g * (0.5 if x1 == x2 else float(x1 {wins} x2))"

    def x2(args: BoundArguments) -> str:
        if args["more"].elts:
            return of_all("1")
        return f"g * (0.5 if x1 == x2 else float(x2 {wins} x1))"

    return x1, x2, of_all("position + 2")


def _pairwise(args: BoundArguments) -> str | None:
    return None if args.is_none("x2") else "elementwise"


for _function, _wins in ((builtins.max, ">"), (builtins.min, "<")):
    _x1, _x2, _more = _extreme(_function.__name__, _wins)
    defvjp(
        _function,
        "x1, x2=None, /, *more",  # max(items), max(a, b, ...); max(a, None) raises
        unbroadcast=("x1", "x2"),
        shape=_pairwise,
        containers=("x1",),
        x1=_x1,
        x2=_x2,
        more=_more,
    )


def _sorted(args: BoundArguments) -> str:
    if not args.is_none("key"):
        raise RuleError("sorted with key= is not differentiated; sort the values themselves")
    return "sorted_grad(g, iterable, reverse)"


defvjp(
    builtins.sorted,
    "iterable, /, *, key=None, reverse=False",
    containers=("iterable",),
    iterable=_sorted,
)
defvjp(builtins.float, "x=0.0, /", shape="scalar", x="g")

nondifferentiable(
    operator.eq,
    operator.ne,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    shape="elementwise",
)
nondifferentiable(builtins.int, builtins.bool, builtins.len, builtins.round, shape="scalar")
nondifferentiable(
    operator.not_,
    operator.invert,
    operator.and_,
    operator.or_,
    operator.xor,
    operator.lshift,
    operator.rshift,
    operator.is_,
    operator.is_not,
    operator.contains,
    builtins.range,
    builtins.isinstance,
    builtins.type,
    builtins.str,
    builtins.repr,
    builtins.id,
    builtins.hash,
)


# ----- dicts -------------------------------------------------------------------------------
method(
    "get",  # d.get(key, default): only dicts have it
    "d, key, default=None, /",
    shape="any",  # a slot may hold a list or a dict
    containers=("d", "default"),
    d="add_at(0.0, key, g, d) if key in d else 0.0",
    default="0.0 if key in d else g",
)
method("values", "d, /", shape="tuple", containers=("d",), d="values_grad(g, d)")
method("items", "d, /", shape="tuple", containers=("d",), d="pairs_grad(g, d)")
