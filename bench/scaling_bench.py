"""Cost against the size of the work: time, printed size and peak memory of derivations
whose work grows with a parameter k, with the fitted exponent of time ~ k^p.

Series (each point in a fresh process, with a time limit, so a slow point cannot stop
the run; after a point times out, larger ones are skipped):
- `sin` nested k deep in a sum, its gradient and its Hessian;
- `softmax` nested k deep: the gradient of y^T softmax(…(x)), the Jacobian, the Hessian;
- the tanh network of depth k, the gradient by W1 and the Hessian by x;
- a bracket column of k entries, parsed and derived by a scalar;
- a sum of k terms a_i^T x, parsed and derived;
- tr(X^k), derived by X (the result should be k (X^T)^(k-1), whatever k).
The exponent is the slope of log time against log k over the last three points (a
linear cost gives 1, n log n about 1.1, a quadratic 2).

Peak memory is the child's own high-water mark, VmHWM in /proc/self/status: ru_maxrss
survives execve on Linux, so the child would report the parent's peak (the parent has
loaded torch and JAX: every row read 1006 MB). Where /proc is absent, ru_maxrss (KB on
Linux, bytes on macOS) is the fallback.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
import matrixcalc as mc


def peak_mb():
    # this process's own peak (ru_maxrss would include the parent's, kept across execve)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 1024


mc.derive("x^T A x", "x")  # the engine loaded: its import is not the point's cost
base = peak_mb()
text, wrt, how = json.loads(sys.argv[1])
where = "x: scalar" if how == "scalar" else None
start = time.perf_counter()
e = mc.parse(text, where=where)
parsed = time.perf_counter()
r = {"jacobian": mc.jacobian, "hessian": mc.hessian}.get(how, mc.derive)(e, wrt, where=where)
done = time.perf_counter()
printed = str(r)
shared = str(r.shared())
print(json.dumps({"parse_seconds": parsed - start, "seconds": done - start,
                  "size": len(printed), "shared_size": len(shared),
                  "result": printed[:200],
                  "peak_rss_mb": peak_mb(), "engine_rss_mb": base}))
"""


def nested(function: str, inner: str, k: int) -> str:
    for _ in range(k):
        inner = f"{function}({inner})"
    return inner


def network(k: int) -> str:
    inner = "x"
    for i in range(1, k + 1):
        inner = f"W{i} {inner}" if i == k else f"tanh(W{i} {inner})"
    return f"||{inner} - y||^2"


SERIES = {
    # name: (text of k, variable, how, the sizes k)
    "sin nest: gradient": (lambda k: f"sum({nested('sin', 'x', k)})", "x", "derive",
                           (1, 2, 4, 8, 16, 32, 64)),
    "sin nest: Hessian": (lambda k: f"sum({nested('sin', 'x', k)})", "x", "hessian",
                          (1, 2, 4, 8, 16, 32, 64)),
    "softmax nest: gradient": (lambda k: "y^T " + nested("softmax", "x", k), "x", "derive",
                               (1, 2, 4, 8, 16, 32, 64)),
    "softmax nest: Jacobian": (lambda k: nested("softmax", "x", k), "x", "jacobian",
                               (1, 2, 4, 8, 16, 32, 64)),
    "softmax nest: Hessian": (lambda k: "y^T " + nested("softmax", "x", k), "x", "hessian",
                              (1, 2, 4, 8, 16, 32, 64)),
    "tanh network: gradient by W1": (network, "W1", "derive", (1, 2, 4, 8, 16, 32, 64)),
    "tanh network: Hessian by x": (network, "x", "hessian", (1, 2, 4, 8, 16, 32, 64)),
    "bracket column of k entries": (
        lambda k: "[" + "; ".join(f"{i + 1} x^2 + x" for i in range(k)) + "]", "x", "scalar",
        (100, 300, 1000, 3000)),
    "sum of k terms": (lambda k: " + ".join(f"a{i}^T x" for i in range(k)), "x", "derive",
                       (100, 1000, 10000)),
    "tr(X^k) by X": (lambda k: f"tr(X^{k})", "X", "derive", (2, 8, 32, 128, 1024)),
}


def point(text: str, wrt: str, how: str, limit: float) -> dict:
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([text, wrt, how])],
                             capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout over {limit:g} s"}
    if out.returncode != 0:  # the exception's own line, not the hint after it
        lines = out.stderr.strip().splitlines() or ["failed"]
        raised = [ln for ln in lines if re.match(r"[\w.]*(Error|Exception): ", ln)]
        line = raised[-1] if raised else lines[-1]
        return {"error": re.sub(r"^[\w.]*\.(?=\w+: )", "", line)[:120]}
    return json.loads(out.stdout)


def exponent(rows: list[dict]) -> float | None:
    """The slope of log(seconds) against log(k) over the last three measured points."""
    done = [r for r in rows if "seconds" in r and r["seconds"] > 0][-3:]
    if len(done) < 2:
        return None
    xs = [math.log(r["k"]) for r in done]
    ys = [math.log(r["seconds"]) for r in done]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else None


def run(quick: bool = False, limit: float = 60.0) -> dict:
    series = []
    for name, (text_of, wrt, how, sizes) in SERIES.items():
        sizes = sizes[:3] if quick else sizes
        rows = []
        for k in sizes:
            row = {"k": k, **point(text_of(k), wrt, how, 10.0 if quick else limit)}
            rows.append(row)
            if "error" in row:
                break
        series.append({"name": name, "rows": rows, "exponent": exponent(rows)})
    return {"benchmark": "scaling", "limit_seconds": limit, "series": series}


if __name__ == "__main__":
    report = run(quick="--quick" in sys.argv)
    for s in report["series"]:
        print(s["name"], s["exponent"])
        for r in s["rows"]:
            print("  ", r["k"], r.get("seconds"), r.get("size"), r.get("peak_rss_mb"),
                  r.get("error", ""))
