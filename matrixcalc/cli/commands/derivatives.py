"""`matrixcalc derive`, `jacobian`, `hessian` and `explain`: derivatives, checked against
autograd on request, and derivations step by step (SPEC section 7)."""

from __future__ import annotations

import argparse
import sys

from ...outputs.json_objects import derive_json, shared_or_plain
from ..arguments import (
    expression_argument,
    output_argument,
    trials_argument,
    where_argument,
    wrt_argument,
    wrt_names,
)
from ..json_output import emit_json
from ..kinds import kind_warnings, report_inferred
from ..registry import EXIT_FALSE, EXIT_OK, command


def check_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="compare with torch.autograd on random inputs (exit 1 if off)")
    trials_argument(parser)


def layout_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layout", choices=["numerator", "denominator"],
                        default="numerator", help="Jacobian layout (default numerator)")


def vec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vec", action="store_true",
                        help="an order-3/4 derivative as the matrix ∂vec(F)/∂vec(X) "
                             "(Kronecker form)")


def warn_unused(expr, names: list[str], where) -> None:
    """Say on stderr when --wrt names a symbol the expression lacks (its derivative is 0)
    or --where declares one it does not use: mostly a typo."""
    from ...errors import visible  # a name from argv may hold any character: never raw
    from ...language.declarations import parse_where
    used = set(expr.shapes)
    for name in names:
        if name not in used:
            print(f"warning: `{visible(name)}` does not occur in the expression: the derivative by "
                  "it is 0", file=sys.stderr)
    declared = parse_where(where) if where else {}
    for name in sorted(set(declared) - used - set(names)):
        print(f"warning: --where declares `{visible(name)}`, which the expression does not use",
              file=sys.stderr)


def _run_derivative(args: argparse.Namespace, which: str) -> int:
    import matrixcalc as mc

    expr = mc.parse(args.expression, where=args.where)
    names = wrt_names(args)
    warn_unused(expr, names, args.where)
    wrt = names if len(names) > 1 else names[0]
    if which == "derive":
        out = mc.derive(expr, wrt, where=args.where, layout=args.layout, vec=args.vec)
        results = list(zip([[n] for n in names], out if len(names) > 1 else [out]))
    else:
        options = {"vec": args.vec} if which == "hessian" else {}
        function = mc.jacobian if which == "jacobian" else mc.hessian
        results = [(names, _in_layout(function(expr, wrt, where=args.where, **options),
                                      args.layout))]
    report = None
    if args.check:
        order = 2 if which == "hessian" else 1
        if len(names) > 1 and which != "derive":
            from ...errors import UnsupportedError
            raise UnsupportedError("--check with stacked variables is not supported")
        claimed = [r for _, r in results]
        layout_ok = args.layout == "numerator" or expr.ty.is_scalar
        if not layout_ok:
            from ...errors import UsageError
            raise UsageError("--check compares numerator-layout derivatives")
        report = mc.check(expr, wrt, result=claimed if len(names) > 1 else claimed[0],
                          where=args.where, trials=args.trials, order=order, seed=args.seed)
    if args.output == "json":
        emit_json(derive_json(which, args.expression, args.where, names, args.layout, expr,
                              results, report, kind_warnings(args)))
    else:
        report_inferred(expr)
        for w, r in results:
            shown = shared_or_plain(r) if args.shared and args.output != "index" else r
            text = {"latex": shown.latex, "index": r.index}.get(args.output, shown.__str__)()
            print(text if len(results) == 1 else f"d/d{w[0]}: {text}")
        if report is not None:
            print(str(report))
    return EXIT_OK if report is None or report.ok else EXIT_FALSE


def _in_layout(jacobian, layout: str):
    """A Jacobian in the layout asked for: denominator layout is its transpose."""
    if layout == "numerator" or jacobian.is_tensor:
        return jacobian
    import matrixcalc as mc

    from ...language import build
    return mc.simplify(build.apply("transpose", jacobian))


def shared_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shared", action="store_true",
                        help="name repeated parts once: `… where t1 = tanh(W1 x)`")


