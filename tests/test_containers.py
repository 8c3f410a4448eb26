"""End to end: tuples, lists, dicts, subscripts (reads and writes), array methods and
attributes, checked against central finite differences."""

import numpy as np
import pytest

import s2sad
from s2sad import check_grad

R = np.random.default_rng(11)
VEC = R.uniform(0.5, 1.5, size=6)
MAT = R.uniform(0.5, 1.5, size=(4, 5))
CUBE = R.uniform(0.5, 1.5, size=(2, 3, 4))


# ----- tuples, lists, dicts ----------------------------------------------------------
def tuple_build_and_unpack(x, y):
    pair = (x * y, x + y)
    a, b = pair
    c, d = b, a
    return c * d + pair[0] * 2.0


def list_index_with_variable(x, y):
    items = [x, y * 2.0, x * y]
    total = 0.0
    for i in range(3):
        total = total + items[i] * (i + 1.0)
    return total + items[-1]


def dict_of_values(x, y):
    params = {"scale": x, "shift": y * y}
    return params["scale"] * 3.0 + params["shift"]


@pytest.mark.parametrize("f", [tuple_build_and_unpack, list_index_with_variable, dict_of_values])
def test_containers_of_scalars(f):
    assert check_grad(f, 0.7, 1.3, wrt=(0, 1)) < 1e-6


def list_append_in_loop(x):
    values = []
    for i in range(4):
        values.append(x * (i + 1.0))
    total = 0.0
    for v in values:
        total = total + v * v
    return total


def test_list_append_in_a_loop():
    assert check_grad(list_append_in_loop, 0.9) < 1e-6


def recurrence_through_a_list(x):
    history = [x]
    for i in range(5):
        history.append(history[-1] * 0.5 + np.sin(history[i]))
    return history[-1] + history[2]


def test_list_read_while_it_grows():
    assert check_grad(recurrence_through_a_list, 0.8) < 1e-6


def stack_a_list(x):
    rows = []
    for i in range(3):
        rows.append(x * (i + 1.0))
    stacked = np.stack(rows)
    return np.sum(stacked**2)


def array_from_list(x, y):
    v = np.array([x, y, x * y])
    return np.sum(v**2 * np.array([1.0, 2.0, 3.0]))


def test_stack_and_array_of_a_list():
    assert check_grad(stack_a_list, VEC) < 1e-6
    assert check_grad(array_from_list, 0.5, 1.5, wrt=(0, 1)) < 1e-6


def sum_of_a_list(weights):
    return sum(weights) * 2.0 + weights[0] * weights[1]


def test_gradient_with_respect_to_a_list_and_a_tuple():
    grad = s2sad.grad(sum_of_a_list)([1.0, 2.0, 3.0])
    assert isinstance(grad, list) and grad == pytest.approx([4.0, 3.0, 2.0])
    grad = s2sad.grad(sum_of_a_list)((1.0, 2.0, 3.0))
    assert isinstance(grad, tuple) and grad == pytest.approx((4.0, 3.0, 2.0))
    assert check_grad(sum_of_a_list, [1.0, 2.0, 3.0]) < 1e-6


# ----- lists and tuples joined with + and repeated with * --------------------------------
def joined_displays(x, y):
    lst = [x * 1.0, y] + [x * 2.0]
    t = (y,) + (x * y, x)
    return np.sum(lst[2] * lst[1] + t[1] * lst[0]) + np.sum(t[0] * t[2])


def repeated_displays(x, y):
    lst = [x, y * 2.0] * 3
    t = 2 * (x * y,)
    return np.sum(lst[0] * lst[5] + lst[4] * t[1]) + np.sum(t[0])


def grown_in_a_loop(x, y):
    acc = []
    for i in range(4):
        acc += [x * (i + 1.0)]
        acc = acc + [y]
    return np.sum(acc[2] * acc[7] + acc[-2] * acc[0])


def _joined(a, b):
    return a + b


def joined_by_a_helper(x, y):
    lst = _joined([x, y], [x * y])
    return np.sum(lst[0] * lst[2] + lst[1])


def sliced_then_joined(x, y):
    lst = [x, y, x * y][1:] + [x]
    return np.sum(lst[0] * lst[1] * lst[2])


@pytest.mark.parametrize(
    "f",
    [joined_displays, repeated_displays, grown_in_a_loop, joined_by_a_helper, sliced_then_joined],
)
@pytest.mark.parametrize("kind", ["numbers", "arrays"])
def test_lists_and_tuples_joined_and_repeated(f, kind):
    x, y = (0.7, 1.3) if kind == "numbers" else (VEC[:3], VEC[3:])
    assert check_grad(f, x, y, wrt=(0, 1)) < 1e-6


