"""`python -m matrixcalc.cli`: the same command line as the `matrixcalc` script."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
