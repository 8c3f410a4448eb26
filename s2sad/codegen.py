"""Turn a derivative tree into readable source text and into a live Python function.

The source is printed statement by statement (``gast.unparse`` for each simple statement,
not astor, which breaks on Python 3.14), with a comment before each group of adjoint
statements naming the user's line it comes from::

    # adjoint sweep
    dx = scalar_seed(x)
    ...
    for i in reversed(range(3)):
        # line 3: x = x * a + math.sin(x)
        x = tape.pop()

It is compiled under a name like ``<s2sad:example.f grad x,a>`` registered in
``linecache``, so tracebacks through generated code show its lines. The function runs in
the user's own globals (live, as the user's function does) with the user's closure cells;
the names s2sad supplies (``cast_like``, ...) are bound as extra closure cells.
"""

from __future__ import annotations

import ast
import linecache
import re
import types
from dataclasses import dataclass, field

import gast

from .assembly import ADJOINT_SWEEP, Derivative
from .errors import Location
from .syntax import Comment, function_def, to_source

_INDENT = "    "


def derivative_source(derivative: Derivative) -> str:
    """The derivative's source text, as ``s2sad.source`` shows it."""
    return function_source(derivative.tree, derivative)


def function_source(tree: gast.FunctionDef, derivative: Derivative) -> str:
    """Source text of one generated function of ``derivative``."""
    printer = _Printer(derivative)
    printer.function(tree)
    return "\n".join(printer.lines) + "\n"


class _Printer:
    def __init__(self, derivative: Derivative):
        self.parsed = derivative.function.parsed
        self.lines: list[str] = []
        self.in_adjoint = False
        self.last_line: int | None = None

    def function(self, tree: gast.FunctionDef) -> None:
        header = function_def(tree.name, tree.args, [gast.Pass()], 1)
        self.lines.append(to_source(header).splitlines()[0])
        self.block(tree.body, 1)

    def block(self, statements, depth: int) -> None:
        for statement in statements:
            self.statement(statement, depth)

    def statement(self, statement, depth: int) -> None:
        indent = _INDENT * depth
        if isinstance(statement, Comment):
            if statement.text == ADJOINT_SWEEP:
                self.in_adjoint = True
            self.lines.append(f"{indent}# {statement.text}")
            return
        self.comment_for(statement, indent)
        if isinstance(statement, gast.If):
            body, orelse = statement.body, statement.orelse
            if _empty(body) and orelse and not _is_elif(orelse):
                # `if c: pass / else: X` reads better as `if not c: X`
                self.lines.append(f"{indent}if not {_expr(statement.test)}:")
                self.block(orelse, depth + 1)
                return
            self.lines.append(f"{indent}if {_expr(statement.test)}:")
            self.block(body, depth + 1)
            while _is_elif(orelse):
                inner = orelse[0]
                self.lines.append(f"{indent}elif {_expr(inner.test)}:")
                self.block(inner.body, depth + 1)
                orelse = inner.orelse
            if orelse:
                self.lines.append(f"{indent}else:")
                self.block(orelse, depth + 1)
        elif isinstance(statement, gast.For):
            self.lines.append(f"{indent}for {_expr(statement.target)} in {_expr(statement.iter)}:")
            self.block(statement.body, depth + 1)
        elif isinstance(statement, gast.While):
            self.lines.append(f"{indent}while {_expr(statement.test)}:")
            self.block(statement.body, depth + 1)
        elif _is_docstring(statement):
            self.lines.append(f'{indent}"""{statement.value.value}"""')
        elif isinstance(statement, gast.Return) and isinstance(statement.value, gast.Tuple):
            self.lines.append(f"{indent}return {_expr(statement.value)}")
        else:
            text = to_source(statement)
            self.lines.extend(indent + line for line in text.splitlines())

    def comment_for(self, statement, indent: str) -> None:
        """Name the user's line before each group of adjoint statements."""
        line = getattr(statement, "lineno", None)
        if not self.in_adjoint or not line or line == self.last_line:
            return
        self.last_line = line
        text = self.parsed.source_line(line)
        if text:
            self.lines.append(f"{indent}# line {line}: {text}")


def _empty(statements) -> bool:
    return all(isinstance(s, gast.Pass) for s in statements)


def _is_elif(orelse) -> bool:
    return len(orelse) == 1 and isinstance(orelse[0], gast.If)


def _is_docstring(statement) -> bool:
    return (
        isinstance(statement, gast.Expr)
        and isinstance(statement.value, gast.Constant)
        and isinstance(statement.value.value, str)
        and '"""' not in statement.value.value
    )


def _expr(node) -> str:
    text = to_source(node)
    if text.startswith("(") and text.endswith(")") and isinstance(node, gast.Tuple):
        return text[1:-1]
    return text


def _closure(code: types.CodeType, function, bindings: dict) -> tuple:
    """Closure cells for ``code``: the user's own cells, then s2sad's bindings (a helper's
    forward/backward functions are cells shared with the other functions that call them)."""
    from .calls import HelperRef

    cells = dict(zip(function.__code__.co_freevars, function.__closure__ or ()))
    closure = []
    for name in code.co_freevars:
        value = bindings.get(name, _MISSING)
        if value is _MISSING:
            closure.append(cells[name])
        elif isinstance(value, HelperRef):
            closure.append(value.cell())
        else:
            closure.append(types.CellType(value))
    return tuple(closure)


_MISSING = object()


