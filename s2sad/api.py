"""The public API: ``grad``, ``value_and_grad``, ``vjp``, ``source``; argument checking.

>>> import s2sad
>>> s2sad.grad.__name__
'grad'

A derivative is built on its first call (so ``@s2sad.grad`` may decorate a function whose
helpers are defined further down the module) and cached; later calls go straight to the
generated function.
"""

from __future__ import annotations

import collections
import functools
import inspect
import numbers
import types
from typing import Callable

import numpy as np

from . import cache, pipeline
from .errors import NonScalarOutputError, S2SADError
from .names import Namer, identifier
from .parse import ParsedFunction, object_guards
from .primitives import is_user_class, shadows_a_method


def _kind(value):
    """What specialisation depends on for one argument: an array's rank and which of its
    dimensions are 1, otherwise its type."""
    if type(value) is np.ndarray:
        shape = value.shape
        return (len(shape), tuple(d == 1 for d in shape), value.dtype.kind == "c")
    return type(value)


def _describe_kind(kind):
    """A parameter's kind for the pipeline: "number" (a Python int or float, whose
    gradient is a float), "scalar" (a NumPy scalar), ("array", ndim, ones), "sequence" (a
    list or tuple), "mapping" (a dict), ("object", cls) (an instance of a class of the
    user's), "complex" (a complex number or array: refused where differentiated), or
    None."""
    if isinstance(kind, tuple):
        return "complex" if kind[2] else ("array", kind[0], kind[1])
    if issubclass(kind, (complex, np.complexfloating)):
        return "complex"
    if kind is float or kind is int:
        return "number"
    if kind is list or kind is tuple:
        return "sequence"
    if kind is dict:
        return "mapping"
    if issubclass(kind, numbers.Real) and kind is not bool:
        return "scalar"
    if is_user_class(kind):  # self in model.loss(x): its methods are differentiable
        return ("object", kind)
    return None


def _shift(wrt):
    """``wrt`` of a bound method, counted from the parameter after ``self``."""
    if isinstance(wrt, (tuple, list)):
        return tuple(_shift(w) for w in wrt)
    return wrt + 1 if isinstance(wrt, int) and not isinstance(wrt, bool) and wrt >= 0 else wrt


_NDARRAY = np.ndarray


class _Keywords(tuple):
    """The kinds of a call's keyword arguments, at the end of its specialisation key."""


def _key(args: tuple, kwargs: dict) -> tuple:
    """The specialisation key of a call: the kinds of its positional arguments, then (if
    there are any) a ``_Keywords`` of its keyword arguments' kinds."""
    kinds = tuple(map(_kind, args))
    if kwargs:
        kinds += (_Keywords((k, _kind(v)) for k, v in kwargs.items()),)
    return kinds


class InvalidArgumentError(S2SADError, ValueError):
    """``wrt`` (or another argument to s2sad's API) does not fit the function."""


def resolve_wrt(parsed: ParsedFunction, parameters: list[str], wrt) -> tuple[list[str], bool]:
    """Parameter names for ``wrt`` (a position, a name, or a tuple of them), and whether the
    caller asked for a tuple of gradients."""
    args = parsed.tree.args
    positional = [a.id for a in [*args.posonlyargs, *args.args]]
    varargs = {a.id for a in (args.vararg, args.kwarg) if a is not None}
    as_tuple = isinstance(wrt, (tuple, list))
    requested = list(wrt) if as_tuple else [wrt]
    if as_tuple and not requested:
        raise InvalidArgumentError(f"wrt=() asks for no gradient of {parsed.name}")
    names = []
    for item in requested:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise InvalidArgumentError(
                f"wrt must be a parameter position or name (or a tuple of them), not {item!r}"
            )
        if isinstance(item, int):
            if not -len(positional) <= item < len(positional):
                raise InvalidArgumentError(
                    f"wrt={item}: {parsed.name} has {len(positional)} positional parameter(s) "
                    f"({', '.join(positional)})"
                )
            name = positional[item]
        else:
            name = item
            if name not in parameters:
                raise InvalidArgumentError(
                    f"wrt={name!r}: {parsed.name} has no parameter {name!r} "
                    f"(its parameters are {', '.join(parameters)})"
                )
        if name in varargs:
            raise InvalidArgumentError(
                f"wrt={item!r}: cannot differentiate with respect to *{name}"
            )
        if name in names:
            raise InvalidArgumentError(f"wrt names {name!r} twice")
        names.append(name)
    return names, as_tuple


