"""Optimisation passes on generated code, run to a fixed point.

Before (what :mod:`s2sad.reverse` emits for ``x = x * a + math.sin(x)`` in a loop)::

    for i in range(3):
        x_times_a = x * a
        sin_x = math.sin(x)
        tape.append(x)
        x = x_times_a + sin_x
    ...
    for i in reversed(range(3)):
        dx_times_a = dx_times_a + dx
        dsin_x = dsin_x + dx
        dx = 0.0
        x = tape.pop()
        dx = dx + dsin_x * math.cos(x)
        dsin_x = 0.0
        dx = dx + dx_times_a * a
        da = da + dx_times_a * x
        dx_times_a = 0.0

After::

    for i in range(3):
        tape.append(x)
        x = x * a + math.sin(x)
    ...
    for i in reversed(range(3)):
        x = tape.pop()
        da = da + dx * x
        dx = dx * math.cos(x) + dx * a

The passes: names known to hold ``0.0`` are replaced by it (across branches and loops);
constants and copies are propagated; a temporary used once is folded into its use, and
an assignment ``v = A`` into a following ``v = v + B``; ``0.0 + e``, ``e * 1.0`` and
constant arithmetic fold; a statement that blocks a copy from propagating is moved past
the copy's uses when nothing depends on the order; assignments nobody reads are removed.
Algebraic folding only touches the adjoint sweep's own variables, so the primal sweep
keeps the user's semantics (``y = x + 0.0`` still copies).
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import numbers

import gast

from . import runtime
from .dataflow import EVERYTHING, Effects, liveness, names_bound
from .parse import UNRESOLVED
from .reverse import Derivative
from .rules import lookup
from .syntax import Comment, clone, const

_PURE_BUILTINS = {
    builtins.len,
    builtins.range,
    builtins.reversed,
    builtins.float,
    builtins.int,
    builtins.min,
    builtins.max,
    builtins.abs,
    builtins.tuple,
    builtins.bool,
}
_RUNTIME = {getattr(runtime, name) for name in runtime.__all__} - {runtime.scalar_seed}
_MAX_ROUNDS = 12


def optimize(derivative: Derivative) -> Derivative:
    """An equivalent derivative with fewer, simpler statements."""
    tree = clone(derivative.tree)
    optimizer = _Optimizer(derivative, tree)
    for _ in range(_MAX_ROUNDS):
        changed = optimizer.propagate_zeros()
        changed |= optimizer.simplify()
        changed |= optimizer.remove_dead_code()
        if not changed:
            break
    return dataclasses.replace(derivative, tree=tree)


class _Optimizer:
    def __init__(self, derivative: Derivative, tree: gast.FunctionDef):
        self.derivative = derivative
        self.tree = tree
        self.parsed = derivative.function.parsed
        self.locals = names_bound(tree)
        self.inlinable = derivative.inlinable
        self.adjoints = derivative.adjoint_variables
        self.effects = Effects(self.pure_call, self.locals)

    # ----- what is pure ---------------------------------------------------------------
    def resolve(self, node: gast.expr):
        if isinstance(node, gast.Name):
            if node.id in self.locals:
                return UNRESOLVED
            if node.id in self.derivative.bindings:
                return self.derivative.bindings[node.id]
            return self.parsed.lookup(node.id)
        if isinstance(node, gast.Attribute):
            owner = self.resolve(node.value)
            return UNRESOLVED if owner is UNRESOLVED else getattr(owner, node.attr, UNRESOLVED)
        return UNRESOLVED

    def pure_call(self, call: gast.Call) -> bool:
        func = call.func
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and func.value.id in self.locals
        ):
            rule = lookup(("method", func.attr))
            return rule is not None and func.attr not in ("append", "pop")
        function = self.resolve(func)
        if function is UNRESOLVED:
            return False
        try:
            if function in _RUNTIME or function in _PURE_BUILTINS:
                return True
        except TypeError:
            pass
        return lookup(function) is not None

    # ----- zero propagation -------------------------------------------------------------
    def propagate_zeros(self) -> bool:
        """Replace reads of adjoint variables that certainly hold 0.0 by the constant."""
        zeros = _ZeroPropagation(self)
        zeros.run(self.tree.body)
        return zeros.changed

    # ----- block simplification -------------------------------------------------------
    def simplify(self) -> bool:
        live = liveness(self.tree.body, self.effects)
        return self.simplify_block(self.tree.body, live)

    def simplify_block(self, block: list, live: dict) -> bool:
        changed = False
        for statement in block:
            for inner in _inner_blocks(statement):
                changed |= self.simplify_block(inner, live)
        live_out = live.get(id(block), set())
        position = 0
        while position < len(block):
            if self.forward(block, position, live_out):
                changed = True
                continue
            position += 1
        for statement in block:
            if isinstance(statement, gast.Assign) and self.folds(statement):
                folded = fold(statement.value)
                if self.aliases(statement, folded):
                    continue
                if gast.dump(folded) != gast.dump(statement.value):
                    statement.value = folded
                    changed = True
        return changed

    def aliases(self, statement: gast.Assign, value: gast.expr) -> bool:
        """Whether ``target = value`` would make an in-place-updated adjoint share another
        name's object (``dx = 0.0 + g`` must stay a fresh array when ``dx`` is updated in place)."""
        target = statement.targets[0].id
        return target in self.derivative.accumulators and isinstance(
            value, (gast.Name, gast.Subscript)
        )

    def folds(self, statement: gast.Assign) -> bool:
        target = statement.targets[0]
        return isinstance(target, gast.Name) and target.id in self.adjoints

    def forward(self, block: list, position: int, live_out: set) -> bool:
        """Push the value of ``block[position]`` into its uses when that is safe and simpler."""
        statement = block[position]
        if not (isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name)):
            return False
        name = statement.targets[0].id
        value = statement.value
        effect = self.effects.of(statement)
        if not effect.pure:
            return False
        scope = _Scope(self.effects, block, position, name, value)
        if isinstance(value, gast.Constant) and (name in self.adjoints or name in self.inlinable):
            return scope.substitute_all(clone(value), live_out, self)
        if isinstance(value, gast.Name) and name in self.inlinable:
            if scope.blocked_uses():
                scope.unblock()
                scope = _Scope(self.effects, block, position, name, value)
            return scope.substitute_all(clone(value), live_out, self)
        uses = scope.uses
        if len(uses) != 1 or uses[0][1] != 1 or scope.escapes(live_out):
            return False
        use_position = uses[0][0]
        use = block[use_position]
        accumulates = isinstance(use, gast.Assign) and _assigns(use, name) and name in self.adjoints
        if not (name in self.inlinable or accumulates):
            return False
        if not scope.movable_to(use_position) or not _substitutable(use, name):
            return False
        _replace_loads(use, name, value)
        del block[position]
        return True

    # ----- dead code ----------------------------------------------------------------------
    def remove_dead_code(self) -> bool:
        live = liveness(self.tree.body, self.effects)
        return self.prune(self.tree.body, live)

    def prune(self, block: list, live: dict) -> bool:
        changed = False
        kept = []
        for statement in block:
            for inner in _inner_blocks(statement):
                changed |= self.prune(inner, live)
            if self.dead(statement, live.get(id(statement), set())):
                changed = True
                continue
            kept.append(statement)
        if len(kept) != len(block):
            block[:] = kept
        for statement in block:
            for attribute in ("body", "orelse"):
                inner = getattr(statement, attribute, None)
                if isinstance(inner, list) and attribute == "body" and not inner:
                    inner.append(gast.Pass())
        return changed

    def dead(self, statement, live_after: set) -> bool:
        if isinstance(statement, gast.Assign):
            target, value = statement.targets[0], statement.value
            if not isinstance(target, gast.Name) or not self.effects.is_pure(value):
                return False
            return target.id not in live_after or (
                isinstance(value, gast.Name) and value.id == target.id
            )
        if isinstance(statement, gast.Expr):
            return self.effects.is_pure(statement.value) and not isinstance(
                statement.value, gast.Constant
            )
        if isinstance(statement, gast.If):
            return (
                _empty(statement.body)
                and _empty(statement.orelse)
                and self.effects.is_pure(statement.test)
            )
        if isinstance(statement, gast.For):
            return _empty(statement.body) and self.effects.is_pure(statement.iter)
        return isinstance(statement, gast.Pass)


