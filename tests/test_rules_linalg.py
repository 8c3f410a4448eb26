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
VEC = R.normal(size=4)


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
    # equal eigenvalues share their adjoints: cos(w) times 1, cos(1), cos(2), averaged
    assert np.allclose(
        s2sad.grad(eigvalsh)(np.eye(3)), np.eye(3) * np.cos(1.0) * (1 + np.cos(1) + np.cos(2)) / 3
    )
    # the eigenvectors are not: refused, where JAX and autograd give inf or NaN
    with pytest.raises(s2sad.NonDifferentiableError, match="eigenvalues are equal"):
        s2sad.grad(eigh_unpacked)(np.eye(3))


# ----- pinv, matrix_power, lstsq -----------------------------------------------------------
STACK = R.normal(size=(2, 4, 3))


def pinv(a):
    return weighted(np.linalg.pinv(a))


def pinv_hermitian(a):
    return weighted(np.linalg.pinv(a, hermitian=True))


@pytest.mark.parametrize("a", [GENERAL, TALL, WIDE, STACK], ids=["square", "tall", "wide", "stack"])
def test_pinv(a):
    assert check_grad(pinv, a) < 1e-6


def test_pinv_hermitian_reads_the_lower_triangle():
    assert check_grad(pinv_hermitian, nonsymmetric(SPD)) < 1e-6


def cube(a):
    return weighted(np.linalg.matrix_power(a, 3))


def inverse_squared(a):
    return weighted(np.linalg.matrix_power(a, -2))


def power_zero(a):
    return weighted(np.linalg.matrix_power(a, 0) * a)


def power_by_argument(a, n):
    return weighted(np.linalg.matrix_power(a, n))


@pytest.mark.parametrize("f", [cube, inverse_squared, power_zero])
@pytest.mark.parametrize("a", [GENERAL / 4.0, SPD_STACK / 4.0], ids=["matrix", "stack"])
def test_matrix_power(f, a):
    assert check_grad(f, a) < 1e-6


def test_matrix_power_of_a_variable_exponent():
    for n in (1, 4, -1):
        assert check_grad(power_by_argument, GENERAL / 4.0, n) < 1e-6


def least_squares(a, b):
    return weighted(np.linalg.lstsq(a, b)[0])


def least_squares_unpacked(a, b):
    x, residuals, rank, s = np.linalg.lstsq(a, b)
    return weighted(x) * rank


@pytest.mark.parametrize("f", [least_squares, least_squares_unpacked])
@pytest.mark.parametrize(
    "a, b",
    [
        (TALL, R.normal(size=5)),
        (TALL, R.normal(size=(5, 2))),
        (WIDE, R.normal(size=3)),
        (GENERAL, VEC),
    ],
    ids=["tall", "tall-matrix", "wide", "square"],
)
def test_lstsq(f, a, b):
    assert check_grad(f, a, b, wrt=(0, 1)) < 1e-6


def least_squares_residuals(a, b):
    return np.sum(np.linalg.lstsq(a, b)[1])


def test_lstsq_refuses_residuals_and_rank_deficient_matrices():
    with pytest.raises(s2sad.NonDifferentiableError, match="not the residuals"):
        s2sad.grad(least_squares_residuals)(TALL, np.arange(5.0))
    with pytest.raises(s2sad.NonDifferentiableError, match="rank 1 of 3"):
        s2sad.grad(least_squares)(np.ones((5, 3)), np.arange(5.0))


# ----- qr, svd and the norms made of singular values ---------------------------------------
def qr_reduced(a):
    q, r = np.linalg.qr(a)
    d = np.diagonal(r, axis1=-2, axis2=-1)  # q[:, j] * r[j, j] keeps its sign
    return weighted(q * d[..., None, :]) + weighted(r * d[..., :, None])


def qr_r_only(a):
    return weighted(np.linalg.qr(a, mode="r") ** 2)


def qr_complete_by_field(a):
    result = np.linalg.qr(a, "complete")
    return weighted(result.R**2) + weighted(result.Q[..., :, :1] * result.R[..., :1, :1])


@pytest.mark.parametrize("f", [qr_reduced, qr_r_only, qr_complete_by_field])
@pytest.mark.parametrize("a", [GENERAL, TALL, WIDE, STACK], ids=["square", "tall", "wide", "stack"])
def test_qr(f, a):
    assert check_grad(f, a) < 1e-6


def qr_complete_q(a):
    return np.sum(np.linalg.qr(a, "complete")[0] ** 3)


def qr_raw(a):
    return np.sum(np.linalg.qr(a, "raw")[0])


def test_qr_refusals():
    with pytest.raises(s2sad.NonDifferentiableError, match="mode='complete'"):
        s2sad.grad(qr_complete_q)(TALL)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_rules_linalg.py:\d+: .*'raw'"):
        s2sad.grad(qr_raw)(TALL)


def singular_values(a):
    return weighted(np.linalg.svd(a, compute_uv=False))


