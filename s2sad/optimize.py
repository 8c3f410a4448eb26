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
import functools

import gast

from . import runtime
from .accumulation import merge_updates
from .assembly import Derivative
from .dataflow import Effects, inner_blocks, liveness, names_bound, sharing_classes
from .folding import fold_changed, fold_in_place
from .forward_substitution import Policy, substitute_block
from .parse import UNRESOLVED
from .rules import lookup
from .rules.registry import RUNTIME_MODULES
from .seeds import fold_seeds
from .sequences import sequence_names
from .sharing import (
    CONTAINER_COPIES,
    ELEMENT_METHODS,
    VIEW_ATTRIBUTES,
    VIEW_FUNCTIONS,
    VIEW_METHODS,
)
from .syntax import Comment, loads, walk
from .tape_loops import iterate_tapes
from .zero_propagation import ZeroPropagation

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
#: runtime helpers that update their first argument (an adjoint s2sad owns) in place
_UPDATING = {
    runtime.add_at,
    runtime.add_element,
    runtime.zero_at,
    runtime.pop_last,
    runtime.restore,
}
_HELPERS = {getattr(module, name) for module in RUNTIME_MODULES for name in module.__all__}
_RUNTIME = _HELPERS - {runtime.scalar_seed} - _UPDATING
_MAX_ROUNDS = 12


def optimize(derivative: Derivative) -> Derivative:
    """An equivalent derivative with fewer, simpler statements (``derivative``'s tree is
    rewritten in place: the pipeline has no other use for it)."""
    tree = derivative.tree
    optimizer = _Optimizer(derivative, tree)
    for _ in range(_MAX_ROUNDS):
        changed = optimizer.propagate_zeros()
        changed |= optimizer.fold_seeds()
        changed |= optimizer.simplify()
        changed |= optimizer.remove_dead_code()
        if not changed:
            break
    optimizer.restore_loop_tests(tree.body)
    iterate_tapes(tree, optimizer.is_builtin)
    optimizer.effects = None  # it refers back to the optimizer: free both without a GC pass
    return dataclasses.replace(derivative, tree=tree)


