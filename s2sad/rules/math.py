"""Rules for the functions of Python's ``math`` module (Python floats in, floats out)."""

import math
from functools import partial

from .registry import BoundArguments
from .shapes import binary, defvjp, nondifferentiable
from .shapes import unary as _unary

unary = partial(_unary, shape="scalar")  # math functions return Python floats

unary(math.sin, "g * math.cos(x)")
unary(math.cos, "-g * math.sin(x)")
unary(math.tan, "g / math.cos(x) ** 2")
unary(math.exp, "g * ans")
unary(math.expm1, "g * (ans + 1.0)")
unary(math.sqrt, "g / (2.0 * ans)")
unary(math.tanh, "g * (1.0 - ans * ans)")
unary(math.sinh, "g * math.cosh(x)")
unary(math.cosh, "g * math.sinh(x)")
unary(math.asin, "g / math.sqrt(1.0 - x * x)")
unary(math.acos, "-g / math.sqrt(1.0 - x * x)")
unary(math.atan, "g / (1.0 + x * x)")
unary(math.asinh, "g / math.sqrt(x * x + 1.0)")
unary(math.acosh, "g / math.sqrt(x * x - 1.0)")
unary(math.atanh, "g / (1.0 - x * x)")
unary(math.radians, "g * (math.pi / 180.0)")
unary(math.degrees, "g * (180.0 / math.pi)")
if hasattr(math, "cbrt"):  # Python 3.11
    unary(math.cbrt, "g / (3.0 * ans * ans)")
    unary(math.exp2, "g * ans * math.log(2.0)")
unary(math.log10, "g / (x * math.log(10.0))")
unary(math.log2, "g / (x * math.log(2.0))")
unary(math.log1p, "g / (1.0 + x)")
unary(math.fabs, "g * math.copysign(1.0, x) if x else 0.0")
unary(math.erf, "g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x)")
binary(
    math.pow,
    "g * power_slope(x1, x2)",  # math.pow(0.0, 0.0) is constant in x1
    "g * exponent_slope(x1, ans)",  # and math.pow(0.0, p) in p: math.log(0.0) raises
    broadcasts=False,
    shape="scalar",
)
binary(
    math.atan2,
    "g * x2 / (x1 * x1 + x2 * x2)",
    "-g * x1 / (x1 * x1 + x2 * x2)",
    broadcasts=False,
    shape="scalar",
)
binary(math.hypot, "g * x1 / ans", "g * x2 / ans", broadcasts=False, shape="scalar")


def _log(args: BoundArguments) -> str:
    if args.is_none("base"):
        return "g / x"
    return "g / (x * math.log(base))"


def _log_base(args: BoundArguments) -> str:
    return "-g * ans / (base * math.log(base))"


defvjp(math.log, "x, base=None, /", shape="scalar", x=_log, base=_log_base)

nondifferentiable(
    math.floor,
    math.ceil,
    math.trunc,
    math.isnan,
    math.isinf,
    math.isfinite,
    math.factorial,
    shape="scalar",
)
