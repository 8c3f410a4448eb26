"""Adversarial end-to-end tests: tricky but legitimate user code, checked against central
finite differences or closed forms.

Each test is written the way a user could write the code, and aims at a place where a
source-to-source transformation can go wrong: names rebound, aliasing and views, in-place
updates, broadcasting by rank, one derivative specialised per argument kind, helpers and
nested functions in loops, containers, and the API's promises (arguments untouched, results
repeatable, errors located).
"""

import functools
import math
import re
from pathlib import Path

import numpy
import numpy as np
import pytest

import s2sad
from s2sad import check_grad

HERE = Path(__file__).resolve()

V = np.array([0.3, -0.5, 0.8, 1.1])
W = np.array([1.2, 0.7, -0.4, 0.9])
M = np.array([[0.3, -0.5, 0.8], [1.1, 0.2, -0.7]])
CUBE = np.linspace(-1.0, 1.3, 24).reshape(2, 3, 4)


def line_of(text: str) -> int:
    """The line number of the one line of this file whose stripped text is ``text``."""
    numbers = [n for n, line in enumerate(HERE.read_text().splitlines(), 1) if line.strip() == text]
    assert len(numbers) == 1, (text, numbers)
    return numbers[0]


def assert_located(error: Exception, line: int) -> str:
    message = str(error)
    where = re.match(r"(.+?):(\d+): ", message)
    assert where is not None, message
    assert Path(where.group(1)).resolve() == HERE, message
    assert int(where.group(2)) == line, message
    return message[where.end() :]


# ===== names rebound, swapped, shadowed ==================================================
def swap_in_loop(a, b):
    for i in range(5):
        a, b = b, a * 1.1 + b
        b = b - 0.1 * a
    return np.sum(a * b)


@pytest.mark.parametrize(
    "a, b", [(0.5, 0.8), (V, W), (V, 0.7), (M[:, :1], M)], ids=["numbers", "same", "vs", "col-mat"]
)
def test_swaps_inside_a_loop(a, b):
    assert check_grad(swap_in_loop, a, b, wrt=(0, 1)) < 1e-6


def overwritten_many_times(x):
    y = x
    y = y * 2.0
    y = np.sin(y) + y
    y = y * x
    y = np.exp(-y * y)
    y = y + x
    return np.sum(y * y)


def test_a_variable_overwritten_many_times():
    assert check_grad(overwritten_many_times, V) < 1e-6
    assert check_grad(overwritten_many_times, 0.4) < 1e-6


def loop_target_used_after(x, n):
    for i in range(n):
        x = x * 1.1 + 0.1 * i
    return x * i


def element_used_after(xs):
    total = 0.0
    for v in xs:
        total = total + v * v
    return np.sum(total * v)


def test_loop_targets_used_after_the_loop():
    assert check_grad(loop_target_used_after, 0.5, 4) < 1e-6
    assert check_grad(element_used_after, [0.5, 0.7, 1.3]) < 1e-6
    assert check_grad(element_used_after, M) < 1e-6


def number_then_array(x):
    y = 2.0
    y = y * x
    y = np.sum(y)
    y = y * x
    y = np.sum(y**2)
    return y


def test_a_name_holding_a_number_then_an_array_then_a_number():
    assert check_grad(number_then_array, V) < 1e-6


def local_named_sum(x):
    sum = 0.0
    for v in x:
        sum = sum + v * v
    return sum


def local_named_np(x):
    np = x * 2.0
    return numpy.sum(numpy.sin(np) * x)


def test_locals_named_sum_and_np():
    assert check_grad(local_named_sum, V) < 1e-6
    assert check_grad(local_named_np, V) < 1e-6


def local_named_float(x):
    float = x * 2.0
    return float * x


def local_named_slice(x):
    slice = x[1:]
    return np.sum(slice * x[:-1])


def local_named_reversed(x):
    reversed = x * 3.0
    for i in range(3):
        reversed = reversed * x
    return reversed


def local_named_min(a, b):
    total = 0.0
    for u, v in zip(a, b):
        total = total + u * v
    min = total * 2.0
    return min


