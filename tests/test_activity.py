"""s2sad.activity: a name is active when it depends on a wrt input *and* reaches the output."""

import gast
import numpy as np

import s2sad
from s2sad.activity import analyze
from s2sad.normalize import normalize
from s2sad.parse import parse_function


def activity(function, wrt):
    return analyze(normalize(parse_function(function)), wrt)


def mixed(x, w, n):
    k = n * 2
    y = np.sin(x) * w
    s = x.shape  # noqa: F841
    c = x > 0  # noqa: F841
    fl = np.floor(x)  # noqa: F841
    dead = x * 3.0  # noqa: F841
    return np.sum(y) + k


def test_names_on_the_path_from_wrt_to_the_output_are_active():
    result = activity(mixed, ["x"])
    assert {"x", "y", "sin_x", "sum_y"} <= result.active
    assert result.is_active("y") and result.is_active(gast.Name("y", gast.Load(), None, None))


def test_a_name_the_output_does_not_depend_on_is_not_active():
    result = activity(mixed, ["x"])
    assert "dead" in result.varied  # it depends on x ...
    assert "dead" not in result.useful  # ... but never reaches the output
    assert not result.is_active("dead")


def test_a_name_that_does_not_depend_on_wrt_is_not_active():
    result = activity(mixed, ["x"])
    assert "k" in result.useful and "k" not in result.varied
    assert not result.is_active("k") and not result.is_active("n")
    assert not result.is_active("w")  # w is an input, but not a wrt one


def test_shapes_comparisons_and_rounding_carry_no_gradient():
    result = activity(mixed, ["x"])
    assert not {"s", "c", "fl"} & result.varied


def test_activity_depends_on_wrt():
    by_x = activity(mixed, ["x"]).active
    by_w = activity(mixed, ["w"]).active
    assert "sin_x" in by_x and "sin_x" not in by_w
    assert "w" in by_w and "x" not in by_w


def repeated(x, a):
    for i in range(3):
        x = x * a
    return x


def test_a_loop_carries_activity_from_any_iteration():
    assert activity(repeated, ["a"]).active == {"a", "x"}
    assert activity(repeated, ["x"]).active == {"x"}


def appended(x, a):
    acc = []
    acc.append(x * a)
    return acc


def test_appending_an_active_value_makes_the_list_active():
    assert {"acc", "x_times_a"} <= activity(appended, ["x"]).active


def constant_output(x):
    y = x * 2.0  # noqa: F841
    return 3.0


def test_a_constant_output_makes_nothing_useful():
    result = activity(constant_output, ["x"])
    assert result.useful == set() and result.active == set()
    assert s2sad.grad(constant_output)(1.5) == 0.0


def test_inactive_branches_get_no_adjoint_code():
    source = s2sad.source(mixed, optimize=False)
    assert "ddead" not in source and "dk " not in source and "dfl" not in source
    assert "dsin_x" in source