class DerivativeFunction:
    """What ``grad`` and friends return: call it like ``f``; ``.source`` shows the code."""

    def __init__(self, function: Callable, wrt, mode: str, optimize: bool):
        if not callable(function):
            raise InvalidArgumentError(f"s2sad.{mode} needs a function, not {function!r}")
        # Decorators under s2sad are stripped: s2sad differentiates the function as written
        # beneath them (functools.wraps / lru_cache wrappers lead back to it).
        function = inspect.unwrap(function)
        self.receiver: tuple = ()
        if inspect.ismethod(function):  # obj.method: differentiate the function, obj first
            self.receiver = (function.__self__,)
            function = function.__func__
            wrt = _shift(wrt)
        self.function = function
        self.wrt = wrt
        self.mode = mode
        self.optimize = optimize
        self._calls: dict[tuple, Callable] = {}  # by the kinds of the arguments
        self._ordered_calls: dict[tuple, Callable] = {}  # the dispatcher's: all parameters
        self._dispatch_names: list[str] = []
        self._compiled = None
        functools.update_wrapper(self, function)
        self.__name__ = f"{mode}_{getattr(function, '__name__', 'f')}"
        self.__qualname__ = self.__name__
        self.__wrapped__ = function

    def _kinds(self, key: tuple) -> tuple:
        """What each parameter is at a call whose arguments have the kinds in ``key``: a
        Python number ("number"), an array of known rank (("array", ndim, ones), ``ones``
        marking dimensions of length 1), or unknown. Parameters left to their defaults
        take their defaults' kinds. Returns sorted (name, kind) pairs."""
        if key and type(key[-1]) is _Keywords:
            kinds_of_positional, keyword_kinds = key[:-1], key[-1]
        else:
            kinds_of_positional, keyword_kinds = key, ()
        code = getattr(self.function, "__code__", None)
        if code is None:  # not a Python function: the pipeline will say so
            return ()
        positional = code.co_varnames[: code.co_argcount]
        kinds = dict(zip(positional, kinds_of_positional))
        kinds.update(keyword_kinds)
        defaults = self.function.__defaults__ or ()
        defaulted = dict(zip(positional[len(positional) - len(defaults) :], defaults))
        defaulted.update(self.function.__kwdefaults__ or {})
        for name, value in defaulted.items():
            kinds.setdefault(name, _kind(value))
        return self._described(kinds)

    def _described(self, kinds: dict) -> tuple:
        """Sorted (name, kind) pairs for the pipeline, from the parameters' kinds (types,
        or ranks of arrays); parameters of unknown kind are left out."""
        described = {name: _describe_kind(kind) for name, kind in kinds.items()}
        code = self.function.__code__
        if self.receiver and code.co_argcount and shadows_a_method(self.receiver[0]):
            described[code.co_varnames[0]] = None  # its methods are not its class's
        return tuple(sorted((n, k) for n, k in described.items() if k is not None))

    def _compile(self, key: tuple | None = None) -> pipeline.codegen.CompiledDerivative:
        kinds = self._kinds(key) if key is not None else ()
        return pipeline.compiled(self.function, self.wrt, self.mode, self.optimize, kinds)

    def _build(self, key: tuple):
        """The generated function for arguments of these types (specialised to Python
        numbers where the arguments are numbers), compiled on first use."""
        self._compiled = compiled = self._compile(key)
        call = compiled.bind(self.function)
        guards = compiled.guards + self._receiver_guards()
        call = self._calls[key] = _guarded(guards, call, lambda: self._build(key))
        return call

    @property
    def source(self) -> str:
        """The generated derivative source for arguments of unknown kind."""
        return self._compile().source

    def source_for(self, *args, **kwargs) -> str:
        """The source specialised for arguments like these (numbers vs arrays)."""
        return self._compile(_key(self.receiver + args, kwargs)).source

    def __call__(self, *args, **kwargs):
        if kwargs or self.receiver:
            args = self.receiver + args
            key = _key(args, kwargs)
        else:  # the common case, kept short: it runs on every call
            key = tuple(map(type, args))
            if _NDARRAY in key:
                key = tuple(map(_kind, args))
        call = self._calls.get(key)
        if call is None:
            call = self._build(key)
        try:
            return call(*args, **kwargs)
        except S2SADError as error:
            raise self._located(error) from None

    def _receiver_guards(self) -> tuple:
        """For ``grad(model.loss)``: that the model keeps its class, and that no attribute
        of its own comes to hide a method of it (``model.penalty = other``)."""
        return tuple(object_guards(self.receiver[0])) if self.receiver else ()

    def _located(self, error: S2SADError) -> S2SADError:
        """``error``, raised while a derivative ran, with the user's line it concerns: the
        function's result for a non-scalar output, else the line whose adjoint raised."""
        if error.location is not None:
            return error
        if isinstance(error, NonScalarOutputError):
            name = getattr(self.function, "__qualname__", "f")
            where = self._compile().output_location
            return NonScalarOutputError(f"{name}: {error.detail}", where)
        where = pipeline.codegen.user_location(error.__traceback__)
        if where is not None:
            error.location = where
            error.args = (f"{where}: {error.detail}", *error.args[1:])
        return error

    def __repr__(self) -> str:
        return f"<s2sad.{self.mode} of {getattr(self.function, '__qualname__', self.function)!r}>"

    def __get__(self, instance, owner=None):
        # Decorating a method: bind like a function would.
        return self if instance is None else functools.partial(self, instance)

    # ----- the fast path: a dispatcher with f's own signature ---------------------------
    def dispatcher(self) -> Callable:
        """A function with ``f``'s parameters that picks (or builds) the derivative for its
        arguments' kinds and calls it: the same as calling this object, without the cost
        of packing ``*args``. Falls back to this object for signatures it cannot mirror."""
        parameters = _simple_parameters(self.function)
        if parameters is None or self.receiver or not inspect.isfunction(self.function):
            return self  # the first call says what is wrong with a callable object
        positional, keyword_only = parameters
        seed = ["seed"] if self.mode == "vjp" else []
        if "seed" in positional + keyword_only and seed:
            return self
        self._dispatch_names = positional + keyword_only
        make, name = _dispatcher_code(
            tuple(positional), tuple(keyword_only), tuple(seed), self.__name__, self.__qualname__
        )
        function = make(self, self._ordered_calls, _kind, np.ndarray, S2SADError, type)
        function.__defaults__ = self.function.__defaults__
        function.__kwdefaults__ = self.function.__kwdefaults__
        functools.update_wrapper(function, self.function)
        function.__name__ = function.__qualname__ = name
        function.__wrapped__ = self.function
        function.source = _LazySource(lambda: self.source)
        function.source_for = self.source_for
        function.s2sad = self
        return function

    def _build_ordered(self, key: tuple):
        """The derivative for a call whose parameters (all, in order) have kinds ``key``."""
        described = self._described(dict(zip(self._dispatch_names, key)))
        self._compiled = compiled = pipeline.compiled(
            self.function, self.wrt, self.mode, self.optimize, described
        )
        call = compiled.bind(self.function)
        if self.mode == "vjp" and compiled.seed_name != "seed":
            inner, seed_name = call, compiled.seed_name

            def call(*args, seed, **kwargs):
                return inner(*args, **{seed_name: seed}, **kwargs)

        call = _guarded(compiled.guards, call, lambda: self._build_ordered(key))
        self._ordered_calls[key] = call
        return call


