"""Rules for NumPy functions, array methods and array attributes.

Binary ufuncs un-broadcast their contributions (the transformer drops the un-broadcast
where it can prove the shapes equal). Ties in ``maximum``/``minimum`` share the gradient
equally between the tied elements (as JAX and autograd do), and so do ``np.clip``'s ties
with its bounds. ``np.cumprod`` is exact where the input has zeros; equal elements in
``np.sort`` take the gradients of their places in order (a stable sort). Reductions are in
s2sad.rules.reductions.
"""

import gast
import numpy as np

from .products import dot_left, dot_right
from .reductions import _reduced, int_axis  # noqa: F401 (s2sad.rules.linalg imports _reduced here)
from .registry import BoundArguments, RuleError
from .shapes import attribute, binary, defvjp, method, nondifferentiable, unary

# ----- elementwise arithmetic (add, multiply... share the operators' rules) ----------------
binary(np.maximum, "g * np.where(x1 == x2, 0.5, x1 > x2)", "g * np.where(x1 == x2, 0.5, x2 > x1)")
binary(np.minimum, "g * np.where(x1 == x2, 0.5, x1 < x2)", "g * np.where(x1 == x2, 0.5, x2 < x1)")
# fmax/fmin pass over a NaN: the other operand gets g (both NaN: x1, whose NaN is the result)
binary(
    np.fmax,
    "g * np.where(x1 == x2, 0.5, (x1 > x2) | np.isnan(x2))",
    "g * np.where(x1 == x2, 0.5, (x2 > x1) | np.isnan(x1) & ~np.isnan(x2))",
)
binary(
    np.fmin,
    "g * np.where(x1 == x2, 0.5, (x1 < x2) | np.isnan(x2))",
    "g * np.where(x1 == x2, 0.5, (x2 < x1) | np.isnan(x1) & ~np.isnan(x2))",
)
binary(np.fmod, "g", "-g * np.trunc(x1 / x2)")  # x1 - trunc(x1 / x2) * x2; np.mod: operators
binary(np.float_power, "g * power_slope(x1, x2)", "g * exponent_slope(x1, ans)")
binary(np.arctan2, "g * x2 / (x1 * x1 + x2 * x2)", "-g * x1 / (x1 * x1 + x2 * x2)")
binary(np.hypot, "g * x1 / ans", "g * x2 / ans")
binary(np.logaddexp, "g * np.exp(x1 - ans)", "g * np.exp(x2 - ans)")
binary(np.logaddexp2, "g * np.exp2(x1 - ans)", "g * np.exp2(x2 - ans)")
unary(np.square, "g * 2.0 * x")
unary(np.reciprocal, "-g * ans * ans")

# ----- elementwise transcendental --------------------------------------------------------
unary(np.sin, "g * np.cos(x)")
unary(np.cos, "-g * np.sin(x)")
unary(np.tan, "g / np.cos(x) ** 2")
unary(np.exp, "g * ans")
unary(np.exp2, "g * ans * np.log(2.0)")
unary(np.expm1, "g * (ans + 1.0)")
unary(np.log, "g / x")
unary(np.log2, "g / (x * np.log(2.0))")
unary(np.log10, "g / (x * np.log(10.0))")
unary(np.log1p, "g / (1.0 + x)")
unary(np.sqrt, "g / (2.0 * ans)")
unary(np.cbrt, "g / (3.0 * ans * ans)")
unary(np.tanh, "g * (1.0 - ans * ans)")
unary(np.sinh, "g * np.cosh(x)")
unary(np.cosh, "g * np.sinh(x)")
unary(np.arcsin, "g / np.sqrt(1.0 - x * x)")
unary(np.arccos, "-g / np.sqrt(1.0 - x * x)")
unary(np.arctan, "g / (1.0 + x * x)")
unary(np.arcsinh, "g / np.sqrt(x * x + 1.0)")
unary(np.arccosh, "g / np.sqrt(x * x - 1.0)")
unary(np.arctanh, "g / (1.0 - x * x)")
unary(np.sinc, "g * sinc_slope(x)")  # 0 at 0, where sinc is flat (autograd gives NaN)
unary([np.deg2rad, np.radians], "g * (np.pi / 180.0)")
unary([np.rad2deg, np.degrees], "g * (180.0 / np.pi)")


