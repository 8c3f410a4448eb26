"""The s2sad exception hierarchy; every error names the user's file, line and construct.

>>> err = UnsupportedSyntaxError("a `with` statement", Location("model.py", 12))
>>> str(err)
'model.py:12: s2sad does not support a `with` statement'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in the user's source: file name and 1-based line number."""

    filename: str
    line: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}"


class S2SADError(Exception):
    """Base class of every error s2sad raises on purpose.

    The message starts with ``file.py:LINE:`` when the error is about a place in the
    user's code; ``location`` holds that place (or None).
    """

    def __init__(self, message: str, location: Location | None = None):
        self.location = location
        self.detail = message
        super().__init__(f"{location}: {message}" if location else message)


class UnsupportedSyntaxError(S2SADError):
    """A construct the transformer does not handle (``with``, ``yield``, ...)."""

    def __init__(self, construct: str, location: Location | None = None, hint: str = ""):
        self.construct = construct
        message = f"s2sad does not support {construct}"
        super().__init__(f"{message}; {hint}" if hint else message, location)


class NonDifferentiableError(S2SADError):
    """A differentiated value flows through a call that has no rule and no Python source."""

    def __init__(self, name: str, location: Location | None = None, why: str = ""):
        self.name = name
        reason = why or "it has no derivative rule and no Python source s2sad could read"
        super().__init__(
            f"cannot differentiate through {name}: {reason}. Register a rule, for example "
            f's2sad.defvjp({name}, "x, /", x="g * <derivative of {name} at x>"), or keep '
            f"{name}'s arguments out of the differentiated computation",
            location,
        )


class ComplexValueError(S2SADError, TypeError):
    """A complex value took part in a gradient: s2sad's rules are for real numbers."""

    def __init__(self) -> None:
        super().__init__(
            "a complex value took part in computing a real argument's gradient; s2sad "
            "differentiates real functions of real numbers, and its rules would give a "
            "wrong gradient (pass real and imaginary parts as separate real values)"
        )


class SourceUnavailableError(S2SADError):
    """The Python source of a function cannot be read (REPL, ``exec``, builtins, C code)."""


class NonScalarOutputError(S2SADError):
    """``grad`` was asked for a function whose output is not a scalar."""