def copied_by_list_and_dict(lst, params, x):
    m = list(lst)
    m[0] = m[0] + x
    p = dict(params)
    p["w"] = p["w"] * x
    t = tuple(m)
    return np.sum(t[0] * lst[0] + m[1] + p["w"] * params["w"])


def rows_of_an_array(a):
    r = list(a)
    return np.sum(r[0] * r[1]) + np.sum(r[2])


def test_list_tuple_and_dict_of_containers_and_arrays():
    args = ([VEC[:3] * 1.0, VEC[3:] * 2.0], {"w": VEC[:3] * 3.0}, VEC[3:])
    assert check_grad(copied_by_list_and_dict, *args, wrt=(0, 1, 2)) < 1e-6
    assert check_grad(rows_of_an_array, MAT[:3, :2]) < 1e-6


def join_parameters(xs, ys):
    zs = xs + ys
    return zs[0] * zs[2] + zs[1] * zs[1]


def test_lists_passed_in_and_joined():
    grad = s2sad.grad(join_parameters, wrt=(0, 1))((1.5, 2.0), (3.0,))
    assert grad == ((3.0, 4.0), (1.5,))
    assert check_grad(join_parameters, [1.5, 2.0], [3.0]) < 1e-6


def join_values_of_unknown_kind(pairs, x):
    joined = pairs[0] + pairs[1]
    return joined[0] * x + joined[1]


def join_items_again(pairs):
    joined = pairs[0] + pairs[1]
    joined = joined + pairs[0]
    running = pairs[0]
    for k in range(1, 3):
        running = running + pairs[k]
    return joined[0] * joined[4] + running[3] * running[4]


def test_items_of_a_list_argument_joined_again_and_in_a_loop():
    pairs = [[0.3, 0.5], [1.1, -0.2], [0.7, 0.9]]
    for optimize in (True, False):
        gradient = s2sad.grad(join_items_again, optimize=optimize)(pairs)
        assert gradient == [[0.6, 0.0], [0.0, 0.7], [-0.2, 0.0]]


def test_items_of_a_list_argument_are_joined_when_they_are_lists():
    grad = s2sad.grad(join_values_of_unknown_kind, wrt=(0, 1))
    assert grad([[1.0], [2.0]], 3.0) == ([[3.0], [1.0]], 1.0)
    pairs = [np.array([1.0, 2.0]), np.array([0.5, 4.0])]  # arrays: added
    assert check_grad(join_values_of_unknown_kind, pairs, 3.0, wrt=(0, 1)) < 1e-6
    assert check_grad(join_values_of_unknown_kind, ((1.5,), (2.5, 0.5)), 3.0, wrt=(0, 1)) < 1e-6


def loop_over_list_of_arrays(layers, x):
    for w in layers:
        x = np.tanh(w @ x)
    return np.sum(x)


def test_loop_over_a_list_of_weight_matrices():
    layers = [R.normal(size=(3, 3)) * 0.5 for _ in range(3)]
    assert check_grad(loop_over_list_of_arrays, layers, R.normal(size=3)) < 1e-6


def dict_parameter(params, x):
    return np.sum(np.tanh(params["w"] @ x + params["b"]))


def test_gradient_with_respect_to_a_dict():
    params = {"w": R.normal(size=(2, 3)), "b": R.normal(size=2)}
    grad = s2sad.grad(dict_parameter)(params, R.normal(size=3))
    assert set(grad) == {"w", "b"} and grad["w"].shape == (2, 3)
    assert check_grad(dict_parameter, params, R.normal(size=3)) < 1e-6


def dict_of_keywords(w, b):
    params = dict(w=w * 1.0, b=b)  # the same dict as {"w": w * 1.0, "b": b}
    params["w"] = params["w"] * 3.0
    return np.sum(np.tanh(params["w"] * params["b"]))


def test_a_dict_made_from_keywords():
    assert check_grad(dict_of_keywords, R.normal(size=3), 0.7, wrt=(0, 1)) < 1e-6
    assert "params = {'w': w * 1.0, 'b': b}" in s2sad.source(dict_of_keywords)


def largest_and_smallest(xs):
    return max(xs) * 3.0 + min([v * 2.0 for v in xs])