def svd_thin(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    # each singular pair may flip sign together: u * u, vh * vh, u[i, j] * vh[j, k] keep it
    return (
        weighted(s) + weighted(u * u) + weighted(vh * vh) + weighted(u[..., 0, :] * vh[..., :, 0])
    )


def svd_full_by_field(a):
    result = np.linalg.svd(a)
    k = min(np.shape(a)[-2:])
    return (
        weighted(result.S) + weighted(result.U[..., :k] ** 2) + weighted(result.Vh[..., :k, :] ** 2)
    )


def svd_hermitian(a):
    u, s, vh = np.linalg.svd(a, hermitian=True)
    return weighted(s) + weighted(u[..., 0, :] * vh[..., :, 0])


@pytest.mark.parametrize("f", [singular_values, svd_thin, svd_full_by_field])
@pytest.mark.parametrize("a", [GENERAL, TALL, WIDE, STACK], ids=["square", "tall", "wide", "stack"])
def test_svd(f, a):
    assert check_grad(f, a) < 1e-6


def test_svd_hermitian_and_svdvals():
    assert check_grad(svd_hermitian, nonsymmetric(SPD)) < 1e-6
    if hasattr(np.linalg, "svdvals"):

        def svdvals(x):
            return weighted(np.linalg.svdvals(x))

        assert check_grad(svdvals, STACK) < 1e-6


def cubes_of_singular_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) ** 3)


def svd_full_u(a):
    return np.sum(np.linalg.svd(a)[0] ** 3)


def test_svd_refusals():
    with pytest.raises(s2sad.NonDifferentiableError, match="full_matrices=True adds"):
        s2sad.grad(svd_full_u)(TALL)
    with pytest.raises(s2sad.NonDifferentiableError, match="singular values are equal"):
        s2sad.grad(svd_thin)(np.eye(3))
    # the singular values alone are fine there, when the function of them is symmetric
    tied = np.diag([2.0, 2.0, 1.0])
    assert check_grad(cubes_of_singular_values, tied) < 1e-6
    # and equal ones share their adjoints (the gradient is the same for any basis)
    assert np.allclose(
        s2sad.grad(singular_values)(tied)[:2, :2], np.eye(2) * np.cos(2.0) * (1 + np.cos(1)) / 2
    )


def spectral_norms(x):
    return np.linalg.norm(x, 2) * 2.0 + np.linalg.norm(x, -2) + np.linalg.norm(x, "nuc") ** 2


def spectral_norms_of_axes(x):
    return np.sum(np.linalg.norm(x, 2, axis=(2, 0)) * np.arange(1.0, 5.0)) + np.sum(
        np.linalg.norm(x, "nuc", axis=(-1, -2), keepdims=True) * np.linalg.norm(x, -2, axis=(1, 2))
    )


@pytest.mark.parametrize("x", [TALL, WIDE, GENERAL], ids=["tall", "wide", "square"])
def test_spectral_norms(x):
    assert check_grad(spectral_norms, x) < 1e-6


def test_spectral_norms_of_stacks():
    assert check_grad(spectral_norms_of_axes, R.normal(size=(3, 4, 3))) < 1e-6


def nuclear(x):
    return np.linalg.norm(x, "nuc")


def largest(x):
    return np.linalg.norm(x, 2)


def test_spectral_norm_ties_and_zeros():
    # equal largest singular values share g (as ties in np.max): the mean of their u v.T
    assert np.allclose(s2sad.grad(largest)(2.0 * np.eye(3)), np.eye(3) / 3.0)
    # a zero singular value adds nothing to the nuclear norm's gradient
    rank_one = np.outer([1.0, 2.0, 2.0], [0.0, 3.0, 4.0])
    u = np.array([1.0, 2.0, 2.0]) / 3.0
    v = np.array([0.0, 3.0, 4.0]) / 5.0
    assert np.allclose(s2sad.grad(nuclear)(rank_one), np.outer(u, v))
    assert np.array_equal(s2sad.grad(nuclear)(np.zeros((2, 3))), np.zeros((2, 3)))


# ----- refused: eig and eigvals ------------------------------------------------------------
def eigenvalues(a):
    return np.sum(np.linalg.eigvals(a).real)


def eigenvectors(a):
    w, v = np.linalg.eig(a)
    return np.sum(v.real)


def test_eig_is_refused_with_the_line():
    for f in (eigenvalues, eigenvectors):
        with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_rules_linalg.py:\d+: .*eigh"):
            s2sad.grad(f)(GENERAL)


# ----- tuple results in loops, iterated, in containers, pulled back whole -------------------
def eigh_in_a_loop(a):
    total = 0.0
    for k in range(3):
        w, v = np.linalg.eigh(a * (k + 1.0))
        total = total + np.sum(w * v[0] ** 2)
        a = a + 0.1 * np.linalg.slogdet(a).logabsdet
    return total


def slogdet_iterated(a):
    total = 0.0
    for part in np.linalg.slogdet(a):
        total = total + part * 2.0
    return total


def slogdet_in_a_list(a):
    parts = [np.linalg.slogdet(a)]
    return parts[0][1]


@pytest.mark.parametrize("f", [eigh_in_a_loop, slogdet_iterated, slogdet_in_a_list])
@pytest.mark.parametrize("optimize", [True, False])
def test_tuple_results_anywhere(f, optimize):
    gradient = s2sad.grad(f, optimize=optimize)
    assert check_grad(f, SPD_STACK[0], gradient=gradient) < 1e-6


def slogdet_whole(a):
    return np.linalg.slogdet(a)


def test_vjp_of_a_tuple_result():
    pulled = s2sad.vjp(slogdet_whole)(GENERAL, seed=(0.0, 2.0))
    assert np.allclose(pulled, 2.0 * np.linalg.inv(GENERAL).T)
