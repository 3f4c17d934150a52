"""The `matrixcalc` command line (SPEC section 7); imported by nothing in the package.

Each subcommand is one small function registered with `@command`: its name, a one-line
help, examples for `--help`, the arguments it takes (reusable adders such as
`expression_argument`, `where_argument`, `output_argument`) and a body that returns an
exit status. Adding `derive`, `jacobian`, `hessian`, `verify`, `explain`, `tables`,
`table verify` or `codegen` is one more decorated function.

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
      ],
      "warnings": []                 # the KindWarnings' messages (SPEC section 2)
    }

A dimension is an integer (a concrete size) or a string (a symbolic dimension; a
product of dimensions is written with "·"). Symbol kinds are scalar, vector or matrix;
assumptions are sorted. When the input is bad, `--json` still prints one object to
stdout, schema `"matrixcalc.error/1"`, besides the message on stderr (exit status 2):

    {"schema": "matrixcalc.error/1",
     "error": {"type": "ParseError", "kind": "parse error", "message": "unexpected `)`",
               "line": 1, "column": 5, "hint": null, "text": "<the full message>"}}

`derive`, `jacobian` and `hessian`, schema `"matrixcalc.derive/1"`:

    {
      "schema": "matrixcalc.derive/1",
      "command": "derive",           # derive | jacobian | hessian
      "input": "x^T A x", "where": null,
      "wrt": ["x"],                  # the --wrt names, in order
      "layout": "numerator",         # numerator | denominator
      "results": [                   # derive: one per variable; jacobian/hessian: one
        {"wrt": ["x"], "text": "(A + A^T) x", "latex": "...",
         "shared": "(A + A^T) x",    # repeated parts named: "... where t1 = ..." lines
         "index": "A_{ia} x_{a} + A_{ai} x_{a}",   # null where there is no index form
         "kind": "vector", "shape": ["n"]}
      ],
      "symbols": [...],              # as for parse, of the input expression
      "check": null,                 # with --check: {"ok", "max_error", "trials", "seed",
                                     #   "sizes": [{dim: size}], "counterexample": text|null}
      "warnings": []                 # as for parse
    }

`verify`, schema `"matrixcalc.verify/1"` (exit status 0 holds, 1 does not):

    {"schema": "matrixcalc.verify/1", "statement": "...", "where": null,
     "holds": true, "how": "numeric",    # numeric | symbolic | two derivations
     "trials": 5, "max_error": 0.0, "seed": 123, "sizes": [{"n": 3}, ...],
     "shapes": {"A": "A: matrix (n×m) (convention)", ...},
     "diagnosis": null,            # how a false claim is off, in a sentence, or null
     "warnings": [],               # as for parse
     "counterexample": null}       # or {"inputs": {name: number | nested lists},
                                   #   "left", "right", "left_label", "right_label",
                                   #   "sizes", "seed", "error"}

`codegen`, schema `"matrixcalc.codegen/1"`:

    {"schema": "matrixcalc.codegen/1", "input": "...", "where": null,
     "wrt": ["w"],                 # or null: the value alone
     "backend": "numpy",           # numpy | torch
     "inputs": ["X", "w", "y"],    # the generated function's arguments, in order
     "returns": "[value, gradient]",  # value | [value, gradient] | [value, [gradients]]
     "source": "import numpy as np ...", "warnings": []}

Kinds the user did not declare are reported (SPEC section 2): every symbol's "origin" in
--json (parse, derive, verify), the `with …` line of `verify` and the symbols of `parse`;
where the output lists no origins (derive, jacobian and hessian as text, LaTeX or index
notation, `parse --latex`, `codegen`, `--explain`), a kind that was inferred is told on
stderr as `with n: scalar (inferred scalar)`, so that stdout stays the bare result for
scripts. A KindWarning is one `matrixcalc CMD: warning: …` line on stderr, and with
--json also an entry of "warnings".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .outputs.json_objects import (
    codegen_json,
    derive_json,
    error_json,
    parse_json,
    shared_or_plain,
    verify_json,
)

EXIT_OK = 0
EXIT_FALSE = 1  # the identity does not hold / the check failed
EXIT_BAD_INPUT = 2  # bad input or bad usage
EXIT_INTERNAL = 3  # a bug in matrixcalc (set MATRIXCALC_DEBUG=1 for the traceback)

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


def report_inferred(expr) -> None:
    """`with n: scalar (inferred scalar)` on stderr when a kind was inferred (SPEC section
    2): for commands whose output does not list the symbols' origins itself."""
    inferred = [info.describe() for info in expr.shapes.values()
                if info.origin == "inferred scalar"]
    if inferred:
        print(f"with {'; '.join(inferred)}", file=sys.stderr)


