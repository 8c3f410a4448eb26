"""Make ``return`` inside the body, ``continue`` and ``break`` structured, before normalisation.

The adjoint sweep replays statements in reverse, so it must know which statements ran.
After this pass every statement list runs to its end or leaves its loop through a
``break`` that is the last statement of its branch; code that used to follow a jump is
moved into the other branch of the ``if`` that jumps, or guarded by a flag.

Before::

    def f(x):
        for i in range(10):
            if x > 100.0:
                break
            x = x * 2.0
        if x > 50.0:
            return x
        return -x

After::

    def f(x):
        for i in range(10):
            if x > 100.0:
                break
            else:
                x = x * 2.0
        if x > 50.0:
            result = x
        else:
            result = -x
        return result

A ``return`` inside a loop sets ``result`` and ``returned`` and breaks; after the loop,
``if returned:`` jumps on outwards. Where no ``if`` can take the rest of a block (a jump
nested two ``if``s deep), the jump sets a flag ``proceed = False`` and the rest of the block
runs under ``if proceed:``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gast

from .names import Namer
from .parse import ParsedFunction
from .syntax import assign, const, if_statement, load, walk

_LOOPS = (gast.For, gast.While)


class _Jump(gast.stmt):
    """A jump already accounted for: ``kind`` is "return" or "continue"; removed at the end."""

    _fields = ("kind",)


@dataclass
class _Context:
    in_loop: bool
    proceed: str | None = None  # the guard flag of this loop body (or of the function)
    has_return: bool = False


@dataclass
class _Names:
    result: str | None = None
    returned: str | None = None


def restructure(tree: gast.FunctionDef, parsed: ParsedFunction, namer: Namer) -> gast.FunctionDef:
    """Rewrite ``tree`` in place so that no jump is followed by code in its block."""
    if _only_final_return(tree.body):
        return tree
    return _Restructure(namer).function(tree)


def _only_final_return(body: list[gast.stmt]) -> bool:
    """True when the only return is the function's last statement and no loop jumps early."""
    returns = [n for s in body for n in walk(s) if isinstance(n, gast.Return)]
    if not returns:
        return not _has_loop_jumps(body)
    return len(returns) == 1 and body[-1] is returns[0] and not _has_loop_jumps(body)


def _has_loop_jumps(body: list[gast.stmt]) -> bool:
    return any(isinstance(n, (gast.Break, gast.Continue)) for s in body for n in walk(s))