@pytest.mark.parametrize(
    "f, args",
    [
        (local_named_float, (1.5,)),
        (local_named_slice, (V,)),
        (local_named_reversed, (1.5,)),
        (local_named_min, ([1.0, 2.0], [3.0, 4.0])),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_local_named_like_a_builtin_the_generated_code_uses(f, args):
    """The user's code never calls float/slice/reversed/min; s2sad's generated code does."""
    assert check_grad(f, *args) < 1e-6


def rebinds_a_parameter(x, b):
    x = x + b  # x now has the broadcast shape
    return np.sum(x)


def transposes_a_parameter(x):
    x = x.T
    return np.sum(x * np.arange(6.0).reshape(3, 2))


def test_a_parameter_rebound_to_another_shape_keeps_its_gradient_shape():
    column, row = np.ones((3, 1)), np.ones((1, 4))
    g = s2sad.grad(rebinds_a_parameter)(column, row)
    assert g.shape == (3, 1) and np.allclose(g, 4.0)
    assert check_grad(rebinds_a_parameter, column, row, wrt=(0, 1)) < 1e-6


def test_a_parameter_rebound_to_its_transpose():
    assert np.allclose(s2sad.grad(transposes_a_parameter)(M), np.arange(6.0).reshape(3, 2).T)


# ===== aliasing and views ================================================================
def alias_both_used(x):
    y = x
    z = y
    return np.sum(y * x) + z[0] * x[1] + np.sum(np.sin(z))


def views_of_the_input(x):
    head = x[:]
    tail = x[1:]
    rev = x[::-1]
    return np.sum(head * rev) + np.sum(tail**2) + head[0] * tail[0]


def test_aliases_and_views_of_an_input():
    assert check_grad(alias_both_used, V) < 1e-6
    assert check_grad(views_of_the_input, V) < 1e-6


def product_of_pair(a, b):
    return a * b + a


def shared_operands(x):
    return np.sum(x + x) + np.sum(x * x) + np.sum(product_of_pair(x, x)) + np.sum(x / (x * x + 1))


def test_one_value_in_both_operands_and_both_arguments():
    assert check_grad(shared_operands, V) < 1e-6
    # closed form: 2 + 2x + (2x + 1) + d/dx x/(x^2+1)
    expected = 2.0 + 2.0 * V + 2.0 * V + 1.0 + (1.0 - V**2) / (V**2 + 1.0) ** 2
    assert np.allclose(s2sad.grad(shared_operands)(V), expected)


def inner(x, y):
    return np.sum(x * y)


def test_the_same_array_for_two_parameters_gives_two_independent_gradients():
    gx, gy = s2sad.grad(inner, wrt=(0, 1))(V, V)
    assert np.allclose(gx, V) and np.allclose(gy, V)
    assert gx is not gy
    gx[0] = 100.0
    assert gy[0] == V[0]


def sum_pair_of_list(xs):
    return np.sum(xs[0] * xs[1]) + np.sum(xs[1])


def test_a_list_holding_the_same_array_twice():
    g = s2sad.grad(sum_pair_of_list)([V, V])
    assert np.allclose(g[0], V) and np.allclose(g[1], V + 1.0)
    assert g[0] is not g[1]
    assert check_grad(sum_pair_of_list, [V, V]) < 1e-6


def in_place_through_an_alias(x):
    y = x * 2.0
    z = y
    z += 1.0  # NumPy adds in place: y is z, so y changes too
    return np.sum(y * y)


def test_augmented_assignment_updates_every_alias():
    try:
        value, g = s2sad.value_and_grad(in_place_through_an_alias)(V)
    except s2sad.UnsupportedSyntaxError as error:  # refusing is honest too
        assert "shares memory with y" in assert_located(
            error, line_of("z += 1.0  # NumPy adds in place: y is z, so y changes too")
        )
    else:
        assert value == pytest.approx(in_place_through_an_alias(V))  # sum((2x + 1)^2)
        assert np.allclose(g, 4.0 * (2.0 * V + 1.0))


def extend_a_list_another_name_holds(x):
    acc = [x]
    seen = acc
    acc += [x * 2.0]  # Python grows seen too
    return seen[1] * x


def extend_a_list_a_list_holds(x):
    acc = [x]
    nested = [acc, x]
    acc += [x * 2.0]  # nested[0] is acc
    return nested[0][1] * x


@pytest.mark.parametrize(
    "function, other, line",
    [
        (extend_a_list_another_name_holds, "seen", "acc += [x * 2.0]  # Python grows seen too"),
        (extend_a_list_a_list_holds, "nested", "acc += [x * 2.0]  # nested[0] is acc"),
    ],
)
def test_extending_a_list_another_name_holds_is_refused(function, other, line):
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        s2sad.grad(function)(1.5)
    assert f"on a list {other} may hold too" in assert_located(caught.value, line_of(line))


def in_place_on_a_number_alias(x):
    total = 0.0
    previous = total
    for i in range(3):
        previous = total
        total += x[i] * x[i]  # numbers are immutable: previous keeps the old value
    return total * previous


def test_augmented_assignment_on_an_aliased_number_is_a_rebinding():
    # total = sum_{i<3} x_i^2, previous = sum_{i<2} x_i^2
    t, p = np.sum(V[:3] ** 2), np.sum(V[:2] ** 2)
    expected = [2 * V[0] * (p + t), 2 * V[1] * (p + t), 2 * V[2] * p, 0.0]
    assert np.allclose(s2sad.grad(in_place_on_a_number_alias)(V), expected)


def write_through_an_alias(x):
    y = x * 1.0
    z = y
    y[0] = 0.0  # z[0] is zero too
    return np.sum(z * x)


def write_through_a_view(x):
    y = x * 1.0
    v = y[1:]
    v[0] = 0.0  # y[1] is zero too
    return np.sum(y * x)


@pytest.mark.parametrize(
    "function, expected, line",
    [
        (write_through_an_alias, [0.0, *(2.0 * V[1:])], "y[0] = 0.0  # z[0] is zero too"),
        (
            write_through_a_view,
            [2 * V[0], 0.0, 2 * V[2], 2 * V[3]],
            "v[0] = 0.0  # y[1] is zero too",
        ),
    ],
)
def test_writes_are_seen_through_aliases_and_views(function, expected, line):
    try:
        g = s2sad.grad(function)(V)
    except s2sad.UnsupportedSyntaxError as error:  # refusing is honest too
        assert "shares memory" in assert_located(error, line_of(line))
    else:
        assert np.allclose(g, expected)


def swap_rows(a):
    m = a * 1.0
    m[0], m[1] = m[1], m[0]  # NumPy gotcha: m[0] is a view, so both rows end up as a[1]
    return np.sum(m * np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_tuple_swap_of_rows_follows_numpy_view_semantics():
    try:
        error = check_grad(swap_rows, np.array([[1.0, 2.0], [3.0, 5.0]]))
    except s2sad.UnsupportedSyntaxError as refusal:  # refusing is honest too
        line = line_of(
            "m[0], m[1] = m[1], m[0]  # NumPy gotcha: m[0] is a view, so both rows end up as a[1]"
        )
        assert "writing into m, which shares memory" in assert_located(refusal, line)
    else:
        assert error < 1e-6


def swap_entries(v):
    w = v * 1.0
    w[0], w[1] = w[1], w[0]  # entries of a vector are numbers: a real swap
    return np.sum(w * np.array([1.0, 2.0, 3.0, 4.0]))


def test_tuple_swap_of_vector_entries_is_differentiated():
    assert np.allclose(s2sad.grad(swap_entries)(V), [2.0, 1.0, 3.0, 4.0])


def write_into_a_list_slot(x):
    parts = [x * 1.0, x * 2.0]
    parts[0] = parts[1]  # replaces a slot; writes into no array
    parts.append(x * 3.0)
    return np.sum(parts[0] * parts[2])


def test_replacing_list_slots_is_not_a_write_through_an_alias():
    assert np.allclose(s2sad.grad(write_into_a_list_slot)(V), 12.0 * V)


def scale_the_swapped_row(a):
    rows = a * 1.0
    for row in rows:
        scale = np.tanh(row)
    row, scale = scale, row  # row is now tanh's new array, scale a view of rows
    row *= a[1]  # writes into tanh's array only
    return np.sum(row) + np.sum(scale * rows)


def test_in_place_update_of_a_swapped_pairs_new_array_is_differentiated():
    a = np.array([[0.3, -0.2], [0.5, 0.7], [-0.4, 0.1]])
    assert check_grad(scale_the_swapped_row, a) < 1e-6


def scale_the_swapped_view(x):
    y = x * 1.0
    view, other = y[1:], x * 2.0
    view, other = other, view  # other is now the view of y
    other *= 3.0  # so this writes into y
    return np.sum(y * x) + np.sum(view)


def test_in_place_update_through_a_swapped_view_is_still_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="shares memory with y"):
        s2sad.grad(scale_the_swapped_view)(V)


def shift_the_largest(x, big):
    top = np.max(x, axis=(0, 1))  # a number: every axis reduced
    shifted = top if big else x[0, 0]
    shifted -= 1.0  # a number, however it was reached: rebinds, writes into nothing
    return np.sum(x) * shifted + top


def test_in_place_update_of_a_reduction_over_an_axis_tuple_is_a_rebinding():
    x = np.array([[0.2, 0.9], [0.4, -0.3]])
    expected = np.full((2, 2), 0.9 - 1.0)  # d sum(x) * (top - 1); top = x[0, 1] gets more:
    expected[0, 1] += np.sum(x) + 1.0
    assert np.allclose(s2sad.grad(shift_the_largest)(x, True), expected)


def tuple_element_moved_in_a_loop(x):
    y = x * 1.0
    t = (x * 4.0, x * 5.0)
    for i in range(3):
        u = t[0]
        u += 1.0  # on the third pass u is y: NumPy changes y
        if i == 0:
            p = x * 2.0
        else:
            p = q  # noqa: F821 - q is set at the end of the first pass
        t = (p, y)
        q = y  # noqa: F841
        p = x * 3.0
        u = x * 6.0
    return np.sum(y * y) + np.sum(t[0] * x)


def returns_its_argument(a, b):
    return a, b


def view_of(a):
    return a[1:]


def fresh(a):
    return a * 2.0


def write_into_a_returned_argument(x):
    y, z = x * 1.0, x * 2.0
    u, v = returns_its_argument(y, z)
    u *= 3.0  # u is y
    return np.sum(y * x) + np.sum(v)


def write_into_a_returned_view(x):
    y = x * 1.0
    v = view_of(y)
    v *= 3.0  # v is a view of y
    return np.sum(y * x)


def write_into_a_list_of_a_tuple(x):
    y, z = x * 1.0, x * 2.0
    v = list((z, y))[1]
    v *= 3.0  # v is y
    return np.sum(y * x)


def update_a_repeated_list_element(x):
    y = x * 1.0
    parts = [y, y]
    parts[0] += 1.0  # parts[1] is the same array
    return np.sum(parts[1] * x)


def exp_into_itself(x):
    y = x * 1.0
    np.exp(y, y)  # a ufunc's output given by position
    return np.sum(y)


def write_into_a_repeated_list(x):
    y = x * 1.0
    z = ([y] * 2)[0]
    z[0] = 5.0
    return np.sum(y * x)


def write_into_the_larger(x):
    a, b = x * 1.0, x * 2.0
    m = max([a, b], key=np.sum)
    m[0] = 0.0
    return np.sum(a * x) + np.sum(b)


def update_a_slot_after_copying_it(x):
    parts = [x * 1.0, x * 2.0]
    parts[1] = parts[0]  # both slots now hold one array
    parts[0] += x
    return np.sum(parts[1] * x)


def update_a_slot_of_a_repeated_list(x):
    parts = [x * 1.0] * 2
    parts[0] *= 3.0
    return np.sum(parts[1] * x)


def write_into_the_default(x):
    a = x * 1.0
    m = max([], key=np.sum, default=a)
    m *= 3.0
    return np.sum(a * x)


@pytest.mark.parametrize(
    "function",
    [
        tuple_element_moved_in_a_loop,
        write_into_a_returned_argument,
        write_into_a_returned_view,
        write_into_a_list_of_a_tuple,
        update_a_repeated_list_element,
        exp_into_itself,
        write_into_a_repeated_list,
        write_into_the_larger,
        update_a_slot_after_copying_it,
        update_a_slot_of_a_repeated_list,
        write_into_the_default,
    ],
)
def test_writes_through_what_a_call_or_a_loop_hands_back_are_refused(function):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="in place|shares memory with"):
        s2sad.grad(function)(V)


def identity(a):
    return a


def make_applier(function):
    def apply(a):
        return function(a)

    return apply


apply_sin, apply_identity = make_applier(np.sin), make_applier(identity)


class Holder:
    def get(self, a):
        return a


HOLDER = Holder()
OFFSET = np.array([1.0, 2.0, 3.0, 4.0])


def offset(a):
    return OFFSET


def write_after_a_factory_made_helper(x):
    y = x * 1.0
    r = apply_identity(y)  # the same `def` as apply_sin, which returns a new array
    r *= 3.0
    return np.sum(y * x)


def write_after_a_method_call(x):
    y = x * 1.0
    r = HOLDER.get(y)  # not differentiated, and it hands y back
    r *= 3.0
    return np.sum(y * x)


def write_after_a_partial(x):
    y = x * 1.0
    r = functools.partial(identity)(y)
    r *= 3.0
    return np.sum(y * x)


def write_into_a_flipped_view(x):
    y = x * 1.0
    r = np.flip(y)
    r *= 3.0
    return np.sum(y * x)


def write_into_an_out_argument(x):
    y = x * 1.0
    r = np.multiply(y, 2.0, out=y)
    r += 1.0
    return np.sum(y * x)


def write_into_a_global_array(x):
    OFFSET[0] = x[0]
    return np.sum(OFFSET * x)


def write_into_a_global_array_a_helper_returns(x):
    r = offset(x)
    r *= x
    return np.sum(r * OFFSET)


def write_into_a_popped_element(x):
    y = x * 1.0
    parts = [y, x * 2.0]
    v = parts.pop(0)  # y itself
    v *= 3.0
    return np.sum(y * x)


def write_into_a_dict_value(x):
    y = x * 1.0
    named = {"y": y}
    v = list(named.values())[0]  # y itself
    v *= 3.0
    return np.sum(y * x)


def write_into_a_copied_lists_element(x):
    y = x * 1.0
    parts = [y]
    v = parts.copy()[0]  # a list's copy holds the same arrays
    v *= 3.0
    return np.sum(y * x)


@pytest.mark.parametrize(
    "function",
    [
        write_after_a_factory_made_helper,
        write_after_a_method_call,
        write_after_a_partial,
        write_into_a_flipped_view,
        write_into_an_out_argument,
        write_into_a_global_array,
        write_into_a_global_array_a_helper_returns,
        write_into_a_popped_element,
        write_into_a_dict_value,
        write_into_a_copied_lists_element,
    ],
)
def test_writes_into_memory_a_call_hands_back_or_a_global_are_refused(function):
    s2sad.grad(lambda x: np.sum(apply_sin(x)))(V)  # analyses apply_sin's `def` first
    with pytest.raises(
        s2sad.UnsupportedSyntaxError, match="shares memory with|global array|in place|handed back"
    ):
        s2sad.grad(function)(V)
    assert np.array_equal(OFFSET, [1.0, 2.0, 3.0, 4.0])


def update_one_of_two_dict_slots_holding_one_array(x):
    y = x * 2.0
    d = {"p": y, "q": y}
    d["p"] += 1.0  # d["q"] is the same array
    return np.sum(d["q"] * x)


def update_one_of_two_dict_slots_assigned_one_array(x):
    y = x * 2.0
    d = {}
    d["p"] = y
    d["q"] = y
    d["p"] += 1.0  # d["q"] is the same array
    return np.sum(d["q"] * x)


def update_a_slot_of_a_list_arguments_copy(lst, x):
    m = lst.copy()  # a new list holding the caller's arrays
    m[0] += x
    return np.sum(m[0] * lst[0])


def update_a_slot_of_a_dict_arguments_copy(params, x):
    p = params.copy()
    p["w"] += x
    return np.sum(p["w"] * params["w"])


def _copied(items):
    return items.copy()


def update_a_slot_of_a_list_a_helper_copied(lst, x):
    m = _copied(lst)
    m[0] += x
    return np.sum(m[0] * lst[0])


def _kept(a, buffer=np.zeros(4)):  # noqa: B008 - the hazard under test
    return buffer


def update_a_helpers_default_array(x):
    b = _kept(x)
    b += x  # the default array, kept between calls, grows
    return np.sum(b * x)


@pytest.mark.parametrize(
    "function, args",
    [
        (update_one_of_two_dict_slots_holding_one_array, (V,)),
        (update_one_of_two_dict_slots_assigned_one_array, (V,)),
        (update_a_slot_of_a_list_arguments_copy, ([V * 1.0, V * 2.0], V)),
        (update_a_slot_of_a_dict_arguments_copy, ({"w": V * 1.0}, V)),
        (update_a_slot_of_a_list_a_helper_copied, ([V * 1.0, V * 2.0], V)),
        (update_a_helpers_default_array, (V,)),
    ],
)
def test_writes_into_arrays_another_slot_a_copy_or_a_default_holds_are_refused(function, args):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="shares memory with|kept between calls"):
        s2sad.grad(function, wrt=len(args) - 1)(*args)
    assert np.array_equal(_kept.__defaults__[0], np.zeros(4))


