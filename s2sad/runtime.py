"""The only helpers generated derivative code may call (with the adjoints of NumPy functions
in s2sad.runtime_numpy, built on these); each is small and pure.

Generated code uses plain operators and NumPy calls wherever it can; these functions exist
for the few steps that need a decision at run time (whether NumPy broadcast an operand,
what kind of value a gradient must be returned as):

>>> import numpy as np
>>> unbroadcast(np.ones((2, 3)), np.zeros(3))
array([2., 2., 2.])
>>> cast_like(0.0, np.zeros(2))
array([0., 0.])
"""

from __future__ import annotations

import numpy as np

from .errors import ComplexValueError, NonScalarOutputError, UnsupportedSyntaxError

__all__ = [
    "add_element",
    "as_items",
    "as_float",
    "unbroadcast",
    "cast_like",
    "distinct",
    "add_at",
    "add_grad",
    "is_zero",
    "seed_parts",
    "element",
    "zero_at",
    "pop_last",
    "snapshot",
    "restore",
    "copy_gradient",
    "array_grad",
    "repeat_grad",
    "items_grad",
    "split_grad",
    "first_part",
    "last_part",
    "fold_repeats",
    "count_grad",
    "power_slope",
    "exponent_slope",
    "scalar_seed",
    "matmul_grad_left",
    "matmul_grad_right",
    "dot_grad_left",
    "dot_grad_right",
    "expand_reduced",
    "extremum_grad",
]

_SCALAR_TYPES = (float, int, np.number)
_VIEWS = (type({}.values()), type({}.keys()), type({}.items()))
_KEYS = type({}.keys())


def unbroadcast(g, like):
    """Sum ``g`` down to the shape of ``like``, undoing NumPy broadcasting.

    Axes NumPy prepended are summed away; axes where ``like`` has length 1 are summed
    with keepdims. ``g`` is returned as it is when the shapes already agree.
    """
    if isinstance(g, (list, tuple)) and isinstance(like, _VIEWS):
        return g  # max(d.values()): the items' gradients, one per item
    if isinstance(g, (list, tuple)) and isinstance(like, (list, tuple)):
        if len(g) == len(like):
            return g  # a list put in a slot (m[0] = [x, y]): NumPy broadcast nothing
        raise UnsupportedSyntaxError(
            "+ joining lists or tuples that the derivative was built taking for arrays (it "
            "could not tell what the operands hold)",
            hint="build the list with [...] or list(...) in the function, or pass it as an "
            "argument",
        )
    shape = np.shape(like)
    g_shape = np.shape(g)
    if g_shape == shape or len(g_shape) < len(shape):
        return g
    if not shape:
        return np.sum(g)
    extra = len(g_shape) - len(shape)
    if extra:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g


def as_float(g) -> float:
    """The gradient of a Python number argument, as a float (a complex one is refused:
    ``float()`` of a NumPy complex keeps its real part, with only a warning)."""
    if g.__class__ is float:
        return g
    if np.iscomplexobj(g):
        raise ComplexValueError()
    return float(g)


def cast_like(g, like):
    """``g`` as the gradient of ``like``: a float for a number, an array of its shape for an
    array, the same container (tuple, list, dict) for a container, zeros where ``g`` is 0.0."""
    if isinstance(like, np.ndarray):
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        if like.dtype.kind != "c" and np.iscomplexobj(g):
            raise ComplexValueError()
        g = np.asarray(g, dtype=dtype)
        if g.shape != like.shape:
            try:
                g = np.broadcast_to(g, like.shape)
            except ValueError:
                raise ValueError(
                    f"s2sad: a gradient of shape {g.shape} for an argument of shape "
                    f"{like.shape}: the arguments' shapes do not broadcast together "
                    "(the function itself raises for them)"
                ) from None
        if not g.flags.writeable or not g.flags.owndata:  # a view may be of an argument
            g = g.copy()
        return g
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        return as_float(g)
    if isinstance(like, np.generic) and like.dtype.kind in "fc":
        if like.dtype.kind != "c" and np.iscomplexobj(g):
            raise ComplexValueError()
        return like.dtype.type(g)
    if isinstance(like, (list, tuple)):
        if isinstance(g, (list, tuple)):
            parts = g
        elif isinstance(g, np.ndarray) and g.ndim and len(g) == len(like):
            parts = list(g)  # a NumPy function took the list as an array
        else:
            parts = [g] * len(like)  # a number stands for every element
        cast = [cast_like(part, item) for part, item in zip(parts, like)]
        return type(like)(cast) if type(like) in (list, tuple) else type(like)(*cast)
    if isinstance(like, dict):
        parts = g if isinstance(g, dict) else {}
        return {key: cast_like(parts.get(key, 0.0), item) for key, item in like.items()}
    return g