def _guarded(guards: tuple, call: Callable, rebuild: Callable[[], Callable]) -> Callable:
    """``call``, checking first that the global names it was built for are not rebound;
    when one is, the derivative is built again (``rebuild``) and that one is called."""
    if not guards:
        return call

    def guarded(*args, **kwargs):
        for namespace, name, value in guards:
            if namespace.get(name, cache.ABSENT) is not value:
                return rebuild()(*args, **kwargs)
        return call(*args, **kwargs)

    return guarded


_DISPATCHER_ARGUMENTS = ("state", "calls", "kind", "ndarray", "error_type", "type")
_DISPATCHER_NAMES = (*_DISPATCHER_ARGUMENTS, "key", "call", "error")


class _LazySource(collections.UserString):
    """A string computed the first time it is read (``grad(f).source``)."""

    def __init__(self, compute: Callable[[], str]):
        self._compute = compute
        self._text: str | None = None

    @property
    def data(self) -> str:
        if self._text is None:
            self._text = self._compute()
        return self._text


def _simple_parameters(function) -> tuple[list[str], list[str]] | None:
    """(positional, keyword-only) parameter names, or None when ``function`` has
    ``*args``/``**kwargs`` or positional-only parameters (a dispatcher cannot mirror those
    simply)."""
    code = getattr(function, "__code__", None)
    if isinstance(function, types.FunctionType) and not hasattr(function, "__signature__"):
        if code.co_posonlyargcount or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            return None
        count, keyword_count = code.co_argcount, code.co_kwonlyargcount
        names = code.co_varnames
        return list(names[:count]), list(names[count : count + keyword_count])
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    positional, keyword_only = [], []
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.POSITIONAL_OR_KEYWORD:
            positional.append(parameter.name)
        elif parameter.kind is parameter.KEYWORD_ONLY:
            keyword_only.append(parameter.name)
        else:
            return None
    return positional, keyword_only


