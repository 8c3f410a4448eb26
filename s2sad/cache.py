"""The cache of compiled derivatives: a second ``grad(f)`` never transforms ``f`` again.

Keyed by the function's code object, ``wrt``, the mode, the options, and the identity of
the callables and modules its closure holds (two closures of one ``def`` that capture
different functions get different derivatives; closures that capture different numbers
share one, bound to each closure's own cells).

>>> clear(); len(_ENTRIES)
0
"""

from __future__ import annotations

import gc
import operator
import types
from typing import Any, Callable, Hashable

_ENTRIES: dict[Hashable, Any] = {}
_STATS = {"hits": 0, "misses": 0, "disk_hits": 0, "disk_writes": 0}
_BUILDING: set = set()
#: for each entry, the parsed functions whose namespaces its build consulted, as
#: (function, ParsedFunction.seen) pairs, nested builds' included (see ``consulted``)
_CONSULTED: dict[Hashable, list] = {}
_RECORDING: list[list] = []  # one list per build in progress, innermost last


def key_for(function: Callable, *parts: Hashable) -> tuple:
    """The cache key of ``function``'s derivative described by ``parts``."""
    code = getattr(function, "__code__", None)
    closure = getattr(function, "__closure__", None) or ()
    captured = []
    for cell in closure:
        try:
            value = cell.cell_contents
        except ValueError:
            value = None
        captured.append(value if _shapes_code(value) else type(value))
    return (code, *parts, tuple(captured))


def _shapes_code(value: Any) -> bool:
    """Captured values that change what s2sad generates (which functions get called)."""
    return callable(value) or isinstance(value, types.ModuleType)


def lookup(key: Hashable, build: Callable[[], Any]) -> Any:
    """The cached entry for ``key``, building (and caching) it on a miss."""
    try:
        entry = _ENTRIES.get(key)
    except TypeError:  # something unhashable was captured: build without caching
        _STATS["misses"] += 1
        return _recorded(build)[0]
    if entry is not None and not current(entry):
        _drop_stale()
        entry = None
    if entry is None:
        _STATS["misses"] += 1
        entry, _CONSULTED[key] = _recorded(build)
        _ENTRIES[key] = entry
    else:
        _STATS["hits"] += 1
        if _RECORDING:  # an outer build depends on whatever this entry's build consulted
            _RECORDING[-1].extend(_CONSULTED.get(key, ()))
    return entry


def _recorded(build: Callable[[], Any]) -> tuple[Any, list]:
    """``build()``, and the namespaces it consulted (which an outer build consulted too)."""
    _RECORDING.append([])
    try:
        entry = _build(build)
    finally:
        consulted = _RECORDING.pop()
        if _RECORDING:  # also when it failed: a caller may catch the error and go on
            _RECORDING[-1].extend(consulted)
    return entry, consulted


def consulted(parsed: Any) -> Any:
    """Note that the build in progress reads ``parsed``'s namespaces; returns ``parsed``.

    What a derivative depends on besides its source is what its build looked up: the
    names in ``parsed.seen``, filled as the build goes. The on-disk cache checks them.
    """
    consulted_lookups(parsed.function, parsed.seen)
    return parsed


def consulted_lookups(function: Any, seen: dict) -> None:
    """Note that the build in progress looked up ``seen`` (path → object) for ``function``."""
    if _RECORDING:
        _RECORDING[-1].append((function, seen))


def consulted_so_far() -> list:
    """The (function, seen) pairs of the innermost build in progress."""
    return list(_RECORDING[-1]) if _RECORDING else []


def count(event: str) -> None:
    """Count a disk-cache event ("disk_hits", "disk_writes") for ``stats()``."""
    _STATS[event] += 1


def _build(build: Callable[[], Any]) -> Any:
    """``build()`` with the cyclic garbage collector paused.

    A build allocates some hundred thousand tree nodes, all freed by reference counting
    (a build makes no reference cycles; tests/test_api.py checks). Left running, the
    collector would walk the live ones again and again: a quarter of the cold build of
    the benchmark's 500-line function.
    """
    if not gc.isenabled():  # the user paused it, or an outer build did
        return build()
    gc.disable()
    try:
        return build()
    finally:
        gc.enable()


def current(entry: Any) -> bool:
    """Whether the global names ``entry`` was built for still denote the same objects.

    A derivative calls the helpers (and rules) its function's global names denoted when
    it was built; ``entry.guards`` lists them as (globals, name, object) triples, the
    helpers' own included. Rebinding one (redefining a helper in a notebook, assigning
    another activation function) makes the entry stale.
    """
    return all(
        namespace.get(name, ABSENT) is value
        for namespace, name, value in getattr(entry, "guards", ())
    )


def _drop_stale() -> None:
    for key in [k for k, entry in _ENTRIES.items() if not current(entry)]:
        del _ENTRIES[key]
        _CONSULTED.pop(key, None)


#: what a guard expects a namespace to hold for a name it must not have (a class that
#: must not define the method a base class's was followed for)
ABSENT = object()


def ensure(key: Hashable, build: Callable[[], Any]) -> None:
    """Build the entry for ``key`` unless it is cached or being built right now (a
    recursive function asks for its own derivative while that is being built). A cached
    entry still counts as consulted by the build in progress."""
    lookup_unless_building(key, build)


def lookup_unless_building(key: Hashable, build: Callable[[], Any], default: Any = None) -> Any:
    """``lookup(key, build)``, or ``default`` when ``key`` is being built right now (a
    recursive function asking about itself)."""
    if key in _BUILDING:
        return default
    _BUILDING.add(key)
    try:
        return lookup(key, build)
    finally:
        _BUILDING.discard(key)


def derivative_function(key: Hashable, snapshot: tuple, make: Callable[[], Any]) -> Any:
    """The derivative function ``make()`` gave for ``key`` before, if ``snapshot`` (objects
    it copied from the user's function) is still the same; else a new one. So asking for
    ``grad(f)`` again costs a lookup, not a new dispatcher. The last 256 are kept."""
    try:
        found = _FUNCTIONS.get(key)
    except TypeError:  # an unhashable wrt: make one each time
        return make()
    if (
        found is not None
        and len(found[0]) == len(snapshot)
        and all(map(operator.is_, found[0], snapshot))
    ):
        return found[1]
    made = make()
    _FUNCTIONS[key] = (snapshot, made)
    if len(_FUNCTIONS) > _FUNCTIONS_KEPT:
        del _FUNCTIONS[next(iter(_FUNCTIONS))]  # the oldest
    return made


_FUNCTIONS: dict[Hashable, tuple] = {}
_FUNCTIONS_KEPT = 256


def peek(key: Hashable) -> Any:
    """The cached entry for ``key``, or None."""
    return _ENTRIES.get(key)


def clear() -> None:
    """Forget every compiled derivative (the next ``grad(f)`` call transforms again)."""
    _ENTRIES.clear()
    _CONSULTED.clear()
    _FUNCTIONS.clear()
    _STATS.update(hits=0, misses=0, disk_hits=0, disk_writes=0)


def stats() -> dict[str, int]:
    """Hits and misses since the last ``clear()``: a miss is a transformation, unless the
    on-disk cache had it (``disk_hits``); ``disk_writes`` counts entries it stored."""
    return {**_STATS, "entries": len(_ENTRIES)}
