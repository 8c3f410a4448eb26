"""End to end: the rules of s2sad.rules.arrays (array shaping and indexing), each checked
against central finite differences inside a function written as a user would write it.

Each result is weighted by a fixed random array before it is summed, so that every
element's gradient differs and a misplaced gradient cannot pass.
"""

import numpy as np

from s2sad import check_grad

R = np.random.default_rng(11)
M33 = R.uniform(-1.0, 1.0, size=(3, 3))
M33B = R.uniform(-1.0, 1.0, size=(3, 3))


# ----- np.concatenate with axis=None (a crash: the split back read shape[None]) -----------
def concatenate_flattened(x):
    return np.sum(np.concatenate([x, M33B], axis=None) ** 2)


def concatenate_flattened_mixed(x, v):
    return np.sum(np.concatenate((v, x), None) * np.arange(12.0))


def test_concatenate_with_axis_none_flattens_each_array():
    assert check_grad(concatenate_flattened, M33) < 1e-6
    assert check_grad(concatenate_flattened_mixed, M33, R.uniform(size=3), wrt=(0, 1)) < 1e-6
