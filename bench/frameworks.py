"""What the benchmark runs for each workload: the primal, the hand adjoint, s2sad, and the
autograd and JAX gradients of the same user code (when those libraries are installed).

Every implementation turns a :class:`Case` into a function of (possibly converted) inputs;
the harness then times and checks them all the same way.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import s2sad


@dataclass
class Case:
    """One workload: the user's function, its hand adjoint, and what to differentiate.

    ``wrt`` is given as ``s2sad.grad`` takes it (a parameter name, or a tuple of names for
    a tuple of gradients); ``positions`` is the same for autograd's ``argnum`` and JAX's
    ``argnums``.
    """

    name: str
    function: Callable
    hand: Callable
    wrt: str | int | tuple
    args: tuple = field(repr=False)

    @property
    def positions(self) -> int | tuple[int, ...]:
        parameters = list(inspect.signature(self.function).parameters)

        def position(item):
            return item if isinstance(item, int) else parameters.index(item)

        if isinstance(self.wrt, tuple):
            return tuple(map(position, self.wrt))
        return position(self.wrt)


class Implementation:
    """A way of computing a workload: ``prepare`` converts the inputs once (untimed), and
    ``build(case)`` returns the function to call on them (building it is untimed too)."""

    name = ""

    def prepare(self, args: tuple) -> tuple:
        return args

    def build(self, case: Case) -> Callable:
        raise NotImplementedError


class Primal(Implementation):
    name = "primal"

    def build(self, case: Case) -> Callable:
        return case.function


class Hand(Implementation):
    name = "hand"

    def build(self, case: Case) -> Callable:
        return case.hand


class S2SAD(Implementation):
    """``s2sad.grad(f, wrt=...)`` built once and called many times, as a user would."""

    name = "s2sad"

    def build(self, case: Case) -> Callable:
        return s2sad.grad(case.function, wrt=case.wrt)


def rebind(function: Callable, **names) -> Callable:
    """``function`` defined again from its own source, with ``names`` (``np=...``) in place
    of its globals: the same user code running on another library's NumPy."""
    source = textwrap.dedent(inspect.getsource(function))
    tree = ast.parse(source)
    ast.increment_lineno(tree, function.__code__.co_firstlineno - 1)
    namespace = {**function.__globals__, **names}
    exec(compile(tree, function.__code__.co_filename, "exec"), namespace)  # noqa: S102
    return namespace[function.__name__]


class MathFrom:
    """A stand-in for the ``math`` module taking its functions from an array library, as
    ``math.sin`` cannot take autograd's boxes or JAX's tracers."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name: str):
        return getattr(self._module, name)


class Autograd(Implementation):
    """``autograd.grad`` of the user code rebound to ``autograd.numpy``."""

    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy

        self._grad, self._numpy = autograd.grad, autograd.numpy

    def build(self, case: Case) -> Callable:
        function = rebind(case.function, np=self._numpy, math=MathFrom(self._numpy))
        return self._grad(function, case.positions)


class Jax(Implementation):
    """``jax.grad`` in eager mode (no ``jit``), float64, inputs converted to JAX arrays once."""

    name = "jax"

    def __init__(self):
        import jax
        import jax.numpy

        jax.config.update("jax_enable_x64", True)
        self._grad, self._numpy = jax.grad, jax.numpy

    def prepare(self, args: tuple) -> tuple:
        return tuple(a if isinstance(a, float) else self._numpy.asarray(a) for a in args)

    def build(self, case: Case) -> Callable:
        function = rebind(case.function, np=self._numpy, math=MathFrom(self._numpy))
        return self._grad(function, case.positions)


def available(factories: list[type[Implementation]]) -> tuple[list[Implementation], dict]:
    """The implementations whose libraries import, and why the others did not."""
    found, missing = [], {}
    for factory in factories:
        try:
            found.append(factory())
        except ImportError as error:
            missing[factory.name] = f"not installed ({error})"
    return found, missing