def replace_a_slot_of_a_list_arguments_copy(lst, x):
    m = lst.copy()
    m[0] = m[0] + x  # a new array in the copy's slot: the caller's list is unchanged
    return np.sum(m[0] * lst[0] + m[1] * x)


def update_one_dict_slot_of_fresh_arrays(x):
    d = {"p": x * 2.0, "q": x * 3.0}
    d["r"] = d["q"] * 1.0
    d["p"] += 1.0
    return np.sum(d["p"] * d["q"] + d["r"])


def test_new_arrays_in_copied_lists_and_dicts_are_differentiated():
    assert check_grad(replace_a_slot_of_a_list_arguments_copy, [V * 1.0, V * 2.0], V) < 1e-6
    assert check_grad(update_one_dict_slot_of_fresh_arrays, V) < 1e-6


def fill_in_place(x):
    y = x * 1.0
    y.fill(2.0)
    return np.sum(y * y)


def sort_in_place(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(4.0))


def copy_into(x):
    y = x * 1.0
    np.copyto(y, x * 2.0)
    return np.sum(y * y)


def add_at_an_index(x):
    y = x * 1.0
    np.add.at(y, [0], x[1] * 2.0)
    return np.sum(y * y)


def update_a_list_element(x):
    y = x * 1.0
    parts = [y]
    parts[0] += 1.0  # NumPy adds into y itself
    return np.sum(y * y)


def conjugate_alias(x):
    y = x * 1.0
    v = y.conj()  # of a real array: y itself
    v *= 3.0
    return np.sum(y * y)


def double_in_place(a):
    a *= 2.0


def call_a_helper_that_writes(x):
    y = x * 1.0
    double_in_place(y)  # changes y
    return np.sum(y * y)


def nested_def_that_writes(x):
    y = x * 1.0

    def reset():
        y[0] = 5.0

    reset()
    return np.sum(y * y)


class Weights:
    def __init__(self):
        self.w = np.array([1.0, 2.0, 3.0, 4.0])


WEIGHTS = Weights()


def write_into_an_objects_array(x):
    w = WEIGHTS.w
    w[0] = x[1]
    return np.sum(WEIGHTS.w * x)


@pytest.mark.parametrize(
    "function",
    [
        fill_in_place,
        sort_in_place,
        copy_into,
        add_at_an_index,
        update_a_list_element,
        conjugate_alias,
        call_a_helper_that_writes,
        nested_def_that_writes,
        write_into_an_objects_array,
    ],
)
def test_changes_made_to_an_array_in_place_are_refused(function):
    with pytest.raises(
        s2sad.UnsupportedSyntaxError, match="in place|shares memory|writes into|global"
    ):
        s2sad.grad(function)(V)
    assert np.array_equal(WEIGHTS.w, [1.0, 2.0, 3.0, 4.0])


def rows_filled_then_appended(x):
    rows = []
    for i in range(4):
        r = np.zeros(4)  # a new array each pass: writing it changes no earlier row
        r[i] = x[i] * x[i]
        rows.append(r)
    return np.sum(np.stack(rows) * 2.0)