class _Optimizer:
    def __init__(self, derivative: Derivative, tree: gast.FunctionDef):
        self.derivative = derivative
        self.tree = tree
        self.parsed = derivative.function.parsed
        self.locals = names_bound(tree)
        self.inlinable = derivative.inlinable
        self.adjoints = derivative.adjoint_variables
        self.effects = Effects(
            self.pure_call,
            self.locals,
            self.updates_first_argument,
            lambda: sharing_classes(tree.body, self.held),
        )
        self.policy = Policy(self.inlinable, self.adjoints, self.adjoints)
        self.folded: dict[int, tuple] = {}  # statement → (statement, version) when folded

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

    def is_builtin(self, name: str) -> bool:
        """Whether ``name`` denotes the builtin of that name in the generated code."""
        return self.resolve(
            gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
        ) is getattr(builtins, name)

    def updates_first_argument(self, call: gast.Call) -> bool:
        """``add_at(dx, ...)``, ``zero_at(dx, ...)``, ``pop_last(dx)`` change ``dx`` in place."""
        function = self.resolve(call.func)
        return any(function is helper for helper in _UPDATING)

    @functools.cached_property
    def sequences(self) -> set[str]:
        return sequence_names(self.tree.body, self.parsed, {})

    def held(self, value: gast.expr) -> list[str]:
        """The local names whose memory ``value`` may be, view or hold: a write into one
        changes what the others read (``y_1 = y[1]``, then ``y[1] = tape.pop()``)."""
        if isinstance(value, gast.Name):
            return [value.id] if value.id in self.locals else []
        if isinstance(value, gast.Subscript) or (
            isinstance(value, gast.Attribute) and value.attr in VIEW_ATTRIBUTES
        ):
            return self.held(value.value)
        if isinstance(value, (gast.Tuple, gast.List)):
            return [name for element in value.elts for name in self.held(element)]
        if isinstance(value, gast.Dict):
            return [name for element in value.values for name in self.held(element)]
        if isinstance(value, gast.IfExp):
            return self.held(value.body) + self.held(value.orelse)
        if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
            operands = self.held(value.left) + self.held(value.right)
            return operands if set(operands) & self.sequences else []  # [y] + [w]
        if isinstance(value, gast.Call):
            return self.held_by_call(value)
        return []

    def held_by_call(self, call: gast.Call) -> list[str]:
        func = call.func
        arguments = [name for argument in call.args for name in self.held(argument)]
        if isinstance(func, gast.Attribute) and self.held(func.value):
            copies_list = func.attr == "copy" and set(self.held(func.value)) & self.sequences
            if func.attr in VIEW_METHODS or func.attr in ELEMENT_METHODS - {"pop"} or copies_list:
                return self.held(func.value) + arguments
            return []  # an array method's new array; a tape's pop (never written into)
        function = self.resolve(func)
        if any(function is f for f in (*VIEW_FUNCTIONS, *CONTAINER_COPIES)):
            return arguments
        if any(function is f for f in _UPDATING):  # add_at(dx, ...) is dx, updated
            return arguments[:1]
        return [] if self.pure_call(call) else arguments  # a helper may return its argument

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

    # ----- while loops ------------------------------------------------------------------
    def restore_loop_tests(self, block: list) -> None:
        """``c = E; while c: ...; c = E`` → ``while E: ...`` when nothing else reads ``c``
        (the normal form evaluates a loop's test into a name; the adjoint never needs it)."""
        for statement in block:
            for inner in inner_blocks(statement):
                self.restore_loop_tests(inner)
        for loop in [s for s in block if isinstance(s, gast.While)]:
            position = block.index(loop)
            before = self._test_before(block, position)
            if before is None or not self._evaluates_test(loop.body[-1], loop):
                continue
            test = loop.test.id
            reads = sum(
                1
                for n in walk(self.tree)
                if isinstance(n, gast.Name) and n.id == test and isinstance(n.ctx, gast.Load)
            )
            if reads == 1:
                loop.test = block[before].value
                loop.body.pop()
                if not loop.body:
                    loop.body.append(gast.Pass())
                del block[before]

    def _test_before(self, block: list, position: int) -> int | None:
        """Where ``c = E`` is, before ``while c:`` at ``position``, with nothing between
        that rebinds what ``E`` reads or reads ``c``."""
        loop = block[position]
        for index in range(position - 1, -1, -1):
            statement = block[index]
            if self._evaluates_test(statement, loop):
                reads = loads(statement.value)
                between = [self.effects.of(s) for s in block[index + 1 : position]]
                if all(
                    e.pure and not (e.binds & reads) and loop.test.id not in e.reads
                    for e in between
                ):
                    return index
                return None
        return None

    def _evaluates_test(self, statement, loop) -> bool:
        return (
            isinstance(loop, gast.While)
            and isinstance(loop.test, gast.Name)
            and isinstance(statement, gast.Assign)
            and isinstance(statement.targets[0], gast.Name)
            and statement.targets[0].id == loop.test.id
            and self.effects.of(statement).pure
            and isinstance(loop.body[-1], gast.Assign)
            and gast.dump(statement.value) == gast.dump(loop.body[-1].value)
        )

    # ----- seeds of full reductions -----------------------------------------------------
    def fold_seeds(self) -> bool:
        """``np.broadcast_to(1.0, np.shape(t)) * u`` → ``1.0 * u`` where u has t's shape."""
        changed = fold_seeds(self.tree.body, self.derivative.shapes, self.resolve)
        for statement in changed:
            self.effects.forget(statement)
        return bool(changed)

    # ----- zero propagation -------------------------------------------------------------
    def propagate_zeros(self) -> bool:
        """Replace reads of adjoint variables that certainly hold 0.0 by the constant."""
        zeros = ZeroPropagation(self.adjoints, self.effects)
        zeros.run(self.tree.body)
        for statement in zeros.changed:
            self.effects.forget(statement)
        return bool(zeros.changed)

    # ----- block simplification -------------------------------------------------------
    def simplify(self) -> bool:
        live = liveness(self.tree.body, self.effects)
        return self.simplify_block(self.tree.body, live)

    def simplify_block(self, block: list, live: dict) -> bool:
        changed = self.drop_zero_guards(block)
        for statement in block:
            for inner in inner_blocks(statement):
                changed |= self.simplify_block(inner, live)
        changed |= substitute_block(block, self.effects, live.get(id(block), set()), self.policy)
        changed |= bool(merge_updates(block, self.effects, self.derivative.shapes, self.resolve))
        for statement in block:
            version = (statement, self.effects.changes.get(id(statement), 0))
            if self.folded.get(id(statement)) == version:
                continue  # folded already, unchanged since
            self.folded[id(statement)] = version
            if isinstance(statement, gast.Assign) and self.folds(statement):
                folded, simpler = (
                    fold_changed(statement.value)
                    if self.accumulates(statement)
                    else fold_in_place(statement.value)
                )
                if simpler and not self.aliases(statement, folded):
                    statement.value = folded
                    self.effects.forget(statement)
                    changed = True
            elif isinstance(statement, gast.Assign) and self.folds_arguments(statement):
                simpler = False
                for i, argument in enumerate(statement.value.args):
                    folded, changes = fold_changed(argument)
                    fresh = isinstance(folded, (gast.BinOp, gast.UnaryOp, gast.Constant))
                    if changes and fresh:  # the pair may hand its seed back: keep it new
                        statement.value.args[i] = folded
                        simpler = True
                if simpler:
                    self.effects.forget(statement)
                    changed = True
        return changed

    def drop_zero_guards(self, block: list) -> bool:
        """``if not is_zero(0.0): ...`` (a seed now known to be zero) → nothing."""
        dropped = [s for s in block if isinstance(s, gast.If) and self.zero_guard(s.test)]
        for statement in dropped:
            block.remove(statement)
        return bool(dropped)

    def zero_guard(self, test) -> bool:
        return (
            isinstance(test, gast.UnaryOp)
            and isinstance(test.op, gast.Not)
            and isinstance(test.operand, gast.Call)
            and self.resolve(test.operand.func) is runtime.is_zero
            and isinstance(test.operand.args[0], gast.Constant)
            and test.operand.args[0].value == 0.0
        )

    def folds_arguments(self, statement: gast.Assign) -> bool:
        """``helper_dx, = helper_backward(saved, 0.0 + 1.0)``: fold the seed."""
        value = statement.value
        return (
            isinstance(statement.targets[0], gast.Tuple)
            and isinstance(value, gast.Call)
            and isinstance(value.func, gast.Name)
            and self.derivative.bindings.get(value.func.id) is not None
            and getattr(self.derivative.bindings[value.func.id], "part", None) == "backward"
        )

    def accumulates(self, statement: gast.Assign) -> bool:
        """An assignment to an in-place-updated adjoint (folded on a copy: it may be refused)."""
        return statement.targets[0].id in self.derivative.accumulators

    def aliases(self, statement: gast.Assign, value: gast.expr) -> bool:
        """Whether ``target = value`` could make an in-place-updated adjoint share another
        object (``dx = 0.0 + g`` must stay a fresh array when ``dx`` is updated in place):
        only arithmetic is sure to make a new one."""
        target = statement.targets[0].id
        if self.primal_array(value):
            return True  # dx = 1.0 * y must not become dx = y: the caller may change dx
        fresh = isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant))
        before = statement.value
        same_call = (  # only the arguments were folded: add_at(dx, i, 2.0 * u, x)
            isinstance(value, gast.Call)
            and isinstance(before, gast.Call)
            and gast.dump(value.func) == gast.dump(before.func)
        )
        if same_call and self.updates_first_argument(value) and value.args and before.args:
            first = value.args[0]
            if isinstance(first, gast.Name) and first.id != getattr(before.args[0], "id", None):
                return True  # add_at(1.0 * x, ...) → add_at(x, ...) would update x itself
        return target in self.derivative.accumulators and not (fresh or same_call)

    def primal_array(self, value: gast.expr) -> bool:
        """Whether ``value`` may be (a view of) an array of the primal sweep."""
        root = value
        while isinstance(root, (gast.Subscript, gast.Attribute)):
            root = root.value
        if not isinstance(root, gast.Name) or root.id in self.adjoints:
            return False
        return root is not value or self.derivative.shapes.get(root.id) != ()

    def folds(self, statement: gast.Assign) -> bool:
        target = statement.targets[0]
        return isinstance(target, gast.Name) and target.id in self.adjoints

    # ----- dead code ----------------------------------------------------------------------
    def remove_dead_code(self) -> bool:
        live = liveness(self.tree.body, self.effects)
        return self.prune(self.tree.body, live)

    def prune(self, block: list, live: dict) -> bool:
        changed = False
        kept = []
        for statement in block:
            for inner in inner_blocks(statement):
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
            if not isinstance(target, gast.Name) or not self.effects.of(statement).pure:
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
        if isinstance(statement, gast.For):  # its target stays bound to the last item
            return (
                _empty(statement.body)
                and self.effects.is_pure(statement.iter)
                and not (names_bound(statement.target) & loads(self.tree))
            )
        return isinstance(statement, gast.Pass)


def _empty(statements) -> bool:
    return all(isinstance(s, (gast.Pass, Comment)) for s in statements)


__all__ = ["optimize"]
