"""The arguments several commands share: each an adder `(parser) -> None` (or a function
that makes one), and `wrt_names`, the --wrt names as a list."""

from __future__ import annotations

import argparse

from .registry import ArgumentAdder


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


def wrt_argument(required: bool = True) -> ArgumentAdder:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--wrt", metavar="X", required=required, action="append",
                            help="the variable; several as x,y or --wrt x --wrt y")
    return add


def trials_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=5, help="random points (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first point")


def wrt_names(args: argparse.Namespace) -> list[str]:
    names = [n.strip() for item in (args.wrt or []) for n in item.split(",")]
    if any(not n for n in names):
        from ..errors import UsageError
        raise UsageError(f"--wrt takes symbol names separated by commas, not "
                         f"{','.join(args.wrt)!r}")
    return names
