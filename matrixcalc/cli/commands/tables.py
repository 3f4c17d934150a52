"""`matrixcalc tables` and `matrixcalc table verify`: the identity tables (SPEC section 6)."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from ..registry import EXIT_BAD_INPUT, EXIT_FALSE, EXIT_OK, command


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


@command("tables", "list the built-in identity tables and their sizes",
         examples=("matrixcalc tables",))
def run_tables(args: argparse.Namespace) -> int:
    from ...table.tables import load_table, tables

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

    from ...errors import MatrixCalcError, TableWarning
    from ...table.tables import load_table

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
