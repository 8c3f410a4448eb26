"""Benchmark s2sad's gradients against hand-written adjoints, autograd and JAX (eager).

    python bench/run.py            # check every gradient, then time them and report
    python bench/run.py --quick    # check every gradient once; exit 1 if s2sad's is wrong

Every gradient is checked against the hand adjoint (to 1e-10, relative to each gradient's
largest entry), and each hand adjoint against a central difference. Times are medians of
many calls (see ``measure.median_times``) with NumPy on one BLAS thread. A workload s2sad
cannot differentiate yet shows as ``unsupported: <its error>`` and fails nothing; a wrong
s2sad gradient, or an s2sad crash that is not an ``S2SADError``, makes the exit status 1.
"""

from __future__ import annotations

import argparse
import ast
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):  # run as a script: make the `bench` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# `bench` first: importing it pins BLAS to one thread before NumPy loads.
from bench import frameworks, hand, measure, workloads  # noqa: E402
from bench.frameworks import Case  # noqa: E402
from s2sad import S2SADError, cache  # noqa: E402
from s2sad import grad as s2sad_grad  # noqa: E402
from s2sad.api import derivative_state  # noqa: E402

TOLERANCE = 1e-10  # largest relative error accepted against the hand adjoint
REFERENCE_TOLERANCE = 1e-5  # hand adjoint vs a central difference
MLP_WRT = ("W1", "b1", "W2", "b2", "W3", "b3")


def make_cases() -> list[Case]:
    """The five workloads, each with its inputs (``workloads.make_inputs``)."""
    table = [
        ("scalar loop", workloads.scalar_loop, hand.dscalar_loop, ("x", "a")),
        ("MLP loss", workloads.mlp_loss, hand.dmlp_loss, MLP_WRT),
        ("Rosenbrock", workloads.rosenbrock, hand.drosenbrock, "x"),
        ("500 elementwise ops", workloads.elementwise_chain, hand.delementwise_chain, "x"),
        ("Newton sqrt", workloads.newton_sqrt, hand.dnewton_sqrt, "a"),
    ]
    return [
        Case(name, function, adjoint, wrt, workloads.make_inputs(function.__name__))
        for name, function, adjoint, wrt in table
    ]


# -- correctness -------------------------------------------------------------------------


@dataclass
class Result:
    """One implementation on one case: a ready call, or the reason there is none.

    ``status`` is ``ok``, ``unsupported`` (s2sad raised one of its own errors), ``error``
    (anything else raised) or ``wrong`` (disagrees with the hand adjoint).
    """

    status: str
    call: Callable[[], object] | None = None
    error: float | None = None  # relative error against the hand adjoint
    message: str = ""

    @property
    def cell(self) -> str:
        """What a table shows when this result has no timing."""
        return self.message if self.message else self.status


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def evaluate(case: Case, implementation: frameworks.Implementation, reference) -> Result:
    """Build and call ``implementation`` on ``case`` once; compare with ``reference``
    (None for the primal and the hand adjoint themselves)."""
    args = implementation.prepare(case.args)
    try:
        function = implementation.build(case)
        value = function(*args)
    except S2SADError as error:
        return Result("unsupported", message=f"unsupported: {first_line(error)}")
    except Exception as error:  # noqa: BLE001 - reported in the table, not raised
        return Result("error", message=f"error: {type(error).__name__}: {first_line(error)}")
    call = functools.partial(function, *args)
    if reference is None:
        return Result("ok", call)
    error = measure.relative_error(value, reference)
    if error > TOLERANCE:
        return Result("wrong", error=error, message=f"WRONG (rel. error {error:.2g})")
    return Result("ok", call, error)


def check_all(cases, implementations) -> tuple[dict, dict]:
    """Every implementation's result on every case, and each hand adjoint's error against
    a central difference."""
    results, reference_errors = {}, {}
    for case in cases:
        reference = case.hand(*case.args)
        reference_errors[case.name] = measure.directional_error(
            case.function, reference, case.args, case.positions
        )
        for implementation in implementations:
            is_gradient = implementation.name not in ("primal", "hand")
            results[case.name, implementation.name] = evaluate(
                case, implementation, reference if is_gradient else None
            )
    return results, reference_errors


def report_correctness(cases, gradient_names, results, reference_errors, missing) -> None:
    rows = []
    for case in cases:
        row = [case.name, f"{reference_errors[case.name]:.1e}"]
        for name in gradient_names:
            result = results.get((case.name, name))
            if result is None:
                row.append("n/a")
            elif result.status == "ok":
                row.append(f"{result.error:.1e}")
            else:
                row.append(result.cell)
        rows.append(row)
    headers = ["workload", "hand vs central diff.", *(f"{n} vs hand" for n in gradient_names)]
    measure.print_table(
        "Correctness (relative error; hand adjoints are the reference)", headers, rows
    )
    for name, why in missing.items():
        print(f"{name}: {why}")


# -- speed -------------------------------------------------------------------------------

