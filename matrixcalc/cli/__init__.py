"""The `matrixcalc` command line (SPEC section 7); imported by nothing in the package.

Each subcommand is one small function registered with `@command` (registry.py) in a
module of cli/commands/: its name, a one-line help, examples for `--help`, the arguments
it takes (reusable adders in arguments.py such as `expression_argument`,
`where_argument`, `output_argument`) and a body that returns an exit status. Adding
`derive`, `jacobian`, `hessian`, `verify`, `explain`, `tables`, `table verify` or
`codegen` is one more decorated function. parser.py builds the argparse parser from the
registered commands; `main` here runs one and turns errors into exit statuses.

Exit status: 0 done (or the identity holds), 1 it does not hold / the check failed,
2 bad input or bad usage, with the message on stderr and never a traceback; 3 is kept
for a bug in matrixcalc itself (an internal error; MATRIXCALC_DEBUG=1 shows the traceback).

The `--json` schemas are documented in json_output.py; how kinds the user did not
declare are reported, in kinds.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..outputs.json_objects import error_json
from .json_output import emit_json
from .kinds import run_noting_kinds
from .parser import ArgumentParser, build_parser
from .registry import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK


def _tolerant_streams() -> None:
    """Never die on printing a character the terminal's encoding cannot show."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    from ..errors import MatrixCalcError

    _tolerant_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    ArgumentParser.argv = argv
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: message on stderr, exit 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return run_noting_kinds(args)
    except MatrixCalcError as error:
        if getattr(args, "output", None) == "json":
            emit_json(error_json(error))
        print(f"matrixcalc {args.command}: {error.kind}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `matrixcalc ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # a bug, not bad input: say so in one line
        if os.environ.get("MATRIXCALC_DEBUG"):
            raise
        print(f"matrixcalc {args.command}: internal error (a bug in matrixcalc, please "
              f"report it with the command line): {type(error).__name__}: {error}",
              file=sys.stderr)
        return EXIT_INTERNAL
