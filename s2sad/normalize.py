"""Rewrite a user function into the core language: one operation per assignment.

Before::

    def f(x, a):
        y = x * a + math.sin(x)
        return y

After (``normalize(parse_function(f)).tree``)::

    def f(x, a):
        x_times_a = x * a
        sin_x = math.sin(x)
        y = x_times_a + sin_x
        return y

The core language has: ``name = <operation on names and constants>``,
``name[index] = atom``, ``f(atoms)`` as a statement, ``if name:``, ``for name in range(atoms)``
or ``for name in name:``, ``while name:``, ``break``, ``raise``/``assert`` (kept as written),
and one final ``return atom``. Jumps (``return`` inside the body, ``continue``, ``break``
followed by more code) were already made structured by :mod:`s2sad.jumps`. Every emitted
statement keeps the line number of the user statement it came from.
"""

from __future__ import annotations

import builtins
import inspect
from collections import Counter
from dataclasses import dataclass, field

import gast

from . import jumps
from .comprehensions import CONSUMERS, loops, name_counts
from .errors import UnsupportedSyntaxError
from .iteration import lower_block, lower_iterations
from .lifting import lift
from .names import Namer, describe
from .parse import UNRESOLVED, ParsedFunction, method_guards
from .syntax import (
    assign,
    clone,
    const,
    for_statement,
    function_def,
    if_statement,
    load,
    names_stored,
    set_line,
    store,
    walk,
)


@dataclass
class NormalizedFunction:
    """The core-language tree of a user function and what later stages need to know about it."""

    parsed: ParsedFunction
    tree: gast.FunctionDef
    namer: Namer
    temporaries: set[str] = field(default_factory=set)
    #: ids of the statements ``z = z + e`` written ``z += e`` (in place, for an array)
    in_place: set[int] = field(default_factory=set)
    #: ``c[i] += e`` becomes ``old = c[i]; new = old + e; c[i] = new``: the id of that last
    #: statement → ``old`` (for a list or dict c, NumPy changes the array ``old`` itself)
    updated_items: dict[int, str] = field(default_factory=dict)

    @property
    def output(self) -> gast.expr:
        """The atom the function returns."""
        return self.tree.body[-1].value

    @property
    def parameters(self) -> list[str]:
        args = self.tree.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        params += [a for a in (args.vararg, args.kwarg) if a is not None]
        return [p.id for p in params]


_UNSUPPORTED_STATEMENTS = {
    gast.With: "a `with` statement",
    gast.AsyncWith: "an `async with` statement",
    gast.Try: "a `try` statement",
    gast.Global: "a `global` declaration",
    gast.Nonlocal: "a `nonlocal` declaration",
    gast.Delete: "a `del` statement",
    gast.ClassDef: "a class definition inside a differentiated function",
    gast.AsyncFor: "an `async for` loop",
    gast.AsyncFunctionDef: "an `async def` inside a differentiated function",
    gast.Import: "an `import` inside a differentiated function (import at module level)",
    gast.ImportFrom: "an `import` inside a differentiated function (import at module level)",
}
_UNSUPPORTED_EXPRESSIONS = {
    gast.Lambda: "a lambda other than one assigned to a name (`act = lambda z: ...`)",
    gast.SetComp: "a set comprehension",
    gast.GeneratorExp: "a generator expression other than as the argument of sum, min, max, "
    "any, all, list, tuple or sorted (write a list comprehension or a for loop)",
    gast.Await: "`await`",
    gast.Yield: "`yield` (generators)",
    gast.YieldFrom: "`yield from` (generators)",
    gast.NamedExpr: "an assignment expression (`:=`)",
    gast.Starred: "`*` unpacking in an expression",
    gast.Set: "a set display (sets are unordered: use a tuple or a list)",
}


def normalize(parsed: ParsedFunction, namer: Namer | None = None) -> NormalizedFunction:
    """The core-language form of ``parsed`` (which is not modified)."""
    tree = clone(parsed.tree)
    if namer is None:
        namer = Namer(_all_names(tree))
    structured = jumps.restructure(tree, parsed, namer)
    structured = lower_iterations(structured, parsed, namer)
    normalizer = _Normalizer(parsed, namer)
    normalizer.function_name = tree.name if tree.name != "lambda_" else "result"
    body = normalizer.block(structured.body)
    if not body or not isinstance(body[-1], gast.Return):
        body.append(gast.Return(value=const(None)))
        body[-1].lineno = tree.lineno
    tree.body = body
    tree.returns = None
    return NormalizedFunction(
        parsed,
        tree,
        namer,
        normalizer.temporaries,
        normalizer.in_place,
        normalizer.updated_items,
    )


