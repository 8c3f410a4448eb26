"""Read a user function's source into a gast tree and resolve the names it uses to objects.

>>> import math
>>> f = function_from_source('''
... def f(x):
...     return math.sin(x) * 2.0
... ''', {"math": math})
>>> parsed = parse_function(f)
>>> parsed.resolve(parsed.tree.body[0].value.left.func) is math.sin
True
>>> sorted(parsed.local_names)
['x']
"""

from __future__ import annotations

import builtins
import copy
import inspect
import linecache
import os
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

import gast

from . import cache
from .errors import Location, SourceUnavailableError, UnsupportedSyntaxError
from .syntax import children, function_def


class _Unresolved:
    """Marker for a name that is local to the function or not found anywhere."""

    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()


def method_guards(cls: type, name: str) -> list[tuple]:
    """Guards that ``cls.name`` stays the function found now: the class of the MRO that
    defines it keeps it, and the classes before it do not define one of their own."""
    guards = []
    for klass in cls.__mro__:
        namespace = klass.__dict__
        if name in namespace:
            guards.append((namespace, name, namespace[name]))
            break
        guards.append((namespace, name, cache.ABSENT))
    return guards


class _ClassOf:
    """A guard's namespace for an object's class: ``OBJ.__class__ = Other`` changes it."""

    def __init__(self, obj: Any):
        self.obj = obj

    def get(self, name: str, default: Any = None) -> Any:
        return type(self.obj)


def object_guards(obj: Any) -> list[tuple]:
    """Guards that an object whose methods a build follows keeps its class, and that no
    attribute of its own comes to hide one of them (``obj.penalty = other``)."""
    cls = type(obj)
    guards = [(_ClassOf(obj), "__class__", cls)]
    own = getattr(obj, "__dict__", None)
    if isinstance(own, dict):
        names = [n for n in dir(cls) if inspect.isfunction(getattr(cls, n, None))]
        guards += [(own, name, cache.ABSENT) for name in names]
    return guards


@dataclass(frozen=True)
class MethodOf:
    """What ``obj.method`` denotes where the build knows ``obj``'s class: the function the
    class defines, to be called with ``obj`` first."""

    function: Callable


@dataclass
class ParsedFunction:
    """A user function as s2sad sees it: its gast tree, where it lives, and its namespaces.

    ``tree`` is a ``gast.FunctionDef`` without decorators whose line numbers are the
    lines of ``filename``. ``local_names`` are the names the function assigns (parameters
    included); every other name is looked up in the closure, the globals, then builtins.
    """

    function: Callable
    tree: gast.FunctionDef
    filename: str
    local_names: frozenset[str]
    closure: dict[str, Any] = field(default_factory=dict)
    #: objects s2sad supplies under names of its own: functions defined inside this one
    #: (lifted to helpers, see s2sad.lifting), builtins that a local name shadows
    supplied: dict[str, Any] = field(default_factory=dict)
    #: global names read that denote functions (not modules): the derivative is built for
    #: these objects and rebuilt when one of the names is rebound (see s2sad.cache)
    guards: dict[str, Any] = field(default_factory=dict)
    #: every name and attribute chain looked up outside the function, with what it denoted:
    #: all a build learns from the user's namespaces (s2sad.disk_cache checks them again)
    seen: dict[str, Any] = field(default_factory=dict)
    #: parameters never rebound whose class the build is for (an ("object", cls) kind):
    #: ``self.forward(x)`` calls that class's function, ``self`` first (see MethodOf)
    classes: dict[str, type] = field(default_factory=dict)
    #: (namespace, name, object) for the methods followed through a class: patching the
    #: class (``Model.forward = other``) makes the derivative stale, as rebinding a global
    class_guards: list[tuple] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.tree.name

    @property
    def globals(self) -> dict[str, Any]:
        return self.function.__globals__

    @property
    def display_filename(self) -> str:
        """The file name as shown in messages: relative to the cwd when that is shorter."""
        return display_filename(self.filename)

    def location(self, node: gast.AST | None) -> Location:
        """The user's file and line of ``node`` (the ``def`` line when node has none)."""
        line = getattr(node, "lineno", None) or self.tree.lineno
        return Location(self.display_filename, line)

    def source_line(self, line: int) -> str:
        """The stripped text of one line of the user's file."""
        return linecache.getline(self.filename, line).strip()

    def lookup(self, name: str) -> Any:
        """The object a non-local name denotes, or UNRESOLVED."""
        if name in self.supplied:
            return self.supplied[name]
        if name in self.local_names:
            return UNRESOLVED
        if name in self.closure:
            value = self.closure[name]
        elif name in self.globals:
            value = self.globals[name]
            if callable(value):
                self.guards[name] = value
        else:
            value = getattr(builtins, name, UNRESOLVED)
        self.seen[name] = value
        return value

    def resolve(self, node: gast.AST) -> Any:
        """The object a Name or a chain of attributes on a global denotes, or UNRESOLVED.

        ``np.linalg.norm`` resolves to ``numpy.linalg.norm`` whatever ``np`` is called.
        """
        if isinstance(node, gast.Name):
            return self.lookup(node.id)
        if not isinstance(node, gast.Attribute):
            return UNRESOLVED
        attributes = []
        while isinstance(node, gast.Attribute):
            attributes.append(node.attr)
            node = node.value
        if not isinstance(node, gast.Name):
            return UNRESOLVED
        if node.id in self.classes:  # self.forward: the class's own function, or nothing
            member = inspect.getattr_static(self.classes[node.id], attributes[0], None)
            static = isinstance(member, staticmethod) and inspect.isfunction(member.__func__)
            if len(attributes) != 1 or not (static or inspect.isfunction(member)):
                return UNRESOLVED
            self.class_guards += method_guards(self.classes[node.id], attributes[0])
            return member.__func__ if static else MethodOf(member)  # self.act(x): act(x)
        value = self.lookup(node.id)
        path = node.id
        root = value
        for attribute in reversed(attributes):
            if value is UNRESOLVED:
                return UNRESOLVED
            value = getattr(value, attribute, UNRESOLVED)
            path = f"{path}.{attribute}"
        self.seen[path] = value
        if inspect.ismethod(value) and node.id in self.globals and not callable(root):
            self.guards[node.id] = root  # model.loss: built for this model's class
            if len(attributes) == 1:
                self.class_guards += method_guards(type(root), attributes[0])
                self.class_guards += object_guards(root)
        return value


