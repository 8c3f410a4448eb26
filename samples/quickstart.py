"""A logistic-regression loss: the example in s2sad's README."""

import numpy as np


def loss(w, b, X, y, l2=0.01):
    """Mean cross-entropy of a logistic model, plus an L2 penalty on the weights."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    data = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return data + l2 * np.sum(w**2)


if __name__ == "__main__":
    import s2sad

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)
    dloss = s2sad.grad(loss, wrt=("w", "b"))
    w, b = np.zeros(3), 0.0
    for _ in range(200):
        dw, db = dloss(w, b, X, y)
        w, b = w - 0.5 * dw, b - 0.5 * db
    print("loss after 200 steps:", loss(w, b, X, y))
