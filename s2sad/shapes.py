"""Symbolic shapes: dimensions, shapes of unknown rank, and the shapes of one function.

A shape is a tuple of dimensions, each ``Dim(symbol, offset)`` (the length ``symbol +
offset``) or the literal ``ONE``; ``None`` is an unknown shape, an :class:`Opaque` one of
unknown rank. :mod:`s2sad.broadcasting` works them out; :class:`Shapes` answers the
questions adjoints ask of them (is this operand the result's shape? which axes did NumPy
broadcast?).

>>> Dim("x.0") == Dim("x.0", 0, certain=True), Dim("x.0", -1) == Dim("x.0")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import gast


@dataclass(frozen=True, eq=False)
class Dim:
    """A dimension of length ``symbol + offset`` (``certain``: known not to be 1).

    Two dimensions are the same length when their symbol and offset agree."""

    symbol: str
    offset: int = 0
    certain: bool = False

    def __eq__(self, other) -> bool:
        return isinstance(other, Dim) and (self.symbol, self.offset) == (other.symbol, other.offset)

    def __hash__(self) -> int:
        return hash((self.symbol, self.offset))


ONE = 1  # a dimension of length 1


@dataclass(frozen=True)
class Opaque:
    """A shape of unknown rank: the broadcast of some *atoms* (a parameter's unknown
    shape, a result s2sad could not work out). ``x * a`` has the atoms of both; equal atom
    sets mean equal shapes (``np.tanh(z)`` has ``z``'s)."""

    atoms: frozenset

    @classmethod
    def of(cls, key: str) -> Opaque:
        return cls(frozenset({key}))


Shape = tuple  # of Dim | ONE; or an Opaque


class Shapes:
    """Shapes of every name before every assignment, and of each assignment's result."""

    def __init__(self) -> None:
        self._before: dict[int, dict[str, Shape | None]] = {}
        self._result: dict[int, Shape | None] = {}
        self._parameters: dict[str, Shape | None] = {}
        self.unify = _UnionFind()
        self.assumed_scalar = False  # see analyze_shapes(scalar=...)

    def before(self, statement) -> dict[str, Shape | None]:
        return self._before.get(id(statement), {})

    def result(self, statement) -> Shape | None:
        return self._canonical(self._result.get(id(statement)))

    def of_parameter(self, name: str) -> Shape | None:
        """The shape a parameter arrives with (``()`` for a Python number)."""
        return self._canonical(self._parameters.get(name))

    def of(self, statement, operand: gast.expr) -> Shape | None:
        """The shape of an operand (an atom) of ``statement``."""
        if isinstance(operand, gast.Constant):
            return () if isinstance(operand.value, (int, float)) else None
        if isinstance(operand, gast.Name):
            return self._canonical(self.before(statement).get(operand.id))
        return None

    def ndim(self, statement, operand) -> int | None:
        shape = self.of(statement, operand)
        return len(shape) if isinstance(shape, tuple) else None

    def same(self, statement, operand: gast.expr) -> bool:
        """Whether ``operand`` of ``statement`` provably has the shape of its result."""
        result, shape = self.result(statement), self.of(statement, operand)
        return result is not None and shape == result

    def reduction(self, statement, operand) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """How to sum an adjoint of the result's shape back to ``operand``'s shape:
        (leading axes to sum away, axes of length 1 to sum with keepdims), or None when
        the shapes are not known well enough to say. ((), ()) sums everything."""
        result, shape = self.result(statement), self.of(statement, operand)
        if shape == () and result is not None:
            return (), ()
        if (
            not isinstance(result, tuple)
            or not isinstance(shape, tuple)
            or len(shape) > len(result)
        ):
            return None
        lead = len(result) - len(shape)
        kept = []
        for axis, (mine, theirs) in enumerate(zip(shape, result[lead:])):
            if mine == theirs:
                continue
            if mine == ONE:
                kept.append(axis)
                continue
            return None
        return tuple(range(lead)), tuple(kept)

    def _canonical(self, shape):
        if not isinstance(shape, tuple):
            return shape
        return tuple(self.unify.canonical(d) for d in shape)


class _UnionFind:
    """Dimensions NumPy forced to be equal."""

    def __init__(self):
        self.parent: dict[tuple, tuple] = {}

    def find(self, key: tuple) -> tuple:
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def union(self, a: Dim, b: Dim) -> None:
        ka, kb = self.find((a.symbol, a.offset)), self.find((b.symbol, b.offset))
        if ka != kb:
            self.parent[max(ka, kb)] = min(ka, kb)

    def canonical(self, dim):
        if dim == ONE:
            return ONE
        symbol, offset = self.find((dim.symbol, dim.offset))
        return Dim(symbol, offset, dim.certain)


def parameter_shape(name: str, kind) -> Shape:
    """The shape of a parameter of ``kind``: "number" or "scalar" (a NumPy scalar),
    ("array", ndim, ones) or None. ``ones[i]`` is True for a dimension of length 1, False
    for one that is not, None when that is not known."""
    if kind in ("number", "scalar"):
        return ()
    if isinstance(kind, tuple) and kind[0] == "array":
        _, ndim, ones = kind
        return tuple(
            ONE if one else Dim(f"{name}.{i}", 0, one is False) for i, one in enumerate(ones)
        )
    return Opaque.of(f"parameter:{name}")
