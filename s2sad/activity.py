"""Activity analysis: which names depend on a ``wrt`` input *and* reach the output.

Only active names get adjoints. A name is *varied* when a differentiable operation carries
a ``wrt`` input into it, *useful* when a differentiable operation carries it into the
output; active means both. The analysis is by name and ignores statement order, which is
conservative (an active name may be zero on some path) and cheap.

>>> import numpy as np
>>> def f(x, w, n):
...     k = n * 2
...     y = np.sin(x) * w
...     s = x.shape
...     return np.sum(y) + k
>>> from .parse import ParsedFunction  # doctest: +SKIP
>>> analyze(normalize(parse_function(f)), ["x"]).active        # doctest: +SKIP
{'x', 'sin_x', 'y', 'sum_y', ...}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import gast

from .normalize import NormalizedFunction
from .primitives import Operation, classify
from .rules import RuleError

MUTATING_METHODS = frozenset({"append", "extend", "insert"})


@dataclass
class Activity:
    """The result of the analysis; ``active`` is what reverse mode differentiates."""

    varied: set[str] = field(default_factory=set)
    useful: set[str] = field(default_factory=set)

    @property
    def active(self) -> set[str]:
        return self.varied & self.useful

    def is_active(self, node: gast.AST | str | None) -> bool:
        if isinstance(node, gast.Name):
            node = node.id
        return isinstance(node, str) and node in self.varied and node in self.useful


def analyze(function: NormalizedFunction, wrt: list[str]) -> Activity:
    """Varied and useful names of ``function`` for inputs ``wrt``."""
    edges = list(_flows(function))
    varied = set(wrt)
    _propagate(varied, [(sources, target) for sources, target in edges])
    output = function.output
    useful = {output.id} if isinstance(output, gast.Name) else set()
    _propagate(useful, [({target}, sources) for sources, target in edges], backwards=True)
    return Activity(varied, useful)


def _propagate(reached: set[str], edges, backwards: bool = False) -> None:
    changed = True
    while changed:
        changed = False
        for sources, targets in edges:
            if backwards:
                if sources & reached and not targets <= reached:
                    reached |= targets
                    changed = True
            elif sources & reached and targets not in reached:
                reached.add(targets)
                changed = True


def _flows(function: NormalizedFunction) -> Iterator[tuple[set[str], str]]:
    """(names a value may carry a derivative from, the name receiving it) for every statement."""
    resolve = function.parsed.resolve
    for statement in walk_statements(function.tree.body):
        if isinstance(statement, gast.Assign):
            target = statement.targets[0]
            if isinstance(target, gast.Name):
                sources = differentiable_operands(classify(statement.value, resolve))
                yield _names(sources), target.id
            elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                yield _names([statement.value, target.value]), target.value.id
        elif isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
            func = statement.value.func
            if (
                isinstance(func, gast.Attribute)
                and func.attr in MUTATING_METHODS
                and isinstance(func.value, gast.Name)
            ):
                yield _names(statement.value.args), func.value.id
        elif isinstance(statement, gast.For) and isinstance(statement.iter, gast.Name):
            yield {statement.iter.id}, statement.target.id


def differentiable_operands(operation: Operation) -> list[gast.expr]:
    """The operands a derivative can flow from (all of them when no rule says otherwise)."""
    if operation.kind == "constant":
        return []
    if operation.kind == "primitive":
        rule = operation.rule
        if not rule.differentiable:
            return []
        try:
            bound = rule.bind(operation.args, operation.keywords)
        except RuleError:
            return operation.operands  # reverse reports the bad call if it matters
        return _flatten([bound[param] for param in rule.derivatives])
    return operation.operands


def _flatten(nodes) -> list[gast.expr]:
    flat = []
    for node in nodes:
        if isinstance(node, (gast.Tuple, gast.List)):
            flat.extend(_flatten(node.elts))
        else:
            flat.append(node)
    return flat


def _names(nodes) -> set[str]:
    return {n.id for n in nodes if isinstance(n, gast.Name)}


def walk_statements(body: list[gast.stmt]) -> Iterator[gast.stmt]:
    """Every statement in ``body``, compound statements before their bodies."""
    for statement in body:
        yield statement
        if isinstance(statement, (gast.If, gast.For, gast.While)):
            yield from walk_statements(statement.body)
            yield from walk_statements(statement.orelse)