def derivative_state(obj):
    """The DerivativeFunction behind what ``grad`` (or ``vjp``...) returned, or None."""
    if isinstance(obj, DerivativeFunction):
        return obj
    return getattr(obj, "s2sad", None)


class VJPFunction(DerivativeFunction):
    """``vjp(f)``: call with f's arguments and ``seed=`` of the output's shape."""

    def __call__(self, *args, seed, **kwargs):
        args = self.receiver + args
        key = _key(args, kwargs)
        call = self._calls.get(key)
        if call is None:
            call = self._build(key)
        kwargs[self._compiled.seed_name] = seed
        return call(*args, **kwargs)


@functools.lru_cache(maxsize=256)
def _dispatcher_code(positional, keyword_only, seed, function_name: str, qualname: str):
    """A maker of dispatchers for these parameters (it closes over one derivative's state),
    and the dispatcher's name: a pure function of them, so ``grad(f)`` asked again neither
    compiles nor executes source."""
    positional, keyword_only, seed = list(positional), list(keyword_only), list(seed)
    names = positional + keyword_only
    # the dispatcher's own names must not be the user's parameters'
    namer = Namer(names + seed)
    own = {word: namer.fresh(f"s2sad_{word}") for word in _DISPATCHER_NAMES}
    kinds = ", ".join(
        f"{own['kind']}({n}) if {own['type']}({n}) is {own['ndarray']} else {own['type']}({n})"
        for n in names
    )
    types = ", ".join(f"{own['type']}({n})" for n in names)
    arguments = ", ".join(positional + [f"{n}={n}" for n in keyword_only + seed])
    signature = ", ".join(
        positional + (["*"] + keyword_only + seed if keyword_only or seed else [])
    )
    name = identifier(function_name)
    if name in names + seed:
        name = namer.fresh(name)
    source = f"""
def make({", ".join(own[w] for w in _DISPATCHER_ARGUMENTS)}):
    def {name}({signature}):
        {own["key"]} = ({types},)
        if {own["ndarray"]} in {own["key"]}:
            {own["key"]} = ({kinds},)
        {own["call"]} = {own["calls"]}.get({own["key"]})
        if {own["call"]} is None:
            {own["call"]} = {own["state"]}._build_ordered({own["key"]})
        try:
            return {own["call"]}({arguments})
        except {own["error_type"]} as {own["error"]}:
            raise {own["state"]}._located({own["error"]}) from None
    return {name}
"""
    namespace: dict = {}
    exec(compile(source, f"<s2sad dispatcher of {qualname}>", "exec"), namespace)  # noqa: S102
    return namespace["make"], name


