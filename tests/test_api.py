"""The public API: grad, value_and_grad, vjp, source, wrt handling, errors and the cache."""

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import cache, check_grad

HERE = Path(__file__).resolve()
X = np.array([0.2, -0.5, 1.3])


def line_starting(text: str) -> int:
    lines = HERE.read_text().splitlines()
    numbers = [n for n, line in enumerate(lines, 1) if line.lstrip().startswith(text)]
    assert len(numbers) == 1, (text, numbers)
    return numbers[0]


def f(x, a):
    return np.sum(np.sin(x) * a)


def df_dx(x, a):
    return np.cos(x) * a


def df_da(x, a):
    return np.sum(np.sin(x))


# ----- grad as a decorator ------------------------------------------------------------------
@s2sad.grad
def dsquare(x):
    return x * x


@s2sad.grad(wrt="a")
def dscaled(x, a):
    return np.sum(x * a**2)


def test_grad_as_a_bare_decorator():
    assert dsquare(3.0) == 6.0
    assert type(dsquare(3.0)) is float


def test_grad_as_a_decorator_with_arguments():
    assert dscaled(X, 1.5) == pytest.approx(2.0 * 1.5 * X.sum())


def test_value_and_grad_as_a_decorator_with_arguments():
    @s2sad.value_and_grad(wrt=1)
    def loss(x, a):
        return np.sum(x * a**2)

    value, gradient = loss(X, 1.5)
    assert value == pytest.approx(2.25 * X.sum()) and gradient == pytest.approx(3.0 * X.sum())


# ----- wrt ----------------------------------------------------------------------------------
@pytest.mark.parametrize("wrt", [0, -2, "x"])
def test_wrt_the_first_parameter(wrt):
    assert np.allclose(s2sad.grad(f, wrt)(X, 2.0), df_dx(X, 2.0))


@pytest.mark.parametrize("wrt", [1, -1, "a"])
def test_wrt_the_second_parameter(wrt):
    gradient = s2sad.grad(f, wrt=wrt)(X, 2.0)
    assert type(gradient) is float and gradient == pytest.approx(df_da(X, 2.0))


def test_wrt_a_tuple_gives_a_tuple_in_its_order():
    da, dx = s2sad.grad(f, wrt=("a", 0))(X, 2.0)
    assert da == pytest.approx(df_da(X, 2.0)) and np.allclose(dx, df_dx(X, 2.0))


def test_wrt_a_one_tuple_gives_a_one_tuple():
    result = s2sad.grad(f, wrt=("x",))(X, 2.0)
    assert isinstance(result, tuple) and len(result) == 1
    assert np.allclose(result[0], df_dx(X, 2.0))
    (da,) = s2sad.grad(f, wrt=(1,))(X, 2.0)
    assert da == pytest.approx(df_da(X, 2.0))


@pytest.mark.parametrize("wrt", [2, -3, "z", ("x", "z")])
def test_a_bad_wrt_names_the_parameters(wrt):
    with pytest.raises(s2sad.InvalidArgumentError) as caught:
        s2sad.grad(f, wrt=wrt)(X, 2.0)
    assert "x, a" in str(caught.value)


@pytest.mark.parametrize("wrt", [("x", 0), (), 1.5, True, None])
def test_a_malformed_wrt_is_an_invalid_argument(wrt):
    with pytest.raises(s2sad.InvalidArgumentError) as caught:
        s2sad.grad(f, wrt=wrt)(X, 2.0)
    assert isinstance(caught.value, s2sad.S2SADError) and isinstance(caught.value, ValueError)


def test_grad_of_something_not_callable():
    with pytest.raises(s2sad.InvalidArgumentError):
        s2sad.grad(3.0)


# ----- value_and_grad and vjp ---------------------------------------------------------------
def test_value_and_grad_returns_the_value_and_the_gradient():
    value, (dx, da) = s2sad.value_and_grad(f, wrt=(0, 1))(X, 2.0)
    assert value == pytest.approx(f(X, 2.0))
    assert np.allclose(dx, df_dx(X, 2.0)) and da == pytest.approx(df_da(X, 2.0))


