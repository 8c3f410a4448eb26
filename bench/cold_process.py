"""One fresh process's first gradient of one workload, with the on-disk cache on.

    python -m bench.cold_process WORKLOAD CACHE_DIR

Prints JSON: the first call of ``s2sad.grad(f)`` (building, or loading from ``CACHE_DIR``,
then running), the median of warm calls after it, and s2sad's cache counters. Run by
``bench/run.py`` (``report_disk_loads``), once to fill the directory and then again.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# `bench` first: importing it pins BLAS to one thread before NumPy loads.
from bench.run import make_cases  # noqa: E402  (the bench's functions, inputs and wrt)
from s2sad import cache, cache_directory, grad  # noqa: E402


def main(argv: list[str]) -> None:
    name, directory = argv
    case = next(c for c in make_cases() if c.function.__name__ == name)
    cache_directory(directory)
    gradient = grad(case.function, wrt=case.wrt)
    start = time.perf_counter()
    gradient(*case.args)
    first = time.perf_counter() - start
    warm = []
    for _ in range(21):
        start = time.perf_counter()
        gradient(*case.args)
        warm.append(time.perf_counter() - start)
    print(json.dumps({"first": first, "warm": statistics.median(warm), **cache.stats()}))


if __name__ == "__main__":
    main(sys.argv[1:])