def parameters_updated_in_a_dict(x):
    params = {"w": x * 2.0, "b": x * 1.0}
    params["b"] += 1.0
    params["w"] *= 3.0
    return np.sum(params["w"] * params["b"])


def gradients_scaled_in_a_list(x):
    grads = [x * 1.0, x * 2.0]
    for i in range(2):
        grads[i] *= 0.5
    return np.sum(grads[0] * grads[1])


def filled_from_a_constructor(x):
    out = np.full(4, 0.0)
    for i in range(4):
        out[i] = x[i] * 2.0
    return np.sum(out**2)


@pytest.mark.parametrize(
    "function",
    [
        rows_filled_then_appended,
        parameters_updated_in_a_dict,
        gradients_scaled_in_a_list,
        filled_from_a_constructor,
    ],
)
def test_in_place_updates_of_arrays_nothing_else_holds_are_differentiated(function):
    assert check_grad(function, V) < 1e-6


LOG = []


def log_then_square(x):
    LOG.append(x[0])  # a global list: appending writes into no array
    return np.sum(x * x)


def test_appending_to_a_global_list_is_fine():
    assert np.allclose(s2sad.grad(log_then_square)(V), 2.0 * V)


def write_into_a_helpers_new_array(x):
    h = fresh(x)
    h += x * x  # fresh made a new array: nothing else sees the write
    return np.sum(h * x)


def test_writing_into_the_new_array_a_helper_returns_is_differentiated():
    assert np.allclose(s2sad.grad(write_into_a_helpers_new_array)(V), 4.0 * V + 3.0 * V * V)


def write_into_a_copy(x):
    y = x * 1.0
    c = y.copy()  # an array's copy is a new array
    c *= 3.0
    return np.sum(y * x) + np.sum(c)


def test_writing_into_an_arrays_copy_is_differentiated():
    assert np.allclose(s2sad.grad(write_into_a_copy)(V), 2.0 * V + 3.0)


# ===== in-place adjoints ==================================================================
def fill_then_sum(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] ** 2
    return np.sum(y)


def fill_then_mean(x):
    y = np.zeros(3)
    y[:] = x[:3] * 2.0
    return np.mean(y)


def test_writing_into_an_array_then_reducing_it():
    assert np.allclose(s2sad.grad(fill_then_sum)(V), [0.6, -1.0, 1.6, 0.0])
    assert np.allclose(s2sad.grad(fill_then_mean)(V), [2 / 3, 2 / 3, 2 / 3, 0.0])


def index_then_sum(x):
    t = x[0] * 2.0
    s = np.sum(x)
    return s + t


def test_an_element_read_before_a_full_reduction():
    assert np.allclose(s2sad.grad(index_then_sum)(V), [3.0, 1.0, 1.0, 1.0])


def write_reads_old_element(x):
    y = x * 1.0
    y[0] = y[1] * 2.0
    return np.sum(y * np.array([1.0, 2.0, 3.0, 4.0]))


def write_reads_its_own_slot(x):
    y = x * 1.0
    for i in range(3):
        y[i] = y[i + 1] * y[i]
    return np.sum(y)


def test_a_write_whose_value_reads_the_same_array():
    # y = [2 x1, x1, x2, x3] weighted by 1, 2, 3, 4
    assert np.allclose(s2sad.grad(write_reads_old_element)(V), [0.0, 4.0, 3.0, 4.0])
    assert check_grad(write_reads_old_element, V) < 1e-6
    assert check_grad(write_reads_its_own_slot, V) < 1e-6


def leaky_relu_in_place(x):
    y = x * 2.0
    mask = y < 0.0
    y[mask] = y[mask] * 0.1
    return np.sum(y**2 * np.arange(4.0))


def test_an_in_place_leaky_relu():
    y = 2.0 * V
    expected = 2.0 * np.where(y < 0.0, 0.01 * y, y) * np.arange(4.0) * 2.0
    assert np.allclose(s2sad.grad(leaky_relu_in_place)(V), expected)


def repeated_index_update(x, v):
    y = x * 1.0
    y[[0, 0, 2]] += v  # NumPy: y[0] is written twice and the last write wins
    return np.sum(y * np.array([1.0, 2.0, 3.0, 4.0]))


def test_an_update_through_repeated_indices_follows_numpy():
    gx, gv = s2sad.grad(repeated_index_update, wrt=(0, 1))(V, np.array([1.0, 2.0, 3.0]))
    assert np.allclose(gx, [1.0, 2.0, 3.0, 4.0]) and np.allclose(gv, [0.0, 1.0, 3.0])
    assert check_grad(repeated_index_update, V, np.array([1.0, 2.0, 3.0]), wrt=(0, 1)) < 1e-6


def accumulate_in_zero_d(x):
    total = np.zeros(())
    for i in range(3):
        total[...] = total + x[i] * x[i]
    return total


def test_accumulating_into_a_zero_dimensional_array():
    value, g = s2sad.value_and_grad(accumulate_in_zero_d)(V)
    assert value == pytest.approx(np.sum(V[:3] ** 2))
    assert np.allclose(g, [0.6, -1.0, 1.6, 0.0])


# ===== broadcasting and ranks ============================================================
def exp_times(x, y):
    return np.sum(np.exp(x) * y) + np.sum(x)


SHAPE_PAIRS = [
    ((1,), (3,)),
    ((1, 1), (3, 4)),
    ((3, 1), (1, 4)),
    ((1, 4), (3, 1)),
    ((1,), (1,)),
    ((2, 1, 3), (4, 1)),
    ((4, 1), (2, 1, 3)),
    ((3,), (2, 1)),
]