RATIOS = [
    ("hand/primal", "hand", "primal"),
    ("s2sad/primal", "s2sad", "primal"),
    ("s2sad/hand", "s2sad", "hand"),
    ("autograd/primal", "autograd", "primal"),
    ("jax/primal", "jax", "primal"),
]
ABSOLUTE = ["primal", "hand", "s2sad", "autograd", "jax"]


def time_all(cases, implementation_names, results, budget: float) -> dict:
    """Median seconds per call of everything that ran correctly, keyed by (case, name);
    a case's implementations are timed together (see ``measure.median_times``)."""
    times = {}
    for case in cases:
        calls = {
            (case.name, name): results[case.name, name].call
            for name in implementation_names
            if results[case.name, name].call is not None
        }
        times.update(measure.median_times(calls, budget))
    return times


def report_speed(cases, results, times) -> None:
    def cell(case, numerator, denominator, shown: set) -> str:
        if (case.name, numerator) in times and (case.name, denominator) in times:
            return measure.format_ratio(times[case.name, numerator] / times[case.name, denominator])
        result = results.get((case.name, numerator))
        if result is None:
            return "n/a"
        if result.call is None and numerator not in shown:  # say why once per row
            shown.add(numerator)
            return result.cell
        return "-"

    rows = []
    for case in cases:
        shown: set = set()
        primal = measure.format_seconds(times[case.name, "primal"])
        rows.append([case.name, primal, *(cell(case, n, d, shown) for _, n, d in RATIOS)])
    measure.print_table(
        "Speed (medians; ratios of times: lower is faster)",
        ["workload", "primal", *(title for title, _, _ in RATIOS)],
        rows,
    )
    rows = [
        [
            case.name,
            *(
                measure.format_seconds(times[case.name, n]) if (case.name, n) in times else "-"
                for n in ABSOLUTE
            ),
        ]
        for case in cases
    ]
    measure.print_table("Median time per call", ["workload", *ABSOLUTE], rows)


# -- s2sad specifics ---------------------------------------------------------------------


def report_build_times(cases, times, repeats: int = 9, patience: float = 5.0) -> None:
    """Cold build: a first call after ``cache.clear()``, less a warm call's median (the
    median of ``repeats`` builds, or fewer once building has taken ``patience`` seconds).

    Run last: it leaves s2sad's cache cleared of everything else.
    """
    rows = []
    for case in cases:
        if (case.name, "s2sad") not in times:
            continue
        firsts: list[float] = []
        while len(firsts) < repeats and sum(firsts) < patience:
            cache.clear()
            gradient = s2sad_grad(case.function, wrt=case.wrt)
            start = time.perf_counter()
            gradient(*case.args)
            firsts.append(time.perf_counter() - start)
        first, warm = statistics.median(firsts), times[case.name, "s2sad"]
        rows.append(
            [case.name, *map(measure.format_seconds, (first - warm, first, warm)), len(firsts)]
        )
    measure.print_table(
        "s2sad cold build (first call after cache.clear(), less a warm call; median)",
        ["workload", "build", "first call", "warm call", "builds"],
        rows,
    )


