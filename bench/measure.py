"""Measuring and printing: one timing helper, one memory helper, one table printer.

>>> format_seconds(0.00123)
'1.23 ms'
>>> format_ratio(12.345)
'12.3'
>>> relative_error((1.0, np.array([2.0, 6.0])), (1.0, np.array([2.0, 8.0])))
0.25
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from typing import Callable, Hashable, Sequence

import numpy as np

#: A timing sample runs the call this many seconds at least (in a loop for fast calls),
#: far above perf_counter's resolution and its own overhead.
MIN_SAMPLE_SECONDS = 2e-3


def _sample(call: Callable[[], object], number: int) -> float:
    """Seconds per call, over ``number`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def _calls_per_sample(call: Callable[[], object]) -> int:
    """After a warm-up call: how many calls make a sample of ``MIN_SAMPLE_SECONDS``."""
    call()
    number = 1
    while (seconds := _sample(call, number)) * number < MIN_SAMPLE_SECONDS:
        number = max(number * 2, int(1.2 * MIN_SAMPLE_SECONDS / max(seconds, 1e-9)))
    return number


def median_times(
    calls: dict[Hashable, Callable[[], object]],
    budget: float,
    min_samples: int = 5,
    max_samples: int = 200,
) -> dict[Hashable, float]:
    """Median seconds per call of each of ``calls`` (zero-argument callables).

    Each is warmed up once, then looped so a sample lasts at least ``MIN_SAMPLE_SECONDS``.
    Samples are taken in turn, one of each call per round, so that a change in the
    machine's load hits them all alike (their ratios stay fair); a call stops once it has
    ``min_samples`` and has run for ``budget`` seconds, or has ``max_samples``. The garbage
    collector stays on: it is part of what each call costs.
    """
    numbers = {key: _calls_per_sample(call) for key, call in calls.items()}
    samples: dict[Hashable, list[float]] = {key: [] for key in calls}
    spent = dict.fromkeys(calls, 0.0)

    def wants_more(key) -> bool:
        taken = len(samples[key])
        return taken < min_samples or (taken < max_samples and spent[key] < budget)

    while pending := [key for key in calls if wants_more(key)]:
        for key in pending:
            seconds = _sample(calls[key], numbers[key])
            samples[key].append(seconds)
            spent[key] += seconds * numbers[key]
    return {key: statistics.median(taken) for key, taken in samples.items()}


def peak_memory(call: Callable[[], object]) -> int:
    """Peak bytes allocated (as tracemalloc sees them, NumPy buffers included) during one
    ``call()`` beyond what was allocated before it; measured after a warm-up call."""
    call()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        call()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def as_parts(gradient) -> tuple[np.ndarray, ...]:
    """A gradient (one value or a tuple of them, from any library) as float64 arrays."""
    parts = gradient if isinstance(gradient, tuple) else (gradient,)
    return tuple(np.asarray(part, dtype=np.float64) for part in parts)


def relative_error(gradient, reference) -> float:
    """The largest, over the parts of a gradient, of max|got - expected| / max|expected|.

    Relative to each part's largest entry (not entry by entry), so tiny entries of a large
    gradient do not dominate. Infinite when the parts' number or shapes differ.
    """
    got, expected = as_parts(gradient), as_parts(reference)
    if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
        return float("inf")
    worst = 0.0
    for g, e in zip(got, expected):
        scale = np.max(np.abs(e), initial=0.0)
        difference = np.max(np.abs(g - e), initial=0.0)
        worst = max(worst, difference / scale if scale else difference)
    return float(worst)


def format_seconds(seconds: float) -> str:
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= factor:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_bytes(size: float) -> str:
    for unit, factor in (("MB", 2**20), ("kB", 2**10)):
        if abs(size) >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size:.0f} B"


def format_ratio(ratio: float) -> str:
    return f"{ratio:.3g}" if ratio < 1000 else f"{ratio:,.0f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table under ``title``: first column left-aligned, the others right."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (width + 1) + (":" if i else "-") for i, width in enumerate(widths))
        + "|"
    )
    print(f"\n{title}\n")
    print(line(headers))
    print(rule)
    for row in rows:
        print(line(row))


def directional_error(function: Callable, gradient, args: tuple, positions) -> float:
    """How far ``gradient`` (of ``function`` at ``args`` w.r.t. the arguments at
    ``positions``) is from a central difference along a fixed random direction, relatively.

    A check of the hand adjoints themselves, which everything else is compared with.
    """
    positions = positions if isinstance(positions, tuple) else (positions,)
    rng = np.random.default_rng(1)
    directions = {p: rng.standard_normal(np.shape(args[p])) for p in positions}
    size = max(float(np.max(np.abs(args[p]))) for p in positions)
    step = 1e-6 * max(1.0, size)

    def moved(t: float):
        shifted = list(args)
        for p, direction in directions.items():
            shifted[p] = args[p] + t * direction
            if isinstance(args[p], float):
                shifted[p] = float(shifted[p])
        return function(*shifted)

    predicted = sum(
        float(np.sum(part * directions[p])) for p, part in zip(positions, as_parts(gradient))
    )
    estimated = (moved(step) - moved(-step)) / (2 * step)
    return abs(estimated - predicted) / abs(predicted)