# ----- along an axis ---------------------------------------------------------------------
def _along(args: BoundArguments) -> str | None:
    """np.cumsum, np.cumprod and np.sort along an int axis keep the shape of ``a`` (None
    flattens it)."""
    return "elementwise" if int_axis(args) else None


def _cumsum(args: BoundArguments) -> str:
    """The sums of ``g`` from each position to the end: a cumulative sum, reversed."""
    if args.is_none("axis"):  # a flattened: so is g
        reversed_sums = "np.cumsum(g[::-1])[::-1]"
        return reversed_sums if args.ndim("a") == 1 else f"np.reshape({reversed_sums}, np.shape(a))"
    reversed_sums = "np.flip(np.cumsum(np.flip(g, axis), axis), axis)"
    return reversed_sums if _along(args) else f"np.reshape({reversed_sums}, np.shape(a))"


defvjp(np.cumsum, "a, axis=None, dtype=None, out=None", shape=_along, a=_cumsum)
method("cumsum", "a, axis=None, dtype=None, out=None", shape=_along, a=_cumsum)
defvjp(np.cumprod, "a, axis=None, dtype=None, out=None", shape=_along, a="cumprod_grad(g, a, axis)")
method("cumprod", "a, axis=None, dtype=None, out=None", shape=_along, a="cumprod_grad(g, a, axis)")
defvjp(np.sort, "a, axis=-1, kind=None, order=None", shape=_along, a="sort_grad(g, a, axis)")

# ----- products --------------------------------------------------------------------------
defvjp(np.dot, "a, b", a=dot_left, b=dot_right)
method("dot", "a, b", a=dot_left, b=dot_right)


def _vectors(args: BoundArguments) -> bool:
    return args.ndim("a") == 1 and args.ndim("b") == 1


def _outer(flat: str, vectors: str):
    def template(args: BoundArguments) -> str:
        return vectors if _vectors(args) else flat

    return template


defvjp(
    np.outer,
    "a, b",
    a=_outer("np.reshape(g @ np.ravel(b), np.shape(a))", "g @ b"),
    b=_outer("np.reshape(np.ravel(a) @ g, np.shape(b))", "a @ g"),
)
defvjp(
    np.inner,
    "a, b, /",
    a=_outer("inner_grad_left(g, a, b)", "g * b"),
    b=_outer("inner_grad_right(g, a, b)", "g * a"),
)

# ----- selection -------------------------------------------------------------------------
defvjp(
    np.where,
    "condition, x1, x2, /",
    unbroadcast=("x1", "x2"),
    shape="elementwise",
    x1="np.where(condition, g, 0.0)",
    x2="np.where(condition, 0.0, g)",
)


def _clip(role: str):
    """clip's derivative for ``a`` or for its lower or upper bound: that of
    ``np.minimum(np.maximum(a, low), high)``, so ``a`` at a bound shares ``g`` with it."""

    def template(args: BoundArguments) -> str:
        # np.clip's bounds are a_min/a_max (or min/max, NumPy 2.1), the method's min/max
        low, high = (
            next((n for n in names if n in args and not args.is_none(n)), None)
            for names in (("a_min", "min"), ("a_max", "max"))
        )
        if role == "a" and high is None:
            return f"g * np.where(a == {low}, 0.5, a > {low})" if low else "g"
        if role == "a" and low is None:
            return f"g * np.where(a == {high}, 0.5, a < {high})"
        if role == "low" and high is None:
            return f"g * np.where(a == {low}, 0.5, {low} > a)"
        if role == "high" and low is None:
            return f"g * np.where(a == {high}, 0.5, {high} < a)"
        return f"clip_grad(g, a, {low}, {high}, {role!r})"

    return template


defvjp(
    np.clip,
    "a, a_min=None, a_max=None, *, min=None, max=None",
    unbroadcast=("a", "a_min", "a_max", "min", "max"),
    shape="elementwise",
    a=_clip("a"),
    a_min=_clip("low"),
    min=_clip("low"),
    a_max=_clip("high"),
    max=_clip("high"),
)
method(
    "clip",
    "a, min=None, max=None",
    unbroadcast=("a", "min", "max"),
    shape="elementwise",
    a=_clip("a"),
    min=_clip("low"),
    max=_clip("high"),
)


