"""Symbolic shapes, so adjoints know exactly where NumPy broadcast (or that it did not).

Shapes are those of :mod:`s2sad.shapes`. A parameter called with a 2-D array has shape
``(Dim("X.0"), Dim("X.1"))`` (dimensions of length 1 are ``ONE``); a Python number has
``()``. Elementwise operations broadcast right-aligned dimensions;
NumPy raises unless two lengths that are not 1 agree, so such dimensions are unified; a
matrix product unifies its inner dimensions; ``x[1:]`` and ``x[:-1]`` both have length
``n - 1``. Where control flow merges different shapes of a name, the dimensions that
differ get symbols of their own, so a loop reaches a fixed point.

>>> import gast
>>> body = gast.parse("y = x * 2.0\\nz = y + b\\nw = z[1:] - z[:-1]").body
>>> kinds = {"x": ("array", 1, (False,)), "b": "scalar"}
>>> shapes = analyze_shapes(body, kinds, lambda node: UNRESOLVED)
>>> shapes.same(body[2], body[2].value.left)   # z[1:] is as long as z[:-1]
False
>>> shapes.result(body[1]) == shapes.before(body[1])["y"]
True
"""

from __future__ import annotations

import collections
import itertools

import gast
import numpy as np

from .primitives import classify
from .rules import RuleError
from .shapes import ONE, Dim, Opaque, Shape, Shapes, parameter_shape
from .syntax import walk


def analyze_shapes(
    body, kinds: dict, resolve, scalar: str | None = None, helper_shape=None
) -> Shapes:
    """Shapes for a core-language ``body`` whose parameters have ``kinds``.

    ``scalar`` names a value known to be a scalar wherever it is assigned: ``grad``'s
    output when it is assigned once, which the generated code checks before the adjoint
    sweep starts (``assumed_scalar`` says whether that check is still needed).
    ``helper_shape`` works out what a call to one of the user's functions returns
    (s2sad.calls.result_shape).
    """
    shapes = Shapes()
    state = {name: parameter_shape(name, kind) for name, kind in kinds.items()}
    shapes._parameters = dict(state)
    analysis = _Analysis(shapes, resolve)
    analysis.scalar = scalar
    analysis.helper_shape = helper_shape
    stores = collections.Counter(
        n.id
        for n in walk(gast.Module(body=body, type_ignores=[]))
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)
    )
    analysis.once = {name for name, count in stores.items() if count == 1}
    analysis.block(body, state)
    return shapes


