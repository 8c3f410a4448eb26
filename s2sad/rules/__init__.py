"""Derivative rules: one small rule per primitive, grouped by where the primitive lives.

Add a rule with the helpers of :mod:`s2sad.rules.shapes` (``unary``, ``binary``, ``defvjp``,
``nondifferentiable``, ``method``, ``attribute``); nothing in the transformer changes.
"""

from . import arrays as _arrays  # noqa: E402,F401
from . import linalg as _linalg  # noqa: E402,F401
from . import math as _math  # noqa: E402,F401
from . import numpy as _numpy  # noqa: E402,F401

# Importing the tables registers their rules.
from . import operators as _operators  # noqa: E402,F401
from . import reductions as _reductions  # noqa: E402,F401
from .registry import REGISTRY, BoundArguments, Rule, RuleError, lookup
from .shapes import attribute, binary, defvjp, method, nondifferentiable, primitive, unary

REGISTRY.seal()  # rules registered from here on are the user's (s2sad.disk_cache skips them)

__all__ = [
    "REGISTRY",
    "BoundArguments",
    "Rule",
    "RuleError",
    "lookup",
    "attribute",
    "binary",
    "defvjp",
    "method",
    "nondifferentiable",
    "primitive",
    "unary",
]
