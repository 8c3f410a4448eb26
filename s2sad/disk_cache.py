"""The on-disk cache: a derivative built once is loaded, not rebuilt, by the next process.

Off unless a directory is given (``S2SAD_CACHE_DIR``, or ``s2sad.cache_directory(path)``).
An entry holds the compiled code (``marshal``, as ``__pycache__`` does), the generated
text, and what its build depended on, so that a later process can tell whether it holds:

* in the file name: the function's fingerprint (s2sad.fingerprints: module, name, first
  line, a digest of its file, what it wraps), how its file is named from the working
  directory, its closure's fingerprints, the differentiation options and argument
  kinds, and the Python (``cache_tag``), NumPy, gast and s2sad versions;
* inside: every name and attribute chain the build looked up in the namespaces of the
  function and of the helpers it reached (ParsedFunction.seen, collected by s2sad.cache),
  each with the fingerprint of what it denoted.

An entry is loaded only when every one of those lookups gives the same fingerprint again;
otherwise the derivative is built and the entry replaced. A build that depends on what
cannot be fingerprinted (a lambda, a callable object, a function defined at the prompt,
a rule the user registered) is simply not stored. A ``def`` inside the function (lifted
by s2sad.lifting) is identified by its parent and name, and made again from the code of
the factory that made it.

>>> directory() is None or isinstance(directory(), Path)
True
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import marshal
import os
import sys
import tempfile
import types
import warnings
from pathlib import Path
from typing import Any, Callable

import gast
import numpy as np

from . import cache
from .calls import HelperRef
from .codegen import CompiledDerivative, CompiledSplit, register_lines
from .errors import Location
from .fingerprints import fingerprint, importable, package_digest, unwrapped
from .parse import UNRESOLVED, display_filename
from .rules import REGISTRY

_FORMAT = 1  # bump when what an entry holds changes
_SETTINGS: dict[str, Any] = {"directory": os.environ.get("S2SAD_CACHE_DIR") or None}
_WARNED: set[str] = set()


def cache_directory(path: str | os.PathLike | None = ...) -> Path | None:
    """Set (or, with no argument, read) the directory of the on-disk cache; None turns it
    off. The default is the environment variable ``S2SAD_CACHE_DIR``, else off.

    >>> previous = cache_directory(); cache_directory(None); cache_directory() is None
    True
    >>> cache_directory(previous) == previous
    True
    """
    if path is not ...:
        _SETTINGS["directory"] = None if path is None else os.fspath(path)
    return directory()


def directory() -> Path | None:
    value = _SETTINGS["directory"]
    return None if value is None else Path(value)


# ----- loading and storing ------------------------------------------------------------------
def load(function: Callable, options: tuple) -> CompiledDerivative | CompiledSplit | None:
    """The stored entry for ``function``'s derivative with ``options``, if one still holds."""
    path = _path(function, options)
    if path is None:
        return None
    try:
        stored = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None  # absent, or unreadable: build it (and replace the file)
    if not isinstance(stored, dict) or stored.get("format") != _FORMAT:
        return None
    if stored.get("options") != repr(options):  # a digest collision, in theory
        return None
    verified = _verified(function, stored["consulted"])
    if verified is None:
        return None
    functions, seen = verified
    bindings = {}
    for name, reference in stored["bindings"].items():
        value = _dereference(reference, functions)
        if value is _MISSING:
            return None
        bindings[name] = value
    texts = stored["texts"]
    for filename, text in texts.items():
        register_lines(filename, text)
    from .pipeline import helper_sources  # the helpers' pairs were loaded (or built) above

    source = helper_sources(bindings) + "\n".join(texts.values())
    for owner, values in seen:  # what an outer build now depends on
        cache.consulted_lookups(owner, values)
    guards = tuple(_guards(seen))
    cache.count("disk_hits")
    if stored["kind"] == "split":
        forward, backward = stored["code"]
        return CompiledSplit(source, forward, backward, bindings, guards, texts)
    output = stored["output"]
    return CompiledDerivative(
        source,
        stored["filename"],
        stored["code"],
        bindings,
        stored["seed_name"],
        None if output is None else Location(display_filename(output[0]), output[1]),
        guards,
        texts,
    )


def store(
    function: Callable,
    options: tuple,
    compiled: CompiledDerivative | CompiledSplit,
    output: tuple[str, int] | None = None,
) -> None:
    """Write ``compiled`` for later processes, when everything its build consulted can be
    checked again there; ``output`` is the (file, line) of the function's result."""
    path = _path(function, options)
    if path is None:
        return
    fingerprinted = _fingerprinted(function, cache.consulted_so_far())
    if fingerprinted is None:
        return
    consulted, functions = fingerprinted
    bindings = {}
    for name, value in compiled.bindings.items():
        reference = _reference(value, functions)
        if reference is None:
            return
        bindings[name] = reference
    entry = {
        "format": _FORMAT,
        "options": repr(options),
        "consulted": consulted,
        "bindings": bindings,
        "texts": compiled.texts,
    }
    if isinstance(compiled, CompiledSplit):
        entry.update(kind="split", code=(compiled.forward, compiled.backward))
    else:
        entry.update(
            kind="derivative",
            code=compiled.code,
            filename=compiled.filename,
            seed_name=compiled.seed_name,
            output=output,
        )
    _write(path, marshal.dumps(entry))


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a reader in another process sees the old file or the new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as error:
        if str(path.parent) not in _WARNED:
            _WARNED.add(str(path.parent))
            warnings.warn(f"s2sad: cannot write to the cache directory: {error}", stacklevel=2)
        return
    cache.count("disk_writes")


