"""Where an adjoint may still be the ``0.0`` that stands for "no gradient yet".

Reverse mode resets a name's adjoint to ``0.0`` where the name is bound. Most rules take
that ``0.0`` as a seed and give zeros, but some need the seed's shape (``np.expand_dims``
of an axis, ``@``, splitting a stacked array, a tuple's parts). The seed of a statement may
be that ``0.0`` when its value is bound again before any adjoint that surely runs reads it
(a loop whose ``y`` only the last pass reads), or when it is a part of a tuple, list or
dict whose other parts may be all that is read. Those statements' adjoints are guarded::

    for i in reversed(range(4)):
        if not is_zero(dv):
            helper_db, = helper_backward(helper_saved, dv)
            dx = add_grad(dx, helper_db)
        dv = 0.0

Skipping is exact: a contribution is linear in its seed, so a zero seed contributes zero.
Loops that read every value they bind (a recurrent network, a Newton iteration) and
straight-line code get no guards.
"""

from __future__ import annotations

import gast

from .activity import walk_statements
from .dataflow import read_before_rebound
from .sequences import containers_built
from .syntax import call, clone, load, loads


class ZeroSeeds:
    """The statements of one function whose adjoint's seed may be the ``0.0`` reset."""

    def __init__(self, reverse, body: list[gast.stmt]):
        self.reverse = reverse
        whole = reverse.function.tree.body  # with its return
        self.statements = self.maybe_zero(body, whole)
        #: the parameters whose adjoint every path adds to (a helper's other gradients may
        #: stay 0.0, and its caller gets zeros of the parameter's shape instead)
        self.read_at_start = self.read_after[id(whole)]

    def maybe_zero(self, body, whole) -> set[int]:
        reverse = self.reverse
        adjoints = reverse.adjoints
        statements, parts = [], set()
        adds_to: dict[int, set[str]] = {}
        containers = containers_built(body)
        for statement in walk_statements(body):
            if isinstance(statement, (gast.If, gast.For, gast.While)):
                continue
            write = adjoints.container_write(statement)
            target = getattr(statement, "targets", [None])[0]
            name = write[0] if write is not None else getattr(target, "id", None)
            if name is None or not self.has_adjoint(statement):
                continue
            statements.append((statement, name))
            plan = reverse.plans.get(id(statement))
            if plan is not None:  # the operands its adjoint adds to
                adds_to[id(statement)] = {c.operand for c in plan.contributions}
            if isinstance(statement.value, (gast.Tuple, gast.List, gast.Dict)):
                parts |= loads(statement.value)
            elif write is not None and name in containers:
                parts |= loads(statement.value) - {name}  # an element of a list or dict
        silent = {
            id(s)
            for s in walk_statements(whole)
            if not self.has_adjoint(s)
            and not (
                isinstance(s, gast.For) and reverse.activity.is_active(getattr(s.target, "id", ""))
            )
        }
        # a statement whose seed may be 0.0 may be skipped: its reads do not count either
        maybe: set[int] = set()
        while True:
            self.read_after = read_before_rebound(whole, silent | maybe, adds_to)
            grown = {
                id(s)
                for s, name in statements
                if name in parts or name not in self.read_after.get(id(s), ())
            }
            if grown == maybe:
                return maybe
            maybe = grown

    def has_adjoint(self, statement) -> bool:
        return id(statement) in self.reverse.plans or id(statement) in self.reverse.writes

    def guard(self, statement, name: str, g, adjoint: list[gast.stmt]) -> list[gast.stmt]:
        """``adjoint`` under ``if not is_zero(g):`` where ``name``'s adjoint ``g`` may be the
        ``0.0`` reset and ``name`` may be an array."""
        if not adjoint or id(statement) not in self.statements:
            return adjoint
        if self.reverse.shapes.of(statement, load(name)) == ():
            return adjoint  # a number: every rule takes a 0.0 seed
        is_zero = call(load(self.reverse.global_name("is_zero")), [clone(g)])
        test = gast.UnaryOp(op=gast.Not(), operand=is_zero)
        return [gast.If(test=test, body=adjoint, orelse=[])]
