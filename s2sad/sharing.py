"""Which operations hand back memory they were given, and which change arrays in place.

The tables behind s2sad.aliasing: NumPy views (``y.T``, ``y[1:]``'s relatives such as
``np.flip``), list and dict methods that return their own elements, and calls that write
into an array (``y.sort()``, ``np.copyto``, ``operator.iadd``). Adding an entry changes
what the aliasing check refuses (and, for a view, what s2sad.tape takes for one).

>>> import numpy as np
>>> np.flip in VIEW_FUNCTIONS, "sort" in ARRAY_MUTATORS, from_numpy(np.full)
(True, True, True)
"""

from __future__ import annotations

import operator

import numpy as np

#: attributes and methods whose result may share memory with the array they are read from
VIEW_ATTRIBUTES = frozenset({"T", "real", "imag", "flat", "mT", "base"})
VIEW_METHODS = frozenset(
    {
        "reshape",
        "ravel",
        "transpose",
        "view",
        "squeeze",
        "swapaxes",
        "diagonal",
        "__getitem__",
        "conj",  # of a real array: the array itself
        "conjugate",
    }
)
#: methods that change an array in place, and NumPy functions that change their first
#: argument: s2sad differentiates values, not changes made to an array
ARRAY_MUTATORS = (
    frozenset({"fill", "sort", "put", "partition", "resize", "itemset", "setfield", "byteswap"})
    | {f"__i{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "pow", "mod")}
    | {"__setitem__"}
)
MUTATING_FUNCTIONS = (
    np.copyto,
    np.fill_diagonal,
    np.putmask,
    np.place,
    np.put,
    np.put_along_axis,
    np.random.shuffle,
    *(getattr(operator, f"i{op}") for op in ("add", "sub", "mul", "truediv", "floordiv")),
    *(getattr(operator, f"i{op}") for op in ("pow", "mod", "matmul")),
    operator.setitem,
    operator.delitem,
    # np.ndarray.fill(y, v): the array methods that change y, called through the class
    *(getattr(np.ndarray, name) for name in sorted(ARRAY_MUTATORS) if hasattr(np.ndarray, name)),
)
VIEW_FUNCTIONS = (
    np.reshape,
    np.ravel,
    np.transpose,
    np.squeeze,
    np.expand_dims,
    np.asarray,
    np.asanyarray,
    np.ascontiguousarray,
    np.asfortranarray,
    np.atleast_1d,
    np.atleast_2d,
    np.atleast_3d,
    np.broadcast_to,
    np.swapaxes,
    np.moveaxis,
    np.diagonal,
    np.flip,
    np.flipud,
    np.fliplr,
    np.rot90,
    np.real,
    np.imag,
    np.split,
    np.array_split,
    np.hsplit,
    np.vsplit,
    np.dsplit,
    np.diag,
    np.einsum,  # "ii->i" is a view
    np.broadcast_arrays,
    np.require,
    np.asarray_chkfinite,
    np.real_if_close,
    np.asmatrix,
    np.frombuffer,
    np.ix_,
    np.trim_zeros,
    np.lib.stride_tricks.as_strided,
    *(getattr(np, n) for n in ("unstack", "matrix_transpose", "permute_dims") if hasattr(np, n)),
    *(getattr(np, n) for n in ("from_dlpack",) if hasattr(np, n)),
    *(getattr(np.linalg, n) for n in ("matrix_transpose",) if hasattr(np.linalg, n)),
)


def from_numpy(function) -> bool:
    """Whether ``function`` is NumPy's (which, but for VIEW_FUNCTIONS, makes new arrays;
    numpy.ma, whose functions often hand back their argument's data, is not counted)."""
    module = getattr(function, "__module__", None) or ""
    if module.startswith("numpy.ma"):
        return False
    return isinstance(function, np.ufunc) or module == "numpy" or module.startswith("numpy.")


#: methods of lists and dicts that hand back one of their elements (or all of them)
ELEMENT_METHODS = frozenset({"pop", "popitem", "get", "setdefault", "values", "items"})

#: calls whose result is a new container of the same elements
CONTAINER_COPIES = (list, tuple, dict, sorted, reversed)
