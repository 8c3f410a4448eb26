"""End to end: calls from the differentiated function to the user's own functions."""

import math

import numpy as np
import pytest
import userlib
from userlib import affine

import s2sad
from s2sad import cache, check_grad


def square_plus(x, c=1.0):
    return x * x + c


def uses_helper(x):
    return square_plus(x) * 2.0 + square_plus(x, c=3.0) + square_plus(x, 0.5)


def test_module_level_helper_with_defaults_and_keywords():
    assert check_grad(uses_helper, 1.3) < 1e-6


def polar(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


def uses_tuple_helper(r, theta):
    x, y = polar(r, theta)
    return x * x + 3.0 * y


def test_helper_returning_a_tuple():
    assert check_grad(uses_tuple_helper, 1.5, 0.3, wrt=(0, 1)) < 1e-6


def uses_imported_helpers(W, x, b):
    h = affine(W, x, b)
    return np.sum(userlib.softplus(h, beta=2.0))


def test_helpers_imported_from_another_module():
    rng = np.random.default_rng(1)
    args = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)
    assert check_grad(uses_imported_helpers, *args, wrt=(0, 1, 2)) < 1e-6


def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


def uses_recursion(x):
    return power(x, 5) + power(x, 0)


def test_recursion_ending_on_an_undifferentiated_argument():
    assert s2sad.grad(uses_recursion)(1.2) == pytest.approx(5.0 * 1.2**4)
    assert check_grad(uses_recursion, 0.7) < 1e-6


def step(h, x, W):
    return np.tanh(W @ h + x)


def uses_helper_in_loop(W, xs, h):
    for x in xs:
        h = step(h, x, W)
    return np.sum(h**2)


def test_helper_called_in_a_loop():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(3, 3)) * 0.5
    assert (
        check_grad(uses_helper_in_loop, W, rng.normal(size=(5, 3)), rng.normal(size=3), wrt=(0, 2))
        < 1e-6
    )


def count_up(n):
    total = 0
    for i in range(n):
        total += i
    return total


def scales(x):
    k = count_up(4)
    return x * k


def test_helper_that_touches_no_gradient_is_simply_called():
    assert s2sad.grad(scales)(2.0) == 6.0
    assert "count_up(4)" in s2sad.source(scales)
    assert "count_up_forward" not in s2sad.source(scales)


def test_each_helper_is_differentiated_once(builds):
    cache.clear()
    s2sad.grad(uses_helper)(1.0)
    s2sad.grad(uses_helper)(2.0)
    assert builds.count("square_plus") == 1
    assert builds.count("uses_helper") == 1


def test_helper_pairs_appear_in_the_source():
    source = s2sad.source(uses_helper)
    assert "def square_plus_forward(" in source and "def square_plus_backward(" in source
    assert source.index("def square_plus_forward(") < source.index("def grad_uses_helper(")


def nested(x, a):
    def inner(y):
        return y * a + math.sin(y)

    return inner(x) * inner(2.0 * x)


def test_function_defined_inside():
    assert check_grad(nested, 0.4, 1.5, wrt=(0, 1)) < 1e-6


def calls_c_function(x):
    return math.gamma(x)


def test_a_c_function_without_a_rule_is_named():
    with pytest.raises(s2sad.NonDifferentiableError) as caught:
        s2sad.grad(calls_c_function)(2.0)
    message = str(caught.value)
    assert "test_calls.py:" in message and "math.gamma" in message and "defvjp" in message


def scalar_square(z):
    return z * z


def calls_a_scalar_helper(x):
    return scalar_square(x) + x


def test_a_helper_returning_a_number_needs_no_summing_in_the_caller():
    source = s2sad.grad(calls_a_scalar_helper).source_for(2.0)
    assert "unbroadcast" not in source and "np.sum" not in source
    assert s2sad.grad(calls_a_scalar_helper)(2.0) == pytest.approx(5.0)


def row_scale(m, v):
    return m * v  # a matrix times a row: the matrix's shape


def sums_a_helper_result(m, v):
    return np.sum(row_scale(m, v) * m)


def test_a_helpers_result_shape_follows_its_arguments():
    m, v = np.arange(1.0, 7.0).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    assert check_grad(sums_a_helper_result, m, v, wrt=(0, 1)) < 1e-6
    source = s2sad.grad(sums_a_helper_result, wrt=(0, 1)).source_for(m, v)
    assert "unbroadcast" not in source


