"""What a user's helper does with the memory it is given, for the caller's aliasing check.

The helper is run through the same points-to analysis as the caller (s2sad.aliasing),
refusing nothing, to learn which of its parameters its result may be (or view, or hold),
which it writes into, and which global arrays or defaults it hands back:

>>> import numpy as np
>>> from s2sad.parse import function_from_source
>>> helper = function_from_source("def pick(a, b):\\n    a[0] = 1.0\\n    return b.T\\n")
>>> sorted(returned_arguments(helper))
[('argument', 'b'), ('written', 'a')]
"""

from __future__ import annotations

import inspect

import gast

from . import cache
from .aliasing import _OUTSIDE, Objects, _base, _bases, _Check, _is_argument
from .errors import S2SADError
from .normalize import normalize
from .parse import parse_function
from .shapes import Shapes


class _Summary(_Check):
    """The same analysis run on a helper to learn what its result may share, refusing
    nothing (the helper's own derivative is checked when it is built)."""

    def __init__(self, function):
        super().__init__(function, Shapes(), {})  # no shapes: every value may be an array
        self.results = Objects()
        self.written: set[str] = set()  # parameters whose arrays it writes into

    def copied(self, owner: Objects) -> Objects:
        """A parameter's ``.copy()`` is shallow if the caller passes a list or a dict."""
        return Objects(("copied", o[1]) for o in _bases(owner) if _is_argument(o))

    def write(self, statement, name, state, in_place=False) -> None:
        for o in _bases(state.get(name, ())):
            if isinstance(o, tuple) and o[0] == "argument":
                self.written.add(o[1])

    def extend(self, statement, name, state) -> None:
        self.write(statement, name, state)  # l += [v] on a parameter grows the caller's list

    def call_writes(self, statement, call, state) -> None:
        for target, _ in self.writes_of(call):  # y.sort() on a parameter writes into it
            if isinstance(target, gast.Name):
                self.write(statement, target.id, state)

    def statement(self, statement, state: dict) -> dict | None:
        if isinstance(statement, gast.Return) and statement.value is not None:
            self.results |= self.held(statement.value, state)
        return super().statement(statement, state)


def returned_arguments(function) -> frozenset | None:
    """What the user's ``function`` does with memory from outside: ("argument", name) for
    a parameter its result may be (or be a view of, or a tuple holding), ("global", name)
    or ("returned", callable) for a global array or what an opaque call handed back, and
    ("written", name) for a parameter whose array it writes into. None when unknown (a
    recursive function asking about itself, source s2sad cannot read)."""
    if getattr(function, "__code__", None) is None:
        return None

    def find() -> frozenset | None:
        try:
            summary = _Summary(normalize(parse_function(function)))
            summary.run()
        except S2SADError:
            return None
        returned = frozenset(
            o for o in map(_base, summary.results) if isinstance(o, tuple) and o[0] in _OUTSIDE
        )
        return returned | {("written", name) for name in summary.written}

    # keyed like a derivative: two closures of one def may call different functions
    return cache.lookup_unless_building(cache.key_for(function, "returns its arguments"), find)


def defaults_returned(function, shared: frozenset, passed) -> Objects:
    """("default", ...) for each parameter ``function`` may return that the call left to
    a default other than a number, string or None (an array kept between calls)."""
    defaults = {}
    for parameter in inspect.signature(function).parameters.values():
        default = parameter.default
        if not isinstance(default, (int, float, complex, str, bytes, type(None))):
            defaults[parameter.name] = default
    return Objects(
        ("default", f"the default of {function.__name__}()'s parameter {name}")
        for name in defaults
        if name not in passed and ("argument", name) in shared
    )