def _bind(code: types.CodeType, function, bindings: dict, defaults=True) -> types.FunctionType:
    compiled = types.FunctionType(
        code,
        function.__globals__,
        code.co_name,
        function.__defaults__ if defaults else None,
        _closure(code, function, bindings),
    )
    if defaults:
        compiled.__kwdefaults__ = dict(function.__kwdefaults__ or {}) or None
    return compiled


@dataclass(frozen=True)
class CompiledDerivative:
    """Compiled code for one derivative, ready to be bound to any function sharing its code.

    ``source`` is what ``s2sad.source`` shows: the derivative, after the forward/backward
    pairs of the helpers it calls.
    """

    source: str
    filename: str
    code: types.CodeType
    bindings: dict
    seed_name: str | None
    output_location: Location | None = None
    guards: tuple = ()  # (globals, name, object): see s2sad.cache.current
    texts: dict = field(default_factory=dict)  # the generated file's name → its text

    def bind(self, function) -> types.FunctionType:
        """A live function: ``function``'s globals and closure cells, plus s2sad's names."""
        return _bind(self.code, function, self.bindings)


@dataclass
class CompiledSplit:
    """The forward/backward pair of a helper, bound once per function object."""

    source: str
    forward: types.CodeType
    backward: types.CodeType
    bindings: dict
    guards: tuple = ()
    texts: dict = field(default_factory=dict)  # each generated file's name → its text
    _bound: dict = field(default_factory=dict)

    def cells(self, function) -> dict[str, types.CellType]:
        """Cells holding the bound pair; created empty first, so recursion finds them."""
        if id(function) not in self._bound:
            cells = {
                "forward": types.CellType(),
                "backward": types.CellType(),
                "function": function,
            }
            self._bound[id(function)] = cells
            cells["forward"].cell_contents = _bind(self.forward, function, self.bindings)
            cells["backward"].cell_contents = _bind(
                self.backward, function, self.bindings, defaults=False
            )
        return self._bound[id(function)]


def compile_function(
    tree_source: str, filename: str, closure_names: set[str], name: str
) -> types.CodeType:
    """Compile the source of one generated function whose free names are ``closure_names``;
    line numbers stay those of ``tree_source``, registered in linecache under ``filename``."""
    module = ast.parse(tree_source, filename=filename)
    inner = module.body[0]
    at = {"lineno": 1, "col_offset": 0, "end_lineno": 1, "end_col_offset": 0}
    fields = dict(
        name="s2sad_factory",
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=n, **at) for n in sorted(closure_names)],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        ),
        body=[inner, ast.Return(value=ast.Name(id=inner.name, ctx=ast.Load(), **at), **at)],
        decorator_list=[],
        returns=None,
        **at,
    )
    if "type_params" in ast.FunctionDef._fields:  # Python 3.12+
        fields["type_params"] = []
    factory = ast.FunctionDef(**fields)  # located by hand: fix_missing_locations walks it all
    code = compile(ast.Module(body=[factory], type_ignores=[]), filename, "exec")
    register_lines(filename, tree_source)
    return _find_code(_find_code(code, "s2sad_factory"), name)


def register_lines(filename: str, text: str) -> None:
    """Let tracebacks (through ``linecache``) show the lines of the generated ``filename``."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)


def compile_derivative(
    derivative: Derivative, source: str, filename: str, helpers: str = "", guards: tuple = ()
) -> CompiledDerivative:
    """Compile ``source`` (the printed ``derivative``) under ``filename``."""
    parsed = derivative.function.parsed
    names = set(parsed.closure) | set(derivative.bindings)
    code = compile_function(source, filename, names, derivative.tree.name)
    output = parsed.location(derivative.function.tree.body[-1])
    return CompiledDerivative(
        helpers + source,
        filename,
        code,
        dict(derivative.bindings),
        derivative.seed_name,
        output,
        guards,
        {filename: source},
    )


def compile_split(
    derivative: Derivative, forward, backward, filename: str, helpers: str = "", guards=()
) -> CompiledSplit:
    """Compile a helper's forward and backward functions."""
    names = set(derivative.function.parsed.closure) | set(derivative.bindings)
    sources = [function_source(tree, derivative) for tree in (forward, backward)]
    filenames = [f"{filename[:-1]} {tree.name}>" for tree in (forward, backward)]
    codes = [
        compile_function(text, name, names, tree.name)
        for text, name, tree in zip(sources, filenames, (forward, backward))
    ]
    return CompiledSplit(
        helpers + "\n".join(sources),
        codes[0],
        codes[1],
        dict(derivative.bindings),
        guards,
        dict(zip(filenames, sources)),
    )


def _find_code(code: types.CodeType, name: str) -> types.CodeType:
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    raise LookupError(name)  # pragma: no cover - the factory always defines it


_USER_LINE = re.compile(r"# line (\d+):")
_DEFINED_AT = re.compile(r"\(([^()]+):(\d+)\) with respect to")


def user_location(traceback) -> Location | None:
    """Where in the user's code a running derivative was when it raised: the ``# line N:``
    comment above the generated line, in the file its docstring names (the ``def`` line
    when no comment comes first). None when no generated code is in ``traceback``."""
    found = None
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if code.co_filename.startswith("<s2sad:"):
            found = (code.co_filename, traceback.tb_lineno)  # the innermost one counts
        traceback = traceback.tb_next
    if found is None:
        return None
    filename, line = found
    user_line = None
    for text in reversed(linecache.getlines(filename)[:line]):
        text = text.strip()
        match = _USER_LINE.match(text)
        if match and user_line is None:
            user_line = int(match.group(1))
        defined = _DEFINED_AT.search(text) if text.startswith('"""') else None
        if defined:
            return Location(defined.group(1), user_line or int(defined.group(2)))
    return None
