"""One BLAS thread for sid's commands unless the user says otherwise (imported by
sid.cli before anything loads numpy; an environment variable already set is kept).

sid's dense products are small (replicate covariances, GLM cross-products) and its large
ones sparse, so OpenBLAS's threads mostly spin, and on a busy machine they cost far more
than they give: the demo's tables stage took 18.3 s with OpenBLAS's default threads and
3.8 s with one while another process used one of the 2 cores. The benchmarks measure the
same setting (``OPENBLAS_NUM_THREADS=1``). An analyst's ``import sid`` leaves the process's
BLAS alone: only the command line sets it.
"""

from __future__ import annotations

import os

VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

for _name in VARIABLES:
    os.environ.setdefault(_name, "1")
