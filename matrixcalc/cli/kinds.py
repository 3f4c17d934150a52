"""How the commands report kinds.

Kinds the user did not declare are reported (SPEC section 2): every symbol's "origin" in
--json (parse, derive, verify), the `with …` line of `verify` and the symbols of `parse`;
where the output lists no origins (derive, jacobian and hessian as text, LaTeX or index
notation, `parse --latex`, `codegen`, `--explain`), a kind that was inferred is told on
stderr as `with n: scalar (inferred scalar)`, so that stdout stays the bare result for
scripts. A KindWarning is one `matrixcalc CMD: warning: …` line on stderr, and with
--json also an entry of "warnings"."""

from __future__ import annotations

import argparse
import sys
import warnings


def report_inferred(expr) -> None:
    """`with n: scalar (inferred scalar)` on stderr when a kind was inferred (SPEC section
    2): for commands whose output does not list the symbols' origins itself."""
    inferred = [info.describe() for info in expr.shapes.values()
                if info.origin == "inferred scalar"]
    if inferred:
        print(f"with {'; '.join(inferred)}", file=sys.stderr)


def kind_warnings(args: argparse.Namespace) -> list[str]:
    """The KindWarnings this command caused (see `run_noting_kinds`), for `--json`'s "warnings"."""
    from ..errors import KindWarning
    return [str(w.message) for w in getattr(args, "caught", [])
            if issubclass(w.category, KindWarning)]


def run_noting_kinds(args: argparse.Namespace) -> int:
    """Run the command; each KindWarning is one `matrixcalc CMD: warning: …` line on stderr
    (and, through `args.caught`, an entry of --json's "warnings"); other warnings are
    shown as Python shows them."""
    from ..errors import KindWarning
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