def ramp(shape, low, high):
    return np.linspace(low, high, int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
def test_broadcasting_with_dimensions_of_length_one(shapes):
    x, y = ramp(shapes[0], 0.1, 0.9), ramp(shapes[1], -0.5, 0.7)
    assert check_grad(exp_times, x, y, wrt=(0, 1)) < 1e-6


def test_one_function_called_with_every_kind_of_argument_in_turn():
    """One grad object, called in turn with numbers, vectors, rows, columns...: each kind
    gets a derivative of its own, and each must be right."""
    g = s2sad.grad(exp_times, wrt=(0, 1))
    for x, y in [
        (0.3, 0.7),
        (V, 0.7),
        (0.3, V),
        (np.ones(1) * 0.2, V),
        (M[:, :1], M[:1, :]),
        (V, W),
        (M, M[:, :1]),
        (0.3, 0.7),
        (np.float64(0.3), V),
        (3, W),
    ]:
        assert check_grad(exp_times, x, y, wrt=(0, 1), gradient=g) < 1e-6


def test_a_zero_dimensional_array_gets_a_zero_dimensional_gradient():
    x = np.array(0.4)
    assert check_grad(exp_times, x, M, wrt=(0, 1)) < 1e-6
    gx, gy = s2sad.grad(exp_times, wrt=(0, 1))(x, M)
    assert isinstance(gx, np.ndarray) and gx.shape == ()


def test_a_numpy_scalar_gets_a_gradient_of_its_type():
    gx = s2sad.grad(exp_times)(np.float32(0.4), W)
    assert type(gx) is np.float32
    assert gx == pytest.approx(np.exp(0.4) * np.sum(W) + 1.0, rel=1e-6)
    gx = s2sad.grad(exp_times)(np.float64(0.4), W)
    assert isinstance(gx, float) and gx == pytest.approx(np.exp(0.4) * np.sum(W) + 1.0)


def outer_and_new_axes(x, y):
    return (
        np.sum(x[:, None] * y[None, :])
        + np.sum(x[None, :] ** 2)
        + np.sum(y[..., 0:1] * x)
        + np.sum(x[:, None, None] * M)
    )


def test_new_axes_and_outer_products():
    assert check_grad(outer_and_new_axes, V, np.array([1.0, 2.0, 0.5]), wrt=(0, 1)) < 1e-6


def reductions_by_axis(x):
    a = np.sum(np.sum(x**2, axis=(0, -1), keepdims=True) * x)
    b = np.sum(np.mean(x, axis=-2) ** 2)
    c = np.sum(np.max(x, axis=(1, 2)) * np.array([1.0, 2.0]))
    d = x.sum(-1).mean(0).sum() + np.sum(x[..., 0] * x[..., -1]) + np.sum(x[0, ..., 1:] ** 2)
    return a + b + c + d


def test_negative_and_tuple_axes_keepdims_and_ellipsis():
    assert check_grad(reductions_by_axis, CUBE) < 1e-6


def tanh_product(a, b):
    return np.sum(np.tanh(a @ b))


@pytest.mark.parametrize(
    "shapes",
    [
        ((4,), (4, 3)),
        ((2, 3, 4), (4,)),
        ((4,), (2, 4, 3)),
        ((1, 3, 4), (2, 4, 2)),
        ((1, 4), (4, 1)),
    ],
    ids=str,
)
def test_matmul_between_ranks(shapes):
    a, b = ramp(shapes[0], 0.1, 0.9), ramp(shapes[1], -0.5, 0.7)
    assert check_grad(tanh_product, a, b, wrt=(0, 1)) < 1e-6


def sin_weighted(x):
    return np.sum(np.sin(x) * x)


def test_float32_and_integer_arrays():
    x = np.array([0.3, 0.5, -0.2], dtype=np.float32)
    g = s2sad.grad(sin_weighted)(x)
    assert g.dtype == np.float32
    x64 = x.astype(float)
    assert np.allclose(g, np.cos(x64) * x64 + np.sin(x64), rtol=1e-6)
    gi = s2sad.grad(exp_times, wrt=1)(np.arange(3), W[:3])
    assert gi.dtype == np.float64 and np.allclose(gi, np.exp(np.arange(3.0)))
    gi = s2sad.grad(exp_times)(np.arange(3), W[:3])
    assert gi.dtype == np.float64 and np.allclose(gi, np.exp(np.arange(3.0)) * W[:3] + 1.0)


def product_sum(a, b):
    return np.sum(a * b)


def slice_into_a_helper(x, w):
    h = x[1:]  # length 1 here: broadcast against w inside the helper
    return product_sum(h, w)


def column_into_a_helper(m):
    return product_sum(m[:, :1], m)  # a column, broadcast against m inside the helper


def test_a_slice_of_length_one_passed_to_a_helper_broadcasts_there():
    x, w = np.array([0.5, 2.0]), np.array([1.0, 2.0, 3.0])
    assert check_grad(slice_into_a_helper, x, w, wrt=(0, 1)) < 1e-6


def test_a_column_slice_passed_to_a_helper_broadcasts_there():
    assert check_grad(column_into_a_helper, M) < 1e-6


# ===== keyword and positional calls ======================================================
def keyword_only(x, *, scale=2.0, power=2):
    return np.sum(scale * x**power)


def test_keyword_calls_with_and_without_defaults():
    g = s2sad.grad(keyword_only, wrt="x")
    assert np.allclose(g(V), 4.0 * V)
    assert np.allclose(g(V, scale=3.0), 6.0 * V)
    assert np.allclose(g(V, power=3), 6.0 * V**2)
    assert np.allclose(g(x=V), 4.0 * V)
    assert g(0.5, scale=1.0) == pytest.approx(1.0)
    assert np.allclose(g(V), 4.0 * V)  # the first specialisation again
    assert s2sad.grad(keyword_only, wrt="scale")(V, scale=3.0) == pytest.approx(np.sum(V**2))


def positional_or_keyword(x, y):
    return np.sum(x * y**2)


def test_the_same_parameter_positional_then_by_keyword():
    g = s2sad.grad(positional_or_keyword, wrt="y")
    assert np.allclose(g(V, W), 2.0 * V * W)
    assert np.allclose(g(V, y=W), 2.0 * V * W)
    assert g(x=V, y=2.0) == pytest.approx(4.0 * np.sum(V))
    assert np.allclose(g(y=W, x=1.5), 3.0 * W)


# ===== control flow =======================================================================
def iterate_while(x, n):
    i = 0
    while i < n:
        x = x * 1.5 + np.sin(x)
        i += 1
    return np.sum(x * x)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_while_loops_that_run_zero_one_or_more_times(n):
    assert check_grad(iterate_while, V, n) < 1e-6


def while_with_and(x):
    n = 0
    while x < 10.0 and n < 20:
        x = x * 1.5 + 0.1
        n = n + 1
    return x


def while_with_chained_comparison(x):
    while 0.0 < x < 10.0:
        x = x * 1.5 + 0.1
    return x


@pytest.mark.parametrize("f", [while_with_and, while_with_chained_comparison])
def test_while_conditions_built_from_several_comparisons(f):
    # 0.5 -> 0.85 -> 1.375 -> ... -> 11.76: seven steps, each multiplying dx by 1.5
    assert s2sad.grad(f)(0.5) == pytest.approx(1.5**7)


def trip_count_from_shape(x):
    total = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[-1] - i):
            total = total + x[i, j] * x[i, -1 - j] * (i + 1)
    return total


def test_trip_counts_from_the_shape():
    assert check_grad(trip_count_from_shape, M) < 1e-6
    assert check_grad(trip_count_from_shape, M.T.copy()) < 1e-6


def break_in_the_last_iteration(x):
    for i in range(4):
        x = x * 1.1 + 0.1
        if i == 3:
            break
        x = np.sin(x)
    return np.sum(x * x)


def test_break_in_the_last_iteration():
    assert check_grad(break_in_the_last_iteration, V) < 1e-6


def early_return_nested(x, y):
    for i in range(5):
        if x > 0.0:
            if y > 2.0:
                return x * y * i
            y = y * 1.5
        else:
            x = x + 1.0
    return x + y


@pytest.mark.parametrize("x, y", [(0.5, 1.0), (-0.5, 1.0), (0.5, 3.0), (-2.5, 0.3)])
def test_early_return_inside_nested_ifs_inside_a_loop(x, y):
    assert check_grad(early_return_nested, x, y, wrt=(0, 1)) < 1e-6


def conditional_expression_in_loop(x):
    for i in range(4):
        x = x * 2.0 if i % 2 == 0 else np.sin(x) + (x if i > 2 else -x)
    return np.sum(x)


def test_conditional_expressions_in_a_loop_body():
    assert check_grad(conditional_expression_in_loop, V) < 1e-6


def power_series(x):
    total = 0.0
    for n in range(4):
        total = total + x**n / (n + 1.0)
    return np.sum(total)


def test_a_power_series_evaluated_at_zero():
    """d/dx (1 + x/2 + x^2/3 + x^3/4) = 1/2 at x = 0: no kink there."""
    assert s2sad.grad(power_series)(0.0) == pytest.approx(0.5)
    assert np.allclose(s2sad.grad(power_series)(np.array([0.0, 1.0])), [0.5, 0.5 + 2 / 3 + 0.75])


# ----- helpers ------------------------------------------------------------------------------
def looping_helper(v, k):
    for j in range(k):
        v = np.sin(v) + v
    return v


def calls_looping_helper_in_a_loop(x):
    for i in range(3):
        x = looping_helper(x, i) * 0.5
    return np.sum(x)


def test_a_helper_with_a_loop_called_in_a_loop():
    assert check_grad(calls_looping_helper_in_a_loop, V) < 1e-6
    assert check_grad(calls_looping_helper_in_a_loop, 0.4) < 1e-6


def squared_plus(a):
    return a * a + 0.1


def helper_result_read_later(x):
    for i in range(3):
        y = squared_plus(x)
        x = y * 0.5 + x * y
    return x


def product_and_sum(a, b):
    return a * b, a + b


def helper_tuple_in_loop(x, y):
    for i in range(3):
        x, y = product_and_sum(x, y)
        x = x * 0.5
    return np.sum(x * y)


@pytest.mark.parametrize(
    "f, args",
    [
        (helper_result_read_later, (0.4,)),
        (helper_tuple_in_loop, (0.2, 0.3)),
        (helper_tuple_in_loop, (V, 0.3)),
    ],
    ids=["one-result", "tuple-numbers", "tuple-array"],
)
def test_helper_results_kept_across_loop_iterations(f, args):
    assert check_grad(f, *args, wrt=tuple(range(len(args)))) < 1e-6


DEFAULT_WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0])


def weighted(x, w=DEFAULT_WEIGHTS):
    return np.sum(x * w)


def uses_default_array(x):
    return weighted(x) + weighted(x, w=x) + weighted(x, x * 2.0)


