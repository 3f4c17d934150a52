"""Run the benchmarks (`make bench`): print a table, write bench/results/parse.json.

    python bench/run.py                 # the full run (about a minute)
    python bench/run.py --quick         # tiny sizes: checks that the code runs
    python bench/run.py --terms 100 1000 --out /tmp/parse.json

A benchmark that fails (an error in matrixcalc) is shown as failed and recorded in the
JSON with its error; the run still exits 0, so one regression does not hide the rest.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import parse_bench  # noqa: E402


def cell(result: dict, key: str, spec: str) -> str:
    return format(result[key], spec) if key in result else "—"


def table(results: list[dict]) -> str:
    header = ("benchmark", "chars", "lark+tree s", "parse s", "µs/char", "note")
    rows = []
    for r in results:
        note = r.get("error", "")
        if not note and "symbols" in r:
            note = f"{r['symbols']:,} symbols"
        elif not note and "expressions" in r:
            note = f"{r['us_per_expression']:.0f} µs per expression"
        rows.append((r["name"], f"{r['characters']:,}", cell(r, "raw_seconds", ".4f"),
                     cell(r, "seconds", ".4f"), cell(r, "us_per_char", ".1f"), note))
    widths = [max(len(row[k]) for row in [header, *rows]) for k in range(len(header))]
    right = {1, 2, 3, 4}
    line = lambda row: "  ".join(  # noqa: E731
        cell.rjust(w) if k in right else cell.ljust(w)
        for k, (cell, w) in enumerate(zip(row, widths))).rstrip()
    return "\n".join([line(header), line(tuple("-" * w for w in widths))]
                     + [line(row) for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--terms", type=int, nargs="+", default=None,
                        help="sizes of the long expression (default 100 1000 10000)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "parse.json")
    args = parser.parse_args(argv)
    terms = tuple(args.terms or ((5, 20) if args.quick else (100, 1_000, 10_000)))
    repeats, corpus_repeats = (1, 1) if args.quick else (3, 20)

    import lark

    import matrixcalc

    started = time.time()
    results = parse_bench.run(terms, repeats, corpus_repeats)
    print(table(results))
    report = {
        "benchmark": "parse",
        "schema": 1,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "matrixcalc": matrixcalc.__version__,
        "lark": lark.__version__,
        "wall_seconds": round(time.time() - started, 3),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
