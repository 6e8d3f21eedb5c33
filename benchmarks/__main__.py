"""``python -m benchmarks --scale 1 50``: see benchmarks/run.py."""

import sys

from benchmarks.run import main

sys.exit(main())