def test_max_and_min_of_a_list_go_to_the_extreme_item():
    assert s2sad.grad(largest_and_smallest)([0.5, 2.0, -1.0]) == [0.0, 3.0, 2.0]
    assert s2sad.grad(largest_and_smallest)([2.0, 2.0, 1.0]) == [1.5, 1.5, 2.0]  # a tie shares
    assert check_grad(largest_and_smallest, np.array([0.5, 2.0, -1.0])) < 1e-6


def extremes_of_several_arguments(x, y, z):
    return max(x, y * 2.0, z) * 3.0 + min(x, y, z * 0.5)


def test_max_and_min_of_several_arguments():
    assert s2sad.grad(extremes_of_several_arguments, wrt=(0, 1, 2))(0.3, 0.4, 1.0) == (
        1.0,
        0.0,
        3.0,
    )
    assert check_grad(extremes_of_several_arguments, 0.3, 0.7, 1.0, wrt=(0, 1, 2)) < 1e-6


def second_smallest(xs, scale):
    ordered = sorted([v * scale for v in xs])
    return ordered[1] * 2.0 + sorted(xs, reverse=True)[0]


def test_sorted_gives_each_item_the_gradient_of_its_place():
    dxs, dscale = s2sad.grad(second_smallest, wrt=(0, 1))([3.0, 1.0, 2.0], 1.5)
    assert dxs == [1.0, 0.0, 3.0] and dscale == 4.0  # 2.0 is second; 3.0 comes first reversed
    assert check_grad(second_smallest, np.array([3.0, 1.0, 2.0]), 1.5, wrt=(0, 1)) < 1e-6


def sorted_by_a_key(xs):
    return sorted(xs, key=abs)[0] * 2.0


def test_sorted_with_a_key_is_refused_with_its_line():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"test_containers.py:\d+: .*key="):
        s2sad.grad(sorted_by_a_key)([3.0, -1.0, 2.0])


def dict_reads(params):
    values = list(params.values())
    total = np.sum(params.get("w", 0.0) * 2.0) + np.sum(params.get("z", 1.0)) + np.sum(values[1])
    for name, value in sorted(params.items()):
        total = total * 0.5 + np.sum(value**2)
    return total


def dict_get_falls_back_to_its_default(params, fallback):
    return np.sum(params.get("missing", fallback) * 3.0) + np.sum(params.get("w"))


def test_dict_get_values_and_items():
    params = {"w": np.array([0.5, 1.5]), "b": np.array([0.2, -0.3])}
    assert check_grad(dict_reads, params) < 1e-6
    dparams, dfallback = s2sad.grad(dict_get_falls_back_to_its_default, wrt=(0, 1))(params, 2.0)
    assert np.allclose(dparams["w"], 1.0) and np.allclose(dparams["b"], 0.0) and dfallback == 3.0


def extended_list(x):
    items = [x]
    items.extend([x * 2.0, x * 3.0])  # items += [...]
    return items[1] * items[2]


def dict_of_pairs(w, b):
    params = dict([("w", w), ("b", b)])
    return np.sum(params["w"]) * params["b"]


def test_extend_and_a_dict_of_pairs():
    assert check_grad(extended_list, 0.7) < 1e-6
    dw, db = s2sad.grad(dict_of_pairs, wrt=(0, 1))(np.array([0.3, -0.4]), 0.7)
    assert np.allclose(dw, [0.7, 0.7]) and np.isclose(db, -0.1)


def inserted(x):
    items = [x, x * 2.0]
    items.insert(0, x * 5.0)
    return items[0] * items[1]


def updated(x):
    d = {"a": x}
    d.update(b=x * 2.0)
    return d["a"] * d["b"]


def popped(x):
    items = [x, x * 2.0, x * 3.0]
    last = items.pop()
    return last * items[1]


def sorted_in_place(x):
    items = [x * 2.0, x, 1.0]
    items.sort()
    return items[0] * 3.0 + items[1] * 5.0


def reversed_through_the_class(x):
    items = [x, x * 2.0]
    list.reverse(items)
    return items[0] * 2.0 + items[1]


def merged_dicts(x):
    d = {"w": x}
    d |= {"b": x * 2.0}
    return d["w"] * d["b"]


def set_through_a_dunder(x):
    items = [x, 1.0]
    items.__setitem__(1, x * 3.0)
    return items[0] * items[1]


def reversed_through_a_bound_method(x):
    items = [x, x * 2.0]
    flip = items.reverse  # a call of flip changes items
    flip()
    return items[0] * 3.0 + items[1]


