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

from dataclasses import dataclass

import gast

from .activity import Activity, walk_statements
from .adjoints import RESULT, Adjoints, AssignmentAdjoint
from .aliasing import check_aliasing
from .assembly import Assembly, Derivative
from .broadcasting import analyze_shapes
from .calls import CallSites, result_shape
from .dataflow import is_compound
from .names import Bindings
from .normalize import NormalizedFunction
from .rules.registry import TEMPLATE_GLOBALS
from .syntax import (
    assign,
    binop,
    call,
    clone,
    const,
    expression_statement,
    for_statement,
    if_statement,
    load,
    method_call,
    names_read,
    set_line,
    walk,
)
from .tape import TapePlan, Uses, plan_tape
from .zero_seeds import ZeroSeeds

MODES = ("grad", "value_and_grad", "vjp", "split")
# "split": the derivative of a helper the user's function calls; codegen cuts it at the
# adjoint-sweep comment into a forward function (returning the value and what the
# adjoint needs) and a backward function (returning the raw adjoints of ``wrt``).


@dataclass
class LoopPlan:
    kind: str  # "range", "generic" or "while"
    has_break: bool
    counter: str | None = None
    target_pushed: bool = False


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
    says which parameters are numbers ("number", "scalar") or arrays of known rank, which
    lets the derivative skip un-broadcasting where shapes provably agree.
    """
    reverse_mode = _ReverseMode(function, activity, wrt, mode, as_tuple, kinds or {})
    try:
        return reverse_mode.run()
    finally:
        reverse_mode.release()


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
        used = {n.id for n in walk(self.parsed.tree) if isinstance(n, gast.Name)}
        self.bindings = Bindings(self.namer, self.parsed.lookup, used)
        self.bindings.bound.update(self.parsed.supplied)  # lifted defs, shadowed builtins
        self.plans: dict[int, AssignmentAdjoint] = {}
        self.writes: set[int] = set()  # active container writes (c[i] = v, c.append(v))
        self.loops: dict[int, LoopPlan] = {}
        self.uses: dict[int, Uses] = {}
        self.tape_name = self.namer.fresh("tape")
        self.tape_plan = TapePlan()
        self.loop_stack: list[tuple[gast.stmt, LoopPlan]] = []
        self.saved: set[str] = set()  # adjoint-sweep temporaries (saved g, saved results)
        self.kinds = kinds
        self.arguments: dict[str, str] = {}  # a rebound wrt parameter → its value as passed
        parameters = {name: kinds.get(name) for name in function.parameters}
        body = function.tree.body
        self.shapes = analyze_shapes(
            body, parameters, self.parsed.resolve, _scalar(function, mode), result_shape
        )
        check_aliasing(function, self.shapes, kinds)
        self.adjoints = Adjoints(self.parsed, body, activity, self.shapes, self.global_name, kinds)
        self.adjoints.calls = CallSites(self)

    def release(self) -> None:
        """Drop the parts that refer back to this object (the adjoint builders, call sites
        and zero seeds), so that the analysis is freed by reference counting when the
        derivative is built, not by a cyclic GC pass over every node of the function."""
        self.adjoints = self.zero_seeds = None
        self.plans.clear()

    def global_name(self, template_name: str) -> str:
        """The generated code's name for ``np``, ``math`` or a runtime helper."""
        return self.bindings.name_for(TEMPLATE_GLOBALS[template_name], template_name)

    # ----- phase 1: what each statement's adjoint reads ---------------------------------
    def run(self) -> Derivative:
        body = self.function.tree.body[:-1]
        for statement in walk_statements(body):
            if isinstance(statement, (gast.For, gast.While)):
                self.plan_loop(statement)
            elif self.adjoints.container_write(statement) is not None:
                self.plan_container_write(statement)
            else:
                self.adjoints.refuse_container_change(statement)
                if isinstance(statement, gast.Assign):
                    self.plan_assignment(statement)
        self.plan_recording(body)
        self.zero_seeds = ZeroSeeds(self, body)
        return Assembly(self).assemble(body)

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
            controls = [s for s in walk_statements(body) if id(s) in needed and is_compound(s)]
            if not controls:
                return  # only control statements' uses change the tape: it stays as it is
            for statement in controls:
                self.add_control_uses(statement)

    def add_control_uses(self, statement) -> None:
        uses = self.uses.setdefault(id(statement), Uses())
        if isinstance(statement, gast.If) and isinstance(statement.test, gast.Name):
            uses.after.add(statement.test.id)
        elif isinstance(statement, (gast.For, gast.While)):
            loop = self.loops[id(statement)]
            if loop.kind == "range":
                uses.after |= names_read(statement.iter) - names_read(statement.iter.func)
                uses.resupplied = statement.target.id
            elif loop.kind == "generic":
                uses.resupplied = statement.target.id
                if self.activity.is_active(statement.target.id):
                    uses.after.add(statement.iter.id)  # read by add_at(..., iterable)
            if loop.counter:
                uses.counter = loop.counter
                uses.after.add(loop.counter)

    def needs_adjoint(self, statement) -> bool:
        """A statement needs an adjoint when something in it is active or recorded."""
        if not isinstance(statement, (gast.If, gast.For, gast.While)):
            own = id(statement)
            return own in self.plans or own in self.writes or own in self.tape_plan.pushes
        inner = [*statement.body, *statement.orelse]
        if isinstance(statement, gast.For) and self.activity.is_active(statement.target.id):
            return True
        active = any(id(s) in self.plans or id(s) in self.writes for s in walk_statements(inner))
        return active or self.tape_plan.records(inner)

    def plan_assignment(self, statement: gast.Assign) -> None:
        adjoint = self.adjoints.of_assignment(statement)
        if adjoint is None:
            return
        uses = Uses(before=adjoint.reads - {RESULT}, also_writes=set(adjoint.also_writes))
        if RESULT in adjoint.reads:
            uses.after.add(adjoint.target)
        uses.after |= adjoint.also_writes  # read back by the adjoint (a helper's saved values)
        self.plans[id(statement)] = adjoint
        self.uses[id(statement)] = uses

    def plan_container_write(self, statement) -> None:
        container, _ = self.adjoints.container_write(statement)
        if self.activity.is_active(container):
            self.writes.add(id(statement))
            self.uses[id(statement)] = Uses(before=self.adjoints.container_write_reads(statement))

    def plan_loop(self, loop) -> None:
        has_break = any(isinstance(s, gast.Break) for s in _own_statements(loop.body))
        if isinstance(loop, gast.While):
            plan = LoopPlan("while", has_break, counter=self.namer.fresh("n_steps"))
        elif isinstance(loop.iter, gast.Call) and self.parsed.resolve(loop.iter.func) is range:
            counter = self.namer.fresh(f"n_{loop.target.id}") if has_break else None
            plan = LoopPlan("range", has_break, counter=counter)
        else:
            plan = LoopPlan("generic", has_break, counter=self.namer.fresh(f"n_{loop.target.id}"))
            if self.activity.is_active(loop.target.id):
                self.adjoints.accumulators.add(loop.iter.id)
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
            write = self.adjoints.container_write(statement)
            if write is not None:
                container, index = write
                if index is not None and id(statement) in self.tape_plan.pushes:
                    old = call(load(self.global_name("snapshot")), [load(container), clone(index)])
                    out.append(
                        expression_statement(method_call(self.tape_name, "append", old), line)
                    )
                out.append(statement)
            elif isinstance(statement, gast.Assign):
                plan = self.plans.get(id(statement))
                # a helper's saved values go on the tape before the target, so the adjoint
                # (which restores the target first) pops them last
                for name in sorted(self.tape_plan.extra_pushes.get(id(statement), ())):
                    out.append(self.push(name, line))
                if id(statement) in self.tape_plan.pushes:
                    out.append(self.push(statement.targets[0].id, line))
                if plan is not None and plan.primal is not None:
                    out.append(set_line(plan.primal(), line))
                else:
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
            target = loop.target.id
            plan.target_pushed = target in self.adjoint_reads(loop.body)
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
            if self.adjoints.container_write(statement) is not None:
                fragment = self.adjoint_container_write(statement)
            elif isinstance(statement, gast.Assign):
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
            if pushed and RESULT in plan.reads:
                result = self.namer.fresh(f"{name}_next")
                self.saved.add(result)
                out.append(assign(result, load(name)))
                ans = load(result)
            out += restore
            out.append(assign(adjoint, const(0.0)))
            out += self.zero_seeds.guard(statement, name, g, self.accumulate(plan, g, ans))
        else:
            out += self.zero_seeds.guard(statement, name, g, self.accumulate(plan, g, ans))
            out.append(assign(adjoint, const(0.0)))
            out += restore
        # values saved for a helper's backward call are restored after that call read them
        extra = sorted(self.tape_plan.extra_pushes.get(id(statement), ()), reverse=True)
        return out + [assign(saved, self.pop()) for saved in extra]

    def accumulate(self, plan: AssignmentAdjoint, g, ans) -> list[gast.stmt]:
        out = list(plan.prelude(clone(g), clone(ans))) if plan.prelude else []
        for contribution in plan.contributions:
            operand = contribution.operand
            adjoint = self.adjoint_name(operand)
            value = contribution.build(clone(g), clone(ans), adjoint)
            if not contribution.update:
                value = self.adjoints.combine(operand, adjoint, value)
            out.append(assign(adjoint, value))
        return out

    def adjoint_container_write(self, statement) -> list[gast.stmt]:
        """``c[i] = v`` / ``c.append(v)``: the adjoint, then the undo if one was recorded."""
        out = []
        if id(statement) in self.writes:
            container = self.adjoints.container_write(statement)[0]
            adjoint = self.adjoints.of_container_write(statement, self.adjoint_name)
            g = load(self.adjoint_name(container))
            out += self.zero_seeds.guard(statement, container, g, adjoint)
        if id(statement) in self.tape_plan.pushes:
            container, index = self.adjoints.container_write(statement)
            if index is None:
                out.append(expression_statement(method_call(container, "pop")))
            elif isinstance(self.shapes.of(statement, load(container)), tuple):
                target = gast.Subscript(
                    value=load(container), slice=_slice_of(statement), ctx=gast.Store()
                )
                out.append(assign(target, self.pop()))  # an array: put the old part back
            else:  # maybe a dict whose key was new: restore() removes it again
                restore = call(
                    load(self.global_name("restore")), [load(container), clone(index), self.pop()]
                )
                out.append(expression_statement(restore))
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
            if self.activity.is_active(loop.target.id):
                # a name active elsewhere (for k in L: ... then for k in range(n)): binding
                # the count ends what was k before, and its adjoint with it
                body.append(assign(self.adjoint_name(loop.target.id), const(0.0), line))
            reversed_ = load(self.global_name("reversed"))
            header = for_statement(loop.target.id, call(reversed_, [steps]), body, line)
        else:
            if plan.target_pushed:
                body.insert(0, assign(loop.target.id, self.pop(), line))
            target = loop.target.id if isinstance(loop, gast.For) else None
            if (
                target is not None
                and self.activity.is_active(target)
                and not self.activity.is_active(loop.iter.id)
            ):  # for r in L: r = r * x with L not differentiated: r's adjoint stops here
                body.append(assign(self.adjoint_name(target), const(0.0), line))
                index = self.namer.fresh("_")
                steps = call(load(self.global_name("range")), [load(plan.counter)])
            elif target is not None and self.activity.is_active(target):
                # the element came from ``iterable[k]``: its adjoint goes back there
                index = self.namer.fresh("k")
                sequence = loop.iter.id
                d_sequence, d_target = self.adjoint_name(sequence), self.adjoint_name(target)
                add_at = call(
                    load(self.global_name("add_element")),
                    [load(d_sequence), load(index), load(d_target), load(sequence)],
                )
                body.append(assign(d_sequence, add_at, line))
                body.append(assign(d_target, const(0.0), line))
                counting = call(load(self.global_name("range")), [load(plan.counter)])
                steps = call(load(self.global_name("reversed")), [counting])
            else:
                index = self.namer.fresh("_")
                steps = call(load(self.global_name("range")), [load(plan.counter)])
            header = for_statement(index, steps, body, line)
        out = [header]
        if id(loop) in self.tape_plan.before_loop:
            out.append(assign(loop.target.id, self.pop(), line))
        if plan.counter and id(loop) in self.tape_plan.counter_pushes:
            out.append(assign(plan.counter, self.pop(), line))
        return out

    # ----- assembly ----------------------------------------------------------------------


def _slice_of(statement):
    """The subscript slice of ``c[i] = v`` (for the restore ``c[i] = tape.pop()``)."""
    return clone(statement.targets[0].slice)


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


def _scalar(function: NormalizedFunction, mode: str) -> str | None:
    """grad's output when one statement assigns it: a scalar, checked by ``scalar_seed``."""
    output = function.output
    if mode not in ("grad", "value_and_grad") or not isinstance(output, gast.Name):
        return None
    assigned = [
        s
        for s in walk(function.tree)
        if isinstance(s, gast.Assign)
        and any(isinstance(t, gast.Name) and t.id == output.id for t in s.targets)
    ]
    return output.id if len(assigned) == 1 else None
