"""Check s2sad's gradients against central finite differences; usable from pytest.

>>> import numpy as np
>>> def f(x, a):
...     return np.sum(np.sin(x) * a)
>>> check_grad(f, np.array([0.1, 0.2]), 3.0, wrt=(0, 1)) < 1e-6   # doctest: +SKIP
True
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterator

import numpy as np

from .api import grad as s2sad_grad

_STEP = np.finfo(float).eps ** (1.0 / 3.0)


def check_grad(
    f: Callable,
    *args: Any,
    wrt=0,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    gradient: Callable | None = None,
) -> float:
    """Compare ``s2sad.grad(f, wrt)(*args)`` with central finite differences.

    Each element of each ``wrt`` argument is perturbed by ``h = eps**(1/3) * max(1, |x|)``.
    An element fails when ``|s2sad - fd| > max(rtol * |fd|, atol)``; the AssertionError
    names the argument, the element's index, both values and the relative error.
    Returns the largest relative error ``|s2sad - fd| / max(|fd|, atol / rtol)``.
    ``gradient`` replaces s2sad's gradient function (to check a hand-written one).
    """
    positions, names, as_tuple = _wrt_positions(f, wrt, len(args))
    gradient = gradient or s2sad_grad(f, wrt)
    computed = gradient(*args)
    if not as_tuple:
        computed = (computed,)
    worst = 0.0
    for position, name, analytic in zip(positions, names, computed):
        _check_structure(name, args[position], analytic)
        for path, x_leaf in _leaves(args[position]):
            g_leaf = _get(analytic, path)
            for index in np.ndindex(np.shape(x_leaf)):
                numeric = _central_difference(f, args, position, path, index)
                value = float(np.asarray(g_leaf)[index]) if np.ndim(g_leaf) else float(g_leaf)
                error = abs(value - numeric) / max(abs(numeric), atol / rtol)
                worst = max(worst, error)
                if not error <= rtol:  # a NaN on either side fails too
                    where = name + "".join(f"[{p!r}]" for p in path)
                    if index:
                        where += "[" + ", ".join(str(i) for i in index) + "]"
                    raise AssertionError(
                        f"check_grad({getattr(f, '__name__', 'f')}): gradient with respect to "
                        f"{where} disagrees: s2sad gives {value!r}, central differences give "
                        f"{numeric!r} (relative error {error:.3g} > rtol={rtol:g}, atol={atol:g})"
                    )
    return worst


def _wrt_positions(f: Callable, wrt, count: int) -> tuple[list[int], list[str], bool]:
    as_tuple = isinstance(wrt, (tuple, list))
    requested = list(wrt) if as_tuple else [wrt]
    params = [
        p.name
        for p in inspect.signature(f).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    positions, names = [], []
    for item in requested:
        position = params.index(item) if isinstance(item, str) else item % max(count, 1)
        if position >= count:
            raise ValueError(f"check_grad: wrt={item!r} but only {count} argument(s) were given")
        positions.append(position)
        names.append(params[position] if position < len(params) else f"args[{position}]")
    return positions, names, as_tuple


def _central_difference(f, args, position, path, index) -> float:
    leaf = _get(args[position], path)
    base = np.array(leaf, dtype=float)
    x = float(base[index]) if base.ndim else float(base)
    h = _STEP * max(1.0, abs(x))
    values = []
    for shifted in (x + h, x - h):
        perturbed = base.copy()
        perturbed[index] = shifted
        new_leaf = perturbed if isinstance(leaf, np.ndarray) else float(perturbed)
        new_args = list(args)
        new_args[position] = _replace(args[position], path, new_leaf)
        values.append(float(np.asarray(f(*new_args))))
    return float((values[0] - values[1]) / ((x + h) - (x - h)))


def _leaves(value, path=()) -> Iterator[tuple[tuple, Any]]:
    """(path, float-or-array) for every differentiable leaf of nested tuples/lists/dicts."""
    if isinstance(value, dict):
        for key in value:
            yield from _leaves(value[key], (*path, key))
    elif isinstance(value, (tuple, list)):
        for key, item in enumerate(value):
            yield from _leaves(item, (*path, key))
    else:
        yield path, value


def _get(value, path):
    for key in path:
        value = value[key]
    return value


def _replace(value, path, leaf):
    if not path:
        return leaf
    key, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, key: _replace(value[key], rest, leaf)}
    items = list(value)
    items[key] = _replace(items[key], rest, leaf)
    return (
        type(value)(items)
        if isinstance(value, tuple) and not hasattr(value, "_fields")
        else (type(value)(*items) if isinstance(value, tuple) else items)
    )


def _check_structure(name: str, x, g) -> None:
    if isinstance(x, np.ndarray):
        if not isinstance(g, np.ndarray) or g.shape != x.shape:
            raise AssertionError(
                f"check_grad: the gradient with respect to {name} should be an array of shape "
                f"{x.shape}, got {type(g).__name__} {np.shape(g)}"
            )
    elif isinstance(x, (float, int)) and not isinstance(x, bool):
        if not isinstance(g, float):
            raise AssertionError(
                f"check_grad: the gradient with respect to {name} should be a float, "
                f"got {type(g).__name__}"
            )