def sum_and_stack(a):
    return np.sum(a, axis=0), np.stack([a[:, 0], np.sin(a[:, 1])])


def uses_first_part(x):
    t = sum_and_stack(x)
    return np.sum(np.sin(t[0]))


def test_a_tuple_part_nobody_reads_gets_a_zero_seed_of_its_shape():
    x = np.arange(6.0).reshape(3, 2) / 7
    assert check_grad(uses_first_part, x) < 1e-6


def ignores_its_first_argument(a, b):
    return b.sum() / 2.0


def rebinds_and_ignores(a, b):
    a = np.ones(4)  # the value passed in is never read
    return np.sum(b * a) / 2.0


@pytest.mark.parametrize("helper", [ignores_its_first_argument, rebinds_and_ignores])
def test_a_helper_ignoring_an_argument_gives_zeros_of_the_passed_shape(helper):
    def passes_a_reshaped_array(x, y):
        v = np.tanh(x[0, 0] * np.ones((2, 2)))
        return helper(np.reshape(v, (-1,)), y) + np.sum(v * x)

    x, y = np.full((2, 2), 0.3), np.linspace(0.1, 0.4, 4)
    assert check_grad(passes_a_reshaped_array, x, y, wrt=(0, 1)) < 1e-6


def sum_and_ragged_parts(v):
    return np.sum(v), (v * 2.0, v[:2])


def ignores_the_ragged_part(x):
    a, t = sum_and_ragged_parts(x[:3])
    return a


def test_an_ignored_part_that_is_a_tuple_of_arrays_keeps_its_zero_seed():
    assert check_grad(ignores_the_ragged_part, np.array([0.1, 0.2, 0.3, 0.4])) < 1e-6


# ----- methods of the user's classes ---------------------------------------------------------
class Layer:
    def __init__(self, n, m, seed):
        generator = np.random.default_rng(seed)
        self.W = generator.normal(size=(m, n))
        self.b = generator.normal(size=m)

    def forward(self, x):
        return np.tanh(self.W @ x + self.b)


class Network:
    def __init__(self):
        self.layers = [Layer(3, 4, 0), Layer(4, 2, 1)]
        self.alpha = 0.5

    def penalty(self, x):
        return self.alpha * np.sum(x**2)

    def loss(self, x, y):
        h = x
        for layer in self.layers:
            h = Layer.forward(layer, h)  # an item of a list: called through its class
        return np.sum((h - y) ** 2) + self.penalty(x)

    def scaled(self, x):
        return self.penalty(x) * 2.0 + np.sum(self.layers[0].b) * np.sum(x)


NETWORK = Network()
POINT = np.array([0.3, -0.2, 0.5])


def through_a_global_object(x):
    return NETWORK.scaled(x) + NETWORK.penalty(x * 2.0)


def test_methods_called_on_self_and_on_a_global_object():
    assert check_grad(NETWORK.loss, POINT, np.array([0.1, 0.2])) < 1e-6
    assert check_grad(through_a_global_object, POINT) < 1e-6
    expected = 2.0 * 0.5 * 2 * POINT + np.sum(NETWORK.layers[0].b) + 0.5 * 2 * 2.0 * 2 * POINT
    assert np.allclose(s2sad.grad(through_a_global_object)(POINT), expected)


class Doubled(Network):
    def penalty(self, x):
        return np.sum(x) * 5.0


def test_a_global_object_rebound_to_another_class_rebuilds(monkeypatch):
    gradient = s2sad.grad(through_a_global_object)
    before = gradient(POINT)
    monkeypatch.setitem(globals(), "NETWORK", Doubled())
    assert check_grad(through_a_global_object, POINT) < 1e-6
    assert not np.allclose(gradient(POINT), before)
    assert np.allclose(gradient(POINT), s2sad.grad(through_a_global_object)(POINT))


class Shadowed:
    def part(self, x):
        return np.sum(x * 2.0)

    def loss(self, x):
        return self.part(x) * 3.0


def test_a_method_an_attribute_of_the_object_hides_is_not_followed():
    shadowed = Shadowed()
    shadowed.part = lambda x: np.sum(x * 100.0)  # shadowed.part is no longer Shadowed.part
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"method self.part\(\)"):
        s2sad.grad(shadowed.loss)(POINT)


