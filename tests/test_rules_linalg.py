"""np.linalg's derivative rules (s2sad/rules/linalg.py), checked against central finite
differences inside ordinary user functions; functions returning tuples in each spelling
(indexed, unpacked, read by field name). Losses of eigenvectors, singular vectors and QR
factors are invariant under the sign flips that leave the factorisation valid."""

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

R = np.random.default_rng(11)


def spd(*shape):
    """Symmetric positive definite, well conditioned, with distinct eigenvalues."""
    b = R.normal(size=shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def nonsymmetric(a):
    """``a`` with the triangle NumPy does not read changed: a gradient put there is caught."""
    return a + np.triu(R.uniform(0.1, 0.5, size=a.shape), 1)


SPD = spd(4, 4)
SPD_STACK = spd(2, 3, 3)
GENERAL = R.normal(size=(4, 4)) + 4.0 * np.eye(4)
TALL = R.normal(size=(5, 3))
WIDE = R.normal(size=(3, 5))


def weighted(y):
    """A scalar that depends on every element of ``y`` differently."""
    return np.sum(np.sin(y) * np.cos(np.arange(np.size(y)).reshape(np.shape(y))))


# ----- slogdet: a tuple result in each spelling --------------------------------------------
def logdet_indexed(a):
    return np.sum(np.linalg.slogdet(a)[1] ** 2)


def logdet_unpacked(a):
    sign, logdet = np.linalg.slogdet(a)
    return np.sum(sign * logdet * 3.0)


def logdet_by_field(a):
    return np.sum(np.linalg.slogdet(a).logabsdet * 2.0)


def logdet_every_way(a):
    result = np.linalg.slogdet(a)
    same = result
    sign, logdet = result
    return np.sum(result[0] * result[1] + same.logabsdet * logdet + result.sign)


def second_part(pair):
    return pair[1]


def logdet_through_a_helper(a):
    total = 0.0
    for k in range(2):
        total = total + second_part(np.linalg.slogdet(a * (k + 1.0)))
    return np.sum(total)


@pytest.mark.parametrize(
    "f",
    [logdet_indexed, logdet_unpacked, logdet_by_field, logdet_every_way, logdet_through_a_helper],
)
@pytest.mark.parametrize(
    "a", [GENERAL, GENERAL[[1, 0, 2, 3]], SPD_STACK], ids=["matrix", "negative-det", "stack"]
)
def test_slogdet(f, a):
    assert check_grad(f, a) < 1e-6


def only_the_sign(a):
    return np.linalg.slogdet(a)[0] * 2.0


def test_slogdet_sign_has_gradient_zero():
    assert np.array_equal(s2sad.grad(only_the_sign)(GENERAL), np.zeros((4, 4)))


# ----- cholesky, eigh, eigvalsh: one triangle is read --------------------------------------
def cholesky(a):
    return weighted(np.linalg.cholesky(a))


def cholesky_upper(a):
    return weighted(np.linalg.cholesky(a, upper=True))


def cholesky_of_a_product(b):
    return weighted(np.linalg.cholesky(b @ b.T + 4.0 * np.eye(4)))


@pytest.mark.parametrize("a", [SPD, nonsymmetric(SPD), SPD_STACK], ids=["spd", "upper", "stack"])
def test_cholesky(a):
    assert check_grad(cholesky, a) < 1e-6


def test_cholesky_gradient_is_on_the_triangle_numpy_reads():
    a = nonsymmetric(SPD).T  # the lower triangle is what upper=True does not read
    assert check_grad(cholesky_upper, a) < 1e-6
    assert np.array_equal(np.tril(s2sad.grad(cholesky_upper)(a), -1), np.zeros((4, 4)))
    assert np.array_equal(np.triu(s2sad.grad(cholesky)(SPD), 1), np.zeros((4, 4)))
    assert check_grad(cholesky_of_a_product, R.normal(size=(4, 4))) < 1e-6


def eigh_unpacked(a):
    w, v = np.linalg.eigh(a)
    return weighted(w) + weighted(v * v) + weighted(v[..., :1, :] * v)


def eigh_by_field(a):
    result = np.linalg.eigh(a, UPLO="U")
    v = result.eigenvectors
    return np.sum(result.eigenvalues**2) + weighted(v[..., -1:, :] * v)


def eigh_eigenvalues_only(a):
    return weighted(np.linalg.eigh(a)[0])


def eigvalsh(a):
    return weighted(np.linalg.eigvalsh(a))


def eigvalsh_upper(a):
    return weighted(np.linalg.eigvalsh(a, "U"))


@pytest.mark.parametrize("f", [eigh_unpacked, eigh_by_field, eigh_eigenvalues_only, eigvalsh])
@pytest.mark.parametrize("a", [SPD, nonsymmetric(SPD), SPD_STACK], ids=["spd", "upper", "stack"])
def test_eigh(f, a):
    assert check_grad(f, a) < 1e-6


def test_eigh_upper_triangle():
    assert check_grad(eigvalsh_upper, nonsymmetric(SPD).T) < 1e-6
    assert check_grad(eigh_by_field, nonsymmetric(SPD).T) < 1e-6


def squares_of_eigenvalues(a):
    return np.sum(np.linalg.eigvalsh(a) ** 2)


def test_equal_eigenvalues():
    # a symmetric function of the eigenvalues is differentiable where they are equal
    assert check_grad(squares_of_eigenvalues, np.eye(3)) < 1e-6
    # the eigenvectors are not: refused, where JAX and autograd give inf or NaN
    with pytest.raises(s2sad.NonDifferentiableError, match="two of its values are equal"):
        s2sad.grad(eigh_unpacked)(np.eye(3))
