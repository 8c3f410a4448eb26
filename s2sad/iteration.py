"""Loops over ``enumerate``, ``zip`` and ``reversed`` become loops over ``range`` that index
the sequences.

The adjoint of a loop element must go back to its place in the sequence, so the index has
to be there. Before::

    for i, (u, v) in enumerate(zip(a, b)):
        x = x * u + v * i

After::

    n_a = min(len(a), len(b))
    for k in range(n_a):
        i = k
        u = a[k]
        v = b[k]
        x = x * u + v * i

Sequences are evaluated once, before the loop, as Python does (a sequence the body
reassigns is kept under a name of its own). This needs sequences one can index: lists,
tuples, arrays, ranges, strings; not dict views or generators.
"""

from __future__ import annotations

import builtins

import gast

from .names import Namer
from .parse import ParsedFunction
from .syntax import assign, call, clone, const, is_dict_view, load, names_stored, store


def lower_iterations(
    tree: gast.FunctionDef, parsed: ParsedFunction, namer: Namer
) -> gast.FunctionDef:
    """Rewrite every ``for`` over ``enumerate``/``zip`` in ``tree`` (in place)."""
    _Lower(parsed, namer).visit(tree)
    return tree


def lower_block(statements: list, parsed: ParsedFunction, namer: Namer) -> list:
    """``lower_iterations`` for statements made after it ran (a comprehension's loops)."""
    module = gast.Module(body=statements, type_ignores=[])
    _Lower(parsed, namer).generic_visit(module)
    return module.body


