"""Adjoints of NumPy functions that take more than a one-line template: the rules of
s2sad.rules call them, and generated code reaches them as it does s2sad.runtime's helpers.

Each takes the adjoint ``g`` of the function's result and the function's arguments (and its
result, where that saves work), never changes them, and returns a new array:

>>> import numpy as np
>>> clip_grad(1.0, np.array([-1.0, 0.0, 0.5]), 0.0, 1.0, "a")  # a tie splits g
array([0. , 0.5, 1. ])
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "clip_grad",
]


# ----- elementwise and reductions -------------------------------------------------------------
def clip_grad(g, a, a_min, a_max, wrt):
    """The adjoint of ``wrt`` ("a", "low" or "high") in ``np.clip(a, low, high)``, before it
    is summed back over broadcast axes. ``np.clip`` is ``np.minimum(np.maximum(a, low),
    high)`` and is differentiated as that: where ``a`` equals a bound, the two share ``g``
    equally, as ties do in ``np.maximum``/``np.minimum``. A bound of None is no bound."""
    low = a if a_min is None else np.maximum(a, a_min)
    if wrt == "high":
        return g * np.where(low == a_max, 0.5, a_max < low)
    upper = 1.0 if a_max is None else np.where(low == a_max, 0.5, low < a_max)
    if wrt == "low":
        return g * upper * np.where(a == a_min, 0.5, a_min > a)
    lower = 1.0 if a_min is None else np.where(a == a_min, 0.5, a > a_min)
    return g * upper * lower
