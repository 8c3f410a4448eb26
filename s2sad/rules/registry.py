"""The rule registry: what a primitive's derivative is, as templates the transformer instantiates.

A rule says, for each differentiable parameter of a primitive, the expression of that
parameter's adjoint contribution, written in Python over ``g`` (the adjoint of the
primitive's result), ``ans`` (its value), the parameters, ``np``, ``math`` and the helpers of
``s2sad.runtime`` and of the modules beside it listed in ``RUNTIME_MODULES``:

>>> import math
>>> rule = Rule.define(math.sin, "x, /", {"x": "g * math.cos(x)"})
>>> rule.parameters, sorted(rule.reads("x", rule.bind([load("t")], {})))
(('x',), ['g', 'x'])

Rules are checked when they are registered (unknown names in a template, parameters the
primitive does not have), not when a user's function first hits them.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import gast
import numpy as np

from .. import (
    runtime,
    runtime_arrays,
    runtime_builtins,
    runtime_linalg,
    runtime_numpy,
    runtime_products,
)
from ..syntax import const, load, names_read, parse_expr, substitute

#: The modules whose helpers (their ``__all__``) templates and generated code may call.
RUNTIME_MODULES = (
    runtime,
    runtime_builtins,
    runtime_numpy,
    runtime_products,
    runtime_linalg,
    runtime_arrays,
)
#: Names a template may use besides its parameters, ``g`` and ``ans``.
TEMPLATE_GLOBALS: dict[str, Any] = {
    "np": np,
    "math": math,
    **{
        name: getattr(builtins, name)
        for name in (
            "float",
            "int",
            "len",
            "list",
            "tuple",
            "range",
            "slice",
            "min",
            "max",
            "abs",
            "sum",
            "isinstance",
            "reversed",
        )
    },
    **{name: getattr(module, name) for module in RUNTIME_MODULES for name in module.__all__},
}
_SPECIAL = ("g", "ans")


class RuleError(ValueError):
    """A rule that cannot be registered, or a call that does not fit its rule's signature."""


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: inspect._ParameterKind
    default: Any = inspect.Parameter.empty

    @property
    def has_default(self) -> bool:
        return self.default is not inspect.Parameter.empty


class BoundArguments(dict):
    """Parameter name → the call's atom (or a Tuple of atoms for ``*args``).

    Template functions use the queries to choose a template from the call's constants.
    """

    def constant(self, name: str, default: Any = None) -> Any:
        node = self.get(name)
        if isinstance(node, gast.Constant):
            return node.value
        return default

    def is_constant(self, name: str) -> bool:
        return isinstance(self.get(name), gast.Constant)

    def is_none(self, name: str) -> bool:
        return self.is_constant(name) and self.constant(name) is None

    def at(self, position: int) -> BoundArguments:
        """These arguments, for the one at ``position`` of those ``*args`` collects: its
        template reads the position as ``position``."""
        bound = BoundArguments(self, position=const(position))
        bound.ndims = getattr(self, "ndims", {})
        return bound

    def ndim(self, name: str) -> int | None:
        """The number of dimensions of the argument bound to ``name``, when known (the
        derivative is being specialised for arrays of known rank)."""
        return getattr(self, "ndims", {}).get(name)


Template = str | Callable[[BoundArguments], str]