def display_filename(filename: str) -> str:
    """``filename`` as shown in messages: relative to the cwd when that is shorter (worked
    out once per file and working directory: a build asks for every statement)."""
    key = (filename, os.getcwd())
    shown = _SHOWN.get(key)
    if shown is None:
        try:
            relative = os.path.relpath(filename)
        except ValueError:
            relative = filename
        shown = _SHOWN[key] = relative if len(relative) < len(filename) else filename
    return shown


_SHOWN: dict[tuple[str, str], str] = {}


_SOURCES: dict[str, int] = {}


def function_from_source(source: str, namespace: dict | None = None, name: str | None = None):
    """Define the function in ``source`` so that ``inspect`` can read its source later.

    For doctests, examples and tests: the text is registered in ``linecache`` under a
    name like ``<s2sad-source-1>``. ``namespace`` becomes the function's globals.
    """
    source = textwrap.dedent(source).strip() + "\n"
    _SOURCES[source] = _SOURCES.get(source) or len(_SOURCES) + 1
    filename = f"<s2sad-source-{_SOURCES[source]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(namespace or {})
    exec(compile(source, filename, "exec"), scope)  # noqa: S102 - the caller's own source
    if name is None:
        name = next(n.name for n in gast.parse(source).body if isinstance(n, gast.FunctionDef))
    return scope[name]


def parse_function(function: Callable) -> ParsedFunction:
    """Parse ``function``'s source; raise SourceUnavailableError when there is none."""
    function = inspect.unwrap(function)
    if not inspect.isfunction(function):
        raise SourceUnavailableError(
            f"{_describe(function)} is not a Python function with source code; "
            "s2sad differentiates functions written in Python"
        )
    code = function.__code__
    filename = code.co_filename
    synthetic = getattr(function, "__s2sad_tree__", None)
    if synthetic is not None:  # a function s2sad made itself (a lifted nested def)
        tree, filename = synthetic
        tree = copy.deepcopy(tree)
        closure = _closure_values(function)
        parsed = ParsedFunction(function, tree, filename, frozenset(assigned_names(tree)), closure)
        return cache.consulted(parsed)
    defined = Location(filename, code.co_firstlineno)
    tree = _quick_definition(function) if function.__name__ != "<lambda>" else None
    if tree is None:
        try:
            lines, first_line = inspect.getsourcelines(function)
        except (OSError, TypeError) as error:
            raise SourceUnavailableError(
                f"cannot read the source of {function.__qualname__}: {error}. Define the "
                "function in a .py file so s2sad can read it",
                defined,
            ) from None
        if function.__name__ == "<lambda>":
            lines = _lambda_lines(code, lines, first_line)
        source = textwrap.dedent("".join(lines))
        tree = _find_definition(source, function, Location(filename, first_line))
    tree.decorator_list = []
    closure = _closure_values(function)
    parsed = ParsedFunction(
        function=function,
        tree=tree,
        filename=filename,
        local_names=frozenset(assigned_names(tree)),
        closure=closure,
    )
    return cache.consulted(parsed)