def test_value_and_grad_of_numbers():
    value, gradient = s2sad.value_and_grad(dsquare.__wrapped__)(1.5)
    assert value == 2.25 and gradient == 3.0


def twice_sine(x):
    return np.sin(x) * 2


def test_vjp_of_a_vector_output_pulls_back_the_seed():
    seed = np.array([1.0, -2.0, 0.5])
    assert np.allclose(s2sad.vjp(twice_sine)(X, seed=seed), 2.0 * np.cos(X) * seed)


def test_vjp_of_a_matrix_output_with_respect_to_two_arguments():
    def outer_product(u, v):
        return np.sin(u).reshape(-1, 1) * v

    u, v = np.array([0.1, 0.4]), np.array([1.0, 2.0, 3.0])
    seed = np.arange(6.0).reshape(2, 3)
    du, dv = s2sad.vjp(outer_product, wrt=(0, 1))(u, v, seed=seed)
    assert np.allclose(du, np.cos(u) * (seed @ v))
    assert np.allclose(dv, np.sin(u) @ seed)


def test_vjp_of_a_scalar_output_scales_the_gradient():
    assert s2sad.vjp(f)(X, 2.0, seed=3.0) == pytest.approx(3.0 * df_dx(X, 2.0))


# ----- non-scalar outputs -----------------------------------------------------------------
def vector_valued(x):
    y = np.sin(x) * 2
    return y


def test_grad_of_an_array_output_says_the_shape_and_suggests_vjp():
    with pytest.raises(s2sad.NonScalarOutputError) as caught:
        s2sad.grad(vector_valued)(X)
    message = str(caught.value)
    where = re.match(r"(.+):(\d+): ", message)
    assert where is not None, message
    assert Path(where.group(1)).resolve() == HERE
    assert int(where.group(2)) == line_starting("y = np.sin(x) * 2") + 1  # return y
    assert "(3,)" in message
    assert "vjp" in message


def test_value_and_grad_of_an_array_output_raises_too():
    with pytest.raises(s2sad.NonScalarOutputError, match=r"\(2, 2\)"):
        s2sad.value_and_grad(vector_valued)(np.ones((2, 2)))


# ----- source -----------------------------------------------------------------------------
def test_source_is_the_generated_function():
    text = s2sad.source(f)
    assert "def grad_f(x, a):" in text
    assert s2sad.grad(f).source == text
    assert "def grad_f(x, a):" in s2sad.grad(f).source_for(X, 2.0)
    assert s2sad.source(s2sad.grad(f)) == text


def test_source_for_each_mode():
    assert "def value_and_grad_f(" in s2sad.source(f, mode="value_and_grad")
    assert "seed" in s2sad.source(f, mode="vjp").splitlines()[0]
    with pytest.raises(s2sad.InvalidArgumentError):
        s2sad.source(f, mode="hessian")


# ----- the cache ----------------------------------------------------------------------------
def test_calling_the_same_gradient_twice_transforms_once(builds):
    df = s2sad.grad(f)
    df(X, 2.0)
    df(X, 3.0)
    assert len(builds) == 1


def test_building_the_same_gradient_twice_transforms_once(builds):
    first = s2sad.grad(f)(X, 2.0)
    second = s2sad.grad(f)(X, 2.0)
    assert np.array_equal(first, second)
    assert len(builds) == 1
    assert cache.stats()["misses"] == 1
    assert s2sad.grad(f) is s2sad.grad(f)  # asking again costs a lookup, not a new function


def scaled_sum(x, scale=2.0):
    return np.sum(x) * scale


def test_asking_again_after_the_defaults_changed_gives_a_function_with_the_new_defaults():
    assert np.allclose(s2sad.grad(scaled_sum)(X), 2.0)
    scaled_sum.__defaults__ = (3.0,)
    try:
        assert np.allclose(s2sad.grad(scaled_sum)(X), 3.0)
    finally:
        scaled_sum.__defaults__ = (2.0,)
    assert np.allclose(s2sad.grad(scaled_sum)(X), 2.0)
    assert s2sad.grad(scaled_sum, wrt=[0]) is not s2sad.grad(scaled_sum, wrt=[0])  # a list
    remembered = s2sad.grad(scaled_sum)
    cache.clear()
    assert s2sad.grad(scaled_sum) is not remembered


