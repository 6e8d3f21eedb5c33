"""``python -m benchmarks --scale 1 50``: see benchmarks/run.py.

``--blas-threads N`` must take effect before numpy loads OpenBLAS, so it is read here,
before anything imports numpy, and exported as OPENBLAS_NUM_THREADS / OMP_NUM_THREADS.
"""

import os
import sys

if "--blas-threads" in sys.argv:
    i = sys.argv.index("--blas-threads")
    if i + 1 < len(sys.argv):
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = sys.argv[i + 1]

from benchmarks.run import main  # noqa: E402  (after the environment is set)

sys.exit(main())