def test_helpers_with_an_array_default_argument():
    assert check_grad(uses_default_array, V) < 1e-6
    assert check_grad(weighted, V) < 1e-6
    assert np.allclose(s2sad.grad(weighted, wrt=1)(V), V)


def branching_tree(x, depth):
    if depth == 0:
        return np.sin(x)
    return branching_tree(x * 0.5, depth - 1) + branching_tree(x**2, depth - 1) * 0.5


def sums_tree(x):
    return np.sum(branching_tree(x, 3))


def test_recursion_that_branches():
    assert check_grad(sums_tree, V) < 1e-6
    assert check_grad(branching_tree, 0.4, 2) < 1e-6


# ----- nested functions -------------------------------------------------------------------
def nested_capturing_the_loop_variable(x):
    total = 0.0
    for i in range(3):

        def term(z):
            return z**2 * i

        total = total + term(x)
    return total


def test_a_nested_function_that_captures_the_loop_variable():
    assert s2sad.grad(nested_capturing_the_loop_variable)(0.7) == pytest.approx(2 * 0.7 * 3)


def nested_chosen_by_branch(x, smooth):
    if smooth:

        def act(z):
            return np.tanh(z)

    else:

        def act(z):
            return z * z

    return np.sum(act(x))


@pytest.mark.parametrize("smooth", [True, False])
def test_a_nested_function_defined_differently_in_two_branches(smooth):
    try:
        error = check_grad(nested_chosen_by_branch, V, smooth)
    except s2sad.UnsupportedSyntaxError as refusal:  # refusing is honest too
        lines = HERE.read_text().splitlines()
        start = line_of("def nested_chosen_by_branch(x, smooth):")
        second = [n for n in range(start, start + 12) if lines[n - 1].strip() == "def act(z):"][1]
        assert "named act twice" in assert_located(refusal, second)
    else:
        assert error < 1e-6


def nested_recursive(x):
    def power_tower(y, n):
        if n == 0:
            return y
        return power_tower(y * y, n - 1) + y

    return power_tower(x, 3)


def test_a_recursive_nested_function():
    assert check_grad(nested_recursive, 0.7) < 1e-6


# ===== containers ===========================================================================
def nested_containers(p):
    (a, b), c = p["ab"], p["c"]
    return np.sum(a * b) + c[0] * np.sum(c[1] ** 2)


def test_nested_tuples_lists_and_dicts_as_wrt():
    p = {"ab": (V, W), "c": [0.5, M]}
    assert check_grad(nested_containers, p) < 1e-6
    g = s2sad.grad(nested_containers)(p)
    assert isinstance(g["ab"], tuple) and isinstance(g["c"], list)
    assert np.allclose(g["ab"][0], W) and np.allclose(g["c"][1], 2 * 0.5 * M)


def dict_items_loop(params):
    total = 0.0
    for name, w in params.items():
        total = total + np.sum(w**2) * len(name)
    return total


def dict_values_loop(params):
    total = 0.0
    for w in params.values():
        total = total + np.sum(w**3)
    return total


def dict_keys_loop(params):
    total = 0.0
    for key in params:
        total = total + np.sum(params[key] ** 3)
    return total


@pytest.mark.parametrize("f", [dict_keys_loop, dict_values_loop, dict_items_loop])
def test_looping_over_a_dict_of_arrays(f):
    assert check_grad(f, {"w": V, "bias": M}) < 1e-6


def list_slot_from_another_slot(x):
    items = [x, 0.0]
    items[1] = items[0] * 3.0
    return items[1]


def dict_new_key(x):
    d = {"a": x}
    d["b"] = d["a"] * x
    return d["b"]


def memoised_powers(x):
    memo = {}
    total = 0.0
    for k in [1, 2, 1, 3]:
        if k not in memo:
            memo[k] = x**k
        total = total + memo[k]
    return total


def test_a_list_slot_written_from_another_slot():
    assert s2sad.grad(list_slot_from_another_slot)(0.7) == pytest.approx(3.0)


def test_a_dict_given_a_new_key():
    assert s2sad.grad(dict_new_key)(0.7) == pytest.approx(1.4)


def test_a_dict_used_as_a_memo():
    assert s2sad.grad(memoised_powers)(0.7) == pytest.approx(2.0 + 2 * 0.7 + 3 * 0.7**2)


def append_stack_index(x):
    rows = []
    for i in range(3):
        rows.append(x * (i + 1.0))
        rows.append(np.sin(rows[-1]))
    m = np.stack(rows, axis=-1)
    return np.sum(m[1] ** 2) * np.sum(m[:, 2]) + np.sum(m[..., 0] * rows[3])


def test_append_then_stack_then_index():
    assert check_grad(append_stack_index, V) < 1e-6


def recurrence_in_place(x):
    n = x.shape[0]
    y = np.zeros(n)
    y[0] = x[0]
    for i in range(1, n):
        y[i] = np.sin(y[i - 1]) * x[i] + y[i - 1]
    return np.sum(y**2)


def test_a_recurrence_written_into_an_array():
    assert check_grad(recurrence_in_place, V) < 1e-6


