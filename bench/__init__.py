"""s2sad's benchmark harness: ``python bench/run.py`` (timings) or ``--quick`` (correctness).

Importing the package pins NumPy's BLAS to one thread, so it must be imported before NumPy:
timings then compare the generated code, not how many cores a matrix product found.
"""

import os

for _variable in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_variable] = "1"