DERIVATIVE_ARGUMENTS = (expression_argument, wrt_argument(), where_argument,
                        output_argument("latex", "index", "json"), check_argument,
                        shared_argument)


@command("derive", "differentiate: the closed-form derivative (SPEC section 3 layouts)",
         examples=('matrixcalc derive "x^T A x" --wrt x',
                   'matrixcalc derive "x^T A x" --wrt x --where "A: symmetric" --check',
                   'matrixcalc derive "tr(A X B)" --wrt X --latex',
                   'matrixcalc derive "1/(2n) ||y - X w||^2" --wrt w --index',
                   'matrixcalc derive --wrt z --json -- "-y^T log(softmax(z))"',
                   'matrixcalc derive "x^T A x" --wrt x --explain',
                   'matrixcalc derive "A X B" --wrt X --vec',
                   'matrixcalc derive "||W3 tanh(W2 tanh(W1 x)) - y||^2" --wrt W1 --shared'),
         arguments=DERIVATIVE_ARGUMENTS + (layout_argument, vec_argument, lambda parser: parser.add_argument(
             "--explain", action="store_true",
             help="print the derivation step by step in index notation (with --latex: LaTeX)")))
def run_derive(args: argparse.Namespace) -> int:
    if getattr(args, "explain", False):
        from ...errors import UsageError
        if args.output in ("json", "index") or args.check or args.layout != "numerator":
            raise UsageError("--explain prints text or LaTeX (--latex) of a numerator-layout "
                             "derivative; not with --json, --index, --check or --layout")
        return _print_explanations(args, "index")
    return _run_derivative(args, "derive")


def _print_explanations(args: argparse.Namespace, method: str, order: int = 1) -> int:
    """mc.explain for each variable, as text or (--latex) LaTeX."""
    import matrixcalc as mc

    expr = mc.parse(args.expression, where=args.where)
    report_inferred(expr)
    for name in wrt_names(args):
        explanation = mc.explain(expr, name, where=args.where, method=method, order=order)
        print(explanation.latex() if args.output == "latex" else explanation.text)
    return EXIT_OK


def explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", choices=["index", "differential"], default="index",
                        help="index notation (default) or differentials (matrix notation)")
    parser.add_argument("--order", type=int, choices=[1, 2], default=1,
                        help="2: the Hessian, by the second differential (--method "
                             "differential)")


@command("explain", "a derivation step by step: in index notation, or by differentials in "
                    "matrix notation (Magnus & Neudecker)",
         examples=('matrixcalc explain "x^T A x" --wrt x',
                   'matrixcalc explain "x^T A x" --wrt x --method differential',
                   'matrixcalc explain "log(|A|)" --wrt A --method differential --latex',
                   'matrixcalc explain "x^T A x" --wrt x --method differential --order 2'),
         arguments=(expression_argument, wrt_argument(), where_argument,
                    output_argument("latex"), explain_arguments))
def run_explain(args: argparse.Namespace) -> int:
    return _print_explanations(args, args.method, args.order)



@command("jacobian", "the Jacobian (numerator layout); scalars listed in --wrt are stacked",
         examples=('matrixcalc jacobian "softmax(z)" --wrt z',
                   'matrixcalc jacobian "[x^2 y; sin(x)]" --wrt x,y --where "x, y: scalar"',
                   'matrixcalc jacobian "A x" --wrt x --layout denominator'),
         arguments=DERIVATIVE_ARGUMENTS + (layout_argument,))
def run_jacobian(args: argparse.Namespace) -> int:
    args.vec = False
    return _run_derivative(args, "jacobian")


@command("hessian", "the Hessian: the Jacobian of the gradient",
         examples=('matrixcalc hessian "x^T A x" --wrt x',
                   'matrixcalc hessian "x^2 + x y + 2 y^2" --wrt x,y --where "x, y: scalar"',
                   'matrixcalc hessian "tr(X^T A X)" --wrt X --vec'),
         arguments=DERIVATIVE_ARGUMENTS + (vec_argument,))
def run_hessian(args: argparse.Namespace) -> int:
    args.layout = "numerator"
    return _run_derivative(args, "hessian")
