"""Start-up: `import matrixcalc` and a whole `matrixcalc derive` command, as processes.

Each is run `runs` times (after one warm-up run that fills the OS file cache and
__pycache__); the median wall time is reported, next to `python -c pass` as a baseline.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import matrixcalc": [sys.executable, "-c", "import matrixcalc"],
    'matrixcalc derive "x^T A x" --wrt x': [sys.executable, "-m", "matrixcalc", "derive",
                                          "x^T A x", "--wrt", "x"],
}


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-200:])
    return elapsed


def run(runs: int = 7) -> dict:
    rows = []
    script = Path(sys.executable).with_name("matrixcalc")
    commands = dict(COMMANDS)
    if script.exists():  # the installed console script, as a user types it
        commands['matrixcalc derive "x^T A x" --wrt x'] = [str(script), "derive", "x^T A x",
                                                           "--wrt", "x"]
    for name, cmd in commands.items():
        row = {"name": name, "runs": runs}
        try:
            _time(cmd)
            times = [_time(cmd) for _ in range(runs)]
            row.update(median_seconds=statistics.median(times), min_seconds=min(times))
        except Exception as error:  # noqa: BLE001
            row["error"] = f"{type(error).__name__}: {str(error)[:150]}"
        rows.append(row)
    return {"benchmark": "startup", "rows": rows}


if __name__ == "__main__":
    for row in run(3)["rows"]:
        print(row)