def report_disk_loads(cases, repeats: int = 5) -> None:
    """Cold build in a new process whose on-disk cache (``S2SAD_CACHE_DIR``) already holds
    the derivative: the first call in each of ``repeats`` fresh processes, less a warm call
    (medians), after one process has built and stored it."""
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for case in cases:
            name = case.function.__name__
            command = [sys.executable, "-m", "bench.cold_process", name, directory]
            root = Path(__file__).resolve().parent.parent

            def run(command=command, root=root) -> dict:
                done = subprocess.run(command, cwd=root, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(done.stderr.strip().splitlines()[-1])
                return json.loads(done.stdout)

            try:
                filled = run()
                loads = [run() for _ in range(repeats)]
            except RuntimeError as error:
                rows.append([case.name, f"failed: {error}", "", "", "", ""])
                continue
            builds = filled["first"] - filled["warm"]
            loaded = statistics.median(r["first"] - r["warm"] for r in loads)
            hits = min(r["disk_hits"] for r in loads)
            rows.append(
                [
                    case.name,
                    measure.format_seconds(builds),
                    measure.format_seconds(loaded),
                    f"{builds / loaded:.0f}×",
                    str(hits),
                    str(max(r["misses"] - r["disk_hits"] for r in loads)),
                ]
            )
    measure.print_table(
        f"s2sad cold build in a new process, on-disk cache filled (median of {repeats})",
        ["workload", "first process builds", "later process loads", "faster", "loads", "builds"],
        rows,
    )


def report_call_overhead(cases, times, budget: float) -> None:
    """A cached ``grad(f)`` object, and a new ``grad(f, wrt)`` each call, against the
    generated function it dispatches to (the one derivative a new ``grad(f)`` holds after
    its first call)."""
    probe = Case("x * x (overhead probe)", workloads.square, None, "x", (3.0,))
    rows = []
    for case in [probe, *(c for c in cases if (c.name, "s2sad") in times)]:
        gradient = s2sad_grad(case.function, wrt=case.wrt)
        gradient(*case.args)
        state = derivative_state(gradient)
        (generated,) = [*state._calls.values(), *state._ordered_calls.values()]

        def new_each_call(case=case):
            return s2sad_grad(case.function, wrt=case.wrt)(*case.args)

        medians = measure.median_times(
            {
                "direct": functools.partial(generated, *case.args),
                "cached": functools.partial(gradient, *case.args),
                "new": new_each_call,
            },
            budget,
        )
        direct = medians["direct"]

        def versus_direct(seconds: float) -> str:
            extra = seconds - direct
            return f"{measure.format_seconds(extra)} ({extra / direct:+.1%})"

        rows.append(
            [
                case.name,
                measure.format_seconds(direct),
                measure.format_seconds(medians["cached"]),
                versus_direct(medians["cached"]),
                measure.format_seconds(medians["new"]),
                versus_direct(medians["new"]),
            ]
        )
    headers = ["workload", "generated fn", "cached grad(f)", "overhead", "new grad(f)", "overhead"]
    measure.print_table("s2sad per-call overhead (medians)", headers, rows)


def report_memory(cases, results) -> None:
    """Peak traced memory of one gradient call (tracemalloc sees NumPy's buffers, not
    JAX's, so JAX is left out)."""
    names = ["hand", "s2sad", "autograd"]
    rows = []
    for case in cases:
        if all(isinstance(a, (int, float)) for a in case.args):
            continue
        peaks = {}
        for name in names:
            result = results.get((case.name, name))
            if result is not None and result.call is not None:
                peaks[name] = measure.peak_memory(result.call)
        ratio = measure.format_ratio(peaks["s2sad"] / peaks["hand"]) if "s2sad" in peaks else "-"
        rows.append(
            [
                case.name,
                *(measure.format_bytes(peaks[n]) if n in peaks else "-" for n in names),
                ratio,
            ]
        )
    measure.print_table(
        "Peak memory of one gradient call (tracemalloc)", ["workload", *names, "s2sad/hand"], rows
    )


def loop_pushes(source: str) -> list[tuple[str, list[str]]]:
    """Each primal loop of generated source (a loop that pushes on a tape) with the pushes
    its body makes per iteration."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.For, ast.While)):
            continue
        pushes = [
            ast.unparse(call)
            for statement in node.body
            for call in ast.walk(statement)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id.startswith("tape")
        ]
        if pushes:
            header = ast.unparse(node).splitlines()[0]
            found.append((header, pushes))
    return found


def report_tape(cases, times) -> None:
    rows = []
    for case in cases:
        if (case.name, "s2sad") not in times:
            continue
        source = s2sad_grad(case.function, wrt=case.wrt).source_for(*case.args)
        for header, pushes in loop_pushes(source):
            rows.append([case.name, header, str(len(pushes)), "; ".join(pushes)])
    measure.print_table(
        "s2sad tape pushes per loop iteration (from the generated source)",
        ["workload", "primal loop", "pushes per iteration", "pushes"],
        rows,
    )


# -- main --------------------------------------------------------------------------------


OPTIONAL = {"autograd": frameworks.Autograd, "jax": frameworks.Jax}


def framework_names(text: str) -> list[str]:
    """``--frameworks``: comma-separated names from OPTIONAL."""
    names = [name for name in text.split(",") if name]
    unknown = sorted(set(names) - set(OPTIONAL))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {', '.join(unknown)} (choose from {', '.join(OPTIONAL)})"
        )
    return names


def parse_arguments(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="check each gradient once, no timings (exit 1 if s2sad is wrong)",
    )
    parser.add_argument(
        "--budget", type=float, default=0.5, help="seconds to spend on each timing (default 0.5)"
    )
    parser.add_argument(
        "--frameworks",
        type=framework_names,
        default="autograd,jax",
        help="optional comparisons to run, comma-separated (default autograd,jax; '' for none)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    options = parse_arguments(argv)
    wanted = [OPTIONAL[name] for name in options.frameworks]
    extra, missing = frameworks.available(wanted)
    implementations = [frameworks.Primal(), frameworks.Hand(), frameworks.S2SAD(), *extra]
    gradient_names = ["s2sad", *(f.name for f in wanted)]
    cases = make_cases()

    results, reference_errors = check_all(cases, implementations)
    report_correctness(cases, gradient_names, results, reference_errors, missing)
    failures = [
        f"s2sad on {case.name}: {results[case.name, 's2sad'].cell}"
        for case in cases
        if results[case.name, "s2sad"].status in ("wrong", "error")
    ] + [
        f"hand adjoint of {name} is off a central difference by {error:.1e}"
        for name, error in reference_errors.items()
        if error > REFERENCE_TOLERANCE
    ]

    if not options.quick:
        times = time_all(cases, [i.name for i in implementations], results, options.budget)
        report_speed(cases, results, times)
        report_call_overhead(cases, times, options.budget)
        report_memory(cases, results)
        report_tape(cases, times)
        report_build_times(cases, times)
        report_disk_loads(cases)

    print()
    for failure in failures:
        print(f"FAIL: {failure}")
    print("FAILED" if failures else "OK: every supported s2sad gradient matches its hand adjoint")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