def kind_warnings(args: argparse.Namespace) -> list[str]:
    """The KindWarnings this command caused (see `main`), for `--json`'s "warnings"."""
    from .errors import KindWarning
    return [str(w.message) for w in getattr(args, "caught", [])
            if issubclass(w.category, KindWarning)]


def json_dumps(value) -> str:
    """Compact JSON, Unicode kept readable but every character a reader would not see as
    itself (as errors.visible decides) escaped: the same value for a JSON reader, nothing
    hidden or reordered for a person."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def json_text(value, depth: int = 0) -> str:
    """Indented JSON for people too: the top object and its lists and objects one entry
    a line, anything deeper (a symbol, a shape) compact on its line."""
    flat = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if depth >= 2 or flat or not isinstance(value, (dict, list)) or not value:
        return json_dumps(value)
    pad, end = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        items = [f"{pad}{json_dumps(k)}: {json_text(v, depth + 1)}"
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


# -- identity tables (SPEC section 6) ----------------------------------------------------

@command("tables", "list the built-in identity tables and their sizes",
         examples=("matrixcalc tables",))
def run_tables(args: argparse.Namespace) -> int:
    from .table.tables import load_table, tables

    rows = []
    for name in tables():
        table = load_table(name)
        functions = f", {len(table.functions)} functions" if table.functions else ""
        rows.append((name, f"{len(table)} identities{functions}", table.source))
    width = max((len(r[0]) for r in rows), default=0)
    size_width = max((len(r[1]) for r in rows), default=0)
    for name, size, source in rows:
        print(f"{name.ljust(width)}  {size.ljust(size_width)}  {source}")
    return EXIT_OK


def table_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["verify"], help="what to do with the tables")
    parser.add_argument("files", metavar="FILE", nargs="+",
                        help="table files (.yaml), or names of built-in tables")
    parser.add_argument("--trials", type=int, default=3,
                        help="random points per identity (default 3)")
    parser.add_argument("--seed", type=int, default=None, help="offset of the seeds")


@command("table", "verify identity tables: every entry, symbolically or numerically",
         examples=("matrixcalc table verify identities/cookbook-2.5-traces.yaml",
                   "matrixcalc table verify lesson cookbook-2.5-traces --trials 10"),
         arguments=(table_arguments,))
def run_table(args: argparse.Namespace) -> int:
    import warnings

    from .errors import MatrixCalcError, TableWarning
    from .table.tables import load_table

    malformed, failing, counts = False, 0, {"symbolic": 0, "numeric": 0, "fails": 0,
                                            "error": 0}
    for name in args.files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TableWarning)  # said below, once a table
                table = load_table(name)
        except MatrixCalcError as error:
            print(f"matrixcalc table: {error.kind}: {error}", file=sys.stderr)
            malformed = True
            continue

        for function in table.unchecked:
            print(f"{table.name}: function `{function}` has no `definition`: its rule is "
                  "unchecked", file=sys.stderr)
        with progress_bar(len(table), table.name) as bar:
            results = table.results(trials=args.trials, seed=args.seed,
                                    progress=lambda done, total, entry: bar(done, entry.id))
        mine = {key: 0 for key in counts}
        for result in results:
            mine[result.status] += 1
            if result.status in ("fails", "error"):
                failing += 1
                print(f"{table.name}: {result.entry.id} ({table.path}:{result.entry.line}) "
                      f"does not hold: {result.entry.statement}")
                print(f"  {result.error or result.verdict.counterexample}")
            if result.note:
                print(f"{table.name}: {result.entry.id}: {result.note}")
        for key in counts:
            counts[key] += mine[key]
        print(f"{table.name}: {len(results)} identities: {mine['symbolic']} symbolic, "
              f"{mine['numeric']} numeric, {mine['fails'] + mine['error']} failing")
    total = sum(counts.values())
    print(f"total: {total} identities: {counts['symbolic']} symbolic, {counts['numeric']} "
          f"numeric, {counts['fails'] + counts['error']} failing")
    if malformed:
        return EXIT_BAD_INPUT
    return EXIT_FALSE if failing else EXIT_OK


# -- derivatives, verification and generated code (SPEC section 7) ----------------------

def wrt_argument(required: bool = True) -> ArgumentAdder:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--wrt", metavar="X", required=required, action="append",
                            help="the variable; several as x,y or --wrt x --wrt y")
    return add


def check_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="compare with torch.autograd on random inputs (exit 1 if off)")
    trials_argument(parser)


def trials_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=5, help="random points (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first point")


def layout_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layout", choices=["numerator", "denominator"],
                        default="numerator", help="Jacobian layout (default numerator)")


def vec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vec", action="store_true",
                        help="an order-3/4 derivative as the matrix ∂vec(F)/∂vec(X) "
                             "(Kronecker form)")


@contextmanager
def progress_bar(total: int, label: str):
    """A progress bar on stderr (tqdm) when it is a terminal; nothing in a pipe or a log.
    Yields `update(done, what)`."""
    if not sys.stderr.isatty():
        yield lambda done, what: None
        return
    from tqdm import tqdm
    with tqdm(total=total, desc=label, unit="identity", file=sys.stderr, leave=False) as bar:
        yield lambda done, what: (bar.set_postfix_str(what), bar.update(done - bar.n))


def warn_unused(expr, names: list[str], where) -> None:
    """Say on stderr when --wrt names a symbol the expression lacks (its derivative is 0)
    or --where declares one it does not use: mostly a typo."""
    from .errors import visible  # a name from argv may hold any character: never raw
    from .language.declarations import parse_where
    used = set(expr.shapes)
    for name in names:
        if name not in used:
            print(f"warning: `{visible(name)}` does not occur in the expression: the derivative by "
                  "it is 0", file=sys.stderr)
    declared = parse_where(where) if where else {}
    for name in sorted(set(declared) - used - set(names)):
        print(f"warning: --where declares `{visible(name)}`, which the expression does not use",
              file=sys.stderr)


def wrt_names(args: argparse.Namespace) -> list[str]:
    names = [n.strip() for item in (args.wrt or []) for n in item.split(",")]
    if any(not n for n in names):
        from .errors import UsageError
        raise UsageError(f"--wrt takes symbol names separated by commas, not "
                         f"{','.join(args.wrt)!r}")
    return names


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
            from .errors import UnsupportedError
            raise UnsupportedError("--check with stacked variables is not supported")
        claimed = [r for _, r in results]
        layout_ok = args.layout == "numerator" or expr.ty.is_scalar
        if not layout_ok:
            from .errors import UsageError
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

    from .language import build
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
        from .errors import UsageError
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

    from .numbers.reports import format_verdict

    verdict = mc.verify(args.statement, where=args.where, trials=args.trials, seed=args.seed)
    if args.output == "json":
        emit_json(verify_json(verdict, args.statement, args.where, kind_warnings(args)))
    else:
        print(format_verdict(verdict))
    return EXIT_OK if verdict.holds else EXIT_FALSE


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


# -- the local web page (SPEC section 7) ------------------------------------------------

def serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free port")
    parser.add_argument("--workers", type=int, default=0,
                        help="worker processes that compute (default 2 to 4, by cores)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one request may compute (default 10)")
    parser.add_argument("--memory", type=int, default=3072,
                        help="MiB of address space of a worker (default 3072)")
    parser.add_argument("--max-input", type=int, default=2000,
                        help="characters of one input field (default 2000)")


@command("serve", "the local web page: derive, verify, explain and generate code in a browser",
         examples=("matrixcalc serve", "matrixcalc serve --port 8080 --timeout 30"),
         arguments=(serve_arguments,))
def run_serve(args: argparse.Namespace) -> int:
    from .errors import UsageError
    try:
        from .web.server import serve
    except ImportError as error:
        raise UsageError(f"matrixcalc serve needs the web extra ({error.name} is missing)",
                         hint="pip install 'matrixcalc-engine[web]'") from None
    from .web.app import Options
    from .web.pool import Limits
    return serve(Options(host=args.host, port=args.port, workers=args.workers,
                         limits=Limits(seconds=args.timeout, memory_mb=args.memory),
                         max_input=args.max_input))


# -- the parser and main -----------------------------------------------------------------

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
        epilog=f"examples:\n{examples}\n\n"
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


def _tolerant_streams() -> None:
    """Never die on printing a character the terminal's encoding cannot show."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def run_noting_kinds(args: argparse.Namespace) -> int:
    """Run the command; each KindWarning is one `matrixcalc CMD: warning: …` line on stderr
    (and, through `args.caught`, an entry of --json's "warnings"); other warnings are
    shown as Python shows them."""
    from .errors import KindWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KindWarning)
        args.caught = caught
        try:
            return args.run(args)
        finally:
            for w in caught:
                if issubclass(w.category, KindWarning):
                    print(f"matrixcalc {args.command}: warning: {w.message}", file=sys.stderr)
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)


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


if __name__ == "__main__":
    sys.exit(main())
