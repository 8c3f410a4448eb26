"""The command line: ``s2sad show FILE.py:FUNC [--wrt x,y] [--no-optimize]``.

Prints the generated derivative source. Any error prints one line (the s2sad message) to
stderr and exits with status 2; ``--traceback`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from . import api
from .errors import S2SADError

EXIT_ERROR = 2


class _Failure(Exception):
    """A user mistake on the command line (no such file, function...)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="s2sad", description="Source-to-source automatic differentiation for Python and NumPy."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the derivative source of FILE.py:FUNC")
    show.add_argument("target", metavar="FILE.py:FUNC", help="a Python file and a function in it")
    show.add_argument(
        "--wrt",
        default=None,
        help="parameters to differentiate with respect to, e.g. x,y or 0,1 (default: the first)",
    )
    show.add_argument("--mode", choices=["grad", "value_and_grad", "vjp"], default="grad")
    show.add_argument(
        "--no-optimize", action="store_true", help="show the code before optimisation"
    )
    show.add_argument(
        "--traceback", action="store_true", help="show the Python traceback on errors"
    )
    args = parser.parse_args(argv)
    try:
        function = _load(args.target)
        text = api.source(function, _wrt(args.wrt), optimize=not args.no_optimize, mode=args.mode)
    except (S2SADError, _Failure) as error:
        if args.traceback:
            raise
        print(f"s2sad: {error}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:  # noqa: BLE001 - the user's module may raise anything on import
        if args.traceback:
            raise
        print(f"s2sad: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(text)
    return 0


def _wrt(text: str | None):
    if text is None:
        return 0
    items = [item.strip() for item in text.split(",") if item.strip()]
    parsed = tuple(int(item) if item.lstrip("-").isdigit() else item for item in items)
    return parsed[0] if len(parsed) == 1 else parsed


def _load(target: str):
    path_text, _, name = target.rpartition(":")
    if not path_text or not name:
        raise _Failure(f"expected FILE.py:FUNC, got {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise _Failure(f"{path_text}: no such file")
    module_name = f"s2sad_cli_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))  # so the file's own imports work
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    function = module
    for part in name.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise _Failure(f"{path_text}: no function {name!r}")
    state = api.derivative_state(function)
    if state is not None:
        function = state.function
    if not callable(function):
        raise _Failure(f"{path_text}:{name} is not a function")
    return function


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