class _Scope:
    """The uses of one definition ``name = value`` at ``block[position]`` within its block."""

    def __init__(self, effects: Effects, block: list, position: int, name: str, value):
        self.block = block
        self.position = position
        self.name = name
        self.value = value
        self.value_reads = {n.id for n in gast.walk(value) if isinstance(n, gast.Name)}
        self.uses: list[tuple[int, int]] = []  # (position, count) of simple statements
        self.inner_use = False  # read inside a compound statement
        self.redefined = False
        self.effects = [effects.of(s) for s in block]
        for index in range(position + 1, len(block)):
            statement, effect = block[index], self.effects[index]
            if _is_compound(statement) and name in effect.reads | effect.binds:
                self.inner_use = True  # read, or bound on some paths only: the value lives on
                break
            if name in effect.reads:
                self.uses.append((index, _count_loads(statement, name)))
            if name in effect.binds:
                self.redefined = True
                break

    def escapes(self, live_out: set) -> bool:
        return self.inner_use or (not self.redefined and self.name in live_out)

    def killed_between(self, start: int, stop: int) -> bool:
        """Whether a statement in ``block[start:stop]`` changes what ``value`` computes."""
        constant = isinstance(self.value, gast.Constant)
        for index in range(start, stop):
            effect = self.effects[index]
            if constant:
                continue
            if effect.binds & self.value_reads:
                return True
            if not isinstance(self.value, gast.Name):
                mutated = effect.mutates
                if mutated is EVERYTHING or mutated & self.value_reads or effect.barrier:
                    return True
        return False

    def movable_to(self, use_position: int) -> bool:
        return not self.killed_between(self.position + 1, use_position)

    def blocked_uses(self) -> list[int]:
        return [i for i, _ in self.uses if self.killed_between(self.position + 1, i)]

    def unblock(self) -> None:
        """Move uses blocked by a rebinding of the copied name up, before that rebinding."""
        blocked = self.blocked_uses()
        if not blocked:
            return
        first_kill = next(
            i
            for i in range(self.position + 1, len(self.block))
            if self.effects[i].binds & self.value_reads
        )
        moving = [i for i in blocked if i > first_kill]
        for index in moving:
            if not _can_move_up(self.block, self.effects, first_kill, index):
                return
        statements = [self.block[i] for i in moving]
        for index in reversed(moving):
            del self.block[index]
        self.block[first_kill:first_kill] = statements

    def substitute_all(self, replacement, live_out: set, optimizer: _Optimizer) -> bool:
        changed = False
        done = 0
        for index, _ in self.uses:
            statement = self.block[index]
            if self.killed_between(self.position + 1, index) or not _substitutable(
                statement, self.name
            ):
                continue
            _replace_loads(statement, self.name, replacement)
            done += 1
            changed = True
        if done == len(self.uses) and not self.escapes(live_out):
            del self.block[self.position]
            return True
        return changed


