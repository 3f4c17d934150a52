"""`matrixcalc verify`: judge an identity or a derivative claim (SPEC section 7)."""

from __future__ import annotations

import argparse

from ...outputs.json_objects import verify_json
from ..arguments import output_argument, trials_argument, where_argument
from ..json_output import emit_json
from ..kinds import kind_warnings
from ..registry import EXIT_FALSE, EXIT_OK, command


def statement_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("statement", metavar="STATEMENT",
                        help='"LHS = RHS" or "d/dX EXPR = RHS", quoted')


@command("verify", "judge an identity or a derivative claim (exit 0 holds, 1 does not)",
         examples=('matrixcalc verify "d/dX tr(A X) = A^T"',
                   'matrixcalc verify "(A B)^T = B^T A^T"',
                   'matrixcalc verify "x^T A x = x^T A^T x" --json',
                   'matrixcalc verify "d/dx x^T A x = 2 A x" --where "A: symmetric"'),
         arguments=(statement_argument, where_argument, output_argument("json"),
                    trials_argument))
def run_verify(args: argparse.Namespace) -> int:
    import matrixcalc as mc

    from ...numbers.reports import format_verdict

    verdict = mc.verify(args.statement, where=args.where, trials=args.trials, seed=args.seed)
    if args.output == "json":
        emit_json(verify_json(verdict, args.statement, args.where, kind_warnings(args)))
    else:
        print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_FALSE
