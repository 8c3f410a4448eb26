"""Assembly: the primal and adjoint sweeps put together into one derivative function.

Reverse mode (s2sad.reverse) plans and writes the two sweeps; this module adds what goes
around them: the prologue (tape, arguments the function rebinds), the seed of the
adjoint sweep (1.0, checked by ``scalar_seed`` unless the output is provably a number, or
the caller's ``seed``), zero-initialised adjoints, the docstring, and the return of the
gradients cast to the arguments' kinds. The result is a :class:`Derivative`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .normalize import NormalizedFunction
from .syntax import (
    assign,
    call,
    clone,
    comment,
    const,
    expression_statement,
    function_def,
    load,
    names_stored,
    walk,
)

ADJOINT_SWEEP = "adjoint sweep"  # the comment that opens the adjoint sweep


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
    accumulators: set[str] = field(default_factory=set)  # adjoints updated in place
    #: the shape of each primal name the function assigns once (parameters it never
    #: assigns included), where the shape analysis knows it: see s2sad.seeds
    shapes: dict[str, tuple] = field(default_factory=dict)

    @property
    def inlinable(self) -> set[str]:
        """Names the optimiser may fold into their use: temporaries and their adjoints."""
        return self.temporaries | {
            self.function.namer.adjoint(t)
            for t in self.function.temporaries
            if t in self.function.namer.adjoint_names()
        }


class Assembly:
    """Puts together the derivative function of one reverse-mode run (``reverse``)."""

    def __init__(self, reverse):
        self.reverse = reverse

    def assemble(self, body) -> Derivative:
        tree = self.reverse.function.tree
        line = tree.lineno
        output = self.reverse.function.output
        primal = self.reverse.primal(body)
        adjoint = self.reverse.adjoint(body)

        prologue = [
            assign(name, const(None), line) for name in sorted(self.reverse.tape_plan.maybe_unbound)
        ]
        rebound = names_stored(gast.Module(body=body, type_ignores=[]))
        for name in self.reverse.wrt:
            if name in rebound and self.reverse.kinds.get(name) != "number":
                self.reverse.arguments[name] = self.reverse.namer.fresh(f"{name}_given")
                prologue.insert(0, assign(self.reverse.arguments[name], load(name), line))
        if self.tape_used(primal):
            prologue.append(
                assign(self.reverse.tape_name, gast.List(elts=[], ctx=gast.Load()), line)
            )

        value_name = None
        return_line = getattr(self.reverse.function.tree.body[-1], "lineno", line)
        if self.reverse.mode in ("value_and_grad", "split"):  # taken before the adjoint restores
            value_name = self.reverse.namer.fresh("value")
            primal.append(assign(value_name, clone(output), return_line))
        middle: list[gast.stmt] = [comment(ADJOINT_SWEEP, line)]
        seed_name = None
        if self.reverse.mode in ("vjp", "split"):
            seed_name = self.reverse.namer.fresh("seed")
            seed = load(seed_name)
        elif self.reverse.shapes.of(self.reverse.function.tree.body[-1], output) == () and not (
            self.reverse.shapes.assumed_scalar
        ):
            seed = const(1.0)  # the output is a number, provably: no check needed
        else:
            seed = call(load(self.reverse.global_name("scalar_seed")), [clone(output)])
        output_active = isinstance(output, gast.Name) and self.reverse.activity.is_active(output.id)
        if output_active:
            if seed_name is not None and output.id in self.reverse.adjoints.accumulators:
                # the caller's seed must not be changed by updates made in place
                seed = call(load(self.reverse.global_name("copy_gradient")), [seed])
            middle.append(assign(self.reverse.adjoint_name(output.id), seed, return_line))
        elif seed_name is None:
            middle.append(expression_statement(seed, return_line))
        for name in self.adjoint_variables(body):
            if not (output_active and name == output.id):
                middle.append(assign(self.reverse.adjoint_name(name), const(0.0), return_line))

        gradients = [self.returned_gradient(w) for w in self.reverse.wrt]
        if self.reverse.mode == "split":  # the caller accumulates the raw adjoints itself
            gradients = [self.raw_gradient(w, body) for w in self.reverse.wrt]
        may_share = [w for w in self.reverse.wrt if self.reverse.shapes.of_parameter(w) != ()]
        if self.reverse.mode == "split":
            result = gast.Tuple(elts=gradients, ctx=gast.Load())
        elif len(may_share) > 1:  # two array gradients may be one object (x + y)
            result = call(load(self.reverse.global_name("distinct")), gradients)
        elif self.reverse.as_tuple:
            result = gast.Tuple(elts=gradients, ctx=gast.Load())
        else:
            result = gradients[0]
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
        name = self.reverse.namer.fresh(f"{self.reverse.mode}_{tree.name}")
        docstring = expression_statement(const(self.docstring()), line)
        derivative = function_def(
            name, args, [docstring, *prologue, *primal, *middle, *adjoint, final], line
        )
        adjoints = set(self.reverse.namer.adjoint_names().values()) | self.reverse.saved
        temporaries = set(self.reverse.function.temporaries) | self.reverse.saved
        accumulators = {self.reverse.adjoint_name(n) for n in self.reverse.adjoints.accumulators}
        return Derivative(
            derivative,
            dict(self.reverse.bindings.bound),
            seed_name,
            self.reverse.function,
            self.reverse.wrt,
            self.reverse.mode,
            adjoints,
            temporaries,
            accumulators,
            self.single_shapes(),
        )

    def raw_gradient(self, parameter: str, body) -> gast.expr:
        """A helper's gradient for ``parameter`` as its caller takes it: the adjoint itself,
        or zeros of the parameter's shape where it may still be 0.0 (the helper ignores
        the parameter on some path) and the caller's rules may need the shape."""
        reverse = self.reverse
        gradient = load(reverse.adjoint_name(parameter))
        if (
            parameter in reverse.zero_seeds.read_at_start
            or reverse.shapes.of_parameter(parameter) == ()
        ):
            return gradient
        passed = reverse.arguments.get(parameter, parameter)  # the value before a rebinding
        return call(load(reverse.global_name("cast_like")), [gradient, load(passed)])

    def single_shapes(self) -> dict[str, tuple]:
        """Known shapes of the names assigned once, and of parameters never assigned."""
        results: dict[str, list] = {}
        stored = set()
        for statement in walk(self.reverse.function.tree):
            if isinstance(statement, gast.Name) and isinstance(statement.ctx, gast.Store):
                stored.add(statement.id)
            if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name):
                results.setdefault(statement.targets[0].id, []).append(statement)
        shapes = {}
        for name, statements in results.items():
            shape = self.reverse.shapes.result(statements[0]) if len(statements) == 1 else None
            if isinstance(shape, tuple):
                shapes[name] = shape
        for name in self.reverse.function.parameters:
            shape = self.reverse.shapes.of_parameter(name)
            if name not in stored and isinstance(shape, tuple):
                shapes[name] = shape
        return shapes

    def returned_gradient(self, name: str) -> gast.expr:
        """The gradient of parameter ``name`` as returned: a float for a Python number,
        otherwise cast to the argument's kind and shape at run time (the argument as it
        was passed in, if the function rebinds the parameter)."""
        adjoint = load(self.reverse.adjoint_name(name))
        if self.reverse.kinds.get(name) == "number":
            return call(load(self.reverse.global_name("as_float")), [adjoint])
        argument = self.reverse.arguments.get(name, name)
        return call(load(self.reverse.global_name("cast_like")), [adjoint, load(argument)])

    def tape_used(self, statements) -> bool:
        return any(
            isinstance(n, gast.Name) and n.id == self.reverse.tape_name
            for s in statements
            for n in walk(s)
        )

    def adjoint_variables(self, body) -> list[str]:
        """Active names (and the wrt inputs) in order of first appearance."""
        order = dict.fromkeys(self.reverse.wrt)
        is_active = self.reverse.activity.is_active
        for statement in body:  # a compound statement's walk covers its inner ones
            for node in walk(statement):
                if isinstance(node, gast.Name) and node.id not in order and is_active(node.id):
                    order[node.id] = None
        return list(order)

    def docstring(self) -> str:
        parsed = self.reverse.parsed
        what = {
            "split": "Derivative",
            "grad": "Gradient",
            "value_and_grad": "Value and gradient",
            "vjp": "Vector-Jacobian product",
        }
        wrt = ", ".join(self.reverse.wrt)
        return (
            f"{what[self.reverse.mode]} of {parsed.name} ({parsed.location(None)}) with respect to "
            f"{wrt}. Generated by s2sad."
        )