def _can_move_up(block, effects, destination: int, index: int) -> bool:
    """Whether ``block[index]`` may run before ``block[destination:index]``."""
    moving = effects[index]
    if not moving.pure:
        return False
    for between in range(destination, index):
        other = effects[between]
        if other.barrier or other.mutates is EVERYTHING:
            return False
        if other.binds & (moving.reads | moving.binds) or moving.binds & other.reads:
            return False
        if other.mutates & moving.reads:
            return False
    return True


class _ZeroPropagation:
    """Forward must-analysis: which adjoint variables certainly hold the constant 0.0.

    First the states before every statement are found (loops iterate to a fixed point),
    then reads of those variables are replaced by ``0.0``.
    """

    def __init__(self, optimizer: _Optimizer):
        self.adjoints = optimizer.adjoints
        self.before: dict[int, frozenset] = {}
        self.breaks: list[frozenset] = []
        self.changed = False

    def run(self, body) -> None:
        self.block(body, frozenset())
        self.rewrite(body)

    def block(self, statements, zeros):
        for statement in statements:
            if zeros is None:
                return None
            self.before[id(statement)] = zeros
            zeros = self.statement(statement, zeros)
        return zeros

    def statement(self, statement, zeros: frozenset):
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            value = statement.value
            if isinstance(target, gast.Name):
                if target.id in self.adjoints and _is_float_zero(value):
                    return zeros | {target.id}
                return zeros - {target.id}
            return zeros - names_bound(target)
        if isinstance(statement, gast.Break):
            self.breaks.append(zeros)
            return None
        if isinstance(statement, gast.If):
            body = self.block(statement.body, zeros)
            orelse = self.block(statement.orelse, zeros)
            if body is None or orelse is None:
                return orelse if body is None else body
            return body & orelse
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, zeros)
        return zeros - names_bound(statement)

    def loop(self, loop, zeros: frozenset) -> frozenset:
        head = zeros - names_bound(loop.target) if isinstance(loop, gast.For) else zeros
        saved = self.breaks
        while True:
            self.breaks = []
            end = self.block(loop.body, head)
            new_head = head & end if end is not None else head
            if new_head == head:
                break
            head = new_head
        exits = [zeros, head, *([end] if end is not None else []), *self.breaks]
        self.breaks = saved
        result = exits[0]
        for each in exits[1:]:
            result = result & each
        return result

    def rewrite(self, statements) -> None:
        for statement in statements:
            zeros = self.before.get(id(statement), frozenset())
            if isinstance(statement, gast.If):
                self.replace(statement.test, zeros)
            elif isinstance(statement, gast.For):
                self.replace(statement.iter, zeros)
            elif not isinstance(statement, gast.While):
                self.replace(statement, zeros)
            for inner in _inner_blocks(statement):
                self.rewrite(inner)

    def replace(self, node, zeros: frozenset) -> None:
        if not zeros:
            return
        for parent in gast.walk(node):
            for field_name, child in gast.iter_fields(parent):
                if _loads_one_of(child, zeros):
                    setattr(parent, field_name, const(0.0))
                    self.changed = True
                elif isinstance(child, list):
                    for index, item in enumerate(child):
                        if _loads_one_of(item, zeros):
                            child[index] = const(0.0)
                            self.changed = True


