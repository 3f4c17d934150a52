"""`matrixcalc parse`: an expression's canonical text, LaTeX, kind, dimensions and symbols."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ...outputs.json_objects import parse_json
from ..arguments import expression_argument, output_argument, where_argument
from ..json_output import emit_json
from ..kinds import kind_warnings, report_inferred
from ..registry import EXIT_OK, command


def shape_words(kind: str, dims: Sequence) -> str:
    """`scalar`, `vector (n)`, `matrix (m×n)`, `row vector (1×n)`."""
    if not dims:
        return kind
    return f"{kind} ({'×'.join(str(d) for d in dims)})"


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
        report_inferred(expr)
    elif args.output == "json":
        emit_json(parse_json(expr, args.expression, args.where, kind_warnings(args)))
    else:
        print(str(expr))
        print(f"  kind     {shape_words(expr.kind, expr.shape)}")
        print(f"  latex    {expr.latex()}")
        for i, row in enumerate(symbol_rows(expr)):
            print(f"  {'symbols' if i == 0 else '':7}  {row}")
    return EXIT_OK
