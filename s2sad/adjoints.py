"""What each core-language statement contributes to the adjoint sweep.

For ``y = <operation>`` with ``y`` active, every active operand ``x`` gets a contribution
built from ``g`` (the adjoint of ``y``) and ``ans`` (``y`` itself):

====================  ==============================================================
``y = np.sin(x)``      ``dx = dx + g * np.cos(x)`` (the rule's template)
``y = x``              ``dx = dx + g``
``y = x[i, 1:]``       ``dx = add_at(dx, (i, slice(1, None)), g, x)`` (in place once allocated)
``y = (a, b)``         ``da = da + element(g, 0)``, ``db = db + element(g, 1)``
``y[i] = v``           ``dv = dv + element(dy, i)``, then ``dy = zero_at(dy, i)``
``ys.append(v)``       ``dv = dv + pop_last(dys)``
====================  ==============================================================

Contributions to a name that may hold a container use ``add_grad`` instead of ``+``.
Names whose adjoint is updated in place (``add_at``, ``zero_at``, ``pop_last``) are
*accumulators*: the optimiser never lets another name's array stand in for theirs.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Callable

import gast

from .activity import Activity, walk_statements
from .dataflow import MUTATING_METHODS
from .errors import NonDifferentiableError, UnsupportedSyntaxError
from .parse import UNRESOLVED, ParsedFunction
from .primitives import Operation, classify, dotted_source
from .rules import REGISTRY, RuleError
from .sequences import container_names, joined_from, passed_items, sequence_names
from .shapes import Shapes
from .syntax import attribute, call, clone, const, is_dict_view, load, walk

#: (adjoint of the result, the result, the operand's adjoint name) → expression
Builder = Callable[[gast.expr, gast.expr, str], gast.expr]
RESULT = "__result__"  # in ``reads``: the statement's own result


@dataclass
class Contribution:
    """``d<operand> = d<operand> + build(...)``, or ``d<operand> = build(...)`` when ``update``."""

    operand: str
    build: Builder
    update: bool = False


@dataclass
class AssignmentAdjoint:
    """The adjoint of ``target = ...``: contributions, and the primal names they read
    (``RESULT`` standing for the target's new value)."""

    target: str
    contributions: list[Contribution] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)
    #: a replacement for the primal statement (a helper's forward call), and the names it
    #: assigns besides the target
    primal: Callable[[], gast.stmt] | None = None
    also_writes: set[str] = field(default_factory=set)
    #: statements the adjoint runs before the contributions (a helper's backward call)
    prelude: Callable[[gast.expr, gast.expr], list[gast.stmt]] | None = None