class _Analysis:
    def __init__(self, shapes: Shapes, resolve):
        self.shapes = shapes
        self.unify = shapes.unify
        self.resolve = resolve
        self.breaks: list[dict] = []
        self.fresh = itertools.count()
        self.scalar: str | None = None
        self.helper_shape = None
        self.once: set[str] = set()  # names assigned once
        self.sizes: dict[str, tuple] = {}  # such a name → the shape it spells: (3, 4), x.shape
        self.integers: dict[str, tuple] = {}  # such a name → the ints it holds: axis=(0, 1)

    def new_dim(self, hint: str) -> Dim:
        return Dim(f"{hint}#{next(self.fresh)}")

    def block(self, statements, state):
        for statement in statements:
            if state is None:
                return None
            state = self.statement(statement, state)
        return state

    def statement(self, statement, state):
        if isinstance(statement, gast.Assign):
            self.shapes._before[id(statement)] = dict(state)
            target = statement.targets[0]
            if isinstance(target, gast.Name):
                shape = self.shape_of(statement, state)
                if target.id == self.scalar and shape != ():
                    shape, self.shapes.assumed_scalar = (), True
                self.shapes._result[id(statement)] = shape
                return {**state, target.id: shape}
            return state  # a subscript store keeps the container's shape
        if isinstance(statement, gast.Break):
            self.breaks.append(state)
            return None
        if isinstance(statement, gast.If):
            body = self.block(statement.body, state)
            orelse = self.block(statement.orelse, state)
            if body is None or orelse is None:
                return orelse if body is None else body
            return self.join(body, orelse, statement)
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, state)
        if isinstance(statement, gast.Return):
            self.shapes._before[id(statement)] = dict(state)
        return state

    def loop(self, loop, state):
        head = dict(state)
        if isinstance(loop, gast.For):
            counting = (
                isinstance(loop.iter, gast.Call) and getattr(loop.iter.func, "id", None) == "range"
            )
            iterable = state.get(loop.iter.id) if isinstance(loop.iter, gast.Name) else None
            element = iterable[1:] if isinstance(iterable, tuple) and iterable else None  # a row
            if counting:
                head[loop.target.id] = ()
            elif element is not None:
                head[loop.target.id] = element
            else:
                head[loop.target.id] = Opaque.of(f"element:{id(loop)}")
        saved = self.breaks
        while True:
            self.breaks = []
            end = self.block(loop.body, head)
            new_head = self.join(head, end, loop) if end is not None else head
            if new_head == head:
                break
            head = new_head
        exits = [state, head, *([end] if end is not None else []), *self.breaks]
        self.breaks = saved
        result = exits[0]
        for each in exits[1:]:
            result = self.join(result, each, loop)
        return result

    def join(self, left: dict, right: dict, where) -> dict:
        joined = {}
        for name in left.keys() | right.keys():
            a, b = left.get(name), right.get(name)
            if a == b:
                joined[name] = a
                continue
            if not isinstance(a, tuple) or not isinstance(b, tuple) or len(a) != len(b):
                joined[name] = Opaque.of(f"merge:{id(where)}:{name}")
                continue
            dims = []
            for position, (x, y) in enumerate(zip(a, b)):
                if self.unify.canonical(x) == self.unify.canonical(y):
                    dims.append(x)
                else:  # a length of its own for this name at this merge
                    dims.append(Dim(f"merge:{id(where)}:{name}:{position}"))
            joined[name] = tuple(dims)
        return joined

    # ----- one operation -------------------------------------------------------------------
    def shape_of(self, statement, state):
        """The result's shape; a fresh Opaque shape when it cannot be worked out."""
        shape = self._shape_of(statement, state)
        return Opaque.of(f"value:{id(statement)}") if shape is None else shape

    def _shape_of(self, statement, state):
        value = statement.value
        operation = classify(value, self.resolve)
        if operation.kind == "constant":
            if isinstance(value, gast.Constant) and isinstance(value.value, (int, float)):
                return ()
            return None
        if operation.kind == "copy":
            return state.get(operation.args[0].id)
        if operation.kind == "subscript":
            return self.subscript(value, state)
        self.remember_size(statement, state)
        function = operation.function
        if any(function is f for f in _CREATORS) and operation.args:
            return self.created(operation.args[0])
        if (
            any(function is f for f in _LIKE)
            and operation.args
            and "shape" not in operation.keywords
        ):
            shape = self.operand(operation.args[0], state)
            return None if shape == "ignore" else shape
        if operation.kind == "user" and self.helper_shape is not None:
            return self.helper_shape(
                operation.function,
                operation.args,
                operation.keywords,
                lambda atom: self.operand(atom, state),
                lambda: self.new_dim("helper"),
            )
        if operation.kind != "primitive" or operation.rule is None:
            return None
        rule = operation.rule
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except RuleError:
            return None
        kind = rule.result_shape(bound) if rule.result_shape else None
        if kind == "scalar":
            return ()
        if kind == "elementwise":
            return self.broadcast([self.operand(node, state) for node in bound.values()])
        special = getattr(self, f"_{getattr(rule.primitive, '__name__', '')}", None)
        if special is not None and not isinstance(rule.primitive, tuple):
            return special(bound, state)
        if isinstance(rule.primitive, tuple):
            return self.method(rule.primitive, bound, state)
        return None

    def remember_size(self, statement, state) -> None:
        """``t = (3, 4)`` or ``t = x.shape``, for a later ``np.zeros(t)``."""
        name, value = statement.targets[0].id, statement.value
        if name not in self.once:
            return
        if isinstance(value, gast.Tuple) and all(_int_constant(e) is not None for e in value.elts):
            self.integers[name] = tuple(e.value for e in value.elts)
            self.sizes[name] = tuple(_length(e.value) for e in value.elts)
        elif isinstance(value, gast.Attribute) and value.attr == "shape":
            shape = self.operand(value.value, state)
            if isinstance(shape, tuple):
                self.sizes[name] = shape

    def constant(self, bound, parameter: str) -> tuple[bool, object]:
        """(True, value) when the argument bound to ``parameter`` is a constant, spelt out
        or held by a name assigned once (``axis=(0, 1)`` becomes ``t = (0, 1)``)."""
        if bound.is_constant(parameter):
            return True, bound.constant(parameter)
        node = bound.get(parameter)
        if isinstance(node, gast.Name) and node.id in self.integers:
            return True, self.integers[node.id]
        return False, None

    def created(self, size) -> Shape | None:
        """The shape of ``np.zeros(size)`` and friends."""
        if _int_constant(size):
            return (_length(size.value),)
        if isinstance(size, gast.Name):
            return self.sizes.get(size.id)
        return None

    def operand(self, node, state):
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float, bool)) else "ignore"
        if isinstance(node, gast.Name):
            return state.get(node.id)
        return None

    def broadcast(self, shapes) -> Shape | None:
        shapes = [s for s in shapes if s != "ignore"]
        if any(s is None for s in shapes):
            return None
        if any(isinstance(s, Opaque) for s in shapes):
            atoms: set = set()
            for shape in shapes:  # a known shape joins as an atom of its own
                atoms |= (
                    shape.atoms
                    if isinstance(shape, Opaque)
                    else _atoms_of(self.shapes._canonical(shape))
                )
            return Opaque(frozenset(atoms))
        width = max((len(s) for s in shapes), default=0)
        result = []
        for position in range(width):
            dims = [s[len(s) - width + position] for s in shapes if len(s) - width + position >= 0]
            result.append(self.broadcast_dims(dims))
        return tuple(result)

    def broadcast_dims(self, dims):
        stretched = [d for d in dims if d != ONE]
        if not stretched:
            return ONE
        first = self.unify.canonical(stretched[0])
        for other in stretched[1:]:
            other = self.unify.canonical(other)
            if other == first:
                continue
            if first.certain and other.certain:
                self.unify.union(first, other)  # NumPy raises unless they agree
                continue
            return self.new_dim("broadcast")  # one of them may be 1: either length
        return first

    # reductions, products, transposes --------------------------------------------------
    def reduced(self, bound, state) -> Shape | None:
        shape = self.operand(bound.get("a"), state)
        if shape is None or shape == "ignore":
            return None
        if isinstance(shape, Opaque):
            full = bound.is_none("axis") and bound.constant("keepdims", None) is False
            return () if full else None
        keepdims = bound.constant("keepdims", None)
        known, axis = self.constant(bound, "axis")
        if not bound.is_constant("keepdims") or not known:
            return None
        if axis is None:
            return (ONE,) * len(shape) if keepdims else ()
        axes = (
            {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
            if shape
            else set()
        )
        return tuple(
            ONE if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes
        )

    _sum = _mean = _amax = _amin = _max = _min = _prod = _var = _std = reduced

    def _matmul(self, bound, state):
        a = self.operand(bound.get("x1"), state)
        b = self.operand(bound.get("x2"), state)
        return self.product(a, b, batch=True)

    def _dot(self, bound, state):
        a = self.operand(bound.get("a"), state)
        b = self.operand(bound.get("b"), state)
        if not isinstance(a, tuple) or not isinstance(b, tuple):
            return None
        if not a or not b:
            return self.broadcast([a, b])
        if len(a) > 2 or len(b) > 2:
            return None
        return self.product(a, b, batch=False)

    def product(self, a, b, batch: bool):
        if not isinstance(a, tuple) or not isinstance(b, tuple) or not a or not b:
            return None
        if len(a) == 1 and len(b) == 1:
            self._same(a[0], b[0])
            return ()
        if len(b) == 1:
            self._same(a[-1], b[0])
            return a[:-1]
        if len(a) == 1:
            self._same(a[0], b[-2])
            return b[:-2] + b[-1:]
        self._same(a[-1], b[-2])
        if len(a) == 2 and len(b) == 2:
            return (a[0], b[1])
        if not batch:
            return None
        batch_dims = self.broadcast([a[:-2], b[:-2]])
        return None if batch_dims is None else batch_dims + (a[-2], b[-1])

    def _same(self, x, y):
        """The contracted dimension of a product: NumPy raises unless the lengths agree."""
        if x != ONE and y != ONE:
            self.unify.union(self.unify.canonical(x), self.unify.canonical(y))

    def _transpose(self, bound, state):
        shape = self.operand(bound.get("a"), state)
        if not isinstance(shape, tuple):
            return None
        if bound.is_none("axes"):
            return tuple(reversed(shape))
        _, axes = self.constant(bound, "axes")
        if isinstance(axes, tuple) and sorted(axes) == list(range(len(shape))):
            return tuple(shape[i] for i in axes)
        return None

    def method(self, key, bound, state):
        kind, name = key
        if kind == "attribute" and name == "T":
            shape = self.operand(bound.get("x"), state)
            return tuple(reversed(shape)) if isinstance(shape, tuple) else None
        if kind == "method" and name in ("sum", "mean", "max", "min", "prod", "var", "std"):
            return self.reduced(bound, state)
        if kind == "method" and name == "copy":
            return self.operand(bound.get("a"), state)
        return None

    # subscripts ----------------------------------------------------------------------
    def subscript(self, node: gast.Subscript, state):
        shape = state.get(node.value.id) if isinstance(node.value, gast.Name) else None
        if not isinstance(shape, tuple):
            return None
        index = node.slice
        parts = list(index.elts) if isinstance(index, gast.Tuple) else [index]
        if sum(1 for p in parts if _is_ellipsis(p)) > 1:
            return None
        consuming = [p for p in parts if not _is_ellipsis(p) and not _is_none(p)]
        if len(consuming) > len(shape):
            return None
        dims = list(shape)
        result: list = []
        for position, part in enumerate(parts):
            if _is_ellipsis(part):
                later = sum(1 for p in parts[position + 1 :] if p in consuming)
                take = len(dims) - later
                result.extend(dims[:take])
                dims = dims[take:]
            elif _is_none(part):
                result.append(ONE)
            else:
                dim = dims.pop(0)
                if isinstance(part, gast.Slice):
                    result.append(self.sliced(dim, part))
                elif isinstance(part, gast.Constant) and isinstance(part.value, int):
                    pass  # an integer index drops the dimension
                elif isinstance(part, gast.Name) and state.get(part.id) == ():
                    pass  # so does a number (a loop counter)
                else:
                    return None  # an array of indices or a mask: any length
        return tuple(result + dims)

    def sliced(self, dim, part: gast.Slice):
        step = part.step
        if step is not None and not (isinstance(step, gast.Constant) and step.value == 1):
            return self.new_dim("slice")
        lower, upper = part.lower, part.upper
        if dim == ONE:
            return self.new_dim("slice")
        dim = self.unify.canonical(dim)
        low = _int_constant(lower)
        high = _int_constant(upper)
        if lower is None and upper is None:
            return dim
        if upper is None and low is not None and low >= 0:
            return Dim(dim.symbol, dim.offset - low)  # x[k:] has n - k elements (n >= k)
        if lower is None and high is not None and high < 0:
            return Dim(dim.symbol, dim.offset + high)  # x[:-k] has n - k elements
        if low is not None and high is not None and low >= 0 and high < 0:
            return Dim(dim.symbol, dim.offset + high - low)
        return self.new_dim("slice")


def _atoms_of(shape: tuple) -> frozenset:
    return frozenset() if shape == () else frozenset({f"dims:{shape!r}"})


def _int_constant(node):
    if node is None:
        return None
    if (
        isinstance(node, gast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    ):
        return node.value
    return None


def _length(n: int):
    """A dimension of constant length ``n``."""
    return ONE if n == 1 else Dim(f"={n}", 0, True)


#: functions making a new array of a given shape, or of another array's shape
_CREATORS = (np.zeros, np.ones, np.empty, np.full)
_LIKE = (np.zeros_like, np.ones_like, np.empty_like, np.full_like)


def _is_ellipsis(node) -> bool:
    return isinstance(node, gast.Constant) and node.value is Ellipsis


def _is_none(node) -> bool:
    return isinstance(node, gast.Constant) and node.value is None


__all__ = ["Dim", "ONE", "Opaque", "Shapes", "analyze_shapes", "parameter_shape"]
