"""s2sad: exact gradients of ordinary Python and NumPy code, by source transformation.

>>> import numpy as np, s2sad
>>> s2sad.__all__[:4]
['grad', 'value_and_grad', 'vjp', 'source']
"""

from . import rules
from .api import InvalidArgumentError, grad, source, value_and_grad, vjp
from .disk_cache import cache_directory
from .errors import (
    ComplexValueError,
    NonDifferentiableError,
    NonScalarOutputError,
    S2SADError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
)
from .rules import defvjp, primitive
from .testing import check_grad

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "source",
    "check_grad",
    "cache_directory",
    "defvjp",
    "primitive",
    "rules",
    "S2SADError",
    "UnsupportedSyntaxError",
    "NonDifferentiableError",
    "SourceUnavailableError",
    "NonScalarOutputError",
    "InvalidArgumentError",
    "ComplexValueError",
]
