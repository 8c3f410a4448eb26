"""A module of the user's own helpers, imported by tests/test_calls.py."""

import numpy as np


def softplus(z, beta=1.0):
    return np.log(1.0 + np.exp(beta * z)) / beta


def affine(W, x, b):
    return W @ x + b