@pytest.mark.parametrize(
    "function",
    [
        reversed_through_a_bound_method,
        inserted,
        updated,
        popped,
        sorted_in_place,
        reversed_through_the_class,
        merged_dicts,
        set_through_a_dunder,
    ],
)
def test_other_changes_to_a_list_or_dict_in_place_are_refused(function):
    with pytest.raises(
        s2sad.UnsupportedSyntaxError, match=r"changes \w+ in place|merging dicts|taken as a value"
    ):
        s2sad.grad(function)(0.7)


def write_into_a_sorted_copy(items):
    ordered = sorted(items)
    ordered[0] = ordered[0] * 10.0
    return ordered[0] + ordered[2]


def largest_and_total_of_values(d):
    return max(d.values()) * 2.0 + sum(d.values())


def test_sorted_copies_and_dict_values_in_builtins():
    assert s2sad.grad(write_into_a_sorted_copy)([0.3, 1.1, -0.7]) == [0.0, 1.0, 10.0]
    assert s2sad.grad(largest_and_total_of_values)({"a": 0.3, "b": 0.9}) == {"a": 1.0, "b": 3.0}


def numpy_of_a_comprehension(x, a):
    return np.sum([v * a for v in x]) + np.mean(np.tanh([v * v for v in x]))


def numpy_of_an_appended_list(x, a):
    items = []
    for v in x:
        items.append(v * a)
    return np.dot(items, items) + np.prod(items)


def test_numpy_functions_of_lists_built_item_by_item():
    x = np.array([0.31, -0.52, 0.83])
    assert check_grad(numpy_of_a_comprehension, x, 0.37, wrt=(0, 1)) < 1e-6
    assert check_grad(numpy_of_an_appended_list, x, 0.37, wrt=(0, 1)) < 1e-6


def view_kept_while_the_dict_changes(x, a):
    d = {"w": x, "b": a}
    values = d.values()
    d["w"] = a * 10.0  # the view sees this
    return sum(values)


def view_used_at_once_then_the_dict_changes(x, a):
    d = {"w": x, "b": a}
    total = sum(d.values())
    d["w"] = a * 10.0
    return total + d["w"]


def test_a_dict_view_kept_while_the_dict_changes_is_refused():
    with pytest.raises(s2sad.UnsupportedSyntaxError, match=r"view `d.values\(\)` kept"):
        s2sad.grad(view_kept_while_the_dict_changes, wrt=(0, 1))(0.3, 0.37)
    assert check_grad(view_used_at_once_then_the_dict_changes, 0.3, 0.37, wrt=(0, 1)) < 1e-6


# ----- NumPy reads ----------------------------------------------------------------------
def read_elements(x):
    if x.ndim == 2:
        return x[0, 1] * x[1, 2] + x[-1, -1] ** 2 + x[2, 3] + np.sum(x[1] * x[2])
    return x[0] * x[1] + x[-1] ** 2


def read_slices(x):
    return np.sum(x[1:] * x[:-1]) + np.sum(x[::2] ** 2) + np.sum(x[-3:-1:1])


def read_columns(x):
    return np.sum(x[:, 0] * x[:, -1]) + np.sum(x[1] ** 2) + np.sum(x[1:3, ::2])


def read_ellipsis(x):
    return np.sum(x[..., 1] ** 2) + np.sum(x[0, ...] * 3.0)


def read_mask(x):
    return np.sum(x[x > 1.0] ** 2)


def read_integer_array(x):
    picks = np.array([0, 2, 2, 5])
    return np.sum(x[picks] ** 2)