class _Lower(gast.NodeTransformer):
    def __init__(self, parsed: ParsedFunction, namer: Namer):
        self.parsed = parsed
        self.namer = namer

    def visit_FunctionDef(self, node):
        if node is not self.parsed.tree and getattr(self, "_seen", False):
            return node  # a nested def is lowered when it is differentiated itself
        self._seen = True
        self.generic_visit(node)
        return node

    def generic_visit(self, node):
        """Visit the statements of ``node``'s blocks only: expressions hold no loops."""
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if block.__class__ is not list:
                continue
            rewritten = []
            for statement in block:
                result = self.visit(statement)
                if isinstance(result, list):
                    rewritten.extend(result)
                elif result is not None:
                    rewritten.append(result)
            block[:] = rewritten
        return node

    def builtin(self, name: str) -> str:
        """The name generated code can use for a builtin here (a fresh one, supplied by
        s2sad, when a local variable shadows it)."""
        function = getattr(builtins, name)
        if self.parsed.lookup(name) is function:
            return name
        fresh = self.namer.fresh(name)
        self.parsed.supplied[fresh] = function
        return fresh

    def visit_For(self, node: gast.For):
        self.generic_visit(node)
        view = _dict_view(node)
        if view is not None:  # for v in d.values() / for k, v in d.items(): by key
            mapping, kind = view
            key = node.target.elts[0] if kind == "items" else store(self.namer.fresh("key"))
            value = node.target.elts[1] if kind == "items" else node.target
            read = gast.Subscript(value=clone(mapping), slice=load(key.id), ctx=gast.Load())
            node.target = store(key.id)
            node.iter = clone(mapping)
            node.body = [_at(assign(clone(value), read), getattr(node, "lineno", None)), *node.body]
            return node
        iterable = node.iter
        backwards = self._calls(iterable, builtins.reversed) and len(iterable.args) == 1
        if backwards and not self._calls(iterable.args[0], builtins.range):
            iterable = iterable.args[0]  # for v in reversed(x): by index, from the end
        elif not (self._calls(iterable, builtins.enumerate) or self._calls(iterable, builtins.zip)):
            return node
        else:
            backwards = False
        line = getattr(node, "lineno", None)
        reassigned = names_stored(gast.Module(body=node.body, type_ignores=[]))
        before: list[gast.stmt] = []
        sequences: list[gast.expr] = []
        index = self.namer.fresh("k")
        plan = self._plan(node.target, iterable, sequences, before, reassigned, index, line)
        lengths = [call(load(self.builtin("len")), [clone(s)]) for s in sequences]
        count = lengths[0] if len(lengths) == 1 else call(load(self.builtin("min")), lengths)
        first = sequences[0].id if isinstance(sequences[0], gast.Name) else "items"
        count_name = self.namer.fresh(f"n_{first}")
        before.append(_at(assign(count_name, count), line))
        body = [_at(assign(clone(target), value), line) for target, value in plan] + node.body
        counting = [load(count_name)]
        if backwards:  # range(n - 1, -1, -1)
            last = gast.BinOp(left=load(count_name), op=gast.Sub(), right=const(1))
            counting = [last, const(-1), const(-1)]
        loop = gast.For(
            target=gast.Name(id=index, ctx=gast.Store(), annotation=None, type_comment=None),
            iter=call(load(self.builtin("range")), counting),
            body=body,
            orelse=[],
            type_comment=None,
        )
        return [*before, _at(loop, line)]

    def _calls(self, node, function) -> bool:
        return isinstance(node, gast.Call) and self.parsed.resolve(node.func) is function

    def _plan(self, target, iterable, sequences, before, reassigned, index, line):
        """(target, element expression) pairs for one level of enumerate/zip."""
        is_pair = isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2
        if self._calls(iterable, builtins.enumerate) and is_pair and iterable.args:
            start = iterable.args[1] if len(iterable.args) > 1 else None
            for keyword in iterable.keywords:
                if keyword.arg == "start":
                    start = keyword.value
            position = load(index)
            if start is not None:
                position = gast.BinOp(left=position, op=gast.Add(), right=clone(start))
            count_target, element_target = target.elts
            inner = self._plan(
                element_target, iterable.args[0], sequences, before, reassigned, index, line
            )
            return [(count_target, position), *inner]
        if (
            self._calls(iterable, builtins.zip)
            and isinstance(target, (gast.Tuple, gast.List))
            and len(target.elts) == len(iterable.args)
            and not iterable.keywords
        ):
            plan = []
            for element_target, source in zip(target.elts, iterable.args):
                plan += self._plan(
                    element_target, source, sequences, before, reassigned, index, line
                )
            return plan
        backwards = self._calls(iterable, builtins.reversed) and len(iterable.args) == 1
        if backwards and not self._calls(iterable.args[0], builtins.range):
            # zip(reversed(a), b): a read from its end, at len(a) - 1 - k
            (item, element), *more = self._plan(
                target, iterable.args[0], sequences, before, reassigned, index, line
            )
            if not more and isinstance(element, gast.Subscript):
                sequence = element.value
                length = self.namer.fresh(f"n_{getattr(sequence, 'id', 'items')}")
                before.append(
                    _at(assign(length, call(load(self.builtin("len")), [clone(sequence)])), line)
                )
                last = gast.BinOp(left=load(length), op=gast.Sub(), right=const(1))
                element.slice = gast.BinOp(left=last, op=gast.Sub(), right=load(index))
                return [(item, element)]
        sequence = iterable
        if self._calls(sequence, builtins.reversed) or is_dict_view(sequence):
            sequence = call(load(self.builtin("list")), [sequence])  # indexable, read once
        if not isinstance(sequence, gast.Name) or sequence.id in reassigned:
            # evaluated once, before the loop; the loop walks this object whatever the body does
            base = sequence.id if isinstance(sequence, gast.Name) else "sequence"
            name = self.namer.fresh(f"{base}_items" if isinstance(sequence, gast.Name) else base)
            before.append(_at(assign(name, clone(sequence)), line))
            sequence = load(name)
        sequences.append(sequence)
        element = gast.Subscript(value=clone(sequence), slice=load(index), ctx=gast.Load())
        return [(target, element)]


def _dict_view(node: gast.For):
    """(mapping, "values" | "items") for ``for v in d.values()`` / ``for k, v in d.items()``
    whose mapping is a plain name, else None."""
    iterable = node.iter
    if not (
        isinstance(iterable, gast.Call)
        and isinstance(iterable.func, gast.Attribute)
        and iterable.func.attr in ("values", "items")
        and isinstance(iterable.func.value, gast.Name)
        and not iterable.args
        and not iterable.keywords
    ):
        return None
    kind = iterable.func.attr
    if kind == "items":
        target = node.target
        pair = isinstance(target, (gast.Tuple, gast.List)) and len(target.elts) == 2
        if not (pair and isinstance(target.elts[0], gast.Name)):
            return None
    return iterable.func.value, kind


def _at(node, line):
    if line is not None:
        node.lineno = line
    return node