def exponent_slope(base, power):
    """d(base ** exponent)/d(exponent) = power * log(base), with ``power = base ** exponent``;
    0 where the base is 0 (the limit over positive exponents, as in JAX and autograd),
    where ``power * log(base)`` would be ``0 * -inf``.

    >>> exponent_slope(np.array([0.0, np.e]), np.array([0.0, 2.0]))
    array([0., 2.])
    """
    if isinstance(base, np.ndarray) or isinstance(power, np.ndarray):
        zero = base == 0
        return np.where(zero, 0.0, power * np.log(np.where(zero, 1.0, base)))
    return 0.0 * power if base == 0 else power * np.log(base)


def power_slope(base, exponent):
    """d(base ** exponent)/d(base) = exponent * base ** (exponent - 1), which is 0 where the
    exponent is 0 (``x ** 0`` is constant), even at base 0."""
    if not isinstance(base, np.ndarray) and not isinstance(exponent, np.ndarray):
        return 0.0 if exponent == 0 else exponent * base ** (exponent - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(exponent == 0, 0.0, exponent * np.power(base, exponent - 1.0))


def distinct(*gradients):
    """The gradients as a tuple, copying any array that is the same object as an earlier one
    (``x + y`` hands both operands the same adjoint array)."""
    seen = set()
    result = []
    for g in gradients:
        if isinstance(g, np.ndarray):
            if id(g) in seen:
                g = g.copy()
            seen.add(id(g))
        result.append(g)
    return tuple(result)


def add_grad(a, b):
    """``a + b`` for gradients that may be containers (lists of element gradients, dicts);
    0.0 stands for "no gradient". The result is always a new object."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        if not isinstance(a, (list, tuple)):
            return [add_grad(a, item) for item in b] if is_zero(a) else _mismatch(a, b)
        if not isinstance(b, (list, tuple)):
            return [add_grad(item, b) for item in a] if is_zero(b) else _mismatch(a, b)
        return [add_grad(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict) or isinstance(b, dict):
        merged = dict(a) if isinstance(a, dict) else {}
        for key, value in b.items() if isinstance(b, dict) else ():
            merged[key] = add_grad(merged.get(key, 0.0), value)
        return merged
    return a + b


def is_zero(value) -> bool:
    """Whether a gradient is still the ``0.0`` that stands for "none yet"; a contribution
    of a zero seed is zero, so the adjoint of a statement whose seed may be that ``0.0``
    (and whose rule needs the seed's shape) is skipped for it."""
    return type(value) is float and value == 0.0


def seed_parts(g, value):
    """The seed for a helper's tuple result ``value``: the parts nothing read (seed 0.0)
    become zeros of the part's shape, so the helper's adjoint sees the shapes it made (a
    part that is a number or a container keeps 0.0, which its adjoint takes)."""
    if is_zero(g):
        g = [0.0] * len(value)
    return tuple(
        np.zeros(part.shape) if is_zero(d) and isinstance(part, np.ndarray) else d
        for d, part in zip(g, value)
    )


def _mismatch(a, b):
    raise TypeError(f"cannot add gradients of a {type(a).__name__} and a {type(b).__name__}")


def add_at(g, index, value, like):
    """The adjoint of reading ``like[index]``: ``g`` with ``value`` added at ``index``.

    ``g`` is 0.0 until the first contribution; then it is an array (or list, or dict) that
    this function allocated, and later contributions go into it in place. Integer-array
    indices with repeats accumulate every repeat.
    """
    if isinstance(like, _VIEWS):  # an item of d.items() iterated: as in list(d.items())
        like = list(like)
    if isinstance(like, np.ndarray):
        if not isinstance(g, np.ndarray):
            zeros = np.zeros(like.shape, dtype=np.result_type(like.dtype, float))
            g = zeros if type(g) is float and g == 0.0 else zeros + g
        elif not g.flags.writeable:  # a broadcast view: make it an array of its own
            g = g.copy()
        if _is_fancy(index):
            np.add.at(g, index, value)
        else:
            g[index] += value
        return g
    if isinstance(like, (list, tuple)):
        if not isinstance(g, list):
            g = [0.0] * len(like)
        if isinstance(index, slice):
            for position, part in zip(range(*index.indices(len(like))), value):
                g[position] = add_grad(g[position], part)
        else:
            g[index] = add_grad(g[index], value)
        return g
    if isinstance(like, dict):
        if not isinstance(g, dict):
            g = {}
        g[index] = add_grad(g.get(index, 0.0), value)
        return g
    raise TypeError(f"s2sad cannot differentiate indexing into a {type(like).__name__}")


def _is_fancy(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype.kind in "iu"
        for part in parts
    )


def element(g, index):
    """The gradient of ``container[index]`` inside the gradient ``g`` of the container
    (0.0 when ``g`` is 0.0; a number stands for an array filled with it); array parts are
    copies, never views. Where an integer-array index repeats a position, only its last
    occurrence gets the gradient: ``y[[0, 0]] = v`` keeps the last write, as NumPy does."""
    if isinstance(g, np.ndarray):
        part = g[index]
        if _is_fancy(index):
            part = _last_writes_only(part, index)
        return part.copy() if isinstance(part, np.ndarray) else part
    if isinstance(g, (list, tuple)):
        if isinstance(index, slice):
            return list(g[index])
        return g[index]
    if isinstance(g, dict):
        return g.get(index, 0.0)
    return g if isinstance(g, (int, float, np.number)) else 0.0


def _last_writes_only(part, index):
    """Zero the gradient of all but the last write to each repeated position."""
    positions = np.asarray(index if not isinstance(index, tuple) else index[0])
    if positions.ndim != 1 or len(np.unique(positions)) == len(positions):
        return part
    keep = np.zeros(len(positions), dtype=bool)
    seen = set()
    for i in range(len(positions) - 1, -1, -1):
        if positions[i] not in seen:
            keep[i] = True
            seen.add(positions[i])
    return part * keep.reshape((-1,) + (1,) * (np.ndim(part) - 1))


def zero_at(g, index):
    """``g`` with the gradient at ``index`` cleared (after ``container[index] = ...``)."""
    if isinstance(g, np.ndarray):
        if not g.flags.writeable:
            g = g.copy()
        g[index] = 0.0
    elif isinstance(g, list):
        if isinstance(index, slice):
            for position in range(*index.indices(len(g))):
                g[position] = 0.0
        else:
            g[index] = 0.0
    elif isinstance(g, dict):
        g.pop(index, None)
    elif index is Ellipsis or index == ():
        return 0.0  # a number standing for a 0-d array, all of it overwritten
    return g


def add_element(g, position, value, sequence):
    """The adjoint of ``sequence`` after a ``for`` loop took its element at ``position``
    (with adjoint ``value``): ``add_at`` for a list, a tuple or an array; nothing for a
    dict, whose loop takes its keys, which carry no gradient.

    >>> add_element(0.0, 1, 2.0, [0.5, 0.7])
    [0.0, 2.0]
    >>> add_element(0.0, 1, 2.0, {0: 0.5, 1: 0.7})
    0.0
    """
    if isinstance(sequence, (dict, _KEYS)):
        return g
    return add_at(g, position, value, sequence)


def as_items(g, items):
    """The gradient of a list a NumPy function read as an array (``np.sum(L)``), as a list
    of the items' gradients, so that ``pop_last`` can take them back one by one.

    >>> as_items(np.ones((2, 2)), [np.zeros(2), np.zeros(2)])
    [array([1., 1.]), array([1., 1.])]
    """
    if isinstance(items, list) and isinstance(g, np.ndarray) and g.ndim:
        return [np.array(row) if np.ndim(row) else row for row in g]
    return g


def pop_last(g):
    """The gradient of the element ``list.append`` added last (0.0 when ``g`` is 0.0)."""
    return g.pop() if isinstance(g, list) and g else 0.0


class _Missing:
    """What ``snapshot`` records for a dict key that did not exist yet."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def snapshot(container, index):
    """A copy of ``container[index]`` to restore after ``container[index] = ...``."""
    if isinstance(container, dict) and index not in container:
        return MISSING
    part = container[index]
    return part.copy() if isinstance(part, np.ndarray) else part


def restore(container, index, old) -> None:
    """Undo ``container[index] = ...`` with what ``snapshot`` recorded."""
    if old is MISSING:
        del container[index]
    else:
        container[index] = old


def copy_gradient(g):
    """A copy of a gradient the caller passed in (a vjp's seed) that s2sad may update in place."""
    if isinstance(g, np.ndarray):
        return g.copy()
    return add_grad(0.0, g) if isinstance(g, (list, tuple, dict)) else g


def array_grad(g, obj):
    """The adjoint of ``obj`` in ``np.array(obj)``: ``g`` split back into obj's nesting."""
    if isinstance(obj, (list, tuple)):
        return [array_grad(g[position], item) for position, item in enumerate(obj)]
    return g


def items_grad(g, iterable):
    """The adjoint of ``iterable`` in ``list(iterable)``, ``tuple(...)`` or ``dict(...)``:
    the items' gradients, as rows of an array when ``iterable`` is one; for ``dict`` of
    (key, value) pairs, each value's gradient in its pair.

    >>> items_grad([0.0, np.ones(2)], np.zeros((2, 2)))
    array([[0., 0.],
           [1., 1.]])
    >>> items_grad({"w": 2.0}, [("w", 0.5), ("b", 0.1)])
    [(0.0, 2.0), (0.0, 0.0)]
    """
    if is_zero(g):
        return g
    if isinstance(g, dict) and not isinstance(iterable, dict):  # dict([("w", w), ...])
        return [(0.0, g.get(key, 0.0)) for key, _ in iterable]
    if not isinstance(iterable, np.ndarray):
        return g
    rows = np.zeros(iterable.shape, dtype=np.result_type(iterable.dtype, float))
    for position, row in enumerate(g):
        rows[position] += row
    return rows


def repeat_grad(g, iterable):
    """The adjoint of ``iterable`` in ``sum(iterable)``: ``g`` for every element."""
    if isinstance(iterable, np.ndarray):
        return np.broadcast_to(g, np.shape(iterable)[:1] + np.shape(g)).copy()
    return [g] * len(iterable)


def _joined(part, other) -> bool:
    """Whether ``part + other`` joins two sequences (otherwise NumPy adds elementwise)."""
    return isinstance(part, (list, tuple)) and isinstance(other, (list, tuple))


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def first_part(g, part, other):
    """The adjoint of ``part`` in ``part + other``: for two lists or tuples, the gradients
    of the joined sequence's first ``len(part)`` items; otherwise ``g`` un-broadcast.

    >>> first_part([1.0, 2.0, 3.0], [5.0, 6.0], [7.0])
    [1.0, 2.0]
    """
    if not _joined(part, other):
        return unbroadcast(g, part)
    return list(g[: len(part)]) if _has_items(g) else g


def last_part(g, part, other):
    """The adjoint of ``part`` in ``other + part``: the gradients of the joined sequence's
    items after ``len(other)`` (``g`` un-broadcast when NumPy added elementwise)."""
    if not _joined(part, other):
        return unbroadcast(g, part)
    return list(g[len(other) :]) if _has_items(g) else g


def _has_items(g) -> bool:
    """A sequence's gradient held item by item (a list, or an array when NumPy read it)."""
    return isinstance(g, (list, tuple)) or (isinstance(g, np.ndarray) and g.ndim > 0)


def fold_repeats(g, part, count):
    """The adjoint of ``part`` in ``part * count``: for a list or tuple repeated ``count``
    times, the gradients of its copies summed item by item; otherwise (arithmetic) ``g *
    count`` un-broadcast.

    >>> fold_repeats([1.0, 2.0, 3.0, 4.0], [5.0, 6.0], 2)
    [4.0, 6.0]
    """
    if not (isinstance(part, (list, tuple)) and _is_count(count)):
        return unbroadcast(g * count, part)
    if not _has_items(g) or not part:
        return g
    folded = [0.0] * len(part)
    for position, item in enumerate(g):
        folded[position % len(part)] = add_grad(folded[position % len(part)], item)
    return folded


def count_grad(g, count, part):
    """The adjoint of ``count`` in ``part * count``: none when that repeats a list or tuple,
    ``g * part`` un-broadcast when it is arithmetic."""
    if isinstance(part, (list, tuple)) and _is_count(count):
        return 0.0
    return unbroadcast(g * part, count)


def split_grad(g, arrays, axis):
    """The adjoint of ``arrays`` in ``np.concatenate(arrays, axis)``; ``axis=None``
    concatenated the arrays flattened, so each part of ``g`` takes its array's shape back.

    >>> split_grad(np.arange(5.0), [np.zeros((2, 1)), np.zeros(3)], None)
    [array([[0.],
           [1.]]), array([2., 3., 4.])]
    """
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        parts = np.split(np.ravel(g), sizes)
        return [np.reshape(part, np.shape(a)) for part, a in zip(parts, arrays)]
    sizes = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
    return np.split(g, sizes, axis=axis)


def scalar_seed(value):
    """The seed 1.0 for the adjoint sweep, after checking that ``value`` is a scalar."""
    if type(value) is float or (
        isinstance(value, _SCALAR_TYPES + (np.ndarray,)) and np.ndim(value) == 0
    ):
        return 1.0
    shape = np.shape(value) if isinstance(value, np.ndarray) else None
    what = f"an array of shape {shape}" if shape is not None else f"a {type(value).__name__}"
    raise NonScalarOutputError(
        f"grad needs a function that returns a scalar, but it returned {what}; "
        "use s2sad.vjp(f) to pull back a seed of the output's shape"
    )


def matmul_grad_left(g, a, b):
    """The adjoint of ``a`` in ``a @ b`` (vectors, matrices and stacks of them; ``np.dot``
    and ``np.matmul`` also take lists)."""
    a, b = np.asarray(a), np.asarray(b)
    a_ndim, b_ndim = a.ndim, b.ndim
    if b_ndim == 1:
        if a_ndim == 1:
            return g * b
        return np.multiply.outer(g, b)
    if a_ndim == 1:
        return unbroadcast(np.matmul(b, g[..., None])[..., 0], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


def matmul_grad_right(g, a, b):
    """The adjoint of ``b`` in ``a @ b``."""
    a, b = np.asarray(a), np.asarray(b)
    a_ndim, b_ndim = a.ndim, b.ndim
    if a_ndim == 1:
        if b_ndim == 1:
            return g * a
        return np.multiply.outer(a, g) if b_ndim == 2 else a[:, None] * g[..., None, :]
    if b_ndim == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g[..., None])[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


def dot_grad_left(g, a, b):
    """The adjoint of ``a`` in ``np.dot(a, b)`` for scalars, vectors and matrices."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a)
    _check_dot(a, b)
    return matmul_grad_left(g, a, b)


def dot_grad_right(g, a, b):
    """The adjoint of ``b`` in ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * a, b)
    _check_dot(a, b)
    return matmul_grad_right(g, a, b)


def _check_dot(a, b):
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise NotImplementedError(
            "s2sad differentiates np.dot for scalars, vectors and matrices; "
            "use np.matmul or np.einsum for stacks of matrices"
        )


def expand_reduced(value, like, axis, keepdims):
    """A reduction's result (or its adjoint) reshaped to broadcast against ``like``."""
    if keepdims:
        return value
    if axis is None:
        return np.reshape(value, (1,) * np.ndim(like))
    return np.expand_dims(value, axis)


def extremum_grad(g, a, ans, axis, keepdims):
    """The adjoint of ``a`` in ``np.max(a, axis)`` / ``np.min``: ties share ``g`` equally."""
    mask = a == expand_reduced(ans, a, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True)
    return expand_reduced(g, a, axis, keepdims) * mask / count