@pytest.mark.parametrize(
    "f, x",
    [
        (read_elements, VEC),
        (read_elements, MAT),
        (read_slices, VEC),
        (read_columns, MAT),
        (read_ellipsis, CUBE),
        (read_mask, VEC),
        (read_integer_array, VEC),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_numpy_reads(f, x):
    assert check_grad(f, x) < 1e-6


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_rosenbrock():
    x = R.uniform(-1.0, 1.0, size=10)
    g = s2sad.grad(rosenbrock)(x)
    expected = np.zeros_like(x)
    expected[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    expected[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    assert np.allclose(g, expected)


def element_loop(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i - 1]
    return s


def test_elementwise_loop_reads():
    assert check_grad(element_loop, VEC) < 1e-6


# ----- NumPy writes into arrays made inside f ----------------------------------------------
def write_elements(x):
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        y[i] = x[i] * (i + 1.0)
    y[1:] = y[1:] + y[:-1] * 0.5
    y[0] += x[0] ** 2
    return np.sum(y * y)


def test_writes_into_an_array_made_inside():
    assert check_grad(write_elements, VEC) < 1e-6


def overwrite_after_read(x):
    y = x * 1.0
    z = np.sum(y**2)
    y[2] = 5.0
    y[0] = y[1] * z
    return np.sum(y * x)


def test_overwritten_values_are_restored_for_the_adjoint():
    assert check_grad(overwrite_after_read, VEC) < 1e-6


def cumulative(x):
    out = np.zeros_like(x)
    running = 0.0
    for i in range(x.shape[0]):
        running = running * 0.9 + x[i]
        out[i] = running
    return np.sum(out**2)


def test_write_in_a_loop():
    assert check_grad(cumulative, VEC) < 1e-6


def test_callers_arrays_are_not_modified():
    x = VEC.copy()
    for f in (write_elements, overwrite_after_read, cumulative, rosenbrock, read_mask):
        s2sad.grad(f)(x)
        assert np.array_equal(x, VEC)


# ----- shapes, lengths, module constants ------------------------------------------------------
SCALE = 3.0


def shapes_and_lengths(x):
    n = x.shape[0]
    k = n // 2
    m = len(x)
    size = x.size + x.ndim
    return np.sum(x[:k]) * SCALE + np.sum(x[k:]) * m / size


def test_integer_arithmetic_on_shapes_passes_through():
    assert check_grad(shapes_and_lengths, VEC) < 1e-6


# ----- methods and attributes ------------------------------------------------------------------
def methods(x):
    a = x.sum() + x.mean() * 2.0 + x.max() - x.min()
    b = x.reshape(5, 4).transpose().dot(np.ones(5))
    c = x.copy().ravel() * x.flatten()
    d = x.T.squeeze().astype(float)
    return a + np.sum(b) + np.sum(c) + np.sum(d[0]) + x.sum(axis=0).sum() * x.shape[0] + x.ndim


def test_array_methods():
    assert check_grad(methods, MAT) < 1e-6


C4 = np.array([[0.9, -0.3], [-0.2, -1.2]])


def only_the_last_append_is_read(x, W):
    rows = []
    for i in range(3):
        rows.append((W[:, ::2] + x[i]) @ (x[2] * C4))
    return np.sum(np.sin(rows[-1]))


def test_list_elements_nobody_reads_skip_their_adjoint():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=4), rng.normal(size=(2, 4))
    assert check_grad(only_the_last_append_is_read, x, W, wrt=(0, 1)) < 1e-6


def overwrite_a_chosen_max(x, a, n):
    v = (a * C4).max(axis=0) if n > 1 else np.cos(x[:2])
    v[:] = x[:2] - x[1:]  # writes into the max's result, which its adjoint reads
    return np.sum(np.sin(v)) + a * np.sum(v)


def test_writing_into_a_copy_keeps_what_the_original_adjoint_reads():
    x = np.array([0.6, 0.64, -0.8])
    for n in (0, 3):
        assert check_grad(overwrite_a_chosen_max, x, 0.0, n, wrt=(0, 1)) < 1e-6


C5 = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]])


def write_into_the_base_of_a_read_view(x):
    v = np.tanh(x[0] * C5).T
    t = v.T  # a view of v, which the adjoint of t ** 3 reads
    s = np.sum(t**3)
    v[:, 0] = x[1]
    return s


def test_writing_into_an_array_keeps_what_the_adjoint_reads_through_a_view():
    assert check_grad(write_into_the_base_of_a_read_view, np.array([0.7, 0.2])) < 1e-6


def numpy_of_a_list(v):
    return np.prod(v) + np.sum(np.sin(v))


def test_a_list_passed_to_numpy_gets_its_gradient_as_a_list():
    v = [0.4, 0.1, 0.7]
    grad = s2sad.grad(numpy_of_a_list)(v)
    assert isinstance(grad, list)
    assert check_grad(numpy_of_a_list, v) < 1e-6


# ----- lists s2sad learns of late: a helper's result, an item of a list of lists ---------
def _listed(u):
    return [u * 3.0, u]


def _paired(u):
    return (u, u * 2.0)


def repeat_a_helpers_list(x):
    t = _listed(x) * 2
    return t[0] * t[3]