# ----- shape ----------------------------------------------------------------------------
def _transpose(args: BoundArguments) -> str:
    return "np.transpose(g)" if args.is_none("axes") else "np.transpose(g, np.argsort(axes))"


def _transpose_method(args: BoundArguments) -> str:
    axes = args["axes"]
    if isinstance(axes, gast.Tuple) and len(axes.elts) == 1:
        args["axes"] = axes = axes.elts[0]  # x.transpose((1, 0)) spelt with one tuple
    if isinstance(axes, gast.Tuple) and not axes.elts or args.is_none("axes"):
        return "np.transpose(g)"
    return "np.transpose(g, np.argsort(axes))"


_RESHAPE_BACK = "np.reshape(g, np.shape(a))"
defvjp(np.transpose, "a, axes=None", a=_transpose)
method("transpose", "a, *axes", a=_transpose_method)
attribute("T", "np.transpose(g)")
defvjp(np.reshape, "a, /, shape, order='C'", a=_RESHAPE_BACK)
method("reshape", "a, *shape, order='C'", a=_RESHAPE_BACK)
defvjp(np.ravel, "a, order='C'", a=_RESHAPE_BACK)
defvjp(np.squeeze, "a, axis=None", a=_RESHAPE_BACK)
defvjp(np.expand_dims, "a, axis", a=_RESHAPE_BACK)
for _name in ("ravel", "flatten"):
    method(_name, "a, order='C'", a=_RESHAPE_BACK)
method("squeeze", "a, axis=None", a=_RESHAPE_BACK)
method("copy", "a, order='C'", shape="elementwise", a="g")
defvjp(np.asarray, "a, dtype=None", containers=("a",), a="array_grad(g, a)")
defvjp(np.array, "object, dtype=None", containers=("object",), object="array_grad(g, object)")
defvjp(np.stack, "arrays, axis=0", containers=("arrays",), arrays="list(np.moveaxis(g, axis, 0))")


def _sublists(args: BoundArguments) -> str:
    """An array where the subscripts go is the sublist form, np.einsum(a, [0, 1], ...)."""
    raise RuleError(
        "s2sad differentiates np.einsum's subscripts form (np.einsum('ij,jk->ik', a, b)), "
        "not its sublist form (np.einsum(a, [0, 1], b, [1, 2]))"
    )


defvjp(
    np.einsum,
    "subscripts, /, *operands, out=None, dtype=None, order='K', casting='safe', optimize=False",
    subscripts=_sublists,
    operands="einsum_grad(g, subscripts, operands, position, optimize)",
)
defvjp(
    np.concatenate,
    "arrays, /, axis=0",
    containers=("arrays",),
    arrays="split_grad(g, arrays, axis)",
)


def _astype(args: BoundArguments) -> str:
    """A cast to a floating type passes the gradient on; to an integer type, none."""
    return "g if np.issubdtype(np.dtype(dtype), np.inexact) else 0.0 * g"


method("astype", "a, dtype, order='K', casting='unsafe', subok=True, copy=True", a=_astype)
defvjp([np.float64, np.float32], "value=0, /", shape="elementwise", value="g")


def _item(args: BoundArguments) -> str:
    """``a.item()`` of a one-element array hands it ``g``; ``a.item(i)`` (a flat index) and
    ``a.item(i, j)`` put ``g`` at that element."""
    if not args["args"].elts:
        return "np.reshape(g, np.shape(a))"
    return "item_grad(g, a, args)"


method("item", "a, *args", shape="scalar", a=_item)


def _filled(args: BoundArguments) -> str:
    """``fill_value`` gets ``g``, summed back where it was broadcast; none when the result
    takes an integer dtype (np.full_like of an integer array, or dtype=int)."""
    if "a" in args and args.is_none("dtype"):  # the result has a's dtype
        return "g if np.issubdtype(np.asarray(a).dtype, np.inexact) else 0.0 * g"
    return "g"  # a dtype= of an integer type: the rule's cast check gives no gradient


def _given_shape(args: BoundArguments) -> str | None:
    return "elementwise" if args.is_none("shape") else None