def _all_names(tree: gast.AST) -> set[str]:
    """Names a fresh name must avoid: the function's own, and builtins generated code uses."""
    used = {node.id for node in walk(tree) if isinstance(node, gast.Name)}
    return used | set(dir(builtins))


class _Normalizer:
    """Turns statements into core statements; ``self.out`` collects what one statement emits."""

    def __init__(self, parsed: ParsedFunction, namer: Namer):
        self.parsed = parsed
        self.namer = namer
        self.temporaries: set[str] = set()
        self.in_place: set[int] = set()  # ids of z = z + e statements written z += e
        self.updated_items: dict[int, str] = {}  # c[i] = new, written c[i] += e → old
        self.out: list[gast.stmt] = []
        self.line: int | None = None
        self.function_name = "result"
        self.captures: dict[str, list[str]] = {}  # lifted nested def → the names it captures
        self.counts: Counter | None = None  # how often each name occurs in the function
        self.comprehending: set[str] = set()  # variables of the comprehensions being written

    # ----- statements -----------------------------------------------------------------
    def block(self, statements: list[gast.stmt]) -> list[gast.stmt]:
        saved, self.out = self.out, []
        for statement in statements:
            self.line = getattr(statement, "lineno", self.line)
            handler = getattr(self, f"visit_{type(statement).__name__}", None)
            if handler is None:
                what = _UNSUPPORTED_STATEMENTS.get(type(statement), f"`{type(statement).__name__}`")
                raise UnsupportedSyntaxError(what, self.parsed.location(statement))
            handler(statement)
        result, self.out = self.out, saved
        return result

    def emit(self, statement: gast.stmt) -> None:
        if getattr(statement, "lineno", None) is None:
            statement.lineno = self.line
        self.out.append(statement)

    def visit_Assign(self, node: gast.Assign) -> None:
        targets = node.targets
        if len(targets) == 1 and isinstance(node.value, gast.Lambda):
            if isinstance(targets[0], gast.Name):  # act = lambda z: ...: a nested def
                body = [gast.copy_location(gast.Return(value=node.value.body), node.value)]
                definition = function_def(targets[0].id, node.value.args, body)
                self.visit_FunctionDef(gast.copy_location(definition, node))
                return
        if len(targets) == 1:
            self.assign_to(targets[0], node.value)
            return
        value = self.atom(node.value, keep_names=False)
        for target in targets:
            self.assign_to(target, value)

    def visit_AnnAssign(self, node: gast.AnnAssign) -> None:
        if node.value is not None:
            self.assign_to(node.target, node.value)

    def visit_AugAssign(self, node: gast.AugAssign) -> None:
        target = node.target
        if isinstance(target, gast.Name):
            value = self.atom(node.value)
            rebind = assign(target.id, gast.BinOp(left=load(target.id), op=node.op, right=value))
            self.in_place.add(id(rebind))
            self.emit(rebind)
            return
        if isinstance(target, gast.Subscript):
            container = self.atom(target.value)
            index = self.index(target.slice)
            old = self.atom(gast.Subscript(value=container, slice=index, ctx=gast.Load()))
            new = self.atom(gast.BinOp(left=old, op=node.op, right=node.value))
            store = assign(
                gast.Subscript(value=clone(container), slice=clone(index), ctx=gast.Store()), new
            )
            if isinstance(old, gast.Name):
                self.updated_items[id(store)] = old.id
            self.emit(store)
            return
        raise UnsupportedSyntaxError("augmented assignment to an attribute", self.location(node))

    def visit_Expr(self, node: gast.Expr) -> None:
        value = node.value
        if isinstance(value, gast.Constant):
            return  # a docstring or a stray literal
        if (
            isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and value.func.attr == "extend"
            and isinstance(value.func.value, gast.Name)
            and len(value.args) == 1
            and isinstance(value.args[0], gast.List)  # L + (a, b) would raise
            and not value.keywords
            and self.parsed.resolve(value.func) is UNRESOLVED
        ):  # L.extend(v) is L += v, which s2sad differentiates
            extended = gast.AugAssign(
                target=store(value.func.value.id), op=gast.Add(), value=value.args[0]
            )
            self.visit_AugAssign(gast.copy_location(extended, node))
            return
        if isinstance(value, gast.Call):
            self.emit(gast.Expr(value=self.operation(value)))
            return
        self.operation(value)  # evaluated for its errors, like Python would

    def visit_Pass(self, node: gast.Pass) -> None:
        pass

    def visit_FunctionDef(self, node: gast.FunctionDef) -> None:
        calls = sum(
            1
            for n in walk(self.parsed.tree)
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == node.name
        )
        loads = sum(
            1
            for n in walk(self.parsed.tree)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id == node.name
        )
        if loads != calls:
            raise UnsupportedSyntaxError(
                f"using the function {node.name} defined inside other than by calling it",
                self.location(node),
            )
        if node.name in self.captures:
            raise UnsupportedSyntaxError(
                f"defining a function named {node.name} twice inside a differentiated function",
                self.location(node),
                hint="give the two definitions different names",
            )
        lifted = lift(node, self.parsed)
        self.parsed.supplied[node.name] = lifted.function
        self.captures[node.name] = lifted.captured

    def visit_Break(self, node: gast.Break) -> None:
        self.emit(gast.Break())

    def visit_Raise(self, node: gast.Raise) -> None:
        self.emit(node)

    def visit_Assert(self, node: gast.Assert) -> None:
        self.emit(node)

    def visit_Return(self, node: gast.Return) -> None:
        if node.value is None:
            value = const(None)
        elif isinstance(node.value, (gast.Name, gast.Constant)):
            value = self.atom(node.value)
        else:  # the returned value is named after the function: ``loss = ...; return loss``
            name = self.namer.fresh(self.function_name)
            self.temporaries.add(name)
            self.emit(assign(name, self.operation(node.value)))
            value = load(name)
        self.emit(gast.Return(value=value))

    def visit_If(self, node: gast.If) -> None:
        line = self.line
        test = self.atom(node.test)
        assigned = names_stored(gast.Module(body=node.body + node.orelse, type_ignores=[]))
        if isinstance(test, gast.Name) and test.id in assigned:
            test = self.copy_to_temporary(test)  # the adjoint must see the test's entry value
        self.emit(if_statement(test, self.block(node.body), self.block(node.orelse), line))
        self.line = line

    def visit_While(self, node: gast.While) -> None:
        if node.orelse:
            raise UnsupportedSyntaxError("`while ... else`", self.location(node))
        line = self.line
        before = len(self.out)
        test = self.atom(node.test)
        test_statements = self.out[before:]
        body = self.block(node.body)
        body.extend(clone(s) for s in test_statements)
        loop = gast.While(test=test, body=body or [gast.Pass()], orelse=[])
        loop.lineno = line
        self.line = line
        self.emit(loop)

    def visit_For(self, node: gast.For) -> None:
        if node.orelse:
            raise UnsupportedSyntaxError("`for ... else`", self.location(node))
        line = self.line
        if _is_call_to(node.iter, builtins.range, self.parsed) and isinstance(
            node.target, gast.Name
        ):
            args = [self.atom(a) for a in node.iter.args]
            counting = gast.Call(func=clone(node.iter.func), args=args, keywords=[])
            assigned = names_stored(gast.Module(body=node.body, type_ignores=[]))
            steady = not any(isinstance(a, gast.Name) and a.id in assigned for a in args)
            if steady and node.target.id not in assigned:
                body = self.block(node.body)
                self.line = line
                self.emit(for_statement(node.target.id, counting, body, line))
                return
            iterable = self.atom(counting)
        else:
            iterable = self.atom(node.iter)
        assigned = names_stored(gast.Module(body=node.body, type_ignores=[]))
        if isinstance(iterable, gast.Name) and iterable.id in assigned:
            iterable = self.copy_to_temporary(iterable)
        if isinstance(node.target, gast.Name):
            target, unpack = node.target.id, []
        else:
            target = self.namer.fresh("item")
            self.temporaries.add(target)
            unpack = [assign(clone(node.target), load(target), line)]
        body = self.block(unpack + node.body)
        self.line = line
        self.emit(for_statement(target, iterable, body, line))

    # ----- assignment targets ---------------------------------------------------------
    def assign_to(self, target: gast.expr, value: gast.expr) -> None:
        if (
            isinstance(target, gast.Name)
            and isinstance(value, (gast.ListComp, gast.DictComp))
            and target.id not in _names_in(value)
        ):
            self.comprehension(value, target.id)  # ys = [...]: ys is the list built
        elif isinstance(target, gast.Name):
            self.emit(assign(target.id, self.operation(value)))
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value)
        elif isinstance(target, gast.Subscript):
            container = self.atom(target.value)
            index = self.index(target.slice)
            stored = self.atom(value)
            self.emit(
                assign(gast.Subscript(value=container, slice=index, ctx=gast.Store()), stored)
            )
        elif isinstance(target, gast.Starred):
            raise UnsupportedSyntaxError(
                "starred assignment (`a, *rest = ...`)", self.location(target)
            )
        else:
            raise UnsupportedSyntaxError(
                f"assignment to {type(target).__name__.lower()}", self.location(target)
            )

    def unpack(self, target: gast.Tuple | gast.List, value: gast.expr) -> None:
        if any(isinstance(e, gast.Starred) for e in target.elts):
            raise UnsupportedSyntaxError(
                "starred assignment (`a, *rest = ...`)", self.location(target)
            )
        targets_named = names_stored(target)
        if (
            isinstance(value, (gast.Tuple, gast.List))
            and len(value.elts) == len(target.elts)
            and all(isinstance(t, gast.Name) for t in target.elts)
            and not (_names_in(value) & targets_named)
        ):
            for element_target, element in zip(target.elts, value.elts):
                self.assign_to(element_target, element)
            return
        whole = self.atom(value, keep_names=False)
        for position, element_target in enumerate(target.elts):
            element = gast.Subscript(value=clone(whole), slice=const(position), ctx=gast.Load())
            self.assign_to(element_target, element)

    # ----- expressions ----------------------------------------------------------------
    def atom(self, node: gast.expr, keep_names: bool = True) -> gast.expr:
        """An atom with the value of ``node``, emitting what computing it needs."""
        if isinstance(node, gast.Constant) or (keep_names and isinstance(node, gast.Name)):
            return clone(node)
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            operand = node.operand
            if isinstance(operand, gast.Constant) and isinstance(operand.value, (int, float)):
                return const(-operand.value)
        operation = self.operation(node)
        if isinstance(operation, gast.Constant) or (
            keep_names and isinstance(operation, gast.Name)
        ):
            return operation
        name = self.namer.fresh(describe(operation))
        self.temporaries.add(name)
        self.emit(assign(name, operation))
        return load(name)

    def copy_to_temporary(self, name: gast.Name) -> gast.Name:
        copy = self.namer.fresh(f"{name.id}_before")
        self.temporaries.add(copy)
        self.emit(assign(copy, load(name.id)))
        return load(copy)

    def operation(self, node: gast.expr) -> gast.expr:
        """``node`` as one operation whose operands are atoms."""
        if type(node) in _UNSUPPORTED_EXPRESSIONS:
            raise UnsupportedSyntaxError(_UNSUPPORTED_EXPRESSIONS[type(node)], self.location(node))
        handler = getattr(self, f"operation_{type(node).__name__}", None)
        if handler is None:
            return clone(node)  # Name, Constant, f-strings and other inert expressions
        return handler(node)

    def operation_ListComp(self, node: gast.ListComp) -> gast.expr:
        return self.comprehension(node)

    operation_DictComp = operation_ListComp

    def comprehension(self, node, result: str | None = None) -> gast.Name:
        """The loops a comprehension stands for (s2sad.comprehensions), filling ``result``
        (a fresh name when None), which is returned."""
        if any(generator.is_async for generator in node.generators):
            raise UnsupportedSyntaxError("an `async for` comprehension", self.location(node))
        line = self.line
        if result is None:
            result = self.namer.fresh("mapping" if isinstance(node, gast.DictComp) else "items")
            self.temporaries.add(result)
        empty = gast.Dict(keys=[], values=[]) if isinstance(node, gast.DictComp) else None
        self.emit(assign(result, empty or gast.List(elts=[], ctx=gast.Load())))
        if self.counts is None:
            self.counts = name_counts(self.parsed.tree)
        inside = name_counts(node)
        taken = {
            name
            for name in inside
            if self.counts[name] > inside[name]  # used outside this comprehension too
            or name in self.comprehending
            or self.parsed.lookup(name) is not UNRESOLVED  # a global, a builtin
        }
        statements, bound = loops(node, result, self.namer, taken)
        for statement in statements:
            set_line(statement, line)
        saved = self.comprehending
        self.comprehending = saved | bound
        self.out.extend(self.block(lower_block(statements, self.parsed, self.namer)))
        self.comprehending = saved
        self.line = line
        return load(result)

    def super_method(self, func: gast.expr) -> tuple | None:
        """(name, self) for ``super().method`` in a method whose class and ``self``'s class
        the build knows: the function the next class in ``self``'s MRO defines, supplied
        under a fresh name."""
        if not (
            isinstance(func, gast.Attribute)
            and _is_call_to(func.value, builtins.super, self.parsed)
            and not func.value.args
            and self.parsed.tree.args.args
        ):
            return None
        receiver = self.parsed.tree.args.args[0].id
        cls = self.parsed.classes.get(receiver)
        defining = self.parsed.closure.get("__class__")
        if cls is None or not isinstance(defining, type) or defining not in cls.__mro__:
            return None
        after = cls.__mro__[cls.__mro__.index(defining) + 1 :]
        owner = next((k for k in after if func.attr in k.__dict__), None)
        method = owner.__dict__[func.attr] if owner is not None else None
        if not inspect.isfunction(method):
            return None
        self.parsed.class_guards += method_guards(owner, func.attr)
        name = self.namer.fresh(f"{owner.__name__}_{func.attr}")
        self.parsed.supplied[name] = method
        return load(name), load(receiver)

    def operation_BinOp(self, node: gast.BinOp) -> gast.expr:
        return gast.BinOp(left=self.atom(node.left), op=node.op, right=self.atom(node.right))

    def operation_UnaryOp(self, node: gast.UnaryOp) -> gast.expr:
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant):
            if isinstance(node.operand.value, (int, float)):
                return const(-node.operand.value)
        return gast.UnaryOp(op=node.op, operand=self.atom(node.operand))

    def operation_Compare(self, node: gast.Compare) -> gast.expr:
        left = self.atom(node.left)
        if len(node.ops) == 1:
            return gast.Compare(
                left=left, ops=node.ops, comparators=[self.atom(node.comparators[0])]
            )
        # a < b < c: compare pairwise, stopping at the first false comparison
        result = self.namer.fresh("in_order")
        self.temporaries.add(result)
        self._chain(result, left, node.ops, node.comparators)
        return load(result)

    def _chain(self, result, left, ops, comparators) -> None:
        right = self.atom(comparators[0])
        self.emit(assign(result, gast.Compare(left=left, ops=[ops[0]], comparators=[right])))
        if len(ops) > 1:
            saved, self.out = self.out, []
            self._chain(result, right, ops[1:], comparators[1:])
            rest, self.out = self.out, saved
            self.emit(if_statement(load(result), rest))

    def operation_BoolOp(self, node: gast.BoolOp) -> gast.expr:
        result = self.namer.fresh("either" if isinstance(node.op, gast.Or) else "both")
        self.temporaries.add(result)
        self.emit(assign(result, self.operation(node.values[0])))
        for value in node.values[1:]:
            saved, self.out = self.out, []
            self.emit(assign(result, self.operation(value)))
            evaluate_next, self.out = self.out, saved
            # the branch rebinds ``result``: the adjoint tests the value it had before
            test = self.copy_to_temporary(load(result))
            if isinstance(node.op, gast.And):
                self.emit(if_statement(test, evaluate_next))
            else:
                self.emit(if_statement(test, [gast.Pass()], evaluate_next))
            # sequential tests suffice: once ``result`` decides, the later ifs skip
        return load(result)

    def operation_IfExp(self, node: gast.IfExp) -> gast.expr:
        test = self.atom(node.test)
        result = self.namer.fresh("choice")
        self.temporaries.add(result)
        saved, self.out = self.out, []
        self.emit(assign(result, self.operation(node.body)))
        body, self.out = self.out, []
        self.emit(assign(result, self.operation(node.orelse)))
        orelse, self.out = self.out, saved
        self.emit(if_statement(test, body, orelse))
        return load(result)

    def operation_Call(self, node: gast.Call) -> gast.expr:
        func = node.func
        following = self.super_method(func)
        if following is not None:  # super().loss(x) → Base.loss(self, x), under a name
            node = gast.Call(
                func=following[0], args=[following[1], *node.args], keywords=node.keywords
            )
            func = node.func
        if _is_call_to(node, builtins.dict, self.parsed) and not node.args and node.keywords:
            if all(keyword.arg is not None for keyword in node.keywords):  # dict(w=w, b=b)
                keys = [const(keyword.arg) for keyword in node.keywords]
                values = [keyword.value for keyword in node.keywords]
                return self.operation_Dict(gast.Dict(keys=keys, values=values))
        if self.parsed.resolve(func) is not UNRESOLVED:
            func = clone(func)
        elif isinstance(func, gast.Attribute):
            func = gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load())
        else:
            func = self.atom(func)
        captured = self.captures.get(func.id, []) if isinstance(func, gast.Name) else []
        args = []
        consumes = isinstance(func, gast.Name) and any(
            self.parsed.resolve(func) is consumer for consumer in CONSUMERS
        )
        for arg in node.args:
            if isinstance(arg, gast.Starred):
                raise UnsupportedSyntaxError("`*args` in a call", self.location(node))
            if consumes and isinstance(arg, gast.GeneratorExp):  # sum(v * v for v in xs)
                args.append(self.comprehension(arg))
            else:
                args.append(self.atom(arg))
        keywords = []
        for keyword in node.keywords:
            if keyword.arg is None:
                raise UnsupportedSyntaxError("`**kwargs` in a call", self.location(node))
            keywords.append(gast.keyword(arg=keyword.arg, value=self.atom(keyword.value)))
        keywords += [gast.keyword(arg=name, value=load(name)) for name in captured]
        return gast.Call(func=func, args=args, keywords=keywords)

    def operation_Attribute(self, node: gast.Attribute) -> gast.expr:
        if self.parsed.resolve(node) is not UNRESOLVED:
            return clone(node)
        return gast.Attribute(value=self.atom(node.value), attr=node.attr, ctx=gast.Load())

    def operation_Subscript(self, node: gast.Subscript) -> gast.expr:
        return gast.Subscript(
            value=self.atom(node.value), slice=self.index(node.slice), ctx=gast.Load()
        )

    def operation_Tuple(self, node: gast.Tuple) -> gast.expr:
        return gast.Tuple(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())

    def operation_List(self, node: gast.List) -> gast.expr:
        return gast.List(elts=[self.atom(e) for e in node.elts], ctx=gast.Load())

    def operation_Dict(self, node: gast.Dict) -> gast.expr:
        if any(key is None for key in node.keys):
            raise UnsupportedSyntaxError("`**` unpacking in a dict display", self.location(node))
        return gast.Dict(
            keys=[self.atom(k) for k in node.keys], values=[self.atom(v) for v in node.values]
        )

    def index(self, node: gast.expr) -> gast.expr:
        """A subscript's index with atoms for every computed part (slices kept as slices)."""
        if isinstance(node, gast.Slice):
            parts = [
                None if p is None else self.atom(p) for p in (node.lower, node.upper, node.step)
            ]
            return gast.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node)

    def location(self, node: gast.AST):
        """The user's file:line of ``node``, or of the statement being normalised."""
        if getattr(node, "lineno", None) is None:
            return self.parsed.location(None if self.line is None else _Line(self.line))
        return self.parsed.location(node)


class _Line:
    def __init__(self, lineno: int):
        self.lineno = lineno


def _call_builtin(name: str, args: list[gast.expr]) -> gast.Call:
    return gast.Call(func=load(name), args=[clone(a) for a in args], keywords=[])


def _is_call_to(node: gast.expr, function, parsed: ParsedFunction) -> bool:
    return isinstance(node, gast.Call) and parsed.resolve(node.func) is function


def _names_in(node: gast.AST) -> set[str]:
    return {n.id for n in walk(node) if isinstance(n, gast.Name)}


__all__ = ["NormalizedFunction", "normalize", "store"]