def repeat_an_item_of_a_list_of_lists(x, y):
    rows = [[x, y], [y, x]]
    t = rows[0] * 2
    total = t[0] * t[3]
    for row in rows:
        total = total + (3 * row)[4] * row[1]
    return total


def join_helpers_tuples(x):
    t = _paired(x) + _paired(x * 1.5)
    empty = ()
    empty = empty + _paired(x)
    return t[0] * t[3] + empty[1]


def list_times_an_array(x, y, a):
    return np.sum([x, y] * a) + np.sum(([x, y] + a) ** 2)


def copy_of_a_dict(x):
    d = {"a": x}
    e = d.copy()
    e["a"] = e["a"] * 2.0
    return np.sum(e["a"] * d["a"])


def grow_a_tuple(x):
    t = (x,)
    t += (x * 2.0,)
    return t[0] * t[1]


@pytest.mark.parametrize("optimize", [True, False])
def test_lists_and_tuples_the_analysis_cannot_see_directly(optimize):
    a = np.array([0.3, -0.4])
    for function, args in [
        (repeat_a_helpers_list, (0.7,)),
        (repeat_an_item_of_a_list_of_lists, (0.7, 0.2)),
        (join_helpers_tuples, (0.7,)),
        (list_times_an_array, (0.7, 0.2, a)),
        (copy_of_a_dict, (VEC[:2],)),
        (grow_a_tuple, (0.7,)),
    ]:
        wrt = tuple(range(len(args)))
        gradient = s2sad.grad(function, wrt=wrt, optimize=optimize)
        assert check_grad(function, *args, wrt=wrt, gradient=gradient) < 1e-6, function.__name__


def grow_copies_of_a_list(lst, y):
    copied = list(lst)
    copied += [y]
    sliced = lst[:]
    sliced += [y * 2.0]
    kept = tuple(lst)
    items = [lst[0]]
    items += [y]
    return copied[-1] * sliced[-1] + kept[0] * items[-1] + np.sum(np.array(lst))


def test_growing_a_new_list_while_the_old_one_is_read_is_differentiated():
    assert check_grad(grow_copies_of_a_list, [0.4, 0.9], 0.7, wrt=(0, 1)) < 1e-6


def _same(items):
    return items


def repeat_what_a_helper_hands_back(x, y, n):
    c = _same([x, y]) * n
    return sum(c) * c[0]


def repeat_an_item_of_a_repeated_list(x, y, n):
    c = [[x, y]] * n
    d = c[0] * 2
    return sum(d) * c[-1][0]


@pytest.mark.parametrize("optimize", [True, False])
def test_repeating_lists_a_helper_or_a_repetition_hands_back(optimize):
    for function in (repeat_what_a_helper_hands_back, repeat_an_item_of_a_repeated_list):
        gradient = s2sad.grad(function, wrt=(0, 1), optimize=optimize)
        assert check_grad(function, 0.7, -0.3, 2, wrt=(0, 1), gradient=gradient) < 1e-6


def lists_put_in_slots(x):
    rows = [[x, 1.0], [x, 2.0]]
    rows[0] = [x * 2.0, 1.0]
    named = {"k": [0.0, 0.0]}
    named["k"] = [x * 2.0, 1.0]
    swapped = [[x, 1.0], [2.0, x]]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    return rows[0][0] * rows[1][0] + named["k"][0] * x + swapped[0][1] * swapped[1][0]


def _made_list(u):
    return [u, u * 2.0]


def change_a_list_a_helper_made(x):
    made = _made_list(x)  # a new list holding x, not x itself
    made[0] = 3.0
    grown = _made_list(x)
    grown += [x]
    return made[0] * made[1] + grown[2] * grown[1]


@pytest.mark.parametrize("optimize", [True, False])
def test_lists_in_slots_and_lists_helpers_make(optimize):
    for function in (lists_put_in_slots, change_a_list_a_helper_made):
        gradient = s2sad.grad(function, optimize=optimize)
        assert check_grad(function, 0.7, gradient=gradient) < 1e-6, function.__name__


def dict_keys_used_as_numbers(weights, b):
    d = {k: w * b for k, w in enumerate(weights)}
    s = 0.0
    for k, w in d.items():
        s = s + k * w  # k is a key: it carries no gradient into d
    return s + sum(k * d[k] for k in d)


def test_the_keys_a_loop_over_a_dict_takes_carry_no_gradient():
    assert check_grad(dict_keys_used_as_numbers, [0.42, -0.27, 1.13], 0.7, wrt=(0, 1)) < 1e-6