def grad(function: Callable | None = None, wrt=0, *, optimize: bool = True):
    """The gradient of a scalar function, as a function with the same parameters.

    ``wrt`` is a parameter position, a name, or a tuple of them (then a tuple of gradients
    comes back). Each gradient has its argument's type and shape::

        @s2sad.grad
        def dloss(w):
            return np.sum(w ** 2)

        dloss(np.ones(3))   # array([2., 2., 2.])

    ``s2sad.grad(wrt=1)`` (no function) returns a decorator.
    """
    if function is None:
        return lambda f: grad(f, wrt, optimize=optimize)
    return _derivative_function(DerivativeFunction, function, wrt, "grad", optimize)


def value_and_grad(function: Callable | None = None, wrt=0, *, optimize: bool = True):
    """Like :func:`grad`, returning ``(f(*args), gradient)`` from one primal sweep."""
    if function is None:
        return lambda f: value_and_grad(f, wrt, optimize=optimize)
    return _derivative_function(DerivativeFunction, function, wrt, "value_and_grad", optimize)


def vjp(function: Callable | None = None, wrt=0, *, optimize: bool = True):
    """Vector-Jacobian product: ``vjp(f)(*args, seed=s)`` pulls ``s`` (shaped like f's output)
    back to the arguments ``wrt``. Works for any output shape."""
    if function is None:
        return lambda f: vjp(f, wrt, optimize=optimize)
    return _derivative_function(VJPFunction, function, wrt, "vjp", optimize)


def _derivative_function(kind: type, function: Callable, wrt, mode: str, optimize: bool):
    """``kind(function, ...).dispatcher()``, or the one made before for the same function
    and arguments while its code, defaults and closure are unchanged (s2sad.cache)."""
    snapshot = _snapshot(function)
    if hasattr(function, "__wrapped__"):  # what is differentiated is what it wraps
        snapshot += _snapshot(inspect.unwrap(function))
    return cache.derivative_function(
        (function, mode, wrt, repr(wrt), optimize),  # wrt=True equals wrt=1; its repr does not
        snapshot,
        lambda: kind(function, wrt, mode, optimize).dispatcher(),
    )


def _snapshot(function) -> tuple:
    """The objects a derivative function copies or builds on from ``function``."""
    if not isinstance(function, types.FunctionType):
        return (function,)
    closure = function.__closure__
    state = (function.__code__, function.__defaults__, function.__kwdefaults__)
    return state + tuple(map(_contents, closure)) if closure else state


def _contents(cell: types.CellType):
    try:
        return cell.cell_contents
    except ValueError:  # empty
        return None


def source(function: Callable, wrt=0, *, optimize: bool = True, mode: str = "grad") -> str:
    """The Python source s2sad generates for ``grad(function, wrt)`` (or another ``mode``)."""
    if mode not in ("grad", "value_and_grad", "vjp"):
        raise InvalidArgumentError(f"mode must be 'grad', 'value_and_grad' or 'vjp', not {mode!r}")
    state = derivative_state(function)
    if state is not None:
        function = state.function
    function = inspect.unwrap(function)
    receiver = ()
    if inspect.ismethod(function):  # source(model.loss): the function, model first
        receiver, function, wrt = (function.__self__,), function.__func__, _shift(wrt)
    kinds = _defining_class(function, receiver)
    return pipeline.compiled(function, wrt, mode, optimize, kinds).source


def _defining_class(function: Callable, receiver: tuple) -> tuple:
    """For a method's source shown without a call (``s2sad show file.py:Model.loss``): its
    first parameter as an object of the class that defines it (of the receiver's class,
    for a bound method), so that ``self.reg(x)`` is followed as a call would follow it."""
    code = getattr(function, "__code__", None)
    if code is None or not code.co_argcount:
        return ()
    if receiver:
        cls = type(receiver[0])
    else:
        owner, _, name = getattr(function, "__qualname__", "").rpartition(".")
        cls = getattr(function, "__globals__", {}).get(owner) if "." not in owner else None
    if isinstance(cls, type) and is_user_class(cls):
        return ((code.co_varnames[0], ("object", cls)),)
    return ()