def loop_over_layers(x):
    h = x
    for layer in NETWORK.layers:
        h = layer.forward(h)
    return np.sum(h)


def test_a_method_of_a_list_item_is_refused_with_a_way_out():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"YourClass.forward\(layer, ...\)"):
        s2sad.grad(loop_over_layers)(POINT)


def lambdas_assigned_to_names(x, a):
    act = lambda z: np.tanh(z * a)  # noqa: E731 - what users write
    power = lambda t, k=2.0: t**k  # noqa: E731
    return np.sum(act(x) + power(act(x * 2.0))) + sum([power(v, 3.0) for v in x])


def test_a_lambda_assigned_to_a_name_is_a_nested_function():
    assert check_grad(lambdas_assigned_to_names, np.array([0.3, 0.7]), 1.5, wrt=(0, 1)) < 1e-6


class Patched:
    def __init__(self, a):
        self.a = a

    def penalty(self, x):
        return self.a * x * x

    def loss(self, x):
        return self.penalty(x) + x


def cubic_penalty(self, x):
    return self.a * x * x * x


def test_a_method_patched_on_the_class_after_the_build_is_followed(monkeypatch):
    model = Patched(2.0)
    gradient = s2sad.grad(model.loss)
    assert gradient(0.7) == pytest.approx(2 * 2.0 * 0.7 + 1.0)
    monkeypatch.setattr(Patched, "penalty", cubic_penalty)
    assert gradient(0.7) == pytest.approx(3 * 2.0 * 0.49 + 1.0)
    assert s2sad.grad(Patched(2.0).loss)(0.7) == pytest.approx(3 * 2.0 * 0.49 + 1.0)


def test_a_method_hidden_on_the_object_after_the_build_is_not_followed():
    model = Patched(2.0)
    gradient = s2sad.grad(model.loss)
    assert gradient(0.7) == pytest.approx(3.8)
    model.penalty = lambda x: 0.0
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"self.penalty\(\)"):
        gradient(0.7)


def through_an_object(model, x):
    return model.penalty(x)


def test_differentiating_with_respect_to_an_object_is_refused_clearly():
    with pytest.raises(s2sad.InvalidArgumentError, match="argument model is a Patched"):
        s2sad.grad(through_an_object, wrt=0)(Patched(2.0), 0.7)
    assert s2sad.grad(through_an_object, wrt=1)(Patched(2.0), 0.7) == pytest.approx(2.8)


class Linear(Patched):
    def penalty(self, x):
        return self.a * x


GLOBAL_MODEL = Patched(2.0)


def through_the_global_model(x):
    return GLOBAL_MODEL.loss(x) * 2.0


def test_a_global_object_changed_in_place_after_the_build(monkeypatch):
    gradient = s2sad.grad(through_the_global_model)
    assert gradient(0.7) == pytest.approx(2 * (2 * 2.0 * 0.7 + 1.0))
    monkeypatch.setattr(GLOBAL_MODEL, "__class__", Linear)  # its class changed
    assert gradient(0.7) == pytest.approx(2 * (2.0 + 1.0))
    monkeypatch.undo()
    monkeypatch.setattr(GLOBAL_MODEL, "penalty", lambda x: 0.0, raising=False)  # hidden
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"self.penalty\(\)"):
        gradient(0.7)


class WithStatic:
    @staticmethod
    def activation(z):
        return np.tanh(z)

    def loss(self, x):
        return self.activation(x) * 2.0


def test_a_staticmethod_called_on_self():
    assert check_grad(WithStatic().loss, 0.6) < 1e-6


def nested_functions_calling_each_other(x, a):
    def square(z):
        return z * z

    def cube(z):
        return square(z) * z

    double_square = lambda z: square(z) * 2.0  # noqa: E731
    return cube(x) + square(a) + double_square(x)


def test_nested_functions_may_call_one_another():
    assert check_grad(nested_functions_calling_each_other, 0.3, 0.37, wrt=(0, 1)) < 1e-6


class Scaled(Patched):
    def loss(self, x):
        return super().loss(x) * 2.0


class Shifted(Scaled):
    def loss(self, x):
        return super().loss(x) + x


def test_methods_called_through_super():
    assert s2sad.grad(Scaled(2.0).loss)(0.7) == pytest.approx(2 * (2 * 2.0 * 0.7 + 1.0))
    assert check_grad(Shifted(2.0).loss, 0.7) < 1e-6
