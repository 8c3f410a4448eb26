"""Reverse mode: a primal sweep that records what the adjoint needs, then the adjoint sweep.

Before (core language)::

    def f(x, a):
        for i in range(3):
            x_times_a = x * a
            sin_x = math.sin(x)
            x = x_times_a + sin_x
        return x

After (``optimize=False``; :mod:`s2sad.optimize` then folds the temporaries back)::

    def grad_f(x, a):
        tape = []
        for i in range(3):
            x_times_a = x * a
            sin_x = math.sin(x)
            tape.append(x)
            x = x_times_a + sin_x
        dx = scalar_seed(x)
        da = 0.0
        dx_times_a = 0.0
        dsin_x = 0.0
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
        return cast_like(dx, x), cast_like(da, a)

Each statement's adjoint comes from its rule (:mod:`s2sad.rules`); which old values are
pushed is decided by :mod:`s2sad.tape` from what those rules read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import gast

from .activity import Activity, walk_statements
from .broadcasting import analyze_shapes
from .errors import NonDifferentiableError, UnsupportedSyntaxError
from .names import Bindings
from .normalize import NormalizedFunction
from .primitives import Operation, classify
from .rules import RuleError
from .rules.registry import TEMPLATE_GLOBALS
from .syntax import (
    assign,
    attribute,
    binop,
    call,
    clone,
    comment,
    const,
    expression_statement,
    for_statement,
    if_statement,
    load,
    method_call,
    names_read,
)
from .tape import TapePlan, Uses, plan_tape

MODES = ("grad", "value_and_grad", "vjp")
ADJOINT_SWEEP = "adjoint sweep"  # the comment that opens the adjoint sweep

Builder = Callable[[gast.expr, gast.expr], gast.expr]  # (adjoint of result, result) → contribution


@dataclass
class Contribution:
    """``d<operand> += build(g, ans)`` for one operand of one assignment."""

    operand: str
    build: Builder


@dataclass
class AssignmentPlan:
    target: str
    contributions: list[Contribution] = field(default_factory=list)
    reads_result: bool = False


@dataclass
class LoopPlan:
    kind: str  # "range", "generic" or "while"
    has_break: bool
    counter: str | None = None
    target_pushed: bool = False


@dataclass
class Derivative:
    """A generated derivative: its tree, and the objects its free names must be bound to."""

    tree: gast.FunctionDef
    bindings: dict[str, object]
    seed_name: str | None
    function: NormalizedFunction
    wrt: list[str]
    mode: str
    adjoint_variables: set[str] = field(default_factory=set)
    temporaries: set[str] = field(default_factory=set)

    @property
    def inlinable(self) -> set[str]:
        """Names the optimiser may fold into their use: temporaries and their adjoints."""
        return self.temporaries | {
            self.function.namer.adjoint(t)
            for t in self.function.temporaries
            if t in self.function.namer.adjoint_names()
        }


def reverse(
    function: NormalizedFunction,
    activity: Activity,
    wrt: list[str],
    mode: str,
    as_tuple: bool = False,
    kinds: dict[str, str | None] | None = None,
) -> Derivative:
    """The reverse-mode derivative of ``function`` with respect to the parameters ``wrt``.

    The derivative returns one gradient, or a tuple of them when ``as_tuple``. ``kinds``
    says which parameters are Python numbers ("scalar"), which lets the derivative skip
    un-broadcasting where shapes provably agree.
    """
    return _ReverseMode(function, activity, wrt, mode, as_tuple, kinds or {}).run()


class _ReverseMode:
    def __init__(
        self, function: NormalizedFunction, activity: Activity, wrt, mode, as_tuple, kinds
    ):
        self.as_tuple = as_tuple or len(wrt) > 1
        self.function = function
        self.parsed = function.parsed
        self.activity = activity
        self.wrt = wrt
        self.mode = mode
        self.namer = function.namer
        used = {n.id for n in gast.walk(self.parsed.tree) if isinstance(n, gast.Name)}
        self.bindings = Bindings(self.namer, self.parsed.lookup, used)
        self.plans: dict[int, AssignmentPlan] = {}
        self.loops: dict[int, LoopPlan] = {}
        self.uses: dict[int, Uses] = {}
        self.tape_name = self.namer.fresh("tape")
        self.tape_plan = TapePlan()
        self.loop_stack: list[tuple[gast.stmt, LoopPlan]] = []
        self.saved: set[str] = set()  # adjoint-sweep temporaries (saved g, saved results)
        parameters = {name: kinds.get(name) for name in function.parameters}
        self.shapes = analyze_shapes(function.tree.body, parameters, self.parsed.resolve)

    # ----- phase 1: what each statement's adjoint reads ---------------------------------
    def run(self) -> Derivative:
        body = self.function.tree.body[:-1]
        for statement in walk_statements(body):
            if isinstance(statement, gast.Assign):
                self.plan_assignment(statement)
            elif isinstance(statement, gast.Expr):
                self.check_effect(statement)
            elif isinstance(statement, (gast.For, gast.While)):
                self.plan_loop(statement)
        self.plan_recording(body)
        return self.assemble(body)

    def plan_recording(self, body) -> None:
        """Decide the tape; control statements whose adjoint is needed read their tests."""
        parameters = set(self.function.parameters)
        needed: set[int] = set()
        while True:
            self.tape_plan = plan_tape(body, self.uses, parameters)
            now = {id(s) for s in walk_statements(body) if self.needs_adjoint(s)}
            if now == needed:
                return
            needed = now
            for statement in walk_statements(body):
                if id(statement) in needed:
                    self.add_control_uses(statement)

    def add_control_uses(self, statement) -> None:
        uses = self.uses.setdefault(id(statement), Uses())
        if isinstance(statement, gast.If) and isinstance(statement.test, gast.Name):
            uses.after.add(statement.test.id)
        elif isinstance(statement, (gast.For, gast.While)):
            loop = self.loops[id(statement)]
            if loop.kind == "range":
                uses.after |= names_read(statement.iter) - {"range"}
                uses.resupplied = statement.target.id
            elif loop.kind == "generic":
                uses.resupplied = statement.target.id
            if loop.counter:
                uses.counter = loop.counter
                uses.after.add(loop.counter)

    def needs_adjoint(self, statement) -> bool:
        """A compound statement needs an adjoint when something inside is active or pushed."""
        if not isinstance(statement, (gast.If, gast.For, gast.While)):
            return id(statement) in self.plans or id(statement) in self.tape_plan.pushes
        inner = [*statement.body, *statement.orelse]
        return any(id(s) in self.plans for s in walk_statements(inner)) or self.tape_plan.records(
            inner
        )

    def plan_assignment(self, statement: gast.Assign) -> None:
        target = statement.targets[0]
        if not isinstance(target, gast.Name):
            if self.activity.is_active(getattr(target.value, "id", None)):
                raise UnsupportedSyntaxError(
                    "assigning into an array or list that carries a gradient",
                    self.parsed.location(statement),
                    hint="this arrives with subscript support",
                )
            return
        if not self.activity.is_active(target.id):
            return
        operation = classify(statement.value, self.parsed.resolve)
        plan = AssignmentPlan(target.id)
        uses = Uses()
        for operand, build, reads in self.contributions(operation, statement):
            plan.contributions.append(Contribution(operand, build))
            uses.before |= reads - {"__result__"}
            plan.reads_result |= "__result__" in reads
        if plan.reads_result:
            uses.after.add(target.id)
        self.plans[id(statement)] = plan
        self.uses[id(statement)] = uses

    def contributions(self, operation: Operation, statement):
        """(operand, builder, primal names read) for each active operand."""
        where = self.parsed.location(statement)
        if operation.kind == "constant":
            return []
        if operation.kind == "copy":
            source = operation.args[0].id
            return [(source, lambda g, ans: g, set())] if self.activity.is_active(source) else []
        if operation.kind == "primitive":
            return self.rule_contributions(operation, statement)
        if operation.kind in ("user", "unknown"):
            if not any(self.activity.is_active(a) for a in operation.operands):
                return []
            if operation.kind == "user":
                raise UnsupportedSyntaxError(
                    f"differentiating through the call to {operation.name}()",
                    where,
                    hint="calls to your own functions arrive with call support",
                )
            raise NonDifferentiableError(operation.name, where)
        raise UnsupportedSyntaxError(
            f"a gradient flowing through a {operation.kind}",
            where,
            hint="subscripts and containers arrive with container support",
        )

    def rule_contributions(self, operation: Operation, statement):
        where = self.parsed.location(statement)
        rule = operation.rule
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except RuleError as error:
            raise UnsupportedSyntaxError(f"this call of {operation.name}: {error}", where) from None
        found = []
        for param in rule.derivatives:
            operand = bound[param]
            if not (isinstance(operand, gast.Name) and self.activity.is_active(operand)):
                continue
            reads = set()
            for name in rule.reads(param, bound):
                if name == "ans":
                    reads.add("__result__")
                elif name != "g":
                    reads |= {n.id for n in gast.walk(bound[name]) if isinstance(n, gast.Name)}
            unbroadcast = param in rule.unbroadcast and not self.shapes.same(statement, operand)
            scalar = self.shapes.before(statement).get(operand.id) == frozenset()
            if unbroadcast and not scalar:
                reads.add(operand.id)
            build = self.rule_builder(rule, bound, param, operand.id, unbroadcast, scalar)
            found.append((operand.id, build, reads))
        return found

    def rule_builder(self, rule, bound, param, operand, unbroadcast: bool, scalar: bool) -> Builder:
        """Builds the contribution; a number broadcast against an array gets ``np.sum(...)``."""

        def build(g, ans):
            expr = rule.instantiate(param, bound, g, ans, self.global_name)
            if unbroadcast and scalar:
                expr = call(attribute(load(self.global_name("np")), "sum"), [expr])
            elif unbroadcast:
                expr = call(load(self.global_name("unbroadcast")), [expr, load(operand)])
            return expr

        return build

    def global_name(self, template_name: str) -> str:
        return self.bindings.name_for(TEMPLATE_GLOBALS[template_name], template_name)

    def check_effect(self, statement: gast.Expr) -> None:
        value = statement.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute):
            receiver = value.func.value
            if isinstance(receiver, gast.Name) and self.activity.is_active(receiver.id):
                raise UnsupportedSyntaxError(
                    f"calling .{value.func.attr}() on a value that carries a gradient",
                    self.parsed.location(statement),
                    hint="list methods arrive with container support",
                )

    def plan_loop(self, loop) -> None:
        has_break = any(isinstance(s, gast.Break) for s in _own_statements(loop.body))
        if isinstance(loop, gast.While):
            plan = LoopPlan("while", has_break, counter=self.namer.fresh("n_steps"))
        elif _is_range(loop.iter):
            counter = self.namer.fresh(f"n_{loop.target.id}") if has_break else None
            plan = LoopPlan("range", has_break, counter=counter)
        else:
            if self.activity.is_active(loop.target.id):
                raise UnsupportedSyntaxError(
                    "a gradient flowing through the elements of a for loop's iterable",
                    self.parsed.location(loop),
                    hint="iterate over range(len(...)) and index, or wait for container support",
                )
            plan = LoopPlan("generic", has_break, counter=self.namer.fresh(f"n_{loop.target.id}"))
        self.loops[id(loop)] = plan

    # ----- phase 2: the primal sweep ----------------------------------------------------
    def push(self, name: str, line) -> gast.stmt:
        return expression_statement(method_call(self.tape_name, "append", load(name)), line)

    def pop(self) -> gast.expr:
        return method_call(self.tape_name, "pop")

    def primal(self, statements) -> list[gast.stmt]:
        out = []
        for statement in statements:
            line = getattr(statement, "lineno", None)
            if isinstance(statement, gast.Assign):
                if id(statement) in self.tape_plan.pushes:
                    out.append(self.push(statement.targets[0].id, line))
                out.append(statement)
            elif isinstance(statement, gast.Break):
                if self.loop_stack:
                    loop, plan = self.loop_stack[-1]
                    if plan.target_pushed:
                        out.append(self.push(loop.target.id, line))
                out.append(statement)
            elif isinstance(statement, gast.If):
                out.append(
                    if_statement(
                        statement.test,
                        self.primal(statement.body),
                        self.primal(statement.orelse),
                        line,
                    )
                )
            elif isinstance(statement, (gast.For, gast.While)):
                out.extend(self.primal_loop(statement))
            else:
                out.append(statement)
        return out

    def primal_loop(self, loop) -> list[gast.stmt]:
        line = getattr(loop, "lineno", None)
        plan = self.loops[id(loop)]
        if not self.needs_adjoint(loop):
            self.loop_stack.append((loop, LoopPlan(plan.kind, plan.has_break)))
            body = self.primal(loop.body)
            self.loop_stack.pop()
            return [_with_body(loop, body)]
        out = []
        if plan.kind == "generic":
            plan.target_pushed = loop.target.id in self.adjoint_reads(loop.body)
        if plan.counter:
            if id(loop) in self.tape_plan.counter_pushes:
                out.append(self.push(plan.counter, line))
            out.append(assign(plan.counter, const(0), line))
        if id(loop) in self.tape_plan.before_loop:
            out.append(self.push(loop.target.id, line))
        self.loop_stack.append((loop, plan))
        body = self.primal(loop.body)
        self.loop_stack.pop()
        if plan.counter:
            body.insert(0, assign(plan.counter, binop(load(plan.counter), "+", const(1)), line))
        if plan.target_pushed:
            body.append(self.push(loop.target.id, line))
        out.append(_with_body(loop, body))
        return out

    def adjoint_reads(self, statements) -> set[str]:
        reads = set()
        for statement in walk_statements(statements):
            uses = self.uses.get(id(statement))
            if uses is not None:
                reads |= uses.before | uses.after
        return reads

    # ----- phase 3: the adjoint sweep ---------------------------------------------------
    def adjoint_name(self, name: str) -> str:
        return self.namer.adjoint(name)

    def adjoint(self, statements) -> list[gast.stmt]:
        out = []
        for statement in reversed(statements):
            line = getattr(statement, "lineno", None)
            if isinstance(statement, gast.Assign):
                fragment = self.adjoint_assignment(statement)
            elif isinstance(statement, gast.If) and self.needs_adjoint(statement):
                fragment = [
                    if_statement(
                        statement.test, self.adjoint(statement.body), self.adjoint(statement.orelse)
                    )
                ]
            elif isinstance(statement, (gast.For, gast.While)) and self.needs_adjoint(statement):
                fragment = self.adjoint_loop(statement)
            else:
                fragment = []
            for node in fragment:
                if getattr(node, "lineno", None) is None:
                    node.lineno = line
            out.extend(fragment)
        return out

    def adjoint_assignment(self, statement: gast.Assign) -> list[gast.stmt]:
        target = statement.targets[0]
        if not isinstance(target, gast.Name):
            return []
        name = target.id
        pushed = id(statement) in self.tape_plan.pushes
        plan = self.plans.get(id(statement))
        restore = [assign(name, self.pop())] if pushed else []
        if plan is None:
            return restore
        adjoint = self.adjoint_name(name)
        g, ans = load(adjoint), load(name)
        out: list[gast.stmt] = []
        if name in {c.operand for c in plan.contributions}:
            saved = self.namer.fresh(f"{adjoint}_next")
            self.saved.add(saved)
            out.append(assign(saved, load(adjoint)))
            g = load(saved)
            if pushed and plan.reads_result:
                result = self.namer.fresh(f"{name}_next")
                self.saved.add(result)
                out.append(assign(result, load(name)))
                ans = load(result)
            out += restore
            out.append(assign(adjoint, const(0.0)))
            out += self.accumulate(plan, g, ans)
        else:
            out += self.accumulate(plan, g, ans)
            out.append(assign(adjoint, const(0.0)))
            out += restore
        return out

    def accumulate(self, plan: AssignmentPlan, g, ans) -> list[gast.stmt]:
        out = []
        for contribution in plan.contributions:
            adjoint = self.adjoint_name(contribution.operand)
            value = contribution.build(clone(g), clone(ans))
            out.append(assign(adjoint, binop(load(adjoint), "+", value)))
        return out

    def adjoint_loop(self, loop) -> list[gast.stmt]:
        plan = self.loops[id(loop)]
        body = self.adjoint(loop.body)
        line = getattr(loop, "lineno", None)
        if plan.kind == "range":
            steps = clone(loop.iter)
            if plan.has_break:
                steps = gast.Subscript(
                    value=steps,
                    slice=gast.Slice(lower=None, upper=load(plan.counter), step=None),
                    ctx=gast.Load(),
                )
            header = for_statement(loop.target.id, call(load("reversed"), [steps]), body, line)
        else:
            if plan.target_pushed:
                body.insert(0, assign(loop.target.id, self.pop(), line))
            underscore = self.namer.fresh("_")
            header = for_statement(
                underscore, call(load("range"), [load(plan.counter)]), body, line
            )
        out = [header]
        if id(loop) in self.tape_plan.before_loop:
            out.append(assign(loop.target.id, self.pop(), line))
        if plan.counter and id(loop) in self.tape_plan.counter_pushes:
            out.append(assign(plan.counter, self.pop(), line))
        return out

    # ----- assembly ----------------------------------------------------------------------
    def assemble(self, body) -> Derivative:
        tree = self.function.tree
        line = tree.lineno
        output = self.function.output
        primal = self.primal(body)
        adjoint = self.adjoint(body)

        prologue = [
            assign(name, const(None), line) for name in sorted(self.tape_plan.maybe_unbound)
        ]
        if self.tape_used(primal):
            prologue.append(assign(self.tape_name, gast.List(elts=[], ctx=gast.Load()), line))

        middle: list[gast.stmt] = [comment(ADJOINT_SWEEP, line)]
        value_name = None
        return_line = getattr(self.function.tree.body[-1], "lineno", line)
        if self.mode == "value_and_grad":
            value_name = self.namer.fresh("value")
            middle.append(assign(value_name, clone(output), return_line))
        seed_name = None
        if self.mode == "vjp":
            seed_name = self.namer.fresh("seed")
            seed = load(seed_name)
        else:
            seed = call(load(self.global_name("scalar_seed")), [clone(output)])
        output_active = isinstance(output, gast.Name) and self.activity.is_active(output.id)
        if output_active:
            middle.append(assign(self.adjoint_name(output.id), seed, return_line))
        elif self.mode != "vjp":
            middle.append(expression_statement(seed, return_line))
        for name in self.adjoint_variables(body):
            if not (output_active and name == output.id):
                middle.append(assign(self.adjoint_name(name), const(0.0), return_line))

        gradients = [
            call(load(self.global_name("cast_like")), [load(self.adjoint_name(w)), load(w)])
            for w in self.wrt
        ]
        result = gast.Tuple(elts=gradients, ctx=gast.Load()) if self.as_tuple else gradients[0]
        if value_name is not None:
            result = gast.Tuple(elts=[load(value_name), result], ctx=gast.Load())
        final = gast.Return(value=result)
        final.lineno = return_line

        args = clone(tree.args)
        if seed_name is not None:
            args.kwonlyargs.append(
                gast.Name(id=seed_name, ctx=gast.Param(), annotation=None, type_comment=None)
            )
            args.kw_defaults.append(None)
        name = self.namer.fresh(f"{self.mode}_{tree.name}")
        docstring = expression_statement(const(self.docstring()), line)
        derivative = gast.FunctionDef(
            name=name,
            args=args,
            body=[docstring, *prologue, *primal, *middle, *adjoint, final],
            decorator_list=[],
            returns=None,
            type_comment=None,
            type_params=[],
        )
        derivative.lineno = line
        adjoints = set(self.namer.adjoint_names().values()) | self.saved
        temporaries = set(self.function.temporaries) | self.saved
        return Derivative(
            derivative,
            dict(self.bindings.bound),
            seed_name,
            self.function,
            self.wrt,
            self.mode,
            adjoints,
            temporaries,
        )

    def tape_used(self, statements) -> bool:
        return any(
            isinstance(n, gast.Name) and n.id == self.tape_name
            for s in statements
            for n in gast.walk(s)
        )

    def adjoint_variables(self, body) -> list[str]:
        """Active names (and the wrt inputs) in order of first appearance."""
        order = list(self.wrt)
        for statement in walk_statements(body):
            for node in gast.walk(statement):
                if isinstance(node, gast.Name) and self.activity.is_active(node.id):
                    if node.id not in order:
                        order.append(node.id)
        return order

    def docstring(self) -> str:
        parsed = self.parsed
        what = {
            "grad": "Gradient",
            "value_and_grad": "Value and gradient",
            "vjp": "Vector-Jacobian product",
        }
        wrt = ", ".join(self.wrt)
        return (
            f"{what[self.mode]} of {parsed.name} ({parsed.location(None)}) with respect to "
            f"{wrt}. Generated by s2sad."
        )


def _is_range(node: gast.expr) -> bool:
    return (
        isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == "range"
    )


def _own_statements(statements):
    """Statements of a loop body, not descending into nested loops."""
    for statement in statements:
        yield statement
        if isinstance(statement, gast.If):
            yield from _own_statements(statement.body)
            yield from _own_statements(statement.orelse)


def _with_body(loop, body):
    if isinstance(loop, gast.For):
        new = gast.For(
            target=loop.target,
            iter=loop.iter,
            body=body or [gast.Pass()],
            orelse=[],
            type_comment=None,
        )
    else:
        new = gast.While(test=loop.test, body=body or [gast.Pass()], orelse=[])
    new.lineno = getattr(loop, "lineno", None)
    return new


__all__ = ["Derivative", "MODES", "reverse"]