def test_a_remembered_gradient_is_not_given_for_another_wrt_closure_or_wrapped_function():
    with pytest.raises(s2sad.InvalidArgumentError):
        s2sad.grad(scaled_sum, wrt=True)(X)
    assert np.allclose(s2sad.grad(scaled_sum, wrt=1)(X, 2.0), np.sum(X))  # True == 1

    activation, switch = make_switchable()
    assert np.allclose(s2sad.grad(activation)(X), np.cos(X))
    switch(np.exp)
    assert np.allclose(s2sad.grad(activation)(X), np.exp(X))

    decorated = functools.wraps(scaled_sum)(lambda *args: scaled_sum(*args))
    assert np.allclose(s2sad.grad(decorated)(X), 2.0)
    scaled_sum.__defaults__ = (5.0,)  # what s2sad differentiates: the wrapped function
    try:
        assert np.allclose(s2sad.grad(decorated)(X), 5.0)
    finally:
        scaled_sum.__defaults__ = (2.0,)


def make_switchable():
    act = np.sin

    def activation(x):
        return np.sum(act(x))

    def switch(function):
        nonlocal act
        act = function

    return activation, switch


def test_a_callable_object_is_refused_with_a_clear_error():
    with pytest.raises(s2sad.SourceUnavailableError, match=r"^functools\.partial\("):
        s2sad.grad(functools.partial(scaled_sum, scale=3.0))(X)


def test_two_gradient_objects_share_one_transformation(builds):
    one, two = s2sad.grad(f, wrt="a"), s2sad.grad(f, wrt="a")
    assert one(X, 2.0) == two(X, 2.0)
    assert len(builds) == 1


def test_different_wrt_or_argument_kinds_transform_again(builds):
    s2sad.grad(f)(X, 2.0)
    s2sad.grad(f, wrt=1)(X, 2.0)
    s2sad.grad(f)(0.5, 2.0)
    assert len(builds) == 3
    assert cache.stats()["entries"] == 3


def make_scaled(k):
    def scaled(x):
        return k * np.sin(x)

    return scaled


def test_closures_of_one_def_with_different_numbers_give_their_own_gradients(builds):
    two, three = make_scaled(2.0), make_scaled(3.0)
    assert s2sad.grad(two)(0.4) == pytest.approx(2.0 * math.cos(0.4))
    assert s2sad.grad(three)(0.4) == pytest.approx(3.0 * math.cos(0.4))
    assert s2sad.grad(two)(0.4) == pytest.approx(2.0 * math.cos(0.4))
    assert len(builds) == 1  # they share one derivative, bound to their own cells


def make_applied(function):
    def applied(x):
        return np.sum(function(x) * 2.0)

    return applied


def test_closures_capturing_different_functions_get_different_derivatives():
    assert np.allclose(s2sad.grad(make_applied(np.sin))(X), 2.0 * np.cos(X))
    assert np.allclose(s2sad.grad(make_applied(np.cos))(X), -2.0 * np.sin(X))
    assert np.allclose(s2sad.grad(make_applied(np.exp))(X), 2.0 * np.exp(X))


def weighted(x, a=1.0):
    return np.sum(x * a)


def test_an_array_passed_by_keyword_for_a_number_default_gets_its_own_gradient():
    ones = np.ones(3)
    assert s2sad.grad(weighted, wrt="a")(X) == pytest.approx(X.sum())
    assert np.allclose(s2sad.grad(weighted, wrt="a")(X, ones), X)
    assert np.allclose(s2sad.grad(weighted, wrt="a")(X, a=ones), X)


def make_weighted(default):
    def weighted_by_default(x, p=default):
        return np.sum(x * p)

    return weighted_by_default