@dataclass
class Rule:
    """How to differentiate one primitive (a function, ufunc, operator, method or attribute).

    ``derivatives`` maps a parameter to its template (a string, or a function of the bound
    arguments returning one). ``unbroadcast`` names the parameters whose contribution is
    summed back to the parameter's shape when NumPy broadcast it. A rule without
    derivatives is non-differentiable: its result never carries a gradient.
    """

    primitive: Any
    display_name: str
    signature: tuple[Parameter, ...]
    derivatives: dict[str, Template] = field(default_factory=dict)
    unbroadcast: frozenset[str] = frozenset()
    result_shape: Callable[[BoundArguments], str | None] | None = None
    containers: frozenset[str] = frozenset()
    _parsed: dict[str, gast.expr] = field(default_factory=dict, repr=False)
    #: templates made by a function of the call's arguments, parsed once per text
    _made: dict[tuple[str, str], gast.expr] = field(default_factory=dict, repr=False)
    #: the names each template reads, by id (templates are kept in _parsed and _made)
    _reads: dict[int, frozenset[str]] = field(default_factory=dict, repr=False)

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.signature)

    @property
    def differentiable(self) -> bool:
        return bool(self.derivatives)

    @classmethod
    def define(
        cls,
        primitive: Any,
        signature: str | None,
        derivatives: Mapping[str, Template],
        unbroadcast: frozenset[str] = frozenset(),
        display_name: str | None = None,
        shape: str | Callable[[BoundArguments], str | None] | None = None,
        containers: frozenset[str] = frozenset(),
    ) -> Rule:
        """Make a rule, checking its signature and templates."""
        name = display_name or display_name_of(primitive)
        params = parse_signature(signature) if signature is not None else signature_of(primitive)
        if isinstance(shape, str):
            result_shape = lambda bound, _shape=shape: _shape  # noqa: E731
        else:
            result_shape = shape
        rule = cls(
            primitive,
            name,
            params,
            dict(derivatives),
            frozenset(unbroadcast),
            result_shape,
            frozenset(containers),
        )
        rule._check()
        return rule

    def _check(self) -> None:
        names = set(self.parameters)
        for param, template in self.derivatives.items():
            if param not in names:
                raise RuleError(
                    f"rule for {self.display_name}: '{param}' is not one of its parameters "
                    f"{self.parameters}"
                )
            if isinstance(template, str):
                self._parsed[param] = self._parse(param, template)
        _check_against_primitive(self)

    def _parse(self, param: str, template: str) -> gast.expr:
        try:
            tree = parse_expr(template)
        except SyntaxError as error:
            raise RuleError(
                f"rule for {self.display_name}, parameter '{param}': cannot parse "
                f"{template!r}: {error.msg}"
            ) from None
        unknown = names_read(tree) - set(self.parameters) - set(_SPECIAL) - set(TEMPLATE_GLOBALS)
        if any(p.name == param and p.kind is _VAR_POSITIONAL for p in self.signature):
            unknown.discard("position")  # which of the *args the template is for
        if unknown:
            raise RuleError(
                f"rule for {self.display_name}, parameter '{param}': unknown name(s) "
                f"{sorted(unknown)} in {template!r}; a template may use g, ans, the "
                f"parameters {self.parameters}, np, math and s2sad.runtime's helpers"
            )
        return tree

    def bind(self, args: list[gast.expr], keywords: dict[str, gast.expr]) -> BoundArguments:
        """Match a call's atoms to the parameters, filling in defaults as constants."""
        bound = BoundArguments()
        positional = [p for p in self.signature if p.kind in _POSITIONAL]
        varargs = next((p for p in self.signature if p.kind is _VAR_POSITIONAL), None)
        if len(args) > len(positional) and varargs is None:
            raise RuleError(
                f"{self.display_name} takes at most {len(positional)} positional arguments"
            )
        for param, arg in zip(positional, args):
            bound[param.name] = arg
        if varargs is not None:
            bound[varargs.name] = gast.Tuple(elts=list(args[len(positional) :]), ctx=gast.Load())
        for key, value in keywords.items():
            param = next((p for p in self.signature if p.name == key), None)
            if param is None or param.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise RuleError(f"argument '{key}' of {self.display_name} is not supported")
            if key in bound:
                raise RuleError(f"{self.display_name} got argument '{key}' twice")
            bound[key] = value
        for param in self.signature:
            if param.name not in bound:
                if not param.has_default:
                    raise RuleError(f"{self.display_name} is missing argument '{param.name}'")
                bound[param.name] = const(param.default)
        return bound

    def template(self, param: str, bound: BoundArguments) -> gast.expr:
        """The derivative template for ``param`` as a gast expression (not yet instantiated)."""
        if param in self._parsed:
            template = self._parsed[param]
        else:
            text = self.derivatives[param](bound)
            key = (param, text)
            if key not in self._made:
                self._made[key] = self._parse(param, text)
            template = self._made[key]
        if self._casts(bound):
            return self._cast_aware(param, template)
        return template

    def _casts(self, bound: BoundArguments) -> bool:
        """Whether the call passes an optional ``dtype=`` (np.sum(x, dtype=int))."""
        return (
            "dtype" in bound
            and not bound.is_none("dtype")
            and any(p.name == "dtype" and p.has_default for p in self.signature)
        )

    def _cast_aware(self, param: str, template: gast.expr) -> gast.expr:
        """``template`` where ``dtype`` is a floating type; where it is an integer type the
        result is piecewise constant, and ``param`` gets no gradient."""
        key = (param, id(template), "dtype")
        if key not in self._made:
            self._made[key] = gast.IfExp(
                test=parse_expr("np.issubdtype(np.dtype(dtype), np.inexact)"),
                body=template,
                orelse=parse_expr(f"np.zeros(np.shape({self._one(param)}))"),
            )
        return self._made[key]

    def _one(self, param: str) -> str:
        """The argument ``param`` is, as a template says it: ``args[position]`` for the
        argument at ``position`` of those ``*args`` collects."""
        if any(p.name == param and p.kind is _VAR_POSITIONAL for p in self.signature):
            return f"{param}[position]"
        return param

    def reads(self, param: str, bound: BoundArguments) -> set[str]:
        """The template names the derivative for ``param`` uses: parameters, g, ans."""
        used = self._names_read(self.template(param, bound))
        return used & (set(self.parameters) | set(_SPECIAL))

    def _names_read(self, template: gast.expr) -> frozenset[str]:
        names = self._reads.get(id(template))
        if names is None:
            names = self._reads[id(template)] = frozenset(names_read(template))
        return names

    def instantiate(
        self,
        param: str,
        bound: BoundArguments,
        adjoint: gast.expr,
        result: gast.expr,
        rename: Callable[[str], str],
    ) -> gast.expr:
        """The derivative for ``param`` at one call site.

        ``adjoint`` and ``result`` replace ``g`` and ``ans``; ``rename`` gives the names the
        generated function uses for ``np``, ``math`` and runtime helpers.
        """
        template = self.template(param, bound)
        replacements: dict[str, gast.expr] = {
            name: load(rename(name))
            for name in self._names_read(template)
            if name in TEMPLATE_GLOBALS and name not in bound
        }
        replacements.update(bound)
        replacements["g"] = adjoint
        replacements["ans"] = result
        return substitute(template, replacements)


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL


def parse_signature(text: str) -> tuple[Parameter, ...]:
    """``"a, axis=None, *, keepdims=False"`` → Parameters (defaults must be literals)."""
    try:
        tree = ast.parse(f"def _({text}): pass").body[0].args
    except SyntaxError:
        raise RuleError(f"cannot parse the signature {text!r}") from None
    params: list[Parameter] = []
    positional = [*tree.posonlyargs, *tree.args]
    defaults = [None] * (len(positional) - len(tree.defaults)) + list(tree.defaults)
    for index, (arg, default) in enumerate(zip(positional, defaults)):
        kind = (
            inspect.Parameter.POSITIONAL_ONLY
            if index < len(tree.posonlyargs)
            else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        params.append(_parameter(arg.arg, kind, default))
    if tree.vararg is not None:
        params.append(Parameter(tree.vararg.arg, _VAR_POSITIONAL))
    for arg, default in zip(tree.kwonlyargs, tree.kw_defaults):
        params.append(_parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY, default))
    return tuple(params)


def _parameter(name: str, kind, default: ast.expr | None) -> Parameter:
    if default is None:
        return Parameter(name, kind)
    try:
        return Parameter(name, kind, ast.literal_eval(default))
    except ValueError:
        raise RuleError(f"the default of '{name}' must be a literal") from None


