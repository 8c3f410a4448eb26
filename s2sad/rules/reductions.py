"""Rules for NumPy's reductions (sum, mean, max, ...: functions and array methods).

Reductions put the reduced axes back with ``np.expand_dims`` / ``expand_reduced``. Ties in
``max``/``min`` share the gradient equally between the tied elements (as JAX and autograd
do); ``np.prod`` is exact where the input has zeros.
"""

import gast
import numpy as np

from .registry import BoundArguments, RuleError
from .shapes import defvjp, method


def _sum(args: BoundArguments) -> str:
    """``g`` spread back over the summed axes (a broadcast view: nothing is allocated)."""
    if args.is_none("axis") or args.constant("keepdims") is True:
        return "np.broadcast_to(g, np.shape(a))"
    if args.is_constant("keepdims") and args.constant("keepdims") is False:
        return "np.broadcast_to(np.expand_dims(g, axis), np.shape(a))"
    return "np.broadcast_to(expand_reduced(g, a, axis, keepdims), np.shape(a))"


def _mean(args: BoundArguments) -> str:
    if args.is_none("axis"):
        return "np.broadcast_to(g / np.size(a), np.shape(a))"
    return f"{_sum(args)} * (np.size(ans) / np.size(a))"


def _reduced(args: BoundArguments) -> str | None:
    """A full reduction without keepdims gives a scalar; otherwise the shape is new."""
    return "scalar" if args.is_none("axis") and not args.constant("keepdims", True) else None


def int_axis(args: BoundArguments) -> bool:
    """Whether the call's ``axis`` is one int, spelt out (not None, a tuple, a variable)."""
    axis = args.constant("axis")
    return isinstance(axis, int) and not isinstance(axis, bool)


def _var(args: BoundArguments) -> str:
    """``g * 2 (a - mean) / (n - ddof)``, with ``g`` put back in the reduced axes' places."""
    keepdims = args.constant("keepdims") if args.is_constant("keepdims") else None
    if args.is_none("axis"):
        spread, centred, count = "g", "a - np.mean(a)", "np.size(a)"
    else:
        spread = "expand_reduced(g, a, axis, keepdims)"  # axis may be a name for None
        if keepdims is not None and not isinstance(args["axis"], gast.Name):
            spread = "g" if keepdims else "np.expand_dims(g, axis)"
        centred = "a - np.mean(a, axis, keepdims=True)"
        count = "np.shape(a)[axis]" if int_axis(args) else "(np.size(a) / np.size(ans))"
    if not (args.is_constant("ddof") and args.constant("ddof") == 0):
        count = f"({count} - ddof)"
    return f"{spread} * 2.0 * ({centred}) / {count}"


_EXTREMUM = "extremum_grad(g, a, ans, axis, keepdims)"
# out= is in NumPy's order of parameters, so that arguments passed by position bind as they
# do in NumPy (an array passed as out is refused before any rule is used: s2sad.aliasing)
_REDUCTION = "a, axis=None, dtype=None, out=None, keepdims=False"
_EXTREMA = "a, axis=None, out=None, keepdims=False"
for _name in ("sum", "mean"):
    _vjp = _sum if _name == "sum" else _mean
    defvjp(getattr(np, _name), _REDUCTION, shape=_reduced, a=_vjp)
    method(_name, _REDUCTION, shape=_reduced, a=_vjp)
defvjp([np.max, np.amax, np.min, np.amin], _EXTREMA, shape=_reduced, a=_EXTREMUM)
method("max", _EXTREMA, shape=_reduced, a=_EXTREMUM)
method("min", _EXTREMA, shape=_reduced, a=_EXTREMUM)
_DDOF = "a, axis=None, dtype=None, out=None, ddof=0, keepdims=False"
for _name, _signature, _vjp in (
    ("prod", _REDUCTION, "prod_grad(g, a, axis, keepdims)"),
    ("var", _DDOF, _var),
    ("std", _DDOF, "std_grad(g, a, ans, axis, ddof, keepdims)"),
):
    defvjp(getattr(np, _name), _signature, shape=_reduced, a=_vjp)
    method(_name, _signature, shape=_reduced, a=_vjp)


# ----- NaN-skipping reductions: NaN elements get 0 --------------------------------------
def _nansum(args: BoundArguments) -> str:
    return f"np.where(np.isnan(a), 0.0, {_sum(args)})"


defvjp(np.nansum, _REDUCTION, shape=_reduced, a=_nansum)
defvjp(np.nanmean, _REDUCTION, shape=_reduced, a="nanmean_grad(g, a, axis, keepdims)")
defvjp(
    [np.nanmax, np.nanmin],
    _EXTREMA,
    shape=_reduced,
    a="nanextremum_grad(g, a, ans, axis, keepdims)",
)


# ----- order statistics and weighted means ----------------------------------------------
def _average_shape(args: BoundArguments) -> str | None:
    """A pair when ``returned`` (or when it may be)."""
    return _reduced(args) if args.constant("returned", True) is False else None


def _median(args: BoundArguments) -> str:
    if args.constant("overwrite_input", True) is not False:
        raise RuleError(
            "overwrite_input=True lets np.median reorder its argument in place, where the "
            "derivative reads it; leave overwrite_input out"
        )
    return "median_grad(g, a, axis, keepdims)"


defvjp(np.ptp, _EXTREMA, shape=_reduced, a="ptp_grad(g, a, axis, keepdims)")
defvjp(
    np.median,
    "a, axis=None, out=None, overwrite_input=False, keepdims=False",
    shape=_reduced,
    a=_median,
)
defvjp(
    np.average,
    "a, axis=None, weights=None, returned=False, *, keepdims=False",
    shape=_average_shape,
    a="average_grad(g, a, axis, weights, returned, keepdims, 'a')",
    weights="average_grad(g, a, axis, weights, returned, keepdims, 'weights')",
)
