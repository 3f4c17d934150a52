"""`matrixcalc codegen`: generated numpy, torch or JAX code for an expression's value, or
value and gradient (SPEC section 7)."""

from __future__ import annotations

import argparse

from ...outputs.json_objects import codegen_json
from ..arguments import (
    expression_argument,
    output_argument,
    where_argument,
    wrt_argument,
    wrt_names,
)
from ..json_output import emit_json
from ..kinds import kind_warnings, report_inferred
from ..registry import EXIT_OK, command


def backend_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["numpy", "torch", "jax"], default="numpy",
                        help="the array library of the generated code (default numpy)")


@command("codegen", "generate numpy, torch or JAX code: the value, or value and gradient",
         examples=('matrixcalc codegen "x^T A x" --backend numpy',
                   'matrixcalc codegen "sum(gelu(W x))" --wrt W --backend jax',
                   'matrixcalc codegen "1/(2n) ||y - X w||^2" --wrt w --backend torch',
                   'matrixcalc codegen "a^T X1 X2 X3 b" --wrt X1 --json'),
         arguments=(expression_argument, wrt_argument(required=False), where_argument,
                    backend_argument, output_argument("json")))
def run_codegen(args: argparse.Namespace) -> int:
    import matrixcalc as mc

    names = wrt_names(args) if args.wrt else None
    wrt = None if names is None else (names if len(names) > 1 else names[0])
    expr = mc.parse(args.expression, where=args.where)
    report_inferred(expr)
    function = mc.lambdify(expr, backend=args.backend, wrt=wrt, where=args.where)
    if args.output == "json":
        emit_json(codegen_json(function, args.expression, args.where, names, args.backend,
                               kind_warnings(args)))
    else:
        print(function.source, end="")
    return EXIT_OK
