"""The subcommands of `matrixcalc`, one module per kind; importing this package registers
them all, in the order `--help` lists them."""

# isort: skip_file
# The order of registration is the order of `--help`: keep it.
from . import parse  # noqa: F401
from . import tables  # noqa: F401
from . import derivatives  # noqa: F401
from . import verify  # noqa: F401
from . import codegen  # noqa: F401
from . import serve  # noqa: F401
