"""s2sad.codegen: the printed derivative, its ``# line N:`` comments, and the compiled function
(registered in linecache so tracebacks through generated code show its lines)."""

import linecache
import math
import re
import traceback
from pathlib import Path

import numpy as np
import pytest

import s2sad
from s2sad import codegen, pipeline

HERE = Path(__file__).resolve()
GAIN = 2.0


def def_line(name: str) -> int:
    lines = HERE.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(f"def {name}("))


def build(function, wrt=0, mode="grad", optimize=True, scalars=()):
    derivative = pipeline.derive(function, wrt, mode, optimize, scalars)
    source = codegen.derivative_source(derivative)
    filename = pipeline.filename_for(derivative, scalars)
    return source, codegen.compile_derivative(derivative, source, filename)


def model(x, a):
    z = np.tanh(x * a)
    y = z * np.exp(-x)
    return np.sum(y**2) + math.sin(a)


X = np.array([0.3, -0.8, 1.1])


@pytest.mark.parametrize("optimize", [True, False])
def test_printed_source_is_python_that_compiles(optimize):
    source, _ = build(model, wrt=(0, 1), optimize=optimize)
    assert source.startswith("def grad_model(x, a):\n")
    compile(source, "<test>", "exec")
    assert source.count("# adjoint sweep") == 1
    assert f"Gradient of model (tests/test_codegen.py:{def_line('model')})" in source


@pytest.mark.parametrize("optimize", [True, False])
def test_line_comments_quote_the_users_lines(optimize):
    source, _ = build(model, wrt=(0, 1), optimize=optimize)
    comments = re.findall(r"# line (\d+): (.*)", source)
    assert len(comments) >= 3
    for number, text in comments:
        assert linecache.getline(str(HERE), int(number)).strip() == text
    quoted = {int(n) for n, _ in comments}
    first = def_line("model")
    assert {first + 1, first + 2, first + 3} <= quoted


def test_adjoint_groups_come_in_reverse_order_of_the_users_lines():
    source, _ = build(model, wrt=(0, 1))
    numbers = [int(n) for n in re.findall(r"# line (\d+):", source)]
    body = [n for n in numbers if n != numbers[0]]  # the first and last name the return
    assert body == sorted(body, reverse=True)


def test_compiled_code_is_registered_in_linecache():
    source, compiled = build(model, wrt=(0, 1))
    assert compiled.filename.startswith("<s2sad:")
    assert compiled.filename.endswith(".model grad x,a>")
    assert compiled.code.co_filename == compiled.filename
    assert linecache.getlines(compiled.filename) == source.splitlines(True)


def test_compiled_function_computes_the_gradient():
    _, compiled = build(model, wrt=(0, 1))
    dx, da = compiled.bind(model)(X, 0.7)
    t = np.tanh(X * 0.7)
    y = t * np.exp(-X)
    dy = 2.0 * y
    expected_dx = dy * ((1 - t**2) * 0.7 * np.exp(-X) - y)
    expected_da = np.sum(dy * (1 - t**2) * X * np.exp(-X)) + math.cos(0.7)
    assert np.allclose(dx, expected_dx)
    assert da == pytest.approx(expected_da)


def logs(x, y):
    z = np.log(x) * y
    return np.sum(z)


def test_a_traceback_through_generated_code_shows_the_generated_line():
    dlogs = s2sad.grad(logs)
    with pytest.raises(ValueError) as caught:
        dlogs(np.ones(3), np.ones(4))  # shapes (3,) and (4,) do not broadcast
    frames = traceback.extract_tb(caught.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<s2sad:")]
    assert len(generated) == 1
    frame = generated[0]
    source = dlogs.source_for(np.ones(3), np.ones(4))
    assert frame.line == source.splitlines()[frame.lineno - 1].strip()
    assert frame.line.startswith("dx = ") and "y" in frame.line
    text = "".join(traceback.format_exception(caught.value))
    assert frame.line in text


def scaled(x):
    return x * GAIN


def test_generated_code_reads_the_users_globals_when_it_runs(monkeypatch):
    dscaled = s2sad.grad(scaled)
    assert dscaled(1.0) == 2.0
    monkeypatch.setitem(globals(), "GAIN", 5.0)
    assert scaled(1.0) == 5.0
    assert dscaled(1.0) == 5.0


def with_default(x, power=3.0):
    return x**power


def test_defaults_of_the_users_function_are_kept():
    dwith_default = s2sad.grad(with_default)
    assert dwith_default(2.0) == pytest.approx(12.0)
    assert dwith_default(2.0, 2.0) == pytest.approx(4.0)
    assert dwith_default(2.0, power=4.0) == pytest.approx(32.0)


def product(x, a):
    for i in range(3):
        x = x * a + math.sin(x)
    return x


def test_python_numbers_get_code_without_broadcasting_bookkeeping():
    df = s2sad.grad(product, wrt=("x", "a"))
    numbers = df.source_for(0.5, 1.2)
    assert "unbroadcast" not in numbers and "np.sum" not in numbers
    assert df(0.5, 1.2) == pytest.approx((2.1890958018804207, 3.384143105406457))


def weighted(x, a):
    return np.sum(np.sin(x) * a)


def test_arrays_get_broadcasting_bookkeeping():
    dweighted = s2sad.grad(weighted, wrt=(0, 1))
    assert "unbroadcast" not in dweighted.source_for(0.5, 1.2)
    arrays = dweighted.source_for(np.ones(2), 1.2)
    assert "unbroadcast" in arrays or "np.sum" in arrays
    dx, da = dweighted(np.array([0.5, 0.6]), 1.2)
    assert dx.shape == (2,) and type(da) is float
    assert s2sad.check_grad(weighted, np.array([0.5, 0.6]), 1.2, wrt=(0, 1)) < 1e-6
