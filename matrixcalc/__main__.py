"""`python -m matrixcalc`: the same command line as the `matrixcalc` script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
