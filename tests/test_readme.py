"""The README's examples run, and print exactly the source the README shows."""

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def run_example(tmp_path, name: str, code: str) -> str:
    path = tmp_path / name
    path.write_text(code)
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_first_example_prints_the_source_the_readme_shows(tmp_path):
    example, printed = BLOCKS[0], BLOCKS[1]
    code = example.replace("df(0.5, 1.2)            # (2.189..., 3.384...)", "print(df(0.5, 1.2))")
    output = run_example(tmp_path, "example.py", code)
    value, source = output.split("\n", 1)
    assert value.startswith("(2.189") and "3.384" in value
    assert source == printed + "\n"  # print() adds a newline to the source's own


def test_the_tape_example_prints_the_source_the_readme_shows(tmp_path):
    function, printed = BLOCKS[2], BLOCKS[3]
    code = (
        "import numpy as np\nimport s2sad\n\n\n" + function + "\n\nrng = np.random.default_rng(0)\n"
        "W, U = rng.normal(size=(4, 4)), rng.normal(size=(4, 3))\n"
        "xs, h = rng.normal(size=(5, 3)), rng.normal(size=4)\n"
        "print(s2sad.grad(rnn_loss, wrt=('W', 'U')).source_for(W, U, xs, h), end='')\n"
    )
    assert run_example(tmp_path, "rnn.py", code) == printed