# ===== value_and_grad and vjp ==============================================================
@pytest.mark.parametrize(
    "f, args",
    [
        (swap_in_loop, (V, W)),
        (early_return_nested, (0.5, 1.0)),
        (recurrence_in_place, (V,)),
        (append_stack_index, (V,)),
        (write_reads_its_own_slot, (V,)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_value_and_grad_agrees_with_f_and_grad(f, args):
    value, gradient = s2sad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args))
    assert np.allclose(gradient, s2sad.grad(f)(*args))
    assert check_grad(f, *args) < 1e-6


def two_outputs(x, y):
    return x * y, np.sin(x) + y


def test_vjp_of_a_tuple_output_with_a_broadcast_number():
    seed = (np.array([1.0, 2.0, 0.5, -1.0]), np.array([3.0, -1.0, 0.5, 2.0]))
    gx, gy = s2sad.vjp(two_outputs, wrt=(0, 1))(V, 0.7, seed=seed)
    assert np.allclose(gx, seed[0] * 0.7 + seed[1] * np.cos(V))
    assert gy == pytest.approx(np.sum(seed[0] * V) + np.sum(seed[1]))


def overwrites_its_output(x):
    y = x * 1.0
    y[0] = y[1] * 2.0
    return y


def zeroes_its_first_output(x):
    y = x * 2.0
    y[0] = 0.0
    return y


def appended_outputs(x):
    out = []
    for i in range(3):
        out.append(x * i)
    return out


def test_vjp_of_an_output_that_overwrote_an_element():
    seed = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.allclose(s2sad.vjp(overwrites_its_output)(V, seed=seed), [0.0, 4.0, 3.0, 4.0])


def test_vjp_leaves_the_seed_alone():
    seed = np.array([1.0, 2.0, 3.0, 4.0])
    g = s2sad.vjp(zeroes_its_first_output)(V, seed=seed)
    assert np.array_equal(seed, [1.0, 2.0, 3.0, 4.0])
    assert np.allclose(g, [0.0, 4.0, 6.0, 8.0])


def test_vjp_leaves_a_list_seed_alone():
    seeds = [np.ones(4), 2.0 * np.ones(4), 3.0 * np.ones(4)]
    g = s2sad.vjp(appended_outputs)(V, seed=seeds)
    assert np.allclose(g, 0.0 * 1.0 + 1.0 * 2.0 + 2.0 * 3.0)
    assert len(seeds) == 3 and np.array_equal(seeds[2], 3.0 * np.ones(4))


# ===== API promises =========================================================================
def param_state(x, state):
    return np.sum(x * state)


def param_key(x, key):
    return np.sum(x * key)


def param_call(x, call):
    return np.sum(x * call)


def param_kind(x, kind):
    return np.sum(x * kind)


def param_type(x, type):
    return np.sum(x * type)


def param_calls(x, calls):
    return np.sum(x * calls)


def param_ndarray(x, ndarray):
    return np.sum(x * ndarray)


@pytest.mark.parametrize(
    "f",
    [param_state, param_key, param_call, param_kind, param_type, param_calls, param_ndarray],
    ids=lambda f: f.__name__,
)
def test_any_parameter_name_works(f):
    """``state``, ``key``... are ordinary parameter names (an RNN's state, a PRNG key)."""
    gx, gs = s2sad.grad(f, wrt=(0, 1))(V, 2.0)
    assert np.allclose(gx, 2.0) and gs == pytest.approx(np.sum(V))
    gx, gs = s2sad.grad(f, wrt=(0, 1))(V, W)
    assert np.allclose(gx, W) and np.allclose(gs, V)
    value, gx = s2sad.value_and_grad(f)(V, 2.0)
    assert value == pytest.approx(2.0 * np.sum(V)) and np.allclose(gx, 2.0)
    assert np.allclose(s2sad.vjp(f)(V, 2.0, seed=3.0), 6.0)


class Model:
    def __init__(self, w):
        self.w = w

    def predict(self, x):
        return np.tanh(x * self.w)

    def loss(self, x, target):
        error = self.predict(x) - target
        return np.sum(error**2)


def test_a_method_calling_another_method_of_its_object():
    model = Model(W)
    try:
        g = s2sad.grad(model.loss)(V, 0.5)
    except s2sad.UnsupportedSyntaxError as error:
        assert_located(error, line_of("error = self.predict(x) - target"))
    else:
        t = np.tanh(V * W)
        assert np.allclose(g, 2.0 * (t - 0.5) * (1.0 - t**2) * W)


def writes_and_reads(x, y):
    z = x * y
    z[0] = z[1] * z[2]
    for i in range(1, 3):
        z[i] = z[i - 1] + np.sin(y[i])
    return np.sum(z**2)


def test_arguments_are_never_modified_and_calls_repeat_exactly():
    x, y = V.copy(), W.copy()
    nested = {"ab": (V.copy(), W.copy()), "c": [0.5, M.copy()]}
    for make in (s2sad.grad, s2sad.value_and_grad):
        derivative = make(writes_and_reads, wrt=(0, 1))
        first = derivative(x, y)
        for _ in range(3):
            again = derivative(x, y)
            assert repr(again) == repr(first)
    s2sad.grad(nested_containers)(nested)
    s2sad.grad(recurrence_in_place)(x)
    s2sad.vjp(overwrites_its_output)(x, seed=np.ones(4))
    assert np.array_equal(x, V) and np.array_equal(y, W)
    assert np.array_equal(nested["ab"][0], V) and np.array_equal(nested["c"][1], M)
    assert check_grad(writes_and_reads, x, y, wrt=(0, 1)) < 1e-6


def uses_only_x(x, y, z):
    return np.sum(x**2)


def test_unused_parameters_get_zeros_of_their_own_kind():
    gx, gy, gz = s2sad.grad(uses_only_x, wrt=(0, 1, 2))(
        V, {"a": np.ones(2), "b": [1.0, np.ones((2, 2))]}, np.ones(3, dtype=np.float32)
    )
    assert np.allclose(gx, 2.0 * V)
    assert set(gy) == {"a", "b"} and np.array_equal(gy["a"], np.zeros(2))
    assert gy["b"][0] == 0.0 and np.array_equal(gy["b"][1], np.zeros((2, 2)))
    assert gz.dtype == np.float32 and gz.shape == (3,) and not gz.any()
    gy, gz = s2sad.grad(uses_only_x, wrt=(1, 2))(V, 2.0, (1.0, 2.0))
    assert gy == 0.0 and type(gy) is float and gz == (0.0, 0.0)


def integer_cast_by_name(x):
    return np.sum(x.astype("int64") * 1.0) + np.sum(x**2)


def integer_cast_like(x, counts):
    return np.sum(x.astype(counts.dtype) * 1.0) + np.sum(x**2)


def test_casts_to_integers_carry_no_gradient():
    x = np.array([1.3, 2.4])
    assert np.allclose(s2sad.grad(integer_cast_by_name)(x), 2.0 * x)
    assert np.allclose(s2sad.grad(integer_cast_like)(x, np.array([1, 2])), 2.0 * x)


def square(z):
    return z * z


def cube(z):
    return z * z * z


ACTIVATION = square


def uses_module_activation(x):
    return ACTIVATION(x) + np.tanh(x)


def test_rebinding_a_global_helper_changes_the_gradient(monkeypatch):
    grad = s2sad.grad(uses_module_activation)
    assert grad(2.0) == pytest.approx(4.0 + 1.0 - np.tanh(2.0) ** 2)
    monkeypatch.setitem(globals(), "ACTIVATION", cube)
    assert uses_module_activation(2.0) == pytest.approx(8.0 + np.tanh(2.0))
    assert grad(2.0) == pytest.approx(12.0 + 1.0 - np.tanh(2.0) ** 2)


def set_display(x):
    values = {x, 2.0}
    return sum(values)


def test_a_set_display_is_differentiated_or_refused():
    try:
        g = s2sad.grad(set_display)(0.5)
    except s2sad.UnsupportedSyntaxError as error:
        assert_located(error, line_of("values = {x, 2.0}"))
    else:
        assert g == pytest.approx(1.0)


# ===== errors ===============================================================================
def helper_with_try(z):
    try:  # refused, inside the helper
        return z * 2.0
    finally:
        pass


def calls_helper_with_try(x):
    y = x + 1.0
    return helper_with_try(y) * 3.0


def nested_comprehension(x):
    def inner(z):
        return sorted({z * k for k in range(2)})[0]

    return inner(x)


def starred_target(x):
    a, *rest = [x, x, x]
    return a * len(rest)


def walrus(x):
    if (y := x * 2.0) > 0:
        return y
    return x


def attribute_store(x):
    box = Box()
    box.v = x * 2.0
    return box.v * x


class Box:
    pass


def max_of_three(x, y, z):
    return max(x, y, z, key=abs) * 2.0


@pytest.mark.parametrize(
    "f, line, construct",
    [
        (calls_helper_with_try, "try:  # refused, inside the helper", "`try`"),
        (nested_comprehension, "return sorted({z * k for k in range(2)})[0]", "set comprehension"),
        (starred_target, "a, *rest = [x, x, x]", "starred"),
        (walrus, "if (y := x * 2.0) > 0:", ":="),
        (attribute_store, "box.v = x * 2.0", "attribute"),
        (max_of_three, "return max(x, y, z, key=abs) * 2.0", "max"),
    ],
    ids=lambda v: getattr(v, "__name__", None) or "",
)
def test_unsupported_code_is_refused_at_its_own_line(f, line, construct):
    args = (0.5,) * f.__code__.co_argcount
    with pytest.raises(s2sad.UnsupportedSyntaxError) as caught:
        s2sad.grad(f)(*args)
    rest = assert_located(caught.value, line_of(line))
    assert construct in rest


def print_and_assert(x):
    y = x * 2.0
    print("y is", y)
    assert y > 0.0, "positive"
    label = f"{y:.2f}"
    return y * y * len(label)


def test_side_effects_and_strings_do_not_disturb_the_gradient(capsys):
    assert s2sad.grad(print_and_assert)(0.5) == pytest.approx(8.0 * 0.5 * 4)
    assert "y is 1.0" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="positive"):
        s2sad.grad(print_and_assert)(-0.5)


def math_of_elements(x):
    return math.sin(x[0]) * math.exp(x[1]) + float(np.sum(x)) * 2.0


def test_math_functions_on_array_elements():
    assert check_grad(math_of_elements, V) < 1e-6


def inner_activation(z):
    return ACTIVATION(z) * 2.0


def uses_a_helper_that_uses_the_activation(x):
    return inner_activation(x) + x


def test_rebinding_a_global_used_by_a_helper_rebuilds_the_caller(monkeypatch):
    grad = s2sad.grad(uses_a_helper_that_uses_the_activation)
    assert grad(2.0) == pytest.approx(2.0 * 4.0 + 1.0)
    monkeypatch.setitem(globals(), "ACTIVATION", cube)
    assert grad(2.0) == pytest.approx(2.0 * 12.0 + 1.0)
    assert "z * z * z" in s2sad.source(uses_a_helper_that_uses_the_activation)


# ----- the adjoint sweep puts overwritten rows back: reads of their views stay in order --
def row_view_read_then_row_restored(x):
    y = np.zeros((2, 2))
    y[0] = x
    y[1] = y[0] * x
    y[1] *= x  # reads the row y[1] (a view) the adjoint restores twice
    return np.sum(y)