def _loads_one_of(node, names) -> bool:
    return isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in names


def _is_float_zero(node) -> bool:
    return isinstance(node, gast.Constant) and type(node.value) is float and node.value == 0.0


def fold(node: gast.expr) -> gast.expr:
    """Constant arithmetic and the identities of + and *, bottom up."""
    return _Fold().visit(clone(node))


class _Fold(gast.NodeTransformer):
    def visit_BinOp(self, node: gast.BinOp):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if _number(left) and _number(right):
            value = _evaluate(left.value, op, right.value)
            if value is not None:
                return const(value)
        if isinstance(op, gast.Add):
            if _is_value(left, 0):
                return right
            if _is_value(right, 0):
                return left
        if isinstance(op, gast.Sub):
            if _is_value(right, 0):
                return left
            if _is_value(left, 0):
                return self.visit_UnaryOp(gast.UnaryOp(op=gast.USub(), operand=right))
        if (
            isinstance(op, gast.Add)
            and isinstance(right, gast.UnaryOp)
            and isinstance(right.op, gast.USub)
        ):
            return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
        if (
            isinstance(op, gast.Add)
            and isinstance(left, gast.UnaryOp)
            and isinstance(left.op, gast.USub)
        ):
            return gast.BinOp(left=right, op=gast.Sub(), right=left.operand)
        if isinstance(op, gast.Mult):
            if _is_value(right, 1):
                return left
            if _is_value(left, 1):
                return right
            if _is_value(right, -1):
                return gast.UnaryOp(op=gast.USub(), operand=left)
            if _is_value(left, -1):
                return gast.UnaryOp(op=gast.USub(), operand=right)
        if isinstance(op, gast.Div) and _is_value(right, 1):
            return left
        if isinstance(op, gast.Pow) and _is_value(right, 1):
            return left
        return node

    def visit_UnaryOp(self, node: gast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub):
            negated = _negated(node.operand)
            if negated is not None:
                return negated
        return node