def _objects(options: tuple) -> bool:
    """Whether a build is for an object of the user's, or is passed one of the user's
    functions: its methods, or that function, are reached through an argument, and are
    not fingerprinted."""
    return any(isinstance(k, tuple) and k[0] in ("object", "function") for _, k in options[-1])


def _path(function: Callable, options: tuple) -> Path | None:
    """Where ``function``'s entry with ``options`` lives; None when caching is off, the
    function's source cannot be fingerprinted, or the user registered rules (which may
    replace s2sad's own: an entry stored without them would be wrong now)."""
    root = directory()
    if root is None or REGISTRY.customised or _objects(options):
        return None
    print_ = fingerprint(function)
    if print_ is None or print_[0] not in ("function", "lifted"):
        return None
    closure = []
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            value = UNRESOLVED
        closure.append(fingerprint(value))
    if None in closure:
        return None
    versions = (_FORMAT, package_digest(), sys.implementation.cache_tag, np.__version__)
    # the docstring names the file as the user sees it, relative to the working directory
    shown = display_filename(function.__code__.co_filename)
    described = repr((versions, gast.__version__, print_, shown, tuple(closure), options))
    digest = hashlib.blake2b(described.encode(), digest_size=16).hexdigest()
    name = f"{function.__module__}.{function.__qualname__}"
    return root / f"{''.join(c if c.isalnum() or c in '._-' else '_' for c in name)}-{digest}.s2sad"


# ----- what a build consulted, fingerprinted ---------------------------------------------------
def _fingerprinted(function: Callable, consulted: list) -> tuple[list, dict] | None:
    """For a build's consulted namespaces: [(function fingerprint, {path: fingerprint})],
    the function's own keyed "", and each Python function's fingerprint → the function.
    None when something has no fingerprint, or two functions share one (two closures of
    one ``def``: a later process could not tell which is which)."""
    merged: dict[Any, dict] = {}
    function = unwrapped(function)  # whose namespaces s2sad reads (see s2sad.parse)
    functions: dict[Any, Callable] = {"": function}
    for owner, seen in consulted:
        key = "" if owner is function else fingerprint(owner)
        if key is None or (key != "" and not _known(functions, key, owner)):
            return None
        paths = merged.setdefault(key, {})
        lifted = getattr(owner, "__s2sad_lifted__", None)
        for path, value in seen.items():
            if lifted is not None and path == lifted[1] and value is owner:
                continue  # a lifted recursive def's own name, in its own closure
            print_ = fingerprint(value)
            if print_ is None:
                return None
            if print_[0] == "function" and not _known(functions, print_, value):
                return None
            paths[path] = print_
    if "" not in merged:
        return None  # the function's own lookups were not recorded: nothing to check
    return [(key, paths) for key, paths in merged.items()], functions


def _verified(function: Callable, consulted: list) -> tuple[dict, list] | None:
    """When every lookup recorded gives the same fingerprint again: each consulted
    function's fingerprint → the function now, and the lookups made again, as
    (function, {path: object}) pairs. Else None."""
    top = unwrapped(function)
    functions: dict[Any, Callable] = {"": top, fingerprint(top): top}  # a lifted def's parent
    seen = []
    pending = list(consulted)
    while pending:
        ready = [item for item in pending if _owner(item[0], functions) is not None]
        if not ready:
            return None  # a helper this process cannot reach the way the build did
        for item in ready:
            pending.remove(item)
            owner = _owner(item[0], functions)
            values = {}
            for path, expected in item[1].items():
                value = values[path] = _value(owner, path)
                if fingerprint(value) != expected:
                    return None
                if expected[0] == "function" and not _known(functions, expected, value):
                    return None  # two functions with one fingerprint
            seen.append((owner, values))
    return functions, seen


def _owner(key, functions: dict) -> Callable | None:
    """The function in whose namespaces the lookups recorded under ``key`` are made again:
    a lifted ``def`` reads its parent's (what it took from the parent's own variables
    became parameters)."""
    if key in functions:
        return functions[key]
    if isinstance(key, tuple) and key[0] == "lifted":
        return _owner(key[1], functions)
    return None


