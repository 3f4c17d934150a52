"""Derivation time of this checkout against another revision, in one run.

    python bench/versions_bench.py --against 00b43f2 [--rounds 4]

The other revision is checked out with `git worktree` into a temporary folder; the two
are timed alternately, each in a fresh process, on the derive benchmark's corpus (the
lesson and the Matrix Cookbook cases of tests/derivative_cases.py, plus ML_LOSSES): per
case the best of 10 calls, per version the best over the rounds, then the median over
the cases. Alternating and keeping the best is what makes a ratio on a noisy VM
meaningful. Prints both medians and their ratio; writes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMER = r"""
import json, sys, time
root = sys.argv[1]
sys.path[:0] = [root, root + "/tests", root + "/bench"]
import matrixcalc as mc
from derivative_cases import COOKBOOK, LESSON
from derive_bench import ML_LOSSES
cases = [(c.expr, c.wrt, c.where) for c in LESSON + COOKBOOK + ML_LOSSES]
parsed = [(mc.parse(e, where=w), x) for e, x, w in cases]
for e, x in parsed:
    mc.derive(e, x)
best = []
for e, x in parsed:
    times = []
    for _ in range(10):
        start = time.perf_counter()
        mc.derive(e, x)
        times.append(time.perf_counter() - start)
    best.append(min(times))
print(json.dumps(best))
"""


def times(root: Path) -> list[float]:
    out = subprocess.run([sys.executable, "-c", TIMER, str(root)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the git revision to compare with")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other),
                        args.against], check=True, capture_output=True)
        try:
            runs = {"this": [], args.against: []}
            for _ in range(args.rounds):
                runs[args.against].append(times(other))
                runs["this"].append(times(ROOT))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(other)], capture_output=True)
    medians = {name: statistics.median(min(case) for case in zip(*rounds))
               for name, rounds in runs.items()}
    for name, value in medians.items():
        print(f"{name:>12}: median {1e3 * value:.3f} ms")
    print(f"ratio this / {args.against}: {medians['this'] / medians[args.against]:.3f}")


if __name__ == "__main__":
    main()