def _quick_definition(function) -> gast.FunctionDef | None:
    """The ``def`` of ``function`` read straight from its file's lines, without the
    tokenizer ``inspect.getsourcelines`` runs over them (a third of parsing a long
    function); None when that is not certain, for the caller to use ``inspect``.

    The definition runs from ``co_firstlineno`` to the last line its code (nested code
    included) runs, and on over lines indented deeper than the ``def`` (closing brackets,
    a final ``pass``). A cut inside a statement does not parse, so it falls back."""
    code = function.__code__
    linecache.checkcache(code.co_filename)  # an edited, reloaded module: read it again
    lines = linecache.getlines(code.co_filename, function.__globals__)
    first = code.co_firstlineno
    if not lines or first > len(lines):
        return None
    last = _last_line(code)
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    while last < len(lines):
        text = lines[last]
        stripped = text.lstrip()
        if stripped and not stripped.startswith("#") and len(text) - len(stripped) <= indent:
            break
        last += 1
    source = textwrap.dedent("".join(lines[first - 1 : last]))
    try:
        module = gast.parse("\n" * (first - 1) + source)
    except SyntaxError:
        return None
    body = module.body
    if len(body) == 1 and isinstance(body[0], gast.FunctionDef):
        if body[0].name == function.__name__:
            return body[0]
    return None


def _last_line(code) -> int:
    """The last line any instruction of ``code`` or of code nested in it comes from."""
    last = max((line for _, _, line in code.co_lines() if line is not None), default=0)
    for constant in code.co_consts:
        if hasattr(constant, "co_lines"):
            last = max(last, _last_line(constant))
    return max(last, code.co_firstlineno)


def _lambda_lines(code, lines: list[str], first_line: int) -> list[str]:
    """All the lines a lambda's code spans (inspect may stop at the first line)."""
    last_line = max(
        (line for _, _, line in code.co_lines() if line is not None), default=first_line
    )
    if first_line + len(lines) - 1 >= last_line:
        return lines
    return [linecache.getline(code.co_filename, n) for n in range(first_line, last_line + 1)]


def _closure_values(function) -> dict[str, Any]:
    """The values of a function's closure cells, by name (UNRESOLVED for empty cells)."""
    closure = {}
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
        try:
            closure[name] = cell.cell_contents
        except ValueError:  # an empty cell: the outer variable is not assigned yet
            closure[name] = UNRESOLVED
    return closure


_COMPREHENSIONS = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)


def assigned_names(function: gast.FunctionDef) -> set[str]:
    """Parameters and every name the function body binds (not nested functions' bodies)."""
    names = {arg.id for arg in _parameters(function.args)}
    scopes = (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)
    todo = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, gast.Name):
            if isinstance(node.ctx, gast.Store):
                names.add(node.id)
            continue
        if isinstance(node, scopes):
            names.add(node.name)
            continue
        if isinstance(node, gast.Lambda):
            continue
        if isinstance(node, _COMPREHENSIONS):  # its variables are its own; not the first iterable
            todo.append(node.generators[0].iter)
            continue
        if isinstance(node, (gast.Import, gast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        todo.extend(children(node))
    return names


def _parameters(args: gast.arguments) -> list[gast.Name]:
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    params += [arg for arg in (args.vararg, args.kwarg) if arg is not None]
    return params


def _find_definition(source: str, function: Callable, where: Location) -> gast.FunctionDef:
    """The FunctionDef (or lambda, turned into a FunctionDef) that defines ``function``,
    numbered by the lines of its file (``source`` starts at line ``where.line``)."""
    above = "\n" * (where.line - 1)  # cheaper than renumbering the tree afterwards
    try:
        module = gast.parse(above + source)
    except SyntaxError:
        # A lambda in the middle of an expression spanning lines: retry as an expression.
        try:
            module = gast.parse(f"{above}({source}\n)")
        except SyntaxError:
            raise SourceUnavailableError(
                f"{where}: cannot parse the source of {function.__qualname__}"
            ) from None
    name = function.__name__
    if name != "<lambda>":
        for node in module.body:
            if isinstance(node, gast.FunctionDef) and node.name == name:
                return node
        if module.body and isinstance(module.body[0], gast.AsyncFunctionDef):
            raise UnsupportedSyntaxError("an `async def` function", where)
        raise SourceUnavailableError(f"{where}: cannot find `def {name}` in its source")
    code = function.__code__
    wanted = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    candidates = [
        node
        for node in gast.walk(module)
        if isinstance(node, gast.Lambda)
        and [arg.id for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]]
        == wanted
    ]
    if len(candidates) != 1:
        raise SourceUnavailableError(
            f"{where}: cannot tell which lambda on this line is being differentiated; "
            "write it as a `def`"
        )
    lam = candidates[0]
    last_line = max((line for _, _, line in code.co_lines() if line is not None), default=0)
    lambda_last = getattr(lam.body, "end_lineno", where.line)
    if lambda_last < last_line:
        raise SourceUnavailableError(
            f"{where}: cannot read the whole lambda being differentiated; write it as a `def`"
        )
    body = [gast.Return(value=lam.body)]
    gast.copy_location(body[0], lam)
    definition = function_def("lambda_", lam.args, body)
    return gast.copy_location(definition, lam)


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        return repr(obj)  # functools.partial(...) names its module itself
    module = getattr(obj, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else str(name)
