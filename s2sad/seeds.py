"""The seed of a full reduction, folded where the shape it carries is implied.

The adjoint of ``s = np.sum(t)`` is ``dt = np.broadcast_to(ds, np.shape(t))``; when
``ds`` is the constant seed ``1.0`` every element of ``dt`` is 1.0, and a product that
already has ``t``'s shape without it does not need it: ``dt * 2 * u`` is ``1.0 * 2 * u``
when ``u`` has ``t``'s shape. Once no product needs ``dt``, dead-code elimination drops
it, and ``t`` itself when nothing else reads it (in Rosenbrock, the whole summand).

>>> import gast, numpy as np
>>> from .shapes import Dim
>>> tree = gast.parse('''
... dt = np.broadcast_to(1.0, np.shape(t))
... du = dt * 2 * u
... dv = dt + v
... ''')
>>> n = (Dim("x.0"),)
>>> resolve = {"np.broadcast_to": np.broadcast_to, "np.shape": np.shape}
>>> lookup = lambda node: resolve.get(to_source(node))
>>> changed = fold_seeds(tree.body, {"t": n, "u": n, "v": n}, lookup)
>>> print(to_source(tree))
dt = np.broadcast_to(1.0, np.shape(t))
du = 1.0 * 2 * u
dv = dt + v
"""

from __future__ import annotations

from typing import Callable

import gast
import numpy as np

from .syntax import children, const, to_source, walk  # noqa: F401 - to_source is used by the doctest

_PRODUCTS = (gast.Mult, gast.Div)
_ELEMENTWISE = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)


def fold_seeds(body: list, shapes: dict[str, tuple], resolve: Callable) -> list:
    """Replace constant broadcast seeds in products whose shape is implied; returns the
    ids of the statements changed. ``shapes`` are the known shapes of names assigned
    once; ``resolve`` maps a Name or Attribute of the generated code to its object.
    Returns the statements changed."""
    nodes = list(walk(gast.Module(body=body, type_ignores=[])))
    if not any(_seed(node, resolve) for node in nodes if isinstance(node, gast.Call)):
        return []
    stores: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            stores[node.id] = stores.get(node.id, 0) + 1
    seeds = {}
    for node in nodes:
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name):
            found = _seed(node.value, resolve)
            name = node.targets[0].id
            if found is not None and stores[name] == 1 and found[1] in shapes:
                seeds[name] = (found[0], shapes[found[1]])
    known = {**shapes, **{name: shape for name, (_, shape) in seeds.items()}}
    folder = _Folder(seeds, known, resolve)
    return [s for s in _statements(body) if folder.fold(s)]


def _statements(body):
    for statement in body:
        yield statement
        for attribute in ("body", "orelse"):
            yield from _statements(getattr(statement, attribute, []) or [])


def _seed(value, resolve):
    """(constant, name) for ``np.broadcast_to(constant, np.shape(name))``."""
    if not (
        isinstance(value, gast.Call)
        and len(value.args) == 2
        and getattr(value.func, "attr", None) == "broadcast_to"
        and not value.keywords
    ):
        return None
    constant, shape = value.args
    if (
        resolve(value.func) is np.broadcast_to
        and isinstance(constant, gast.Constant)
        and isinstance(constant.value, float)
        and isinstance(shape, gast.Call)
        and resolve(shape.func) is np.shape
        and len(shape.args) == 1
        and isinstance(shape.args[0], gast.Name)
    ):
        return constant.value, shape.args[0].id
    return None


class _Folder:
    def __init__(self, seeds: dict, shapes: dict, resolve: Callable):
        self.seeds = seeds
        self.shapes = shapes
        self.resolve = resolve
        self.changed = False

    def seed(self, node):
        """(constant, shape) when ``node`` is a seed, by name or spelt out."""
        if isinstance(node, gast.Name):
            return self.seeds.get(node.id)
        found = _seed(node, self.resolve)
        if found is not None and found[1] in self.shapes:
            return found[0], self.shapes[found[1]]
        return None

    def fold(self, statement) -> bool:
        """Fold the expressions of ``statement``; whether any changed."""
        self.changed = False
        for field in ("value", "test", "iter"):
            child = getattr(statement, field, None)
            if isinstance(child, gast.expr):
                self.visit(child)
        return self.changed

    def visit(self, node) -> None:
        if isinstance(node, gast.BinOp) and isinstance(node.op, _PRODUCTS):
            slots = []
            self.factors(node, slots)
            for holder, field in slots:
                factor = getattr(holder, field)
                seed = self.seed(factor)
                if seed is not None:
                    value, shape = seed
                    others = [getattr(h, f) for h, f in slots if (h, f) != (holder, field)]
                    if self.broadcast([self.shape(o) for o in others]) == shape:
                        setattr(holder, field, const(value))
                        self.changed = True
                else:
                    self.visit(factor)
            return
        for child in children(node):
            self.visit(child)

    def factors(self, node, slots: list) -> None:
        """The slots (node, field) of the factors of a chain of * and /."""
        for field in ("left", "right"):
            child = getattr(node, field)
            if isinstance(child, gast.BinOp) and isinstance(child.op, _PRODUCTS):
                self.factors(child, slots)
            else:
                slots.append((node, field))

    def shape(self, node):
        if isinstance(node, gast.Constant):
            return () if isinstance(node.value, (int, float)) else None
        if isinstance(node, gast.Name):
            return self.shapes.get(node.id)
        if isinstance(node, gast.UnaryOp):
            return self.shape(node.operand)
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ELEMENTWISE):
            return self.broadcast([self.shape(node.left), self.shape(node.right)])
        return None

    @staticmethod
    def broadcast(shapes: list):
        """The common shape when each is ``()`` or one and the same shape; else None."""
        if any(s is None for s in shapes):
            return None
        full = {s for s in shapes if s != ()}
        if not full:
            return ()
        return full.pop() if len(full) == 1 else None