def test_closures_with_a_number_and_an_array_default_get_their_own_gradients():
    assert s2sad.grad(make_weighted(2.0), wrt=1)(X) == pytest.approx(X.sum())
    assert np.allclose(s2sad.grad(make_weighted(np.full(3, 2.0)), wrt=1)(X), X)


def test_clearing_the_cache_transforms_again(builds):
    s2sad.grad(f)(X, 2.0)
    cache.clear()
    s2sad.grad(f)(X, 2.0)
    assert len(builds) == 2


def loop_with_helper(x, n):
    total = 0.0
    for i in range(n):
        total = total + np.sum(np.tanh(x * i))
    return total


def test_a_build_leaves_no_reference_cycles_for_the_garbage_collector():
    # cycles would keep every tree of the build alive until a GC pass walks them all
    # (25 ms after a 500-statement function)
    import gc

    s2sad.grad(loop_with_helper)(X, 3)  # rules and imports loaded once, outside the count
    cache.clear()
    gc.collect()
    gc.disable()
    try:
        s2sad.grad(loop_with_helper)(X, 3)
        cache.clear()
        assert gc.collect() == 0
    finally:
        gc.enable()


# ----- what comes back ----------------------------------------------------------------------
def sum_of_sum(x, y):
    return np.sum(x + y)


def test_gradients_with_respect_to_different_arguments_are_independent_arrays():
    dx, dy = s2sad.grad(sum_of_sum, wrt=(0, 1))(np.ones(3), np.ones(3))
    assert np.array_equal(dx, np.ones(3)) and np.array_equal(dy, np.ones(3))
    dx *= 0.5  # an in-place update of one gradient ...
    assert np.array_equal(dy, np.ones(3))  # ... must not change the other


def test_the_gradient_accepts_keyword_arguments():
    gradient = s2sad.grad(f)(X, a=2.0)
    assert np.allclose(gradient, df_dx(X, 2.0))
    assert check_grad(f, X, 2.0) < 1e-6


# ----- decorated user functions -------------------------------------------------------------
def passthrough(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*args)

    return wrapper


def make_decorated_closure(k):
    @passthrough
    def decorated(x):
        return x * k

    return decorated


def test_grad_of_a_wrapped_closure_differentiates_the_wrapped_function():
    assert s2sad.grad(make_decorated_closure(5.0))(1.0) == 5.0


@functools.cache
def cached_cube(x):
    return x**3


def test_grad_of_an_lru_cached_function():
    assert s2sad.grad(cached_cube)(2.0) == pytest.approx(12.0)


def sum_of_magnitudes(x):
    return np.sum(np.abs(x))


def magnitudes_scaled_by_a_complex_constant(x, c):
    return np.sum(np.abs(x * c))


def test_complex_values_are_refused_not_given_a_wrong_gradient():
    for complex_argument in (np.array([1 + 2j, 3.0]), 1 + 2j, np.complex128(1 + 1j)):
        with pytest.raises(s2sad.InvalidArgumentError, match="argument x is complex"):
            s2sad.grad(sum_of_magnitudes)(complex_argument)
    with pytest.raises(s2sad.ComplexValueError, match="complex value took part"):
        s2sad.grad(magnitudes_scaled_by_a_complex_constant)(np.ones(2), np.array([1 + 1j, 2.0]))
    with pytest.raises(s2sad.ComplexValueError):
        s2sad.grad(magnitudes_scaled_by_a_complex_constant)(1.5, 1 + 1j)


def times_a_complex_constant(x):
    return np.abs(x * (1 + 2j))


def test_a_complex_value_reaching_a_number_arguments_gradient_is_refused():
    with pytest.raises(s2sad.ComplexValueError):
        s2sad.grad(times_a_complex_constant)(0.7)


class Vector(np.ndarray):
    """A subclass of the user's: differentiated as the array it is."""


def squared_norm(x):
    return np.sum(x * x)


def test_a_users_subclass_of_ndarray_is_an_array_not_an_object():
    assert np.allclose(s2sad.grad(squared_norm)(np.array([1.0, 2.0]).view(Vector)), [2.0, 4.0])