def signature_of(primitive: Any) -> tuple[Parameter, ...]:
    """The parameters of a Python-level primitive, read with inspect."""
    try:
        signature = inspect.signature(primitive)
    except (TypeError, ValueError):
        raise RuleError(
            f"cannot read the signature of {display_name_of(primitive)}; pass it as a string, "
            "for example signature='x, /'"
        ) from None
    params = []
    for p in signature.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        params.append(Parameter(p.name, p.kind, p.default))
    return tuple(params)


_BY_POSITION = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _check_against_primitive(rule: Rule) -> None:
    """Every keyword-passable rule parameter must exist on the primitive itself, and those
    that may be passed by position must be where the primitive has them."""
    if not callable(rule.primitive) or isinstance(rule.primitive, (str, tuple)):
        return
    try:
        real = inspect.signature(rule.primitive).parameters
    except (TypeError, ValueError):
        return  # ufuncs and builtins: nothing to compare against
    order = [p.name for p in real.values() if p.kind in _BY_POSITION]
    for index, param in enumerate(rule.signature):
        if param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and (
            index >= len(order) or order[index] != param.name
        ):
            raise RuleError(
                f"rule for {rule.display_name}: parameter '{param.name}' is not in the "
                f"function's place for it (its parameters by position are {order}); "
                "arguments passed by position would bind to the wrong parameter"
            )
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in real.values()):
        return
    for param in rule.signature:
        if param.kind is inspect.Parameter.POSITIONAL_ONLY or param.kind is _VAR_POSITIONAL:
            continue
        if param.name not in real:
            raise RuleError(
                f"rule for {rule.display_name}: parameter '{param.name}' does not exist on "
                f"the function (its parameters are {list(real)})"
            )


def display_name_of(primitive: Any) -> str:
    """How messages and comments name a primitive: ``np.sin``, ``math.exp``, ``abs``."""
    if isinstance(primitive, tuple):  # ("method", "sum") / ("attribute", "T")
        kind, name = primitive
        return f".{name}()" if kind == "method" else f".{name}"
    name = getattr(primitive, "__name__", None) or repr(primitive)
    module = (getattr(primitive, "__module__", None) or "").lstrip("_")
    if isinstance(primitive, np.ufunc) or module.startswith("numpy"):
        return f"np.{name}"
    if module in ("math", "builtins", "operator"):
        return name if module == "builtins" else f"{module}.{name}"
    qualname = getattr(primitive, "__qualname__", name)
    return f"{module}.{qualname}" if module else qualname


class Registry:
    """Rules keyed by primitive: the only module-level mutable state besides the cache."""

    def __init__(self) -> None:
        self._rules: dict[Any, Rule] = {}
        self._unhashable: list[tuple[Any, Rule]] = []
        self._sealed = False
        #: whether rules were added after s2sad's own tables (see ``seal``)
        self.customised = False
        self._users: set[int] = set()  # ids of the rules added after ``seal``

    def seal(self) -> None:
        """Mark the rules so far as s2sad's own; any rule added later is the user's."""
        self._sealed = True

    def add(self, rule: Rule) -> Rule:
        self.customised |= self._sealed
        if self._sealed:
            self._users.add(id(rule))
        try:
            self._rules[rule.primitive] = rule
        except TypeError:
            self._unhashable.append((rule.primitive, rule))
        return rule

    def is_users(self, rule: Rule) -> bool:
        """Whether the user registered ``rule`` (after s2sad's own tables)."""
        return id(rule) in self._users

    def get(self, primitive: Any) -> Rule | None:
        try:
            found = self._rules.get(primitive)
        except TypeError:
            found = None
        if found is not None:
            return found
        for key, rule in self._unhashable:
            if key is primitive:
                return rule
        return None

    def __contains__(self, primitive: Any) -> bool:
        return self.get(primitive) is not None


REGISTRY = Registry()


def lookup(primitive: Any) -> Rule | None:
    """The rule registered for ``primitive`` (a callable, or ("method"|"attribute", name))."""
    return REGISTRY.get(primitive)