class Adjoints:
    """Builds statement adjoints for one function; ``name_for`` names s2sad's helpers."""

    def __init__(
        self,
        parsed: ParsedFunction,
        body: list[gast.stmt],
        activity: Activity,
        shapes: Shapes,
        name_for: Callable[[str], str],
        kinds: dict | None = None,
    ):
        self.parsed = parsed
        self.activity = activity
        self.shapes = shapes
        self.name_for = name_for
        self.accumulators: set[str] = set()
        self.sequences = sequence_names(body, parsed, kinds or {})
        self.passed_items = passed_items(body, kinds or {})
        containers = container_names(body, parsed, kinds or {})
        may_be_lists = joined_from(body, parsed, self.passed_items)  # a list argument's items
        self.numeric = _numeric_names(body, parsed) - containers - may_be_lists
        self.lasting_views = _lasting_views(body)
        self.calls = None  # set by reverse mode: a calls.CallSites

    # ----- helpers in generated code --------------------------------------------------
    def helper(self, name: str, *args: gast.expr) -> gast.Call:
        return call(load(self.name_for(name)), list(args))

    def combine(self, operand: str, adjoint: str, value: gast.expr) -> gast.expr:
        """``dx + value``, or ``add_grad(dx, value)`` when ``x`` may be a container."""
        if operand in self.numeric:
            return gast.BinOp(left=load(adjoint), op=gast.Add(), right=value)
        return self.helper("add_grad", load(adjoint), value)

    def active(self, node) -> bool:
        return isinstance(node, gast.Name) and self.activity.is_active(node.id)

    # ----- assignments ----------------------------------------------------------------
    def of_assignment(self, statement: gast.Assign) -> AssignmentAdjoint | None:
        """The adjoint of ``name = <operation>``, or None when the name is not active."""
        target = statement.targets[0]
        if not isinstance(target, gast.Name) or not self.activity.is_active(target.id):
            return None
        operation = classify(statement.value, self.parsed.resolve)
        adjoint = AssignmentAdjoint(target.id)
        handler = getattr(self, f"_{operation.kind}")
        handler(operation, statement, adjoint)
        return adjoint

    def _constant(self, operation, statement, adjoint) -> None:
        pass

    def _copy(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        source = operation.args[0]
        if self.active(source):
            adjoint.contributions.append(Contribution(source.id, lambda g, ans, d: g))

    def _primitive(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        rule = operation.rule
        where = self.parsed.location(statement)
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except RuleError as error:
            raise UnsupportedSyntaxError(f"this call of {operation.name}: {error}", where) from None
        if rule.primitive in _JOINS and (
            any(self.sequence(bound[p]) or self.may_join(statement, bound[p]) for p in _OPERANDS)
            or (rule.primitive is operator.mul and self.may_repeat(statement, bound))
        ):
            self._joined(_JOINS[rule.primitive], bound["x1"], bound["x2"], adjoint)
            return
        bound.ndims = {p: self.shapes.ndim(statement, node) for p, node in bound.items()}
        try:
            for param in rule.derivatives:
                if not isinstance(bound[param], gast.Tuple):
                    self._contribution(statement, rule, bound, param, bound[param], adjoint)
                    continue
                for position, operand in enumerate(bound[param].elts):  # *args, one by one
                    self._contribution(statement, rule, bound.at(position), param, operand, adjoint)
        except RuleError as error:  # a template function refused the call
            raise UnsupportedSyntaxError(f"this call of {operation.name}: {error}", where) from None

    def _contribution(self, statement, rule, bound, param, operand, adjoint) -> None:
        """What ``operand`` (bound to ``param``, or one of the ``*args`` it collects) gets
        from the primitive's adjoint, by its rule."""
        if not self.active(operand):
            return
        for name in rule.reads(param, bound):
            if name == "ans":
                adjoint.reads.add(RESULT)
            elif name != "g":
                adjoint.reads |= _names(bound[name])
        summing = None
        if param in rule.unbroadcast and not self.shapes.same(statement, operand):
            summing = self.shapes.reduction(statement, operand)
            if summing is None:  # shapes unknown: decide at run time
                adjoint.reads.add(operand.id)
                summing = "unknown"
        if summing not in (None, "unknown") and self.shapes.of(statement, operand) == ():
            summing = ((), ())  # a number: sum everything
        build = self._rule_builder(rule, bound, param, operand.id, summing)
        if operand.id in self.sequences and param not in rule.containers:
            build = self._as_items(build, operand.id)  # np.sum(L): the items, one by one
        adjoint.contributions.append(Contribution(operand.id, build))

    def sequence(self, node) -> bool:
        return isinstance(node, gast.Name) and node.id in self.sequences

    def may_join(self, statement, node) -> bool:
        """``L[0] + L[1]`` with ``L`` a list argument: each item may be a list, joined."""
        return (
            isinstance(node, gast.Name)
            and node.id in self.passed_items
            and not isinstance(self.shapes.of(statement, node), tuple)
        )

    def may_repeat(self, statement, bound) -> bool:
        """``v * 2`` where ``v``'s shape is unknown: it may be a list the analysis could not
        see (a helper's result, an item of a list of lists), repeated."""
        for count, other in ((bound["x2"], bound["x1"]), (bound["x1"], bound["x2"])):
            if (
                isinstance(count, gast.Constant)
                and type(count.value) is int
                and not isinstance(self.shapes.of(statement, other), tuple)
            ):
                return isinstance(other, gast.Name)
        return False

    def _joined(self, helpers: tuple[str, str], left, right, adjoint: AssignmentAdjoint):
        """``left + right`` or ``left * right`` where either may be a list or a tuple:
        run-time helpers split the joined sequence's gradient (``first_part``,
        ``last_part``) or fold its repeats (``fold_repeats``), and fall back to the
        arithmetic rule for arrays."""
        if helpers[0] == "fold_repeats" and (self.sequence(right) or _constant(left)):
            left, right = right, left  # ``3 * [x]``: the sequence is on the right
        for operand, helper, other in ((left, helpers[0], right), (right, helpers[1], left)):
            if not self.active(operand):
                continue
            adjoint.reads |= {operand.id} | _names(other)

            def build(g, ans, d, operand=operand, helper=helper, other=other):
                return self.helper(helper, g, load(operand.id), clone(other))

            adjoint.contributions.append(Contribution(operand.id, build))

    def _as_items(self, build: Builder, operand: str) -> Builder:
        def listed(g, ans, d):
            return self.helper("as_items", build(g, ans, d), load(operand))

        return listed

    def _rule_builder(self, rule, bound, param, operand, summing) -> Builder:
        """The rule's contribution, summed back over the axes NumPy broadcast ``operand``
        along: known axes get ``np.sum(..., axis=...)``, unknown ones ``unbroadcast``."""

        def build(g, ans, d):
            expr = rule.instantiate(param, bound, g, ans, self.name_for)
            if summing is None:
                return expr
            if summing == "unknown":
                return self.helper("unbroadcast", expr, load(operand))
            return self.summed(expr, *summing)

        return build

    def summed(self, expr: gast.expr, lead: tuple, kept: tuple) -> gast.expr:
        """``expr`` summed over ``lead`` axes, then over ``kept`` axes with keepdims
        (over everything when both are empty)."""
        np_sum = attribute(load(self.name_for("np")), "sum")
        if lead:
            axis = const(lead[0]) if len(lead) == 1 else const(lead)
            expr = call(np_sum, [expr], {"axis": axis})
        if kept:
            axis = const(kept[0]) if len(kept) == 1 else const(kept)
            expr = call(np_sum, [expr], {"axis": axis, "keepdims": const(True)})
        if not lead and not kept:
            expr = call(np_sum, [expr])
        return expr

    def _subscript(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        container = statement.value.value
        if not self.active(container):
            return
        index = index_value(statement.value.slice, self.name_for("slice"))
        self.accumulators.add(container.id)
        adjoint.reads |= {container.id} | _names(index)

        def build(g, ans, d):
            return self.helper("add_at", load(d), clone(index), g, load(container.id))

        adjoint.contributions.append(Contribution(container.id, build, update=True))

    def _tuple(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        self._elements(list(enumerate(operation.args)), adjoint)

    _list = _tuple

    def _dict(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        keys = statement.value.keys
        self._elements(list(zip(keys, operation.args)), adjoint)

    def _elements(self, pairs, adjoint: AssignmentAdjoint) -> None:
        for key, element in pairs:
            if not self.active(element):
                continue
            key_node = const(key) if isinstance(key, int) else key
            adjoint.reads |= _names(key_node)
            adjoint.contributions.append(
                Contribution(
                    element.id, lambda g, ans, d, k=key_node: self.helper("element", g, clone(k))
                )
            )

    def _user(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        if any(self.active(a) for a in operation.operands):
            self.calls.differentiate(operation, statement, adjoint)

    def _unknown(self, operation: Operation, statement, adjoint: AssignmentAdjoint) -> None:
        if not any(self.active(a) for a in operation.operands):
            return
        func = getattr(statement.value, "func", None)
        where = self.parsed.location(statement)
        if (
            isinstance(func, gast.Attribute)
            and isinstance(func.value, gast.Name)
            and self.parsed.resolve(func.value) is UNRESOLVED  # a local object, not a module
            and not self.active(func.value)
        ):
            raise UnsupportedSyntaxError(
                f"calling the method {func.value.id}.{func.attr}() with a value that carries a "
                "gradient",
                where,
                hint="s2sad follows the methods of your classes called on `self`, on a global "
                "object or on the object grad was given, not on other objects (an item of a "
                "list, a local variable): call it through its class, "
                f"YourClass.{func.attr}({func.value.id}, ...)",
            )
        raise NonDifferentiableError(operation.name, where)

    # ----- statements that change a container in place ---------------------------------
    def container_write(self, statement) -> tuple[str, gast.expr | None] | None:
        """(container, index) for ``c[i] = v`` and (list, None) for ``c.append(v)``."""
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                return target.value.id, index_value(target.slice, self.name_for("slice"))
            return None
        value = getattr(statement, "value", None)
        if (
            isinstance(statement, gast.Expr)
            and isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute)
            and value.func.attr == "append"
            and isinstance(value.func.value, gast.Name)
            and len(value.args) == 1
            and not value.keywords
        ):
            return value.func.value.id, None
        return None

    def of_container_write(self, statement, adjoint_of: Callable[[str], str]) -> list[gast.stmt]:
        """The adjoint statements of ``c[i] = v`` / ``c.append(v)`` (without any undo)."""
        container, index = self.container_write(statement)
        if not self.activity.is_active(container):
            return []
        self.accumulators.add(container)
        d = adjoint_of(container)
        value = statement.value if index is not None else statement.value.args[0]
        out = []
        if index is not None:
            part = self.helper("element", load(d), clone(index))
            if self.active(value):
                part = self.helper("unbroadcast", part, load(value.id))
                out.append(
                    _assign(
                        adjoint_of(value.id), self.combine(value.id, adjoint_of(value.id), part)
                    )
                )
            out.append(_assign(d, self.helper("zero_at", load(d), clone(index))))
            return out
        part = self.helper("pop_last", load(d))
        if self.active(value):
            out.append(
                _assign(adjoint_of(value.id), self.combine(value.id, adjoint_of(value.id), part))
            )
        else:
            out.append(gast.Expr(value=part))
        return out

    def refuse_container_change(self, statement) -> None:
        """``L.insert(0, v)``, ``d.update(...)``, ``v = L.pop()``... on a list or dict that
        holds (or gets) a differentiated value: refused with the line. ``append`` and item
        assignment are differentiated; ``L.extend(v)`` is read as ``L += v``."""
        value = getattr(statement, "value", None)
        if isinstance(value, gast.BinOp) and isinstance(value.op, gast.BitOr):
            if self.active(value.left) or self.active(value.right):  # d | e, d |= e
                raise UnsupportedSyntaxError(
                    "`|` on a dict that holds a differentiated value (merging dicts)",
                    self.parsed.location(statement),
                    hint="set the keys one by one: d2 = dict(d); d2[k] = v",
                )
            return
        if id(statement) in self.lasting_views and self.active(value.func.value):
            mapping = value.func.value.id
            raise UnsupportedSyntaxError(
                f"a view `{mapping}.{value.func.attr}()` kept while {mapping} changes",
                self.parsed.location(statement),
                hint=f"a view sees the changes made to {mapping} after it; s2sad reads it where "
                f"it is made: take list({mapping}.{value.func.attr}()) there",
            )
        if (
            isinstance(value, gast.Attribute)
            and value.attr in _CHANGING
            and isinstance(value.value, gast.Name)
            and self.active(value.value)
            and self.parsed.resolve(value.value) is UNRESOLVED
        ):  # f = L.pop: a call of f changes L where s2sad cannot see it
            raise UnsupportedSyntaxError(
                f"`{value.value.id}.{value.attr}` taken as a value",
                self.parsed.location(statement),
                hint=f"call it where it is needed ({value.value.id}.{value.attr}(...))",
            )
        call = _container_change(value, self.parsed.resolve)
        if call is None:
            return
        receiver, method, arguments = call
        if not (self.active(receiver) or any(self.active(a) for a in arguments)):
            return
        written = f"{receiver.id}.{method}(...)"
        if getattr(value.func.value, "id", None) != receiver.id:  # list.insert(L, ...)
            written = f"{dotted_source(value.func)}({receiver.id}, ...)"
        raise UnsupportedSyntaxError(
            f"`{written}`, which changes {receiver.id} in place",
            self.parsed.location(statement),
            hint=f"s2sad differentiates {receiver.id}.append(v) and item assignment (c[k] = v) "
            "on lists and dicts; build a new one instead (L2 = [v] + L, sorted(L), "
            "d2 = dict(d); d2[k] = v)",
        )

    def container_write_reads(self, statement) -> set[str]:
        container, index = self.container_write(statement)
        if not self.activity.is_active(container):
            return set()
        reads = _names(index) if index is not None else set()
        value = statement.value if index is not None else None
        if value is not None and self.active(value):
            reads.add(value.id)
        return reads


def index_value(node: gast.expr, slice_name: str = "slice") -> gast.expr:
    """The index object a subscript's slice denotes: ``1:n`` → ``slice(1, n)``."""
    if isinstance(node, gast.Slice):
        parts = [
            clone(p) if p is not None else const(None) for p in (node.lower, node.upper, node.step)
        ]
        while len(parts) > 2 and isinstance(parts[-1], gast.Constant) and parts[-1].value is None:
            parts.pop()
        return call(load(slice_name), parts)
    if isinstance(node, gast.Tuple):
        return gast.Tuple(elts=[index_value(e, slice_name) for e in node.elts], ctx=gast.Load())
    return clone(node)


def _names(node) -> set[str]:
    if node is None:
        return set()
    called = {id(n.func) for n in walk(node) if isinstance(n, gast.Call)}
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and id(n) not in called}


def _assign(name: str, value: gast.expr) -> gast.Assign:
    return gast.Assign(
        targets=[gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)],
        value=value,
        type_comment=None,
    )


#: sequence-joining operators → the helpers for (the sequence, the other operand)
_OPERANDS = ("x1", "x2")
_JOINS = {
    operator.add: ("first_part", "last_part"),
    operator.mul: ("fold_repeats", "count_grad"),
}


_CHANGING = MUTATING_METHODS | {"__setitem__", "__delitem__", "__iadd__", "__imul__", "__ior__"}
_CONTAINER_METHODS = [
    getattr(kind, name) for kind in (list, dict) for name in _CHANGING if hasattr(kind, name)
]


def _lasting_views(body) -> set[int]:
    """The statements ``v = d.values()`` (or ``items``, ``keys``) of a dict ``d`` the function
    changes (``d[k] = e``), whose view is not used up by the next statement alone: a view
    sees later changes, so reading it later is not reading it where it was made."""
    changed = {
        statement.targets[0].value.id
        for statement in walk_statements(body)
        if isinstance(statement, gast.Assign)
        and isinstance(statement.targets[0], gast.Subscript)
        and isinstance(statement.targets[0].value, gast.Name)
    }
    if not changed or not any(_is_view_of(s, changed) for s in walk_statements(body)):
        return set()  # most functions: no walk over every name
    reads: dict[str, int] = {}
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            reads[node.id] = reads.get(node.id, 0) + 1
    lasting = set()
    blocks = [body]  # a worklist, not a recursive closure: a build leaves no cycles
    while blocks:
        block = blocks.pop()
        for position, statement in enumerate(block):
            for inner in (getattr(statement, "body", None), getattr(statement, "orelse", None)):
                if isinstance(inner, list):
                    blocks.append(inner)
            if _is_view_of(statement, changed) and not _used_up_next(
                statement.targets[0].id, block[position + 1 : position + 2], reads
            ):
                lasting.add(id(statement))
    return lasting


def _is_view_of(statement, changed: set) -> bool:
    """Whether ``statement`` is ``v = d.values()`` (or ``items``, ``keys``) of a dict in
    ``changed``."""
    return (
        isinstance(statement, gast.Assign)
        and isinstance(statement.targets[0], gast.Name)
        and is_dict_view(statement.value)
        and getattr(statement.value.func.value, "id", None) in changed
    )


def _used_up_next(view: str, following: list, reads: dict) -> bool:
    """Whether every read of ``view`` is in the one simple statement after it."""
    if not following or isinstance(following[0], (gast.For, gast.While, gast.If)):
        return False
    used = sum(
        1
        for node in walk(following[0])
        if isinstance(node, gast.Name) and node.id == view and isinstance(node.ctx, gast.Load)
    )
    return used == reads.get(view, 0)


def _container_change(value, resolve) -> tuple | None:
    """(receiver, method, arguments) when ``value`` calls a method that changes a list or
    a dict in place: ``L.insert(0, v)``, ``list.insert(L, 0, v)``, ``L.__setitem__(0, v)``."""
    if not isinstance(value, gast.Call) or not isinstance(value.func, gast.Attribute):
        return None
    func = value.func
    if func.attr not in _CHANGING:
        return None
    if isinstance(func.value, gast.Name) and resolve(func.value) is UNRESOLVED:
        return func.value, func.attr, list(value.args)  # a local: a list or a dict
    if value.args and isinstance(value.args[0], gast.Name):
        function = resolve(func)
        if any(function is method for method in _CONTAINER_METHODS):  # list.insert(L, ...)
            return value.args[0], func.attr, list(value.args[1:])
    return None


def _constant(node) -> bool:
    return isinstance(node, gast.Constant)


def _numeric_names(body, parsed: ParsedFunction) -> set[str]:
    """Names that certainly hold numbers or arrays: results of differentiable primitives
    (except those whose rule says ``shape="tuple"``: their adjoint is a list, one per
    part; and those of the user's rules that say no shape), and their operands (except
    parameters a rule declares may be containers)."""
    numeric: set[str] = set()
    for statement in walk_statements(body):
        if not isinstance(statement, gast.Assign) or not isinstance(
            statement.targets[0], gast.Name
        ):
            continue
        operation = classify(statement.value, parsed.resolve)
        rule = operation.rule
        if operation.kind != "primitive" or not rule.differentiable:
            continue
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except RuleError:
            numeric.add(statement.targets[0].id)
            continue
        shape = rule.result_shape(bound) if rule.result_shape else None
        if shape not in ("tuple", "any") and (shape is not None or not REGISTRY.is_users(rule)):
            numeric.add(statement.targets[0].id)  # a user's rule may return a tuple
        for param, node in bound.items():
            if param in rule.containers:
                continue
            for each in node.elts if isinstance(node, gast.Tuple) else [node]:  # *args
                if isinstance(each, gast.Name):
                    numeric.add(each.id)
    return numeric
