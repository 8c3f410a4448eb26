"""The command line, run as a user would: ``python -m s2sad show`` and the ``s2sad`` script."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "samples" / "quickstart.py"
SCRIPT = Path(sys.executable).parent / ("s2sad.exe" if os.name == "nt" else "s2sad")

COMMANDS = {
    "python -m s2sad": [sys.executable, "-m", "s2sad"],
    "s2sad script": [str(SCRIPT)],
}


def run(command, *args, cwd=ROOT):
    # Import s2sad from this checkout whatever the working directory.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [*COMMANDS[command], *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )


def assert_one_error_line(result, *fragments):
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("s2sad: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_the_console_script_is_installed_next_to_python():
    assert SCRIPT.is_file()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_show_prints_the_gradient(command):
    result = run(command, "show", "samples/quickstart.py:loss")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("def grad_loss(w, b, X, y, l2=0.01):\n")
    assert "with respect to w." in result.stdout
    assert "# adjoint sweep" in result.stdout
    compile(result.stdout, "<cli output>", "exec")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_show_with_respect_to_two_parameters(command):
    result = run(command, "show", "samples/quickstart.py:loss", "--wrt", "w,b")
    assert result.returncode == 0, result.stderr
    assert "with respect to w, b." in result.stdout
    final = result.stdout.rstrip().splitlines()[-1].strip()
    assert final.startswith("return ")
    assert "cast_like(dw, w)" in final and "cast_like(db, b)" in final


def test_show_accepts_positions_and_an_absolute_path(tmp_path):
    result = run("python -m s2sad", "show", f"{QUICKSTART}:loss", "--wrt", "0,1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "with respect to w, b." in result.stdout


def test_show_without_optimisation_is_longer():
    optimised = run("python -m s2sad", "show", "samples/quickstart.py:loss", "--wrt", "w,b")
    plain = run(
        "python -m s2sad", "show", "samples/quickstart.py:loss", "--wrt", "w,b", "--no-optimize"
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("def grad_loss(")
    assert "dw = 0.0" in plain.stdout and "dw = 0.0" not in optimised.stdout
    assert len(plain.stdout.splitlines()) > len(optimised.stdout.splitlines())


@pytest.mark.parametrize("mode", ["value_and_grad", "vjp"])
def test_show_other_modes(mode):
    result = run("python -m s2sad", "show", "samples/quickstart.py:loss", "--mode", mode)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"def {mode}_loss(")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_missing_file(command, tmp_path):
    result = run(command, "show", tmp_path / "nowhere.py:loss")
    assert_one_error_line(result, "nowhere.py")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_missing_function(command):
    result = run(command, "show", "samples/quickstart.py:no_such_function")
    assert_one_error_line(result, "no_such_function")


def test_a_target_without_a_function_name():
    assert_one_error_line(run("python -m s2sad", "show", "samples/quickstart.py"), "FILE.py:FUNC")


def test_an_unknown_wrt():
    result = run("python -m s2sad", "show", "samples/quickstart.py:loss", "--wrt", "zz")
    assert_one_error_line(result, "zz", "w, b, X, y, l2")


UNSUPPORTED = textwrap.dedent(
    """
    import numpy as np


    def model(x):
        total = 0.0
        with open(__file__) as handle:
            total = total + len(handle.read())
        return total * np.sum(x)
    """
).lstrip()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unsupported_construct(command, tmp_path):
    (tmp_path / "model.py").write_text(UNSUPPORTED)
    result = run(command, "show", "model.py:model", cwd=tmp_path)
    line = assert_one_error_line(result, "`with`")
    assert line.startswith("s2sad: model.py:6: ")


def test_a_module_that_fails_to_import(tmp_path):
    (tmp_path / "broken.py").write_text(
        "import numpy as np\nRATE = 1 / 0\n\ndef f(x):\n    return x\n"
    )
    result = run("python -m s2sad", "show", "broken.py:f", cwd=tmp_path)
    assert_one_error_line(result, "ZeroDivisionError")


def test_the_file_can_import_its_neighbours(tmp_path):
    (tmp_path / "constants.py").write_text("SCALE = 3.0\n")
    (tmp_path / "model.py").write_text(
        "from constants import SCALE\n\n\ndef model(x):\n    return SCALE * x * x\n"
    )
    result = run("python -m s2sad", "show", f"{tmp_path / 'model.py'}:model", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("def grad_model(x):")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_traceback_shows_the_python_traceback(command, tmp_path):
    (tmp_path / "model.py").write_text(UNSUPPORTED)
    result = run(command, "show", "model.py:model", "--traceback", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback (most recent call last):" in result.stderr
    assert "UnsupportedSyntaxError" in result.stderr
    assert len(result.stderr.splitlines()) > 3


MODEL = """
import numpy as np


class Model:
    def __init__(self):
        self.W = np.ones((2, 3))

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x) ** 2) + self.penalty(x)

    def penalty(self, x):
        return 0.1 * np.sum(x ** 2)
"""


def test_show_a_method_follows_the_methods_it_calls_on_self(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    result = run("python -m s2sad", "show", "model.py:Model.loss", "--wrt", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "def grad_loss(self, x):" in result.stdout
    assert "penalty_forward(self, x)" in result.stdout  # self.penalty(x), followed
