"""Rules for NumPy's array shaping and indexing functions: axes, triangles, differences,
stacking, taking, padding and splitting.

Each is linear in its array, so each adjoint puts ``g`` back where the function read it
from: swapped or moved axes swap back, a triangle keeps ``g``'s triangle, joined arrays
take their slices of ``g``, and an element taken (or padded, or split off) twice gets both
gradients. A function returning a list of arrays (``np.split``) has as adjoint a list of
per-part gradients, 0.0 for a part never used.
"""

import numpy as np

from ..runtime_arrays import PAD_COPYING_MODES
from .registry import BoundArguments, RuleError
from .shapes import defvjp, method

# ----- axes ------------------------------------------------------------------------------
defvjp(np.swapaxes, "a, axis1, axis2", a="np.swapaxes(g, axis1, axis2)")
method("swapaxes", "a, axis1, axis2", a="np.swapaxes(g, axis1, axis2)")
defvjp(np.moveaxis, "a, source, destination", a="np.moveaxis(g, destination, source)")


def _atleast(args: BoundArguments) -> str | None:
    """One array gives an array; several give a tuple of them."""
    return "tuple" if len(args["arys"].elts) > 1 else None


defvjp(
    [np.atleast_1d, np.atleast_2d, np.atleast_3d],
    "*arys",
    shape=_atleast,
    arys="atleast_grad(g, arys, position)",
)


# ----- triangles and differences ---------------------------------------------------------
def _triangle(name: str):
    """np.triu / np.tril keep ``g``'s triangle; of a vector they make a matrix whose rows
    are the vector, masked, so its adjoint sums the rows back."""

    def template(args: BoundArguments) -> str:
        kept = f"np.{name}(g, k)"
        return kept if (args.ndim("m") or 0) >= 2 else f"unbroadcast({kept}, m)"

    return template


defvjp(np.triu, "m, k=0", m=_triangle("triu"))
defvjp(np.tril, "m, k=0", m=_triangle("tril"))
# prepend and append are NumPy's "no value" when not given: None here (see diff_grad)
_DIFF = "a, n=1, axis=-1, prepend=None, append=None"
defvjp(
    np.diff,
    _DIFF,
    **{
        wrt: f"diff_grad(g, a, n, axis, prepend, append, {wrt!r})"
        for wrt in ("a", "prepend", "append")
    },
)

# ----- joining (np.concatenate and np.stack are with the other NumPy rules) ---------------
for _join in ("hstack", "vstack"):
    defvjp(
        getattr(np, _join),
        "tup, *, dtype=None, casting='same_kind'",
        containers=("tup",),
        tup=f"{_join}_grad(g, tup)",
    )
for _join in ("column_stack", "dstack"):
    defvjp(getattr(np, _join), "tup", containers=("tup",), tup=f"{_join}_grad(g, tup)")
defvjp(
    np.append,
    "arr, values, axis=None",
    arr="split_grad(g, [arr, values], axis)[0]",
    values="split_grad(g, [arr, values], axis)[1]",
)

# ----- taking ----------------------------------------------------------------------------
_TAKE = "a, indices, axis=None, out=None, mode='raise'"
defvjp(np.take, _TAKE, a="take_grad(g, a, indices, axis, mode)")
method("take", _TAKE, a="take_grad(g, a, indices, axis, mode)")
defvjp(
    np.take_along_axis,
    "arr, indices, axis=-1",
    arr="take_along_axis_grad(g, arr, indices, axis)",
)


# ----- padding ---------------------------------------------------------------------------
def _pad(role: str):
    """np.pad's adjoint for the modes that copy elements (or a constant): a mode spelt out
    is checked here, with the line; one held by a variable, when the gradient runs."""

    def template(args: BoundArguments) -> str:
        mode = args.constant("mode")
        if args.is_constant("mode") and mode not in PAD_COPYING_MODES:
            raise RuleError(
                f"s2sad differentiates np.pad's modes {', '.join(PAD_COPYING_MODES)}, "
                f"not mode={mode!r}"
            )
        if not (args.is_constant("reflect_type") and args.constant("reflect_type") == "even"):
            raise RuleError(
                "s2sad differentiates np.pad's reflect_type='even' (the default), where the "
                "padding copies elements, not reflect_type='odd'"
            )
        if role == "array":
            return "pad_grad(g, array, pad_width, mode)"
        return "pad_values_grad(g, array, pad_width, constant_values)"

    return template


defvjp(
    np.pad,
    "array, pad_width, mode='constant', *, constant_values=0, end_values=0, "
    "reflect_type='even', stat_length=None",
    array=_pad("array"),
    constant_values=_pad("constant_values"),
)


# ----- splitting -------------------------------------------------------------------------
def _split(axis: str | None):
    """np.split and np.array_split cut along ``axis``; np.hsplit along the columns (the
    elements of a vector), np.vsplit along the rows, np.dsplit along the third axis."""

    def template(args: BoundArguments) -> str:
        along = axis
        if along is None:  # np.hsplit
            ndim = args.ndim("ary")
            along = "1 if np.ndim(ary) > 1 else 0" if ndim is None else str(int(ndim > 1))
        return f"array_split_grad(g, ary, indices_or_sections, {along})"

    return template


_PARTS = "tuple"  # a list of arrays: its adjoint is a list too, one gradient per part
defvjp(
    [np.split, np.array_split],
    "ary, indices_or_sections, axis=0",
    shape=_PARTS,
    ary=_split("axis"),
)
defvjp(np.hsplit, "ary, indices_or_sections", shape=_PARTS, ary=_split(None))
defvjp(np.vsplit, "ary, indices_or_sections", shape=_PARTS, ary=_split("0"))
defvjp(np.dsplit, "ary, indices_or_sections", shape=_PARTS, ary=_split("2"))


# ----- ranges ----------------------------------------------------------------------------
def _arange_start(args: BoundArguments) -> str:
    """np.arange(start, stop, step) is ``start + step * i``; np.arange(stop) starts at 0
    (its one argument is the stop, and how many values there are is piecewise constant)."""
    return "0.0" if args.is_none("stop") else "np.sum(g)"


defvjp(
    np.arange,
    "start_or_stop, /, stop=None, step=1, *, dtype=None",
    start_or_stop=_arange_start,
    step="np.sum(g * np.arange(np.size(ans)))",
)


def _linspace(wrt: str):
    def template(args: BoundArguments) -> str:
        if not (args.is_constant("retstep") and args.constant("retstep") is False):
            raise RuleError("np.linspace with retstep= is not differentiated")
        return f"linspace_grad(g, start, stop, num, endpoint, axis, {wrt!r})"

    return template


defvjp(
    np.linspace,
    "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0",
    start=_linspace("start"),
    stop=_linspace("stop"),
)