def row_updated_from_another_row(w):
    y = np.zeros((2, 2))
    y[0] = np.sin(y[0]) + w
    y[1] -= w * y[0]
    return np.sum(y * y)


def row_of_an_array_of_unknown_shape(x):
    a = np.eye(2)  # restored by a runtime call, not `a[1] = tape.pop()`
    a[1] = a[1] * x + 1.0
    return np.sum(a * x)


def row_of_a_product_of_list_items(p):
    w, b = p
    h = w @ b
    h[0] = h[0] * 2.0
    return np.sum(h * b)


@pytest.mark.parametrize("optimize", [True, False])
def test_reads_of_a_view_stay_before_the_adjoint_restores_its_array(optimize):
    x = np.array([0.3, -0.2])
    items = [np.array([[1.0, 0.5], [0.3, -0.2]]), np.array([0.3, -0.4])]
    for function, args in [
        (row_view_read_then_row_restored, (x,)),
        (row_updated_from_another_row, (0.7,)),
        (row_of_an_array_of_unknown_shape, (x,)),
        (row_of_a_product_of_list_items, (items,)),
    ]:
        gradient = s2sad.grad(function, optimize=optimize)
        assert check_grad(function, *args, gradient=gradient) < 1e-6, function.__name__


def row_written_through_a_transpose_then_rebound(x):
    m = np.ones((2, 2))
    m[1] = m.T[0] * x  # the adjoint reads m.T[0], a view of this m
    m = m * 1.0  # a new m: the old one must still be put back
    return np.sum(m * m)


def slice_written_through_an_alias_then_rebound(x):
    y = np.ones(3)
    z = y
    y[1:] = z[:2] * x
    y = y * 1.0
    return np.sum(y * y)


@pytest.mark.parametrize(
    "function",
    [row_written_through_a_transpose_then_rebound, slice_written_through_an_alias_then_rebound],
)
def test_the_adjoint_restores_the_array_written_not_the_name_rebound_since(function):
    assert check_grad(function, np.array([0.3, -0.4])) < 1e-6


def element_read_and_product(w, x):
    return w[2] * 3.0 + np.sum(w * x)  # dw starts as x: add_at must not update x


def flipped_product(w, x):
    return np.sum(np.flip(w) * x)  # dw is a view of x until it is returned


def test_the_gradient_is_never_the_callers_array():
    x = np.array([1.0, 2.0, 3.0])
    grad = s2sad.grad(element_read_and_product)
    assert np.array_equal(grad(np.array([4.0, 5.0, 6.0]), x), [1.0, 2.0, 6.0])
    assert np.array_equal(grad(np.array([4.0, 5.0, 6.0]), x), [1.0, 2.0, 6.0])
    assert np.array_equal(x, [1.0, 2.0, 3.0])
    g = s2sad.grad(flipped_product)(np.ones(3), x)
    g *= 0.0
    assert np.array_equal(x, [1.0, 2.0, 3.0])


def replace_a_slot_of_the_callers_list(lst, x):
    lst[0] = x * 2.0  # Python changes the caller's list
    return np.sum(lst[0] * lst[1])


def replace_a_slot_of_the_callers_dict_by_another_name(d, x):
    e = d
    e["a"] = x * 2.0
    return np.sum(e["a"])


def grow_the_callers_list(lst, x):
    lst += [x]
    return np.sum(lst[-1])


def _extend(items, v):
    items += [v]
    return v


def grow_a_list_through_a_helper(x, y):
    items = [x]
    _extend(items, y)
    return items[-1] * x


def write_into_an_array_of_a_dict_copy(x):
    a = x * 1.0
    e = dict({"a": a})
    h = e["a"]
    h[0] = h[0] * 2.0  # h is a
    return np.sum(a * h)


@pytest.mark.parametrize(
    "function, args",
    [
        (replace_a_slot_of_the_callers_list, ([1.0, 2.0], 3.0)),
        (replace_a_slot_of_the_callers_dict_by_another_name, ({"a": 1.0}, 3.0)),
        (grow_the_callers_list, ([1.0], 3.0)),
        (grow_a_list_through_a_helper, (0.7, 0.3)),
        (write_into_an_array_of_a_dict_copy, (np.array([0.3, -0.4]),)),
    ],
)
def test_changes_to_the_callers_containers_or_shared_arrays_are_refused(function, args):
    before = repr(args)
    with pytest.raises(s2sad.UnsupportedSyntaxError):
        s2sad.grad(function, wrt=len(args) - 1)(*args)
    assert repr(args) == before


def replace_a_slot_through_another_name(x, y):
    a = [x, y]
    b = a
    b[1] = x * 5.0  # a[1] too
    return sum(a)


def replace_a_slot_of_an_item(x, y):
    a = [x, y]
    c = [a]
    c[0][1] = x * 5.0  # c[0] is a
    return sum(a)


def grow_an_item_of_a_list(x, y):
    a = [x, y]
    c = [a]
    b = c[0]
    b += [x * y]  # b is a
    return sum(a)


def change_the_callers_list_through_an_item(lst, x):
    c = [lst]
    c[0][0] = x * 2.0  # c[0] is the caller's list
    return sum(lst) * x


@pytest.mark.parametrize(
    "function, args",
    [
        (replace_a_slot_through_another_name, (0.7, -0.3)),
        (replace_a_slot_of_an_item, (0.7, -0.3)),
        (grow_an_item_of_a_list, (0.7, -0.3)),
        (change_the_callers_list_through_an_item, ([0.5, 0.2], 0.7)),
    ],
)
def test_changing_a_list_another_name_is_or_holds_is_refused(function, args):
    before = repr(args)
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="may be or hold|may hold|caller"):
        s2sad.grad(function, wrt=len(args) - 1)(*args)
    assert repr(args) == before


def fill_through_the_class(x):
    y = x * 1.0
    np.ndarray.fill(y, 1.0)  # y.fill(1.0), spelt through the class
    return np.sum(y * x)


def test_array_mutators_called_through_the_class_are_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="changes y in place"):
        s2sad.grad(fill_through_the_class)(V)


def sum_into_an_out_by_position(x, o):
    s = np.sum(x, 0, None, o)  # NumPy's fourth positional parameter is out
    return s * o


def cumsum_into_an_out_by_position(x, y):
    np.cumsum(x, 0, None, y)
    return np.sum(x * y)


def sum_method_into_an_out_by_position(x, o):
    m = np.outer(x, x)
    m.sum(0, None, o)  # the method's third positional parameter is out; nothing is bound
    return np.sum(o * x)


def max_method_into_an_out_by_position(x, o):
    m = np.outer(x, x)
    s = m.max(0, o)
    return np.sum(s * o * x)


@pytest.mark.parametrize(
    "function, args",
    [
        (sum_into_an_out_by_position, (V, np.array(0.5))),
        (cumsum_into_an_out_by_position, (V, np.zeros(4))),
        (sum_method_into_an_out_by_position, (V, np.zeros(4))),
        (max_method_into_an_out_by_position, (V, np.zeros(4))),
    ],
)
def test_out_passed_by_position_is_refused(function, args):
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="in place"):
        s2sad.grad(function)(*args)


def _first(items):
    return items[0]


def replace_a_slot_of_an_item_a_helper_hands_back(x, y):
    b = [y * 2.0, x]
    e = _first([b, b])  # b itself
    e[-1] = y
    return sum(b) * b[-1]


def test_a_helper_may_hand_back_an_item_of_its_argument():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="slot of e, a list or dict b may"):
        s2sad.grad(replace_a_slot_of_an_item_a_helper_hands_back)(0.7, 0.3)


def write_into_the_matrix_diag_makes(x):
    d = np.diag(x * 1.0)  # a new matrix: x's copy is not viewed
    d[0, 1] = 3.0
    return np.sum(d * d) + np.sum(x)


def test_writing_into_np_diag_of_a_vector_is_differentiated():
    assert check_grad(write_into_the_matrix_diag_makes, V) < 1e-6


def append_through_a_second_name(x, a):
    items = [x, a]
    same = items
    same.append(a * 5.0)
    return sum(items)


def test_appending_through_a_second_name_names_the_list_not_an_argument():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match="shares memory with items") as caught:
        s2sad.grad(append_through_a_second_name, wrt=(0, 1))(0.3, 0.37)
    assert "argument" not in str(caught.value)
