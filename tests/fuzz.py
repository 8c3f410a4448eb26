"""Random programs for fuzzing s2sad, and the check each one must pass.

    python tests/fuzz.py 12              # print the program of seed 12 and check it
    python tests/fuzz.py --run 0 500     # check seeds 0..499 and summarise the failures

Every program is ``def f(x, y, n)``: x and y (the differentiated arguments) are Python
floats or NumPy arrays, n is a small int that branches and loops may test, never
differentiated. Helpers ``h1, h2, ...`` and constants ``C1, C2, ...`` come before f in
the same source.

The generator tracks, for every name it defines, its shape and a bound on the magnitude of
its elements, so that every program runs, returns a scalar and is well conditioned at
every point: stored values stay within LIMIT (``np.tanh`` or a division squashes them when
needed), ``np.exp`` only sees values within 2, ``np.log``/``np.sqrt`` only ``1 + v * v``,
divisors are ``1 + v * v``, ``2 + sin(v)`` or ``1.5 + tanh(v)``, and ``np.maximum``/
``np.minimum`` compare operands at least 0.5 apart. A loop may only write a value defined
before it within the bound that value had on entry, so bounds hold for any trip count.
An array is updated in place (``+=``, ``v[i] = ...``) only when it is "mutable": made by
the program and seen by no other name (values stored in containers or other names are
never bare views of a mutable array), so Python's aliasing never changes a result.
"""

from __future__ import annotations

import math
import random
import re
import sys
import traceback
from dataclasses import dataclass, field, replace

import numpy as np

DIMS = (2, 3, 4)
LIMIT = 6.0  # every stored value v satisfies |v| <= LIMIT
MAX_DEPTH = 2  # nesting of if/for/while


@dataclass
class Var:
    name: str
    shape: tuple  # () for a scalar; for a list, the shape of its items
    bound: float  # |element| <= bound
    mutable: bool = False  # may be updated in place (see the module docstring)
    kind: str = "value"  # "value", "list", "tuple" or "dict"
    length: int = 0  # a list's length
    growing: bool = False  # a list being appended to in the enclosing loop
    items: tuple = ()  # a tuple's or dict's items, as (shape, bound) pairs
    keys: tuple = ()  # a dict's keys


@dataclass
class Expr:
    code: str
    shape: tuple
    bound: float
    aliases: frozenset = frozenset()  # names whose arrays this value may be a view of


@dataclass
class Loop:
    caps: dict  # name -> its bound on entry: writes inside the loop stay within it
    index: str | None  # an int loop variable expressions may use
    index_max: int  # its largest value
    frozen: set = field(default_factory=set)  # accumulators of this loop: updated once each trip


@dataclass
class Scope:
    """The function being generated (f or a helper)."""

    env: dict  # name -> Var, in definition order
    int_name: str | None  # the int parameter (n in f)
    int_value: int
    returns: tuple | None = None  # a helper's return shapes (None for f)
    return_bounds: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    indent: int = 1
    loops: list = field(default_factory=list)


@dataclass
class Helper:
    name: str
    params: tuple  # (shape, bound) of each array parameter
    takes_int: bool
    returns: tuple  # (shape, bound) of each returned value; one item: not a tuple
    scaled: bool = False  # has a last parameter ``scale=0.5``


@dataclass
class Program:
    seed: int
    source: str
    args: tuple

    def function(self):
        from s2sad.parse import function_from_source

        return function_from_source(self.source, {"np": np, "math": math}, name="f")

    def __str__(self):
        return (
            f"# seed {self.seed}: f{_show_args(self.args)}; again: python tests/fuzz.py {self.seed}\n"
            f"{self.source}"
        )


def _show_args(args):
    shown = [f"array{a.shape}" if isinstance(a, np.ndarray) else repr(a) for a in args]
    return f"({', '.join(shown)})"


def atomic(code: str) -> bool:
    """No operator outside brackets: safe as an operand without parentheses."""
    depth = 0
    for ch in code:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and ch == " ":
            return False
    return not code.startswith("-")


def p(e) -> str:
    code = e.code if isinstance(e, Expr) else e
    return code if atomic(code) else f"({code})"


def square(e: Expr) -> str:
    return f"{e.code} * {e.code}" if e.code.isidentifier() else f"{p(e)} ** 2"


