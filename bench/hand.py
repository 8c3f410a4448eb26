"""Hand-written adjoints of the workloads: what a careful person writes without AD.

Each ``d<workload>`` takes the workload's arguments and returns its gradient in the shape
``s2sad.grad`` uses for the same ``wrt`` (a tuple for several arguments). These are the
reference the benchmark checks every other gradient against, and the speed to beat.
"""

from __future__ import annotations

import math

import numpy as np

from . import workloads


def dscalar_loop(x, a):
    """Gradient of ``scalar_loop`` w.r.t. (x, a): store each x, then run the steps backward."""
    xs = []
    for _ in range(1000):
        xs.append(x)
        x = x * a + math.sin(x)
    dx, da = 1.0, 0.0
    for x in reversed(xs):
        da += dx * x
        dx *= a + math.cos(x)
    return dx, da


def dmlp_loss(W1, b1, W2, b2, W3, b3, X, Y):
    """Gradient of ``mlp_loss`` w.r.t. (W1, b1, W2, b2, W3, b3).

    The softmax cross-entropy adjoint is ``(softmax(logits) - Y) / batch`` for one-hot Y;
    tanh's derivative reuses the activations (``1 - H**2``).
    """
    H1 = np.tanh(X @ W1 + b1)
    H2 = np.tanh(H1 @ W2 + b2)
    logits = H2 @ W3 + b3
    e = np.exp(logits - np.max(logits, axis=1, keepdims=True))
    dlogits = (e / np.sum(e, axis=1, keepdims=True) - Y) / X.shape[0]
    dW3, db3 = H2.T @ dlogits, np.sum(dlogits, axis=0)
    dZ2 = (dlogits @ W3.T) * (1.0 - H2**2)
    dW2, db2 = H1.T @ dZ2, np.sum(dZ2, axis=0)
    dZ1 = (dZ2 @ W2.T) * (1.0 - H1**2)
    dW1, db1 = X.T @ dZ1, np.sum(dZ1, axis=0)
    return dW1, db1, dW2, db2, dW3, db3


def drosenbrock(x):
    """Gradient of ``rosenbrock`` w.r.t. x: each term touches x[i] and x[i + 1]."""
    head = x[:-1]
    r = x[1:] - head**2
    g = np.zeros_like(x)
    g[1:] = 200.0 * r
    g[:-1] += -400.0 * r * head - 2.0 * (1.0 - head)
    return g


def delementwise_chain_source(ops: list[tuple[str, int]]) -> str:
    """A hand-style adjoint of ``elementwise_chain`` for ``ops`` (see workloads.chain_ops).

    Like the primal it is straight-line code, generated here because the primal is: keep
    every value, then walk the operations backward, each adding its contribution to its
    operands' adjoints. An adjoint is assigned on its first contribution and added to after
    (never in place, so no two names share an array); ``v0`` is ``x``, whose adjoint also
    collects the ``v * x`` products.
    """
    lines = ["def delementwise_chain(x):", "    v0 = x"]
    lines += [
        f"    v{k + 1} = {workloads._chain_expression(kind, k, j)}"
        for k, (kind, j) in enumerate(ops)
    ]
    seen: set[int] = set()

    def accumulate(k: int, term: str) -> str:
        name = f"dv{k}"
        if k in seen:
            return f"    {name} = {name} + {term}"
        seen.add(k)
        return f"    {name} = {term}"

    n = len(ops)
    lines.append(accumulate(n, "np.ones_like(v0)"))
    for k in reversed(range(n)):
        kind, j = ops[k]
        out = f"dv{k + 1}"
        if kind == "sin":
            lines.append(accumulate(k, f"{out} * np.cos(v{k})"))
        elif kind == "tanh":
            lines.append(accumulate(k, f"{out} * (1.0 - v{k + 1} ** 2)"))
        elif kind == "mul":
            lines.append(accumulate(k, f"{out} * x"))
            lines.append(accumulate(0, f"{out} * v{k}"))
        else:  # add
            lines.append(accumulate(k, out))
            lines.append(accumulate(j, out))
    lines.append("    return dv0")
    return "\n".join(lines) + "\n"


_chain_namespace: dict = {"np": np}
exec(  # noqa: S102 - our own generated source
    compile(delementwise_chain_source(workloads.CHAIN_OPS), "<hand delementwise_chain>", "exec"),
    _chain_namespace,
)
delementwise_chain = _chain_namespace["delementwise_chain"]


def dnewton_sqrt(a):
    """Gradient of ``newton_sqrt`` w.r.t. a: keep the iterates, then differentiate
    ``x = 0.5 * (x + a / x)`` backward through them, and ``x = a`` at the start."""
    x = a
    xs = []
    while abs(x * x - a) > 1e-12 * a:
        xs.append(x)
        x = 0.5 * (x + a / x)
    dx, da = 1.0, 0.0
    for x in reversed(xs):
        da += 0.5 * dx / x
        dx *= 0.5 * (1.0 - a / (x * x))
    return da + dx
