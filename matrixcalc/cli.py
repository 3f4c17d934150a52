"""The `matrixcalc` command line (SPEC section 7); imported by nothing in the package.

Each subcommand is one small function registered with `@command`: its name, a one-line
help, examples for `--help`, the arguments it takes (reusable adders such as
`expression_argument`, `where_argument`, `output_argument`) and a body that returns an
exit status. Adding `derive`, `jacobian`, `hessian`, `verify`, `tables`, `table verify`
or `codegen` is one more decorated function.

Exit status: 0 done (or the identity holds), 1 it does not hold / the check failed,
2 bad input or bad usage, with the message on stderr and never a traceback; 3 is kept
for a bug in matrixcalc itself (an internal error; MATRIXCALC_DEBUG=1 shows the traceback).

`--json` output (stable; a change that breaks a consumer bumps the version in
`"schema"`). Every object has `"schema"`. For `parse`, schema `"matrixcalc.parse/1"`:

    {
      "schema": "matrixcalc.parse/1",
      "input": "x^T A x",            # the expression as given
      "where": "A: symmetric",       # the --where text, or null
      "text": "x^T A x",             # canonical text; mc.parse(text) gives it back
      "latex": "x^{\\top} A x",
      "kind": "scalar",              # scalar | vector | row vector | matrix
      "shape": [],                   # [] scalar, ["n"] vector, [1, "n"] row, ["m", "n"]
      "symbols": [                   # in order of first use
        {"name": "x", "kind": "vector", "shape": ["n"], "assumptions": [],
         "origin": "convention"},   # declared | convention | inferred scalar
        {"name": "A", "kind": "matrix", "shape": ["n", "n"],
         "assumptions": ["symmetric"], "origin": "declared"}
      ]
    }

A dimension is an integer (a concrete size) or a string (a symbolic dimension; a
product of dimensions is written with "·"). Symbol kinds are scalar, vector or matrix;
assumptions are sorted. When the input is bad, `--json` still prints one object to
stdout, schema `"matrixcalc.error/1"`, besides the message on stderr (exit status 2):

    {"schema": "matrixcalc.error/1",
     "error": {"type": "ParseError", "kind": "parse error", "message": "unexpected `)`",
               "line": 1, "column": 5, "hint": null, "text": "<the full message>"}}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FALSE = 1  # the identity does not hold / the check failed
EXIT_BAD_INPUT = 2  # bad input or bad usage
EXIT_INTERNAL = 3  # a bug in matrixcalc (set MATRIXCALC_DEBUG=1 for the traceback)

PARSE_SCHEMA = "matrixcalc.parse/1"
ERROR_SCHEMA = "matrixcalc.error/1"

ArgumentAdder = Callable[[argparse.ArgumentParser], None]
Runner = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    examples: tuple[str, ...]
    arguments: tuple[ArgumentAdder, ...]
    run: Runner


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, examples: Sequence[str] = (),
            arguments: Sequence[ArgumentAdder] = ()) -> Callable[[Runner], Runner]:
    """Register a subcommand: `run(args) -> exit status`."""
    def register(run: Runner) -> Runner:
        COMMANDS[name] = Command(name, help, tuple(examples), tuple(arguments), run)
        return run
    return register


# -- reusable arguments ------------------------------------------------------------------

def expression_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", metavar="EXPR",
                        help='an expression, quoted: "x^T A x" (one that starts with '
                             "`-` goes after `--`)")


def where_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--where", metavar="DECLS", default=None,
                        help='kinds and assumptions: "n, m: scalar; A: symmetric"')


def output_argument(*formats: str) -> ArgumentAdder:
    """Mutually exclusive output formats (`--latex`, `--index`, `--json`)."""
    words = {"latex": "print only the LaTeX", "index": "print index (Einstein) notation",
             "json": "print one JSON object (schema in the README)"}

    def add(parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for name in formats:
            group.add_argument(f"--{name}", action="store_const", const=name, dest="output",
                               help=words[name])
        parser.set_defaults(output="text")
    return add


# -- what the commands print -------------------------------------------------------------

def dims_json(dims: Sequence) -> list:
    """Concrete sizes as integers, symbolic dimensions as strings."""
    return [int(d) if isinstance(d, int) or str(d).isdigit() else str(d) for d in dims]


def shape_words(kind: str, dims: Sequence) -> str:
    """`scalar`, `vector (n)`, `matrix (m×n)`, `row vector (1×n)`."""
    if not dims:
        return kind
    return f"{kind} ({'×'.join(str(d) for d in dims)})"


def symbol_json(info) -> dict:
    return {"name": info.name, "kind": info.kind, "shape": dims_json(info.shape.dims),
            "assumptions": sorted(info.assumptions), "origin": info.origin}


def symbol_rows(expr) -> list[str]:
    """One aligned line per symbol: name, kind and dimensions, assumptions, origin."""
    infos = list(expr.shapes.values())
    if not infos:
        return ["(no symbols)"]
    cells = [(info.name, shape_words(info.kind, info.shape.dims),
              ", ".join(sorted(info.assumptions)), info.origin) for info in infos]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths))
            + f"  ({row[3]})" for row in cells]


def json_text(value, depth: int = 0) -> str:
    """Indented JSON for people too: the top object and its lists and objects one entry
    a line, anything deeper (a symbol, a shape) compact on its line."""
    flat = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if depth >= 2 or flat or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False)
    pad, end = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {json_text(v, depth + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    items = [pad + json_text(v, depth + 1) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + end + "]"


def emit_json(obj: dict) -> None:
    print(json_text(obj))


# -- commands ----------------------------------------------------------------------------

@command("parse", "parse an expression: its canonical text, LaTeX, kind and dimensions",
         examples=('matrixcalc parse "x^T A x"',
                   'matrixcalc parse "x^T A x" --where "A: symmetric"',
                   'matrixcalc parse "1/(2n) ||y - X w||^2" --latex',
                   'matrixcalc parse "tr(A B)" --json'),
         arguments=(expression_argument, where_argument, output_argument("latex", "json")))
def run_parse(args: argparse.Namespace) -> int:
    import matrixcalc as mc

    expr = mc.parse(args.expression, where=args.where)
    if args.output == "latex":
        print(expr.latex())
    elif args.output == "json":
        emit_json({"schema": PARSE_SCHEMA, "input": args.expression, "where": args.where,
                   "text": str(expr), "latex": expr.latex(), "kind": expr.kind,
                   "shape": dims_json(expr.shape),
                   "symbols": [symbol_json(info) for info in expr.shapes.values()]})
    else:
        print(str(expr))
        print(f"  kind     {shape_words(expr.kind, expr.shape)}")
        print(f"  latex    {expr.latex()}")
        for i, row in enumerate(symbol_rows(expr)):
            print(f"  {'symbols' if i == 0 else '':7}  {row}")
    return EXIT_OK


# -- the parser and main -----------------------------------------------------------------

PLANNED = "derive, jacobian, hessian, verify, tables, table verify and codegen are coming"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    pass


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors exit 2 (argparse's own rule), with a hint for the one common trap:
    an expression that starts with `-` reads as an option unless it follows `--`."""

    argv: Sequence[str] = ()

    def error(self, message: str):
        dashed = [a for a in self.argv if a.startswith("-") and a[1:2] not in ("", "-")
                  and a not in ("-h",)]
        if dashed:
            message += (f"\nhint: an expression that starts with `-` goes after `--`: "
                        f"{self.prog} -- \"{dashed[0]}\"")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    examples = "\n".join(f"  {line}" for cmd in COMMANDS.values() for line in cmd.examples)
    parser = ArgumentParser(
        prog="matrixcalc", formatter_class=HelpFormatter,
        description="Symbolic matrix calculus: text in, closed-form matrix derivatives out.",
        epilog=f"examples:\n{examples}\n\n({PLANNED}.)\n\n"
               "exit status: 0 done (or the identity holds), 1 it does not hold, "
               "2 bad input or usage, 3 internal error")
    parser.add_argument("--version", action="version", version=f"matrixcalc {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(
            cmd.name, help=cmd.help, description=cmd.help, formatter_class=HelpFormatter,
            epilog="examples:\n" + "\n".join(f"  {line}" for line in cmd.examples))
        for add in cmd.arguments:
            add(sub)
        sub.set_defaults(run=cmd.run)
    return parser


def error_json(error) -> dict:
    return {"schema": ERROR_SCHEMA,
            "error": {"type": type(error).__name__, "kind": error.kind,
                      "message": error.message, "line": error.line, "column": error.column,
                      "hint": error.hint, "text": str(error)}}


def _tolerant_streams() -> None:
    """Never die on printing a character the terminal's encoding cannot show."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import MatrixCalcError

    _tolerant_streams()
    argv = list(sys.argv[1:] if argv is None else argv)
    ArgumentParser.argv = argv
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: message on stderr, exit 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
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


if __name__ == "__main__":
    sys.exit(main())