class Generator:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.count = 0
        self.module_lines: list[str] = []  # constants
        self.helpers: list[Helper] = []
        self.helper_sources: list[str] = []
        self.s: Scope = None  # type: ignore[assignment]
        self.budget = self.rng.randint(5, 14)  # statements left to generate (keeps programs short)
        self.constants: dict = {}  # shape -> names of constant arrays of that shape
        self.nested_sources: list[str] = []  # lines of helpers defined inside f

    # ----- small utilities -------------------------------------------------------------
    def chance(self, probability):
        return self.rng.random() < probability

    def pick(self, seq):
        return self.rng.choice(list(seq))

    def weighted(self, options):
        options = [(w, o) for w, o in options if w > 0]
        return self.rng.choices([o for _, o in options], [w for w, _ in options])[0]

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, line):
        self.s.lines.append("    " * self.s.indent + line)

    def values(self, shape=None):
        return [
            v
            for v in self.s.env.values()
            if v.kind == "value" and (shape is None or v.shape == shape)
        ]

    def define(self, var):
        self.s.env.pop(var.name, None)  # re-inserted last: the output prefers recent names
        self.s.env[var.name] = var

    def cap(self, name):
        """The bound a write to ``name`` must stay within (its bound on entry to loops)."""
        return min([loop.caps[name] for loop in self.s.loops if name in loop.caps] + [LIMIT])

    def frozen(self, name):
        return any(name in loop.frozen for loop in self.s.loops)

    def random_shape(self):
        rank = self.weighted([(1, 0), (2, 1), (2, 2)])
        return tuple(self.pick(DIMS) for _ in range(rank))

    def target_shape(self):
        """A shape for a new value: mostly one the function already has."""
        shapes = [v.shape for v in self.values()]
        if shapes and self.chance(0.7):
            return self.pick(shapes)
        return self.random_shape()

    def prefer(self, shapes):
        """One of ``shapes``, preferring shapes of existing values."""
        have = {v.shape for v in self.values()}
        known = [s for s in shapes if s in have]
        return self.pick(known if known and self.chance(0.8) else shapes)

    def operand_shape(self, shape):
        """A shape that broadcasts with ``shape`` to ``shape``."""
        candidates = [shape, shape, ()]
        if len(shape) == 2:
            candidates += [shape[1:], (shape[0], 1), (1, shape[1])]
        candidates += [
            v.shape for v in self.values() if v.shape and _broadcast(v.shape, shape) == shape
        ]
        return self.pick(candidates)

    def constant(self, shape, kind="data"):
        """A module-level constant array (no gradient flows into it), new or reused: "data"
        in [-1.5, 1.5], "offset" of entries +-2.5, or a boolean "mask". Returns its name
        and bound."""
        known = self.constants.setdefault((shape, kind), [])
        if known and self.chance(0.7):
            return self.pick(known)
        size = int(np.prod(shape))
        if kind == "data":
            values = [round(self.rng.uniform(-1.5, 1.5), 1) for _ in range(size)]
        elif kind == "offset":
            values = [self.pick([2.5, -2.5]) for _ in range(size)]
        else:
            values = [self.pick([True, False]) for _ in range(size)]
        name = f"C{len(self.module_lines) + 1}"
        data = np.array(values, dtype=object).reshape(shape).tolist()
        self.module_lines.append(f"{name} = np.array({data!r})")
        known.append((name, max(abs(float(v)) for v in values)))
        return known[-1]

    def number(self):
        return self.pick(["0.5", "1.5", "2.0", "0.25", "3.0", "0.7", "-1.0", "-0.5"])

    # ----- bounds ----------------------------------------------------------------------
    def squash(self, e: Expr, cap: float) -> Expr:
        """``e`` brought within ``cap``."""
        if e.bound <= cap:
            return e
        if cap >= 1.0:
            if self.chance(0.5):
                return Expr(f"np.tanh({e.code})", e.shape, 1.0)
            k = 2.0
            while e.bound / k > cap:
                k *= 2.0
            return Expr(f"{p(e)} / {k!r}", e.shape, e.bound / k)
        c = math.floor(cap * 100) / 100
        return Expr(f"{c!r} * np.tanh({e.code})", e.shape, c)

    def store(self, e: Expr, cap: float = LIMIT, fresh: bool = False) -> Expr:
        """``e`` made fit to be stored under a name: within ``cap``, and a new array when
        it could be a view of a mutable array (or of anything, when ``fresh``)."""
        e = self.squash(e, cap)
        env = self.s.env
        if e.aliases and (fresh or any(env[a].mutable for a in e.aliases if a in env)):
            if atomic(e.code) and self.chance(0.5):
                return Expr(f"{e.code}.copy()", e.shape, e.bound)
            e = Expr(f"0.5 * {p(e)}", e.shape, e.bound / 2)
        return e

    # ----- expressions -----------------------------------------------------------------
    def expr(self, shape, depth) -> Expr:
        """An expression of exactly this shape."""
        if depth <= 0 or self.chance(0.2):
            return self.leaf(shape)
        makers = [
            (4, self.unary),
            (5, self.binary),
            (1, self.divide),
            (1, self.power),
            (2, self.reduction),
            (2, self.matmul),
            (1, self.transpose),
            (1, self.extremum),
            (1, self.conditional),
            (1, self.helper_expr),
            (1, self.collect),
        ]
        while True:
            e = self.weighted(makers)(shape, depth - 1)
            if e is not None:
                return e if e.bound <= 4 * LIMIT else self.squash(e, LIMIT)

    def leaf(self, shape) -> Expr:
        exact = [self.use(v) for v in self.values(shape)]
        if exact and self.chance(0.6):
            return self.pick(exact)
        derived = [e for v in list(self.s.env.values()) for e in self.derived(v, shape)]
        derived += self.index_leaves(shape)
        if derived and self.chance(0.9):
            return self.pick(derived)
        if exact:
            return self.pick(exact)
        return self.fallback(shape)

    def use(self, v: Var) -> Expr:
        return Expr(v.name, v.shape, v.bound, frozenset([v.name]) if v.shape else frozenset())

    def index_leaves(self, shape):
        """Loop indices, as numbers or as indices into arrays."""
        out = []
        for loop in self.s.loops:
            if loop.index is None or loop.index_max < 0:
                continue
            i, top = loop.index, loop.index_max
            if shape == ():
                out.append(Expr(f"0.5 * {i}", (), 0.5 * top))
            for v in self.values():
                if v.shape and v.shape[1:] == shape and v.shape[0] > top:
                    view = frozenset([v.name]) if shape else frozenset()
                    out.append(Expr(f"{v.name}[{i}]", shape, v.bound, view))
        return out

    def slice_text(self, lo, hi, m):
        forms = [f"{lo}:{hi}"]
        if lo == 0:
            forms.append(f":{hi}")
        if hi == m:
            forms += [f"{lo}:", f"{lo - m}:"]
        if hi < m:
            forms.append(f"{lo}:{hi - m}")
        return self.pick(forms)

    def slice_for(self, length, m):
        """Slice text selecting ``length`` of ``m`` items."""
        if length == (m + 1) // 2 and self.chance(0.3):
            return "::2"
        if length == m // 2 and self.chance(0.3):
            return "1::2"
        if length == m:
            return ":"
        lo = self.rng.randint(0, m - length)
        return self.slice_text(lo, lo + length, m)

    def reduce_text(self, fn, code, axis=None, keepdims=False, ndim=1):
        if axis is not None and not isinstance(axis, tuple) and self.chance(0.3):
            axis -= ndim
        args = "" if axis is None else f"axis={axis}"
        if keepdims:
            args += ", keepdims=True"
        if self.chance(0.3):
            return f"{p(code)}.{fn}({args})"
        return f"np.{fn}({code}{', ' + args if args else ''})"

    def derived(self, v: Var, shape):
        """Leaves of ``shape`` made from v: items, views, reductions."""
        out = []
        name, b, al = v.name, v.bound, frozenset([v.name])
        if v.kind == "list":
            if v.shape == shape:
                out += [Expr(f"{name}[{j}]", shape, b, al) for j in range(min(v.length, 2))]
                if v.length:
                    out.append(Expr(f"{name}[-1]", shape, b, al))
                if v.length and not v.growing:
                    out.append(Expr(f"sum({name})", shape, b * v.length))
            if v.length and not v.growing and shape == (v.length, *v.shape) and len(shape) <= 2:
                out.append(Expr(f"np.stack({name})", shape, b))
            return out
        if v.kind in ("tuple", "dict"):
            keys = [repr(k) for k in v.keys] or range(len(v.items))
            return [
                Expr(f"{name}[{k}]", s, sb, al if s else frozenset())
                for k, (s, sb) in zip(keys, v.items)
                if s == shape
            ]
        r, nd = self.rng, len(v.shape)
        if nd == 2 and v.shape[::-1] == shape:
            code = self.pick([f"{name}.T", f"np.transpose({name})", f"{name}.transpose()"])
            out.append(Expr(code, shape, b, al))
        if nd == 1 and shape == ():
            i = r.randrange(v.shape[0])
            out.append(Expr(f"{name}[{self.pick([i, i - v.shape[0]])}]", (), b))
        if nd == 2 and shape == ():
            out.append(Expr(f"{name}[{r.randrange(v.shape[0])}, {r.randrange(v.shape[1])}]", (), b))
        if nd == 2 and shape == v.shape[1:]:
            out.append(Expr(f"{name}[{r.randrange(v.shape[0])}]", shape, b, al))
        if nd == 2 and shape == v.shape[:1]:
            out.append(Expr(f"{name}[:, {r.randrange(v.shape[1])}]", shape, b, al))
        if nd == 1 and len(shape) == 1 and shape[0] < v.shape[0]:
            out.append(Expr(f"{name}[{self.slice_for(shape[0], v.shape[0])}]", shape, b, al))
        if nd == 2 and len(shape) == 2 and shape != v.shape:
            if shape[0] <= v.shape[0] and shape[1] <= v.shape[1]:
                rows = self.slice_for(shape[0], v.shape[0])
                cols = self.slice_for(shape[1], v.shape[1])
                text = f"{rows}, {cols}" if cols != ":" or self.chance(0.5) else rows
                out.append(Expr(f"{name}[{text}]", shape, b, al))
        if nd >= 1 and shape == ():
            fn = self.pick(["sum", "sum", "mean", "max", "min"])
            axis = self.pick([None, (0, 1)] if nd == 2 else [None, 0])
            code = self.reduce_text(fn, name, axis, ndim=nd)
            out.append(Expr(code, (), b * int(np.prod(v.shape)) if fn == "sum" else b))
        if nd == 2:
            for axis in (0, 1):
                kept = list(v.shape)
                kept[axis] = 1
                for keepdims, result in (
                    (False, v.shape[1 - axis : 2 - axis]),
                    (True, tuple(kept)),
                ):
                    if shape == result:
                        fn = self.pick(["sum", "mean", "max", "min"])
                        code = self.reduce_text(fn, name, axis, keepdims, ndim=2)
                        scale = v.shape[axis] if fn == "sum" else 1
                        out.append(Expr(code, shape, b * scale))
        if nd == 1 and shape in ((v.shape[0], 1), (1, v.shape[0])):
            code = self.pick([f"np.reshape({name}, {shape})", f"{name}.reshape{shape}"])
            out.append(Expr(code, shape, b, al))
        if nd == 2 and shape == (v.shape[0] * v.shape[1],):
            out.append(Expr(f"np.reshape({name}, (-1,))", shape, b, al))
        return out

    def fallback(self, shape) -> Expr:
        scalar = self.leaf(()) if self.values() else None
        if shape == ():
            return scalar or Expr(self.number(), (), 3.0)
        name, cb = self.constant(shape)
        if scalar is None:
            return Expr(name, shape, cb)
        return Expr(f"{p(scalar)} * {name}", shape, scalar.bound * cb)

    def unary(self, shape, depth):
        e = self.expr(shape, depth)
        b = e.bound
        kind = self.pick(["sin", "cos", "tanh", "exp", "log", "sqrt", "neg", "np2"])
        if kind in ("sin", "cos", "tanh"):
            module = "math" if shape == () and self.chance(0.3) else "np"
            return Expr(f"{module}.{kind}({e.code})", shape, 1.0 if kind == "cos" else min(b, 1.0))
        if kind == "exp":
            if b > 2.0:
                e, b = Expr(f"np.tanh({e.code})", shape, 1.0), 1.0
            return Expr(f"np.exp({e.code})", shape, math.exp(b))
        if kind == "log":
            return Expr(f"np.log(1.0 + {square(e)})", shape, math.log1p(b * b))
        if kind == "sqrt":
            return Expr(f"np.sqrt(1.0 + {square(e)})", shape, math.sqrt(1 + b * b))
        if kind == "np2":
            fn = self.pick(["log1p", "arctan", "sinh", "expm1"])
            if fn == "log1p":
                return Expr(f"np.log1p({square(e)})", shape, math.log1p(b * b))
            if fn == "arctan":
                return Expr(f"np.arctan({e.code})", shape, min(b, 1.6))
            e = self.squash(e, 2.0)
            return Expr(
                f"np.{fn}({e.code})",
                shape,
                math.sinh(e.bound) if fn == "sinh" else math.expm1(e.bound),
            )
        return Expr(f"-{p(e)}", shape, b)

    def binary(self, shape, depth):
        op = self.pick("+-*")
        left = self.expr(shape, depth)
        if self.chance(0.2):
            right = Expr(self.number(), (), 3.0)
        else:
            right = self.expr(self.operand_shape(shape), depth)
        if self.chance(0.5):
            left, right = right, left
        bound = left.bound + right.bound if op in "+-" else left.bound * right.bound
        if self.chance(0.1):
            fn = {"+": "add", "-": "subtract", "*": "multiply"}[op]
            return Expr(f"np.{fn}({left.code}, {right.code})", shape, bound)
        return Expr(f"{p(left)} {op} {p(right)}", shape, bound)

    def divide(self, shape, depth):
        if self.chance(0.2):
            num, den = Expr("1.0", (), 1.0), self.expr(shape, depth)
        else:
            num, den = self.expr(shape, depth), self.expr(self.operand_shape(shape), depth)
        form = self.pick(["sq", "sin", "tanh", "const"])
        if form == "sq":
            return Expr(f"{p(num)} / (1.0 + {square(den)})", shape, num.bound)
        if form == "sin":
            return Expr(f"{p(num)} / (2.0 + np.sin({den.code}))", shape, num.bound)
        if form == "tanh":
            return Expr(f"{p(num)} / (1.5 + np.tanh({den.code}))", shape, 2 * num.bound)
        if num.shape != shape:
            return None
        return Expr(f"{p(num)} / {self.pick(['2.0', '3.0', '0.5'])}", shape, 2 * num.bound)

    def power(self, shape, depth):
        e = self.expr(shape, depth)
        k = self.pick([2, 2, 3])
        if e.bound**k > 4 * LIMIT:
            e = self.squash(e, 2.0)
        code = f"np.square({e.code})" if k == 2 and self.chance(0.2) else f"{p(e)} ** {k}"
        return Expr(code, shape, e.bound**k)

    def reduction(self, shape, depth):
        fn = self.pick(["sum", "sum", "mean", "max", "min"])
        keepdims = False
        if shape == ():
            inner = self.prefer([s for s in {v.shape for v in self.values()} if s] or [(3,)])
            axis = self.pick([None, (0, 1)] if len(inner) == 2 else [None, 0])
        elif 1 in shape:  # keepdims
            axis = self.pick([i for i, d in enumerate(shape) if d == 1])
            k = self.pick(DIMS)
            inner = shape[:axis] + (k,) + shape[axis + 1 :]
            keepdims = True
        elif len(shape) == 1:
            k = self.pick(DIMS)
            inner, axis = self.pick([((shape[0], k), 1), ((k, shape[0]), 0)])
        else:
            return None
        e = self.expr(inner, depth)
        size = int(np.prod(inner)) if axis is None or isinstance(axis, tuple) else inner[axis]
        code = self.reduce_text(fn, e.code, axis, keepdims, ndim=len(inner))
        return Expr(code, shape, e.bound * (size if fn == "sum" else 1))

    def matmul(self, shape, depth):
        k = self.pick(DIMS)
        if shape == ():
            shapes = [((k,), (k,))]
        elif len(shape) == 1:
            shapes = [((shape[0], k), (k,)), ((k,), (k, shape[0]))]
        else:
            shapes = [((shape[0], k), (k, shape[1]))]
        left_shape, right_shape = self.pick(shapes)
        left, right = self.expr(left_shape, depth), self.expr(right_shape, depth)
        form = self.weighted([(4, "@"), (1, "dot"), (1, "matmul")])
        code = f"{p(left)} @ {p(right)}" if form == "@" else f"np.{form}({left.code}, {right.code})"
        return Expr(code, shape, left.bound * right.bound * k)

    def transpose(self, shape, depth):
        if len(shape) != 2:
            return None
        e = self.expr(shape[::-1], depth)
        code = f"{p(e)}.T" if self.chance(0.6) else f"np.transpose({e.code})"
        return Expr(code, shape, e.bound, e.aliases)

    def extremum(self, shape, depth):
        """np.maximum/np.minimum of operands at least 0.5 apart, or np.where on a constant mask."""
        u = self.squash(self.expr(shape, depth), 1.0)
        v = self.squash(self.expr(self.operand_shape(shape), depth), 1.0)
        if shape and self.chance(0.3):
            mask, _ = self.constant(shape, "mask")
            return Expr(f"np.where({mask}, {u.code}, {v.code})", shape, 1.0)
        if shape == () and self.chance(0.4):
            fn = self.pick(["max", "min"])
            return Expr(f"{fn}({u.code}, {p(v)} + {self.pick(['2.5', '-2.5'])})", shape, 3.5)
        if self.chance(0.2):
            fn = "abs" if shape == () and self.chance(0.5) else "np.abs"
            return Expr(f"{fn}({p(u)} + {self.pick(['2.5', '-2.5'])})", shape, 3.5)
        if shape == () or self.chance(0.4):
            offset = self.pick(["2.5", "-2.5"])
        else:
            suffix = shape[-1:] if self.chance(0.5) else shape
            offset, _ = self.constant(suffix, "offset")
        fn = self.pick(["maximum", "minimum"])
        return Expr(f"np.{fn}({u.code}, {p(v)} + {offset})", shape, 3.5)

    def conditional(self, shape, depth):
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        code = f"{p(a)} if {self.condition()} else {p(b)}"
        return Expr(code, shape, max(a.bound, b.bound), a.aliases | b.aliases)

    def collect(self, shape, depth):
        """np.array of scalars, np.stack or np.concatenate of arrays."""
        if shape and shape[0] >= 2 and self.chance(0.3):
            first = self.rng.randint(1, shape[0] - 1)
            parts = [self.expr((k, *shape[1:]), depth) for k in (first, shape[0] - first)]
            codes = ", ".join(e.code for e in parts)
            axis = self.pick(["", ", axis=0"])
            return Expr(f"np.concatenate([{codes}]{axis})", shape, max(e.bound for e in parts))
        if len(shape) != 1 and not (len(shape) == 2 and self.chance(0.5)):
            return None
        items = [self.expr(shape[1:], depth) for _ in range(shape[0])]
        codes = ", ".join(e.code for e in items)
        code = f"np.array([{codes}])" if shape[1:] == () else f"np.stack([{codes}])"
        return Expr(code, shape, max(e.bound for e in items))

    # ----- conditions ------------------------------------------------------------------
    def condition(self):
        options = []
        n = self.s.int_name
        if n:
            c = self.rng.randint(0, 4)
            options += [
                f"{n} > {c}",
                f"{n} % 2 == 0",
                f"{n} == {c}",
                f"{n} >= {c} and {n} < {c + 2}",
                f"not {n} < {c}",
                f"{c - 1} < {n} <= {c + 1}",
            ]
        for loop in self.s.loops:
            if loop.index is not None:
                i = loop.index
                options += [f"{i} % 2 == 1", f"{i} > {self.rng.randint(0, max(loop.index_max, 0))}"]
        value = self.value_condition()
        options += [value] * max(1, len(options) // 3)
        cond = self.pick(options)
        if self.chance(0.15):
            cond = f"{cond} {self.pick(['and', 'or'])} {self.pick(options)}"
        return cond

    def value_condition(self):
        """A test of a differentiated value against a random threshold: a tiny
        perturbation flips it only if the value lies within ~1e-5 of the threshold."""
        shape = self.target_shape()
        e = self.expr(shape, self.rng.randint(0, 1))
        t = round(self.rng.uniform(-0.5, 0.5), 2)
        if shape == ():
            return f"{p(e)} {self.pick(['>', '<'])} {t!r}"
        fn = self.pick(["sum", "mean", "max"])
        return f"np.{fn}({e.code}) {self.pick(['>', '<'])} {t!r}"

    # ----- statements ------------------------------------------------------------------
    def statement(self, depth):
        self.budget -= 1
        makers = [
            (6, self.assign),
            (3, self.reassign),
            (2, self.augassign),
            (1, self.write),
            (1, self.tuple_statement),
            (1, self.list_statement),
            (1.5 if self.s.returns is None else 0, self.call),
            (0.3, self.early_return),
        ]
        if depth < MAX_DEPTH and self.budget >= 2:
            makers += [(2, self.if_statement), (2, self.for_statement), (1, self.while_statement)]
        while not self.weighted(makers)(depth):
            pass

    def assign(self, depth):
        shape = self.target_shape()
        e = self.store(self.expr(shape, self.rng.randint(1, 3)))
        name = self.fresh("v")
        self.emit(f"{name} = {e.code}")
        self.define(Var(name, shape, e.bound, mutable=not e.aliases))
        return True

    def reassign(self, depth):
        candidates = [v for v in self.values() if not self.frozen(v.name)]
        if not candidates:
            return False
        v = self.pick(candidates)
        e = self.store(self.expr(v.shape, self.rng.randint(1, 3)), self.cap(v.name), v.mutable)
        self.emit(f"{v.name} = {e.code}")
        self.define(replace(v, bound=e.bound))
        return True

    def augassign(self, depth):
        candidates = [v for v in self.values() if v.shape == () or v.mutable]
        if not candidates:
            return False
        v = self.pick(candidates)
        op = self.pick(["+=", "-=", "*=", "/=", "**="])
        if op == "**=":
            if v.bound**2 > self.cap(v.name) or self.frozen(v.name):
                return False
            self.emit(f"{v.name} **= 2")
            self.define(replace(v, bound=v.bound**2))
            return True
        e = self.expr(self.operand_shape(v.shape), self.rng.randint(0, 2))
        if op == "*=":
            e = self.squash(e, 1.0)
            self.emit(f"{v.name} *= {e.code}")
            self.define(replace(v, bound=v.bound * e.bound))
            return True
        if op == "/=":
            divisor = self.pick([f"1.0 + {square(e)}", f"2.0 + np.sin({e.code})"])
            self.emit(f"{v.name} /= {divisor}")
            return True
        room = self.cap(v.name) - v.bound
        if room < 0.1 or self.frozen(v.name):
            return False
        e = self.squash(e, room)
        self.emit(f"{v.name} {op} {e.code}")
        self.define(replace(v, bound=v.bound + e.bound))
        return True

    def write(self, depth):
        """An assignment to elements of a mutable array."""
        candidates = [v for v in self.values() if v.mutable and v.shape and not self.frozen(v.name)]
        if not candidates:
            return False
        v = self.pick(candidates)
        r, shape = self.rng, v.shape
        targets = [(f"{r.randrange(shape[0])}", shape[1:])]
        length = r.randint(1, shape[0])
        targets.append((self.slice_for(length, shape[0]), (length, *shape[1:])))
        if len(shape) == 2:
            targets.append((f":, {r.randrange(shape[1])}", shape[:1]))
            targets.append((f"{r.randrange(shape[0])}, {r.randrange(shape[1])}", ()))
        for loop in self.s.loops:
            if loop.index is not None and 0 <= loop.index_max < shape[0]:
                targets.append((loop.index, shape[1:]))
        index, target_shape = self.pick(targets)
        e = self.expr(self.operand_shape(target_shape), self.rng.randint(0, 2))
        if v.name in e.aliases:  # NumPy copies overlapping parts in an order of its own
            e = Expr(f"{p(e)}.copy()", e.shape, e.bound)
        cap = self.cap(v.name)
        if self.chance(0.3) and cap - v.bound >= 0.1:
            e = self.squash(e, cap - v.bound)
            self.emit(f"{v.name}[{index}] += {e.code}")
            self.define(replace(v, bound=v.bound + e.bound))
        else:
            e = self.squash(e, cap)
            self.emit(f"{v.name}[{index}] = {e.code}")
            self.define(replace(v, bound=max(v.bound, e.bound)))
        return True

    def tuple_statement(self, depth):
        kind = self.pick(["pack", "unpack", "swap", "unpack_tuple", "dict"])
        if kind == "dict":
            keys = self.rng.sample(["a", "b", "w", "scale", "bias"], self.rng.randint(1, 3))
            items = [self.store(self.expr(self.target_shape(), 1)) for _ in keys]
            name = self.fresh("d")
            pairs = ", ".join(f"{k!r}: {e.code}" for k, e in zip(keys, items))
            self.emit(f"{name} = {{{pairs}}}")
            items = tuple((e.shape, e.bound) for e in items)
            self.define(Var(name, (), 0.0, kind="dict", items=items, keys=tuple(keys)))
            return True
        if kind == "pack":
            items = [
                self.store(self.expr(self.target_shape(), 1)) for _ in range(self.rng.randint(2, 3))
            ]
            name = self.fresh("t")
            self.emit(f"{name} = ({', '.join(e.code for e in items)})")
            self.define(
                Var(name, (), 0.0, kind="tuple", items=tuple((e.shape, e.bound) for e in items))
            )
            return True
        if kind == "unpack":
            items = [self.store(self.expr(self.target_shape(), 1)) for _ in range(2)]
            names = [self.fresh("v") for _ in items]
            self.emit(f"{', '.join(names)} = {', '.join(e.code for e in items)}")
            for name, e in zip(names, items):
                self.define(Var(name, e.shape, e.bound, mutable=not e.aliases))
            return True
        if kind == "unpack_tuple":
            tuples = [v for v in self.s.env.values() if v.kind == "tuple"]
            if not tuples:
                return False
            t = self.pick(tuples)
            names = [self.fresh("v") for _ in t.items]
            self.emit(f"{', '.join(names)} = {t.name}")
            for name, (shape, bound) in zip(names, t.items):
                self.define(Var(name, shape, bound))
            return True
        pairs = [
            (a, b)
            for a in self.values()
            for b in self.values()
            if a.name < b.name
            and a.shape == b.shape
            and a.mutable == b.mutable
            and not self.frozen(a.name)
            and not self.frozen(b.name)
            and b.bound <= self.cap(a.name)
            and a.bound <= self.cap(b.name)
        ]
        if not pairs:
            return False
        a, b = self.pick(pairs)
        self.emit(f"{a.name}, {b.name} = {b.name}, {a.name}")
        self.define(replace(a, bound=b.bound))
        self.define(replace(b, bound=a.bound))
        return True

    def list_statement(self, depth):
        shape = self.target_shape()
        items = [self.store(self.expr(shape, 1)) for _ in range(self.rng.randint(2, 3))]
        name = self.fresh("lst")
        self.emit(f"{name} = [{', '.join(e.code for e in items)}]")
        bound = max(e.bound for e in items)
        self.define(Var(name, shape, bound, kind="list", length=len(items)))
        return True

    def early_return(self, depth):
        self.emit(f"if {self.condition()}:")
        self.s.indent += 1
        self.emit(f"return {self.return_value()}")
        self.s.indent -= 1
        return True

    def return_value(self):
        """What the function returns: a scalar for f, the helper's values for a helper."""
        if self.s.returns is None:
            return self.output()
        items = [self.store(self.expr(shape, 2), fresh=True) for shape in self.s.returns]
        for k, e in enumerate(items):
            self.s.return_bounds[k] = max(self.s.return_bounds[k], e.bound)
        return ", ".join(e.code for e in items)

    def output(self):
        """f's scalar result: from the value defined last, a few others, and containers."""
        values = self.values()
        others = self.rng.sample(values[:-1], min(len(values) - 1, self.rng.randint(0, 2)))
        chosen = values[-1:] + others
        for v in self.s.env.values():
            if v.kind in ("tuple", "dict") or (v.kind == "list" and v.length and not v.growing):
                if self.chance(0.5):
                    chosen.append(
                        self.pick(
                            self.derived(v, v.shape)
                            if v.kind == "list"
                            else self.derived(v, self.pick(v.items)[0])
                        )
                    )
        terms = []
        for v in chosen:
            e = self.use(v) if isinstance(v, Var) else v
            if e.shape == ():
                terms.append(self.pick([p(e), f"np.sin({e.code})", f"{p(e)} ** 2"]))
                continue
            form = self.pick(["sum", "sum", "sq", "sin", "mean"])
            terms.append(
                {
                    "sum": f"np.sum({e.code})",
                    "sq": f"np.sum({p(e)} ** 2)",
                    "sin": f"np.sum(np.sin({e.code}))",
                    "mean": f"np.mean({e.code})",
                }[form]
            )
        return " + ".join(terms)

    # ----- branches and loops ----------------------------------------------------------
    def block(self, count, depth):
        self.s.indent += 1
        for _ in range(max(1, min(count, self.budget))):
            self.statement(depth + 1)

    def if_statement(self, depth):
        branches = self.rng.randint(1, 3)
        has_else = branches > 1 and self.chance(0.7) or self.chance(0.3)
        joint = None
        if has_else and self.chance(0.5):
            joint = (self.fresh("v"), self.target_shape())
        before = dict(self.s.env)
        envs = []
        headers = [f"if {self.condition()}:"] + [
            f"elif {self.condition()}:" for _ in range(branches - 1)
        ]
        if has_else:
            headers.append("else:")
        for header in headers:
            self.s.env = dict(before)
            self.emit(header)
            self.block(self.rng.randint(1, 2), depth)
            if joint:
                name, shape = joint
                e = self.store(self.expr(shape, 2))
                self.emit(f"{name} = {e.code}")
                self.define(Var(name, shape, e.bound, mutable=not e.aliases))
            self.s.indent -= 1
            envs.append(self.s.env)
        if not has_else:
            envs.append(before)
        self.s.env = merge(envs)
        return True

    def for_statement(self, depth):
        r = self.rng
        kinds = ["range", "range_n", "range_ab", "range_len", "rows", "enumerate", "list", "zip"]
        kind = self.pick(kinds)
        i, item = self.fresh("i"), None
        arrays = [v for v in self.values() if v.shape and not v.mutable]
        if kind == "range":
            k = r.randint(1, 4)
            return self.loop(f"for {i} in range({k}):", k, depth, i, 0)
        if kind == "range_n" and self.s.int_name:
            k = self.s.int_value
            return self.loop(f"for {i} in range({self.s.int_name}):", k, depth, i, 0)
        if kind == "range_ab":
            a = r.randint(0, 2)
            b = a + r.randint(1, 3)
            return self.loop(f"for {i} in range({a}, {b}):", b - a, depth, i, a)
        if kind == "range_len" and arrays:
            v = self.pick(arrays)
            size = self.pick([f"len({v.name})", f"{v.name}.shape[0]"])
            return self.loop(f"for {i} in range({size}):", v.shape[0], depth, i, 0)
        if kind in ("rows", "enumerate") and arrays:
            v = self.pick(arrays)
            item = Var(self.fresh("r"), v.shape[1:], v.bound)
            if kind == "rows":
                return self.loop(f"for {item.name} in {v.name}:", v.shape[0], depth, item=item)
            header = f"for {i}, {item.name} in enumerate({v.name}):"
            return self.loop(header, v.shape[0], depth, i, 0, item=item)
        if kind == "zip" and arrays:
            v = self.pick(arrays)
            others = [w for w in arrays if w.shape[0] == v.shape[0]]
            w = self.pick(others)
            a, b = (
                Var(self.fresh("r"), v.shape[1:], v.bound),
                Var(self.fresh("r"), w.shape[1:], w.bound),
            )
            header = f"for {a.name}, {b.name} in zip({v.name}, {w.name}):"
            return self.loop(header, v.shape[0], depth, items=[a, b])
        lists = [v for v in self.s.env.values() if v.kind == "list" and not v.growing]
        if kind == "list" and lists:
            v = self.pick(lists)
            item = Var(self.fresh("r"), v.shape, v.bound)
            return self.loop(f"for {item.name} in {v.name}:", v.length, depth, item=item)
        return False

    def while_statement(self, depth):
        j = self.fresh("j")
        if self.s.int_name and self.chance(0.6):
            limit, trips = self.s.int_name, self.s.int_value
        else:
            trips = self.rng.randint(1, 4)
            limit = str(trips)
        at_start = self.chance(0.5)
        self.emit(f"{j} = 0")
        cond = f"{j} < {limit}" if self.chance(0.8) else f"{j} < {limit} and {j} < 6"
        return self.loop(
            f"while {cond}:", trips, depth, j, 1 if at_start else 0, counter=(j, at_start)
        )

    def loop(self, header, trips, depth, index=None, first=0, item=None, items=(), counter=None):
        """Emit a loop: maybe an accumulator and a list before it, then header and body.

        ``first`` is the value ``index`` has on the first trip (it counts trips after that)."""
        items = list(items) + ([item] if item else [])
        acc = None
        if self.chance(0.5):
            shape = self.target_shape()
            acc = Var(self.fresh("acc"), shape, 1.0 * max(trips, 1), mutable=True)
            like = [v for v in self.values(shape) if shape]
            if shape == ():
                init = "0.0"
            elif like and self.chance(0.3):
                init = f"np.zeros_like({self.pick(like).name})"
            else:
                init = f"np.zeros({shape})"
            self.emit(f"{acc.name} = {init}")
            self.define(acc)
        listed = None
        if self.chance(0.3):
            listed = Var(self.fresh("lst"), self.target_shape(), 0.0, kind="list")
            self.emit(f"{listed.name} = []")
        before = dict(self.s.env)
        last = first + trips - 1
        loop = Loop({n: v.bound for n, v in before.items() if v.kind == "value"}, index, last)
        if acc:
            loop.frozen.add(acc.name)
        self.emit(header)
        self.s.indent += 1
        self.s.loops.append(loop)
        for it in items:
            self.define(it)
        if counter and counter[1]:
            self.emit(f"{counter[0]} += 1")
        if listed:
            e = self.store(self.expr(listed.shape, 2))
            self.emit(f"{listed.name}.append({e.code})")
            listed = replace(listed, bound=e.bound, length=1, growing=True)
            self.define(listed)
        plan = ["statement"] * max(1, min(self.rng.randint(1, 3), self.budget))
        if acc:
            plan.append("accumulate")
        can_jump = index is not None and trips >= 1
        if can_jump and self.chance(0.3):
            plan.append("break" if counter and not counter[1] else self.pick(["break", "continue"]))
        self.rng.shuffle(plan)
        appended = trips
        for step in plan:
            if step == "statement":
                self.statement(depth + 1)
            elif step == "accumulate":
                e = self.squash(self.expr(self.operand_shape(acc.shape), 2), 1.0)
                self.emit(
                    self.pick([f"{acc.name} += {e.code}", f"{acc.name} = {acc.name} + {p(e)}"])
                )
            else:
                m = self.rng.randint(first, last)
                self.emit(f"if {index} == {m}:")
                self.emit(f"    {step}")
                if step == "break":
                    appended = m - first + 1
        if counter and not counter[1]:
            self.emit(self.pick([f"{counter[0]} += 1", f"{counter[0]} = {counter[0]} + 1"]))
        self.s.loops.pop()
        self.s.indent -= 1
        after = {}
        for name, v in before.items():
            inside = self.s.env.get(name, v)
            after[name] = (
                replace(inside, bound=max(v.bound, inside.bound)) if v.kind == "value" else inside
            )
        jumped = "break" in plan or "continue" in plan
        if trips >= 1 and not jumped:  # names first defined in the body are defined after it
            for name, v in self.s.env.items():
                if name not in after and v.kind != "list":
                    after[name] = v
        if listed:
            after[listed.name] = replace(self.s.env[listed.name], length=appended, growing=False)
        self.s.env = after
        return True

    # ----- helpers -----------------------------------------------------------------------
    def helper_for(self, returns_one):
        """An existing helper, or a new one."""
        fitting = [h for h in self.helpers if (len(h.returns) == 1) == returns_one]
        fitting = [h for h in fitting if not h.takes_int or self.s.int_name]
        if fitting and self.chance(0.5):
            return self.pick(fitting)
        return self.make_helper(returns_one)

    def make_helper(self, returns_one):
        outer = self.s
        params = [self.target_shape() for _ in range(self.rng.randint(1, 2))]
        bounds = [self.pick([1.0, 2.0, LIMIT]) for _ in params]
        names = ["a", "b"][: len(params)]
        takes_int = bool(outer.int_name) and self.chance(0.5)
        returns = tuple(self.target_shape() for _ in range(1 if returns_one else 2))
        env = {n: Var(n, s, b) for n, s, b in zip(names, params, bounds)}
        scaled = self.chance(0.3)
        if scaled:
            env["scale"] = Var("scale", (), 1.0)
        self.s = Scope(
            env, "m" if takes_int else None, outer.int_value, returns, [0.0] * len(returns)
        )
        for _ in range(min(self.rng.randint(0, 3), self.budget)):
            self.statement(1)
        self.emit(f"return {self.return_value()}")
        nested = self.chance(0.25)  # defined inside f, before anything else
        helper = Helper(
            f"{'g' if nested else 'h'}{len(self.helpers) + 1}",
            tuple(zip(params, bounds)),
            takes_int,
            tuple(zip(returns, self.s.return_bounds)),
            scaled,
        )
        signature = ", ".join(
            names + (["m"] if takes_int else []) + (["scale=0.5"] if scaled else [])
        )
        lines = [f"def {helper.name}({signature}):", *self.s.lines]
        if nested:
            self.nested_sources += ["    " + line for line in lines]
        else:
            self.helper_sources.append("\n".join(lines))
        self.helpers.append(helper)
        self.s = outer
        return helper

    def call_text(self, helper):
        args = [self.squash(self.expr(shape, 1), bound).code for shape, bound in helper.params]
        if helper.takes_int:
            args.append(self.s.int_name)
        if helper.scaled and self.chance(0.6):
            scale = self.squash(self.expr((), 1), 1.0).code
            args.append(scale if self.chance(0.5) else f"scale={scale}")
        return f"{helper.name}({', '.join(args)})"

    def helper_expr(self, shape, depth):
        if self.s.returns is not None:  # helpers do not call helpers
            return None
        helpers = [h for h in self.helpers if len(h.returns) == 1 and h.returns[0][0] == shape]
        helpers = [h for h in helpers if not h.takes_int or self.s.int_name]
        if not helpers:
            return None
        helper = self.pick(helpers)
        return Expr(self.call_text(helper), shape, helper.returns[0][1])

    def call(self, depth):
        helper = self.helper_for(returns_one=self.chance(0.5))
        call = self.call_text(helper)
        if len(helper.returns) == 1:
            (shape, bound), name = helper.returns[0], self.fresh("v")
            self.emit(f"{name} = {call}")
            self.define(Var(name, shape, bound, mutable=True))
        elif self.chance(0.5):
            name = self.fresh("t")
            self.emit(f"{name} = {call}")
            self.define(Var(name, (), 0.0, kind="tuple", items=helper.returns))
        else:
            names = [self.fresh("v") for _ in helper.returns]
            self.emit(f"{', '.join(names)} = {call}")
            for name, (shape, bound) in zip(names, helper.returns):
                self.define(Var(name, shape, bound, mutable=True))
        return True

    # ----- the program -------------------------------------------------------------------
    def program(self) -> Program:
        data = np.random.default_rng(self.seed)
        args = []
        for _ in range(2):
            shape = self.random_shape()
            args.append(float(data.uniform(-1, 1)) if shape == () else data.uniform(-1, 1, shape))
        n = self.rng.randint(0, 4)
        env = {name: Var(name, np.shape(a), 1.0) for name, a in zip("xy", args)}
        self.s = Scope(env, "n", n)
        while self.budget > 0:
            self.statement(0)
        self.emit(f"return {self.output()}")
        parts = []
        if self.module_lines:
            parts.append("\n".join(self.module_lines) + "\n")
        parts += [s + "\n" for s in self.helper_sources]
        body = self.nested_sources + self.s.lines
        parts.append("def f(x, y, n):\n" + "\n".join(body) + "\n")
        return Program(self.seed, "\n\n".join(parts), (args[0], args[1], n))


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def merge(envs):
    """The names defined after a branch: those every path defines, with the largest bound."""
    merged = {}
    for name, first in envs[0].items():
        versions = [env.get(name) for env in envs]
        if any(v is None or v.kind != first.kind or v.shape != first.shape for v in versions):
            continue
        if any(v.items != first.items or v.keys != first.keys for v in versions):
            continue
        merged[name] = replace(
            first,
            bound=max(v.bound for v in versions),
            mutable=all(v.mutable for v in versions),
            length=min(v.length for v in versions),
        )
    return merged


def generate(seed: int) -> Program:
    return Generator(seed).program()


# ----- the check -----------------------------------------------------------------------
RTOL = 1e-4  # against central differences
EXACT = 1e-12  # between s2sad's own variants


def _close(a, b, what, program):
    a_items = a if isinstance(a, tuple) else (a,)
    b_items = b if isinstance(b, tuple) else (b,)
    for k, (u, v) in enumerate(zip(a_items, b_items)):
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        scale = max(np.max(np.abs(u), initial=0.0), np.max(np.abs(v), initial=0.0))
        error = np.max(np.abs(u - v), initial=0.0)
        if u.shape != v.shape or not error <= EXACT * scale:
            raise AssertionError(
                f"{what} (item {k}) differ by {error:.3g} (scale {scale:.3g}):\n{u!r}\n{v!r}\n\n{program}"
            )


def check(program: Program) -> float:
    """Check s2sad on one program; raise AssertionError (with the program) on a failure.
    Returns the largest relative error against central differences."""
    import s2sad

    f = program.function()
    args = program.args
    saved = [np.copy(a) for a in args]
    try:
        value = f(*args)
    except Exception as error:
        raise AssertionError(f"generator bug: f raised {error!r}\n\n{program}") from error
    try:
        scalar = np.ndim(value) == 0 and bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        scalar = False
    if not scalar:
        raise AssertionError(f"generator bug: f returned {value!r}\n\n{program}")
    try:
        gradient = s2sad.grad(f, wrt=(0, 1))(*args)
        plain = s2sad.grad(f, wrt=(0, 1), optimize=False)(*args)
        _close(gradient, plain, "grad with optimize=True and optimize=False", program)
        both = s2sad.value_and_grad(f, wrt=(0, 1))(*args)
        _close(both[0], value, "value_and_grad's value and f's value", program)
        _close(both[1], gradient, "value_and_grad's gradient and grad", program)
        worst = s2sad.check_grad(f, *args, wrt=(0, 1), rtol=RTOL)
    except s2sad.S2SADError as error:
        raise AssertionError(f"s2sad rejected the program: {error}\n\n{program}") from error
    except AssertionError as error:
        if str(program) in str(error):
            raise
        raise AssertionError(f"{error}\n\n{program}") from error
    except Exception as error:
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        raise AssertionError(f"s2sad crashed: {text}\n\n{program}") from error
    for before, after in zip(saved, args):
        if not np.array_equal(before, after):
            raise AssertionError(f"an argument was modified in place\n\n{program}")
    return worst


def failure_kind(error) -> str:
    """The first line of a failure with the particulars blurred, to group failures."""
    text = str(error).splitlines()[0]
    text = re.sub(r"<s2sad-source-\d+>:\d+", "<f>", text)
    text = re.sub(r"`[^`]*`", "`...`", text)
    text = re.sub(r"\b[a-z]+\d+\b", "<name>", text)
    text = re.sub(r"(?<![A-Za-z])-?\d+(\.\d+)?(e-?\d+)?", "#", text)
    return text[:110]


def main(argv):
    if argv and argv[0] == "--run":
        first, count = int(argv[1]), int(argv[2])
        failures = {}
        for seed in range(first, first + count):
            try:
                check(generate(seed))
            except AssertionError as error:
                key = failure_kind(error)
                failures.setdefault(key, []).append(seed)
        for key, seeds in sorted(failures.items(), key=lambda kv: -len(kv[1])):
            print(f"{len(seeds):4d}  {key}\n      seeds {seeds[:12]}")
        total = sum(map(len, failures.values()))
        print(f"{count - total} passed, {total} failed")
        return
    program = generate(int(argv[0]))
    print(program)
    print(f"largest relative error {check(program):.3g}")


if __name__ == "__main__":
    main(sys.argv[1:])
