"""Which values provably have the same shape, so an adjoint needs no ``unbroadcast``.

A shape is represented symbolically as the set of *shape atoms* NumPy broadcast together
to make it: a parameter of unknown shape is one atom, a Python number is the empty set,
``x * a`` has the union of ``x``'s and ``a``'s atoms, a matrix product is a new atom.
Equal sets mean equal shapes; different sets mean "maybe different", and the adjoint keeps
its ``unbroadcast``. Where control flow merges two different shapes of one name, the
name gets an atom of its own for that point, so a loop reaches a fixed point.

>>> import gast
>>> body = gast.parse("y = x * 2.0\\nz = y + a").body
>>> from .primitives import classify
>>> shapes = analyze_shapes(body, {"x": None, "a": "scalar"}, lambda n: UNRESOLVED)
>>> shapes.result(body[1]) == shapes.before(body[1])["y"]
True
"""

from __future__ import annotations

import gast

from .parse import UNRESOLVED
from .primitives import classify

Shape = frozenset  # of atom strings; empty: a Python number (or a 0-d value)


class Shapes:
    """Symbolic shapes of every name before every assignment, and of each assignment's result."""

    def __init__(self) -> None:
        self._before: dict[int, dict[str, Shape]] = {}
        self._result: dict[int, Shape] = {}
        self._parameters: dict[str, Shape] = {}

    def of_parameter(self, name: str) -> Shape | None:
        """The shape a parameter arrives with (empty for a Python number)."""
        return self._parameters.get(name)

    def before(self, statement) -> dict[str, Shape]:
        return self._before.get(id(statement), {})

    def result(self, statement) -> Shape | None:
        return self._result.get(id(statement))

    def same(self, statement, operand: gast.expr) -> bool:
        """Whether ``operand`` of ``statement`` provably has the shape of its result."""
        result = self.result(statement)
        if result is None:
            return False
        if isinstance(operand, gast.Constant):
            return not result
        shape = self.before(statement).get(operand.id) if isinstance(operand, gast.Name) else None
        return shape is not None and shape == result


def analyze_shapes(body, kinds: dict[str, str | None], resolve) -> Shapes:
    """Shapes for a core-language ``body`` whose parameters have ``kinds``
    ("scalar" for Python numbers, anything else for an unknown shape)."""
    shapes = Shapes()
    state = {
        name: (Shape() if kind == "scalar" else Shape({f"param:{name}"}))
        for name, kind in kinds.items()
    }
    shapes._parameters = dict(state)
    _Analysis(shapes, resolve).block(body, state)
    return shapes


class _Analysis:
    def __init__(self, shapes: Shapes, resolve):
        self.shapes = shapes
        self.resolve = resolve
        self.breaks: list[dict] = []

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
            return _join(body, orelse, statement)
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, state)
        return state

    def loop(self, loop, state):
        head = dict(state)
        if isinstance(loop, gast.For):
            counting = (
                isinstance(loop.iter, gast.Call) and getattr(loop.iter.func, "id", None) == "range"
            )
            head[loop.target.id] = Shape() if counting else Shape({f"element:{id(loop)}"})
        saved = self.breaks
        while True:
            self.breaks = []
            end = self.block(loop.body, head)
            new_head = _join(head, end, loop) if end is not None else head
            if new_head == head:
                break
            head = new_head
        exits = [state, head, *([end] if end is not None else []), *self.breaks]
        self.breaks = saved
        result = exits[0]
        for each in exits[1:]:
            result = _join(result, each, loop)
        return result

    def shape_of(self, statement, state) -> Shape:
        operation = classify(statement.value, self.resolve)
        key = f"value:{id(statement)}"
        if operation.kind == "constant":
            value = statement.value
            return Shape() if isinstance(value, gast.Constant) else Shape({key})
        if operation.kind == "copy":
            return state.get(operation.args[0].id, Shape({key}))
        if operation.kind != "primitive" or operation.rule is None:
            return Shape({key})
        rule = operation.rule
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except Exception:
            return Shape({key})
        kind = rule.result_shape(bound) if rule.result_shape else None
        if kind == "scalar":
            return Shape()
        if kind == "elementwise":
            atoms: set[str] = set()
            for node in bound.values():
                if isinstance(node, gast.Constant):
                    continue
                if not isinstance(node, gast.Name) or node.id not in state:
                    return Shape({key})
                atoms |= state[node.id]
            return Shape(atoms)
        return Shape({key})


def _join(left: dict, right: dict, where) -> dict:
    joined = {}
    for name in left.keys() | right.keys():
        a, b = left.get(name), right.get(name)
        if a is None or b is None:
            joined[name] = a if b is None else b
        elif a == b:
            joined[name] = a
        else:
            joined[name] = Shape({f"merge:{id(where)}:{name}"})
    return joined


__all__ = ["Shapes", "analyze_shapes", "UNRESOLVED"]