defvjp(
    np.full_like,
    "a, fill_value, dtype=None, order='K', subok=True, shape=None",
    unbroadcast=("fill_value",),
    shape=_given_shape,
    fill_value=_filled,
)
defvjp(
    np.full,
    "shape, fill_value, dtype=None, order='C'",
    unbroadcast=("fill_value",),
    fill_value=_filled,
)
defvjp(np.copy, "a, order='K'", a="g")
defvjp(np.broadcast_to, "array, shape, subok=False", array="unbroadcast(g, array)")
attribute("real", "real_input(g, x)", shape="elementwise")
defvjp(np.real, "val", shape="elementwise", val="real_input(g, val)")
unary(np.conjugate, "real_input(g, x)")  # np.conj is np.conjugate
for _name in ("conj", "conjugate"):
    method(_name, "a", shape="elementwise", a="real_input(g, a)")


# ----- rearranging: flips, rotations, repetitions, diagonals ------------------------------
def _flipped(args: BoundArguments) -> str | None:
    return "elementwise" if args.is_constant("axis") else None  # None: every axis


defvjp(np.flip, "m, axis=None", shape=_flipped, m="np.flip(g, axis)")
defvjp(np.fliplr, "m", shape="elementwise", m="np.fliplr(g)")
defvjp(np.flipud, "m", shape="elementwise", m="np.flipud(g)")
defvjp(np.rot90, "m, k=1, axes=(0, 1)", m="np.rot90(g, -k, axes)")


def _roll(args: BoundArguments) -> str:
    shift = "-shift" if args.is_constant("shift") else "np.negative(shift)"  # or a tuple
    return f"np.roll(g, {shift}, axis)"


defvjp(np.roll, "a, shift, axis=None", a=_roll)
defvjp(np.tile, "A, reps", A="tile_grad(g, A, reps)")
defvjp(np.repeat, "a, repeats, axis=None", a="repeated_grad(g, a, repeats, axis)")
method("repeat", "a, repeats, axis=None", a="repeated_grad(g, a, repeats, axis)")


def _diag(args: BoundArguments) -> str:
    """np.diag makes a matrix of a vector (its adjoint reads the diagonal back) and takes
    the diagonal of a matrix (its adjoint puts g on the diagonal)."""
    if args.ndim("v") == 1:
        return "np.diagonal(g, k)"
    if args.ndim("v") == 2:
        return "diagonal_grad(g, v, k, 0, 1)"
    return "np.diagonal(g, k) if np.ndim(v) == 1 else diagonal_grad(g, v, k, 0, 1)"


def _trace(args: BoundArguments) -> str:
    if args.ndim("a") == 2 and (args.constant("axis1"), args.constant("axis2")) == (0, 1):
        return "g * np.eye(*np.shape(a), offset)"
    return "trace_grad(g, a, offset, axis1, axis2)"


_DIAGONAL = "diagonal_grad(g, a, offset, axis1, axis2)"
defvjp(np.diag, "v, k=0", v=_diag)
defvjp(np.diagonal, "a, offset=0, axis1=0, axis2=1", a=_DIAGONAL)
method("diagonal", "a, offset=0, axis1=0, axis2=1", a=_DIAGONAL)
defvjp(np.trace, "a, offset=0, axis1=0, axis2=1, dtype=None", a=_trace)
method("trace", "a, offset=0, axis1=0, axis2=1, dtype=None", a=_trace)

# ----- things that carry no gradient ----------------------------------------------------
attribute("shape", None)
attribute("dtype", None)
for _name in ("ndim", "size"):
    attribute(_name, None, shape="scalar")
for _name in ("argmax", "argmin", "argsort", "nonzero", "any", "all"):
    method(_name, "*args", **{})
nondifferentiable(
    np.sign,
    np.floor,
    np.ceil,
    np.rint,
    np.trunc,
    np.fix,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.equal,
    np.not_equal,
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.logical_and,
    np.logical_or,
    np.logical_not,
    np.logical_xor,
    np.floor_divide,
    np.heaviside,
    shape="elementwise",
)
nondifferentiable(
    np.shape,
    np.ndim,
    np.size,
    np.zeros,
    np.ones,
    np.empty,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.eye,
    np.identity,
    np.argmax,
    np.argmin,
    np.argsort,
    np.round,
    np.around,
    np.any,
    np.all,
    np.nonzero,
    np.count_nonzero,
    np.allclose,
    np.isclose,
    np.array_equal,
    np.sort_complex,
    np.searchsorted,
)
