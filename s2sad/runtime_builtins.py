"""Adjoints of Python's builtins over sequences (``max(items)``, ``sorted(items)``): the
rules of s2sad.rules.operators call them, and generated code reaches them as it does
s2sad.runtime's helpers. Each returns the items' gradients as a list (as rows of an array
when the items came as one), and never changes its arguments.

>>> extreme_item_grad(1.0, [3.0, 5.0, 5.0], "max")  # ties share the gradient
[0.0, 0.5, 0.5]
>>> sorted_grad([10.0, 20.0, 30.0], [2.0, 1.0, 3.0], False)  # sorted: 1.0, 2.0, 3.0
[20.0, 10.0, 30.0]
"""

from __future__ import annotations

from .runtime import element, is_zero, items_grad

__all__ = ["extreme_item_grad", "sorted_grad", "values_grad", "pairs_grad"]


def extreme_item_grad(g, items, which: str):
    """The adjoint of ``items`` in ``max(items)`` (``which`` is "max") or ``min(items)``:
    ``g`` for the largest (smallest) item, shared equally where several are, as
    ``max(a, b)`` and ``np.max`` share it; 0.0 for the others."""
    if is_zero(g):
        return g
    values = list(items)
    best = max(values) if which == "max" else min(values)
    ties = [bool(value == best) for value in values]
    share = g / sum(ties)
    return items_grad([share if tie else 0.0 for tie in ties], items)


def sorted_grad(g, items, reverse: bool):
    """The adjoint of ``items`` in ``sorted(items, reverse=reverse)``: each item gets the
    gradient of the place the sort put it in (Python's sort is stable, also reversed, so
    equal items keep their order and each place is one item's)."""
    if is_zero(g):
        return g
    values = list(items)
    order = sorted(range(len(values)), key=values.__getitem__, reverse=reverse)
    grads = [0.0] * len(values)
    for place, index in enumerate(order):
        grads[index] = g[place]
    return items_grad(grads, items)


def values_grad(g, mapping):
    """The adjoint of ``mapping`` in ``mapping.values()``: the values' gradients, by key.

    >>> values_grad([1.0, 2.0], {"w": 0.5, "b": 0.1})
    {'w': 1.0, 'b': 2.0}
    """
    if is_zero(g):
        return g
    return dict(zip(mapping, g))


def pairs_grad(g, mapping):
    """The adjoint of ``mapping`` in ``mapping.items()``: each pair's value gradient, by
    key (keys carry none).

    >>> pairs_grad([(0.0, 1.0), 0.0], {"w": 0.5, "b": 0.1})
    {'w': 1.0, 'b': 0.0}
    """
    if is_zero(g):
        return g
    return {key: element(pair, 1) for key, pair in zip(mapping, g)}