class _Restructure:
    def __init__(self, namer: Namer):
        self.namer = namer
        self.names = _Names()

    def function(self, tree: gast.FunctionDef) -> gast.FunctionDef:
        context = _Context(in_loop=False)
        body = self.block(tree.body, context, top=True)
        body = _remove_marks(body)
        prologue = []
        line = tree.lineno
        if context.proceed:
            prologue.append(assign(context.proceed, const(True), line))
        if self.names.returned:
            prologue.append(assign(self.names.returned, const(False), line))
        if self.names.result:
            prologue.insert(0, assign(self.names.result, const(None), line))
            last_line = getattr(tree.body[-1], "lineno", line) if tree.body else line
            final = gast.Return(value=load(self.names.result))
            final.lineno = last_line
            body.append(final)
        tree.body = prologue + body
        return tree

    def block(self, statements, context: _Context, top: bool = False) -> list[gast.stmt]:
        out: list[gast.stmt] = []
        for position, statement in enumerate(statements):
            rest = statements[position + 1 :]
            if isinstance(statement, gast.Return):
                if top and not rest:
                    out.append(statement)  # the function's own last line stays as written
                else:
                    out.extend(self.return_jump(statement, context))
                return out
            if isinstance(statement, gast.Break):
                out.append(statement)
                return out
            if isinstance(statement, gast.Continue):
                out.append(_located(_Jump(kind="continue"), statement))
                return out
            if isinstance(statement, gast.If):
                statement.body = self.block(statement.body, context)
                statement.orelse = self.block(statement.orelse, context)
                statements_here = [statement]
            elif isinstance(statement, _LOOPS):
                statements_here = self.loop(statement, context)
            else:
                statements_here = [statement]
            out.extend(statements_here[:-1])
            statement = statements_here[-1]
            kinds = _escapes([statement])
            if not kinds or not rest:
                out.append(statement)
                continue
            if isinstance(statement, gast.If) and self.move_rest_into_branch(
                statement, rest, context
            ):
                out.append(statement)
                return out
            flag = self.proceed_flag(context)
            _set_flag_before_jumps(statement, flag)
            out.append(statement)
            guarded = if_statement(load(flag), self.block(rest, context, top=False))
            guarded.lineno = getattr(rest[0], "lineno", None)
            out.append(guarded)
            return out
        return out

    def move_rest_into_branch(self, statement: gast.If, rest, context) -> bool:
        """``if c: <jump>`` followed by more code: put that code in the other branch."""
        body_jumps, else_jumps = _always_jumps(statement.body), _always_jumps(statement.orelse)
        if body_jumps and not _escapes(statement.orelse):
            statement.orelse = statement.orelse + self.block(rest, context, top=False)
            return True
        if else_jumps and not _escapes(statement.body):
            statement.body = statement.body + self.block(rest, context, top=False)
            return True
        return False

    def return_jump(self, statement: gast.Return, context: _Context) -> list[gast.stmt]:
        if self.names.result is None:
            self.names.result = self.namer.fresh("result")
        value = statement.value if statement.value is not None else const(None)
        jump = [_located(assign(self.names.result, value), statement)]
        if context.in_loop:
            context.has_return = True
            if self.names.returned is None:
                self.names.returned = self.namer.fresh("returned")
            jump.append(_located(assign(self.names.returned, const(True)), statement))
            jump.append(_located(gast.Break(), statement))
        else:
            jump.append(_located(_Jump(kind="return"), statement))
        return jump

    def loop(self, node, context: _Context) -> list[gast.stmt]:
        inner = _Context(in_loop=True)
        body = _remove_marks(self.block(node.body, inner))
        if inner.proceed:
            body.insert(0, _located(assign(inner.proceed, const(True)), node))
        node.body = body or [gast.Pass()]
        if not inner.has_return:
            return [node]
        if context.in_loop:
            context.has_return = True
            onwards = _located(gast.Break(), node)
        else:
            onwards = _located(_Jump(kind="return"), node)
        after = if_statement(load(self.names.returned), [onwards])
        after.lineno = node.lineno
        return [node, after]

    def proceed_flag(self, context: _Context) -> str:
        if context.proceed is None:
            context.proceed = self.namer.fresh("proceed")
        return context.proceed


def _located(node, like):
    node.lineno = getattr(like, "lineno", None)
    return node


def _is_jump(statement) -> bool:
    return isinstance(statement, (gast.Break, _Jump))


def _escapes(statements) -> set[str]:
    """The jumps that leave ``statements`` without leaving the current loop's body."""
    kinds = set()
    for statement in statements:
        if isinstance(statement, gast.Break):
            kinds.add("break")
        elif isinstance(statement, _Jump):
            kinds.add(statement.kind)
        elif isinstance(statement, gast.If):
            kinds |= _escapes(statement.body) | _escapes(statement.orelse)
    return kinds


def _always_jumps(statements) -> bool:
    if not statements:
        return False
    last = statements[-1]
    if _is_jump(last):
        return True
    if isinstance(last, gast.If):
        return _always_jumps(last.body) and _always_jumps(last.orelse)
    return False


def _set_flag_before_jumps(statement, flag: str) -> None:
    if isinstance(statement, gast.If):
        for block in (statement.body, statement.orelse):
            for position in range(len(block) - 1, -1, -1):
                inner = block[position]
                if _is_jump(inner):
                    block.insert(position, _located(assign(flag, const(False)), inner))
                else:
                    _set_flag_before_jumps(inner, flag)


def _remove_marks(statements) -> list[gast.stmt]:
    """Drop the ``_Jump`` marks (their work is done) from every nested if-branch."""
    kept = []
    for statement in statements:
        if isinstance(statement, _Jump):
            continue
        if isinstance(statement, gast.If):
            statement.body = _remove_marks(statement.body) or [gast.Pass()]
            statement.orelse = [
                s for s in _remove_marks(statement.orelse) if not isinstance(s, gast.Pass)
            ]
        kept.append(statement)
    return kept
