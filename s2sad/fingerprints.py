"""What identifies a value across processes: the fingerprints the on-disk cache checks.

A fingerprint is a tuple of strings and numbers (``marshal`` stores it), equal in two
processes when the value would make s2sad generate the same code:

>>> import math
>>> fingerprint(math), fingerprint(math.sin), fingerprint(2.5)
(('module', 'math'), ('object', 'math', 'sin'), ('value', 'builtins', 'float'))
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
import os
import sys
import types
from typing import Any, Callable

from .parse import UNRESOLVED

_DIGESTS: dict[str, tuple[list, str]] = {}  # file name → (its linecache lines, their digest)
_PACKAGE: dict[str, str] = {}  # "digest" → digest of s2sad's sources, computed once


def fingerprint(value: Any) -> tuple | None:
    """What identifies ``value`` across processes, or None when nothing does."""
    if value is UNRESOLVED:
        return ("unresolved",)
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, types.FunctionType):
        print_ = _function_fingerprint(value)
        target = unwrapped(value)  # what s2sad differentiates where value is called
        if print_ is None or target is value:
            return print_
        wrapped = None if target is None else fingerprint(target)
        return None if wrapped is None else (*print_, "wraps", wrapped)
    if callable(value):
        return ("object", *name) if (name := importable(value)) else None
    kind = type(value)
    return ("value", kind.__module__, kind.__qualname__)


def unwrapped(function: Callable) -> Any:
    try:
        return inspect.unwrap(function)
    except ValueError:  # a cycle of __wrapped__
        return None


def _function_fingerprint(function: types.FunctionType) -> tuple | None:
    lifted = getattr(function, "__s2sad_lifted__", None)
    if lifted is not None:  # a `def` inside another function, made a helper: its source
        parent = fingerprint(lifted[0])  # is the parent's, and so is its namespace
        return None if parent is None else ("lifted", parent, lifted[1])
    if hasattr(function, "__s2sad_tree__") or function.__name__ == "<lambda>":
        return None
    code = function.__code__
    digest = file_digest(code.co_filename)
    if digest is None:
        return None
    defaults = tuple(type(d).__qualname__ for d in function.__defaults__ or ())
    keyword = sorted((k, type(d).__qualname__) for k, d in (function.__kwdefaults__ or {}).items())
    return (
        "function",
        function.__module__ or "",
        function.__qualname__,
        code.co_filename,
        code.co_firstlineno,
        digest,
        defaults,
        tuple(keyword),
    )


def importable(value: Any) -> tuple[str, str] | None:
    """(module, qualified name) when that names ``value`` itself in an imported module."""
    try:
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if not isinstance(module, str) or not isinstance(qualname, str):
            return None
        found: Any = sys.modules.get(module)  # never import a module just to fingerprint
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception:  # noqa: BLE001 - a user object's attributes may raise anything
        return None
    return (module, qualname) if found is value else None


def file_digest(filename: str) -> str | None:
    """A digest of the whole text of ``filename`` as linecache has it, or None."""
    linecache.checkcache(filename)  # the file may have been edited (and its module reloaded)
    lines = linecache.getlines(filename)
    if not lines:
        return None
    known = _DIGESTS.get(filename)
    if known is not None and known[0] is lines:
        return known[1]
    digest = hashlib.blake2b("".join(lines).encode(), digest_size=16).hexdigest()
    _DIGESTS[filename] = (lines, digest)
    return digest


def package_digest() -> str:
    """A digest of s2sad's own source files: any change to s2sad invalidates every entry.

    Of each file's path, size and modification time, as ``__pycache__`` checks its
    sources: reading them all would cost more (2 ms) than loading a derivative does.
    """
    if "digest" not in _PACKAGE:
        described = []
        todo = [os.path.dirname(__file__)]
        while todo:  # os.scandir: a quarter of the cost of pathlib's rglob
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    if entry.is_dir() and entry.name != "__pycache__":
                        todo.append(entry.path)
                    elif entry.name.endswith(".py"):
                        status = entry.stat()
                        described.append(f"{entry.path} {status.st_size} {status.st_mtime_ns}")
        text = "\n".join(sorted(described))
        _PACKAGE["digest"] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return _PACKAGE["digest"]