def _value(function: Callable, path: str) -> Any:
    """What ``path`` (``name`` or ``name.attr...``) denotes in ``function``'s namespaces,
    looked up as s2sad.parse does: closure, globals, builtins."""
    first, *attributes = path.split(".")
    cells = dict(zip(function.__code__.co_freevars, function.__closure__ or ()))
    if first in cells:
        try:
            value = cells[first].cell_contents
        except ValueError:
            value = UNRESOLVED
    elif first in function.__globals__:
        value = function.__globals__[first]
    else:
        value = getattr(builtins, first, UNRESOLVED)
    for attribute in attributes:
        if value is UNRESOLVED:
            break
        value = getattr(value, attribute, UNRESOLVED)
    return value


def _guards(seen: list) -> list:
    """(globals, name, object) for the global names that denoted callables (see
    s2sad.cache.current), from the lookups ``_verified`` made again."""
    guards = []
    for function, values in seen:
        namespace = function.__globals__
        free = function.__code__.co_freevars
        for path, value in values.items():
            if "." not in path and path not in free and path in namespace and callable(value):
                guards.append((namespace, path, value))
    return guards


def _known(functions: dict, print_: tuple, value: Callable) -> bool:
    """Record ``value`` (and the function it wraps) under their fingerprints; False when
    another function already has one of them (a later process could not tell which)."""
    if functions.setdefault(print_, value) is not value:
        return False
    target = unwrapped(value)
    if target is value or not isinstance(target, types.FunctionType):
        return True
    return _known(functions, fingerprint(target), target)


# ----- bindings: the objects generated code is given, by reference -----------------------------
def _reference(value: Any, functions: dict) -> tuple | None:
    """How a later process finds ``value`` again, or None."""
    if isinstance(value, HelperRef):
        print_ = fingerprint(value.function)
        _, wrt, _, _, kinds, _ = value.key
        lifted = _lifted_reference(value.function)
        if lifted is not None:
            return ("lifted helper", lifted, wrt, kinds, value.part)
        if print_ not in functions:
            return None
        return ("helper", print_, wrt, kinds, value.part)
    if isinstance(value, types.FunctionType) and hasattr(value, "__s2sad_lifted__"):
        return _lifted_reference(value)
    if value is None or type(value) in (bool, int, float, str):
        return ("constant", value)
    if isinstance(value, types.ModuleType):
        return ("object", value.__name__, "")
    name = importable(value)
    return None if name is None else ("object", *name)


def _dereference(reference: tuple, functions: dict) -> Any:
    """The object ``reference`` (from ``_reference``) denotes now, or _MISSING."""
    if reference[0] == "constant":
        return reference[1]
    if reference[0] == "object":
        try:
            found: Any = importlib.import_module(reference[1])
            for part in filter(None, reference[2].split(".")):
                found = getattr(found, part)
        except Exception:  # noqa: BLE001 - gone since the entry was written
            return _MISSING
        return found
    if reference[0] == "lifted":
        return _lifted_function(reference, functions)
    if reference[0] == "lifted helper":
        return _lifted_helper(reference, functions)
    _, print_, wrt, kinds, part = reference
    function = functions.get(print_)
    if function is None:
        return _MISSING
    from .pipeline import split  # the helper's pair: from memory, from disk, or built

    return HelperRef(split(function, wrt, kinds), function, part)


def _lifted_reference(function: types.FunctionType) -> tuple | None:
    """How a later process makes a lifted ``def`` (s2sad.lifting) again: from the code of
    the factory that made it, in its parent's globals."""
    print_ = fingerprint(function)
    if print_ is None or print_[0] != "lifted":
        return None
    factory = function.__s2sad_lifted__[2]
    return ("lifted", print_, factory, function.__defaults__, function.__kwdefaults__)


def _lifted_function(reference: tuple, functions: dict) -> Any:
    """The lifted ``def`` ``reference`` describes, made once per load."""
    _, print_, factory, defaults, keyword_defaults = reference
    function = functions.get(print_)
    if function is None:
        parent = functions.get(print_[1])
        if parent is None:
            return _MISSING
        function = types.FunctionType(factory, parent.__globals__)()
        function.__defaults__, function.__kwdefaults__ = defaults, keyword_defaults
        function.__s2sad_lifted__ = (parent, print_[2], factory)
        functions[print_] = function
    return function


def _lifted_helper(reference: tuple, functions: dict) -> Any:
    """A HelperRef to a lifted ``def``'s pair, which must be on disk too: building it
    would need the parent's parsed tree."""
    _, lifted, wrt, kinds, part = reference
    function = _lifted_function(lifted, functions)
    if function is _MISSING:
        return _MISSING
    options = (wrt, "split", True, kinds)
    key = cache.key_for(function, *options)

    def build():
        stored = load(function, options)
        if stored is None:
            raise _NotStored
        return stored

    try:  # a recursive def's pair refers to itself while it is being loaded: fine
        cache.lookup_unless_building(key, build)
    except _NotStored:
        return _MISSING
    return HelperRef(key, function, part)


class _NotStored(Exception):
    """A lifted def's pair is not on disk (load falls back to building everything)."""


_MISSING = object()
