"""How a subcommand is declared: `@command` registers a `Command` (name, help, examples,
argument adders, body) in `COMMANDS`; the exit statuses the bodies return."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
