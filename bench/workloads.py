"""The benchmark workloads: ordinary user code, as someone would write it without s2sad.

Each function lives in this file (or, for the generated straight-line workload, in a text
registered with ``linecache``) so that s2sad, autograd and JAX all read the same code.
Inputs are built by :func:`make_inputs` from a fixed seed, so every run sees the same numbers.
"""

# ruff: noqa: B007 - loops are written as a user writes them (``for i in range(1000)``)

from __future__ import annotations

import math
import random

import numpy as np

import s2sad.parse

# -- 1. scalar loop ----------------------------------------------------------------------


def scalar_loop(x, a):
    """1000 steps of a scalar recurrence on Python floats."""
    for i in range(1000):
        x = x * a + math.sin(x)
    return x


# -- 2. MLP loss -------------------------------------------------------------------------


def mlp_loss(W1, b1, W2, b2, W3, b3, X, Y):
    """Mean softmax cross-entropy of a 2-hidden-layer tanh network; Y is one-hot."""
    H1 = np.tanh(X @ W1 + b1)
    H2 = np.tanh(H1 @ W2 + b2)
    logits = H2 @ W3 + b3
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * log_probs, axis=1))


# -- 3. Rosenbrock -----------------------------------------------------------------------


def rosenbrock(x):
    """The n-dimensional Rosenbrock function, vectorised with slices."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


# -- 4. 500 small elementwise ops (generated straight-line code) -------------------------

CHAIN_LENGTH = 500


def chain_ops(length: int = CHAIN_LENGTH, seed: int = 0) -> list[tuple[str, int]]:
    """The operations of the straight-line workload, as ``(kind, j)`` pairs.

    Value ``v{k}`` (``v0`` is the input ``x``) is computed from the previous value by
    operation ``k - 1``: ``np.sin(v{k-1})``, ``np.tanh(v{k-1})``, ``v{k-1} * x`` or
    ``v{k-1} + v{j}`` for an earlier ``j``; so every value reaches the output. sin and tanh
    keep the values bounded, and products with ``x`` (in (0, 1)) shrink them.
    """
    rng = random.Random(seed)
    kinds = ("sin", "tanh", "mul", "add")
    return [(rng.choice(kinds), rng.randrange(k + 1)) for k in range(length)]


def _chain_expression(kind: str, previous: int, j: int) -> str:
    return {
        "sin": f"np.sin(v{previous})",
        "tanh": f"np.tanh(v{previous})",
        "mul": f"v{previous} * x",
        "add": f"v{previous} + v{j}",
    }[kind]


def chain_source(ops: list[tuple[str, int]]) -> str:
    """The straight-line function ``elementwise_chain(x)`` for ``ops``."""
    lines = ["def elementwise_chain(x):", "    v0 = x"]
    lines += [f"    v{k + 1} = {_chain_expression(kind, k, j)}" for k, (kind, j) in enumerate(ops)]
    lines.append(f"    return np.sum(v{len(ops)})")
    return "\n".join(lines) + "\n"


CHAIN_OPS = chain_ops()
CHAIN_SOURCE = chain_source(CHAIN_OPS)
elementwise_chain = s2sad.parse.function_from_source(CHAIN_SOURCE, {"np": np})


# -- 5. Newton's method for sqrt ---------------------------------------------------------


def newton_sqrt(a):
    """sqrt(a) by Newton's method from x = a, until the residual is below 1e-12 * a."""
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


# -- inputs ------------------------------------------------------------------------------

MLP_BATCH, MLP_INPUTS, MLP_HIDDEN, MLP_OUTPUTS = 64, 256, 256, 10
ROSENBROCK_N = 10_000
CHAIN_WIDTH = 8


def make_inputs(name: str) -> tuple:
    """The arguments of workload ``name``, from a fixed seed."""
    rng = np.random.default_rng(0)
    if name == "scalar_loop":
        # a = -0.01: x -> 0 at a rate of about 0.99 per step, so after 1000 steps
        # neither x nor its gradient has over- or underflowed.
        return 0.5, -0.01
    if name == "mlp_loss":

        def layer(n, m):
            return rng.standard_normal((n, m)) / math.sqrt(n), 0.1 * rng.standard_normal(m)

        W1, b1 = layer(MLP_INPUTS, MLP_HIDDEN)
        W2, b2 = layer(MLP_HIDDEN, MLP_HIDDEN)
        W3, b3 = layer(MLP_HIDDEN, MLP_OUTPUTS)
        X = rng.standard_normal((MLP_BATCH, MLP_INPUTS))
        Y = np.eye(MLP_OUTPUTS)[rng.integers(0, MLP_OUTPUTS, MLP_BATCH)]
        return W1, b1, W2, b2, W3, b3, X, Y
    if name == "rosenbrock":
        return (rng.uniform(-2.0, 2.0, ROSENBROCK_N),)
    if name == "elementwise_chain":
        return (rng.uniform(0.1, 0.9, CHAIN_WIDTH),)
    if name == "newton_sqrt":
        return (1e4,)  # 11 Newton steps from x = a
    raise KeyError(name)


# -- not a workload: a probe of s2sad's per-call overhead --------------------------------


def square(x):
    """So little work that calling its gradient measures s2sad's dispatch alone."""
    return x * x