def _negated(node):
    """``-node`` without a minus sign in front, when a factor of ``node`` already has one."""
    if _number(node):
        return const(-node.value)
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return node.operand
    if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Mult, gast.Div)):
        left = _negated(node.left)
        if left is not None:
            return gast.BinOp(left=left, op=node.op, right=node.right)
    return None


def _number(node) -> bool:
    return (
        isinstance(node, gast.Constant)
        and isinstance(node.value, numbers.Real)
        and not isinstance(node.value, bool)
    )


def _is_value(node, value) -> bool:
    return _number(node) and node.value == value


def _evaluate(left, op, right):
    try:
        if isinstance(op, gast.Add):
            result = left + right
        elif isinstance(op, gast.Sub):
            result = left - right
        elif isinstance(op, gast.Mult):
            result = left * right
        elif isinstance(op, gast.Div):
            result = left / right
        elif isinstance(op, gast.Pow) and abs(right) <= 64:
            result = left**right
        else:
            return None
    except (ArithmeticError, ValueError):
        return None
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        return None
    return result


def _inner_blocks(statement) -> list[list]:
    if isinstance(statement, gast.If):
        return [statement.body, statement.orelse]
    if isinstance(statement, (gast.For, gast.While)):
        return [statement.body]
    return []


def _is_compound(statement) -> bool:
    return isinstance(statement, (gast.If, gast.For, gast.While))


def _assigns(statement, name: str) -> bool:
    target = statement.targets[0]
    return isinstance(target, gast.Name) and target.id == name


def _count_loads(statement, name: str) -> int:
    return sum(
        1
        for n in gast.walk(statement)
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id == name
    )


def _substitutable(statement, name: str) -> bool:
    """A load of ``name`` in ``statement`` may be replaced by an expression (not as the
    container of a subscript store, where only a name can stand)."""
    if isinstance(statement, gast.Assign):
        target = statement.targets[0]
        if not isinstance(target, gast.Name):
            return name not in {n.id for n in gast.walk(target) if isinstance(n, gast.Name)}
    return not isinstance(statement, Comment)


def _replace_loads(statement, name: str, replacement) -> None:
    for parent in gast.walk(statement):
        for field_name, child in gast.iter_fields(parent):
            if (
                isinstance(child, gast.Name)
                and isinstance(child.ctx, gast.Load)
                and child.id == name
            ):
                setattr(parent, field_name, clone(replacement))
            elif isinstance(child, list):
                for index, item in enumerate(child):
                    if (
                        isinstance(item, gast.Name)
                        and isinstance(item.ctx, gast.Load)
                        and item.id == name
                    ):
                        child[index] = clone(replacement)


def _empty(statements) -> bool:
    return all(isinstance(s, (gast.Pass, Comment)) for s in statements)


__all__ = ["optimize", "fold"]
