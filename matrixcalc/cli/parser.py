"""The argparse parser of `matrixcalc`: one subparser per registered command, in the order
the command modules register them, with their examples in `--help`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import commands  # noqa: F401  (registers every command)
from .registry import COMMANDS


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
    from .. import __version__

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
