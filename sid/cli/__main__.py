import sys

from sid.cli import main

sys.exit(main())
