"""s2sad.check_grad: central finite differences against s2sad's (or a given) gradient."""

import math
import re

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

X = np.array([[0.3, -0.7, 1.2], [0.5, 0.9, -1.1]])


def smooth(x, a):
    return np.sum(np.tanh(x * a) ** 2) + math.cos(a)


def smooth_dx(x, a):
    t = np.tanh(x * a)
    return 2.0 * t * (1.0 - t**2) * a


def smooth_da(x, a):
    t = np.tanh(x * a)
    return float(np.sum(2.0 * t * (1.0 - t**2) * x)) - math.sin(a)


def test_correct_gradients_give_a_small_error():
    error = check_grad(smooth, X, 0.8, wrt=(0, 1))
    assert 0.0 <= error < 1e-6


def test_a_correct_hand_written_gradient_passes():
    def by_hand(x, a):
        return smooth_dx(x, a), smooth_da(x, a)

    assert check_grad(smooth, X, 0.8, wrt=("x", "a"), gradient=by_hand) < 1e-6


def test_a_scalar_function_of_numbers():
    def f(x, y):
        return math.exp(x * y) / (1.0 + y * y)

    assert check_grad(f, 0.3, 1.1, wrt=(0, 1)) < 1e-6


def wrong_element(x, a):
    g = smooth_dx(x, a)
    g[1, 2] += 0.5
    return g


def test_a_wrong_gradient_names_the_argument_and_element_and_both_values():
    with pytest.raises(AssertionError) as caught:
        check_grad(smooth, X, 0.8, gradient=wrong_element)
    message = str(caught.value)
    assert "x[1, 2]" in message
    numbers = re.search(
        r"s2sad gives (\S+), central differences give (\S+) \(relative error (\S+)", message
    )
    assert numbers is not None, message
    given, numeric, relative = (float(n) for n in numbers.groups())
    exact = smooth_dx(X, 0.8)[1, 2]
    assert given == pytest.approx(exact + 0.5, rel=1e-12)
    assert numeric == pytest.approx(exact, rel=1e-6)
    assert relative == pytest.approx(abs(given - numeric) / abs(numeric), rel=1e-2)


def test_a_wrong_gradient_of_the_second_argument_names_it():
    def wrong_a(x, a):
        return smooth_dx(x, a), -smooth_da(x, a)

    with pytest.raises(AssertionError) as caught:
        check_grad(smooth, X, 0.8, wrt=(0, 1), gradient=wrong_a)
    message = str(caught.value)
    assert "respect to a " in message and "a[" not in message
    assert repr(-smooth_da(X, 0.8)) in message


def test_rtol_decides_what_is_wrong():
    def slightly_off(x, a):
        return smooth_dx(x, a) * (1.0 + 1e-4)

    worst = check_grad(smooth, X, 0.8, gradient=slightly_off, rtol=1e-3)
    assert worst == pytest.approx(1e-4, rel=0.01)  # the largest relative error
    with pytest.raises(AssertionError):
        check_grad(smooth, X, 0.8, gradient=slightly_off, rtol=1e-6)


def test_a_gradient_of_the_wrong_shape_is_reported():
    with pytest.raises(AssertionError, match=r"shape \(2, 3\)"):
        check_grad(smooth, X, 0.8, gradient=lambda x, a: smooth_dx(x, a)[0])


def test_a_number_needs_a_float_gradient():
    with pytest.raises(AssertionError, match="float"):
        check_grad(smooth, X, 0.8, wrt=1, gradient=lambda x, a: np.array([smooth_da(x, a)]))


def test_check_grad_catches_a_wrong_s2sad_rule(monkeypatch):
    from s2sad.rules import registry

    monkeypatch.setattr(registry.REGISTRY, "_rules", dict(registry.REGISTRY._rules))
    s2sad.defvjp(np.tanh, "x, /", x="g * (1.0 - ans)")  # should be 1 - ans**2

    with pytest.raises(AssertionError, match=r"x\[0, 0\]"):
        check_grad(smooth, X, 0.8)


def cube(x):
    return x**3


def test_atol_decides_near_a_zero_gradient():
    def tiny(x):
        return 1e-9

    assert check_grad(cube, 0.0, gradient=tiny) <= 1e-5
    with pytest.raises(AssertionError, match="respect to x"):
        check_grad(cube, 0.0, gradient=tiny, atol=1e-12)


def test_a_nan_gradient_fails():
    def nan_for_x(x, a):
        return smooth_dx(x, a) * np.nan, smooth_da(x, a)

    with pytest.raises(AssertionError, match=r"x\[0, 0\] disagrees: s2sad gives nan"):
        check_grad(smooth, X, 0.8, wrt=("x", "a"), gradient=nan_for_x)
