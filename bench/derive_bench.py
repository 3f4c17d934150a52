"""Derivation on one shared corpus: matrixcalc against SymPy (and tensorgrad, optional).

The corpus is tests/derivative_cases.py (the lesson and the Matrix Cookbook, 70 cases)
plus ML_LOSSES below. For each case:

- matrixcalc: `mc.derive` on the parsed expression (parsing not timed), median of
  `repeats` runs; correct = `mc.check` of the result against torch.autograd; closed =
  the result is a matrix expression (not index notation).
- SymPy: the expression as `MatrixSymbol`s (`mc.to_sympy`, or the hand translation in
  SYMPY_TEXT where to_sympy's form of norms defeats SymPy), then `.diff(X)`, median of
  `repeats` runs with SymPy's cache cleared before each; correct = SymPy's result,
  lambdified with numpy, checked against torch.autograd through `mc.check(result=f)`;
  closed = a matrix expression (not an Array* or unevaluated Derivative).
- tensorgrad: bench/tensorgrad_bench.py in its own venv (bench/.venv-tensorgrad), on the
  cases it has hand translations for.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
from common import HERE, ROOT, Timeout, median_time, time_limit

sys.path.insert(0, str(ROOT / "tests"))
from derivative_cases import COOKBOOK, LESSON

import matrixcalc as mc

LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"


@dataclass(frozen=True)
class BenchCase:
    id: str
    expr: str
    wrt: str
    where: str | None = None


ML_LOSSES = [
    BenchCase("ml two-layer dW1", "||W2 tanh(W1 x) - y||^2", "W1"),
    BenchCase("ml two-layer dW2", "||W2 tanh(W1 x) - y||^2", "W2"),
    BenchCase("ml three-layer dW1", "||W3 tanh(W2 tanh(W1 x)) - y||^2", "W1"),
    BenchCase("ml relu layer", "sum(relu(W x + b))", "W"),
    BenchCase("ml sigmoid layer db", "g^T sigmoid(W x + b)", "b"),
    BenchCase("ml softmax layer dW", "-y^T log(softmax(W x + b))", "W"),
    BenchCase("ml logsumexp", "logsumexp(W x)", "W"),
    BenchCase("ml poisson regression", "sum(exp(X w)) - y^T X w", "w"),
    BenchCase("ml softplus regression", "sum(softplus(X w)) - y^T X w", "w"),
    BenchCase("ml l2 logistic", LOGISTIC + " + λ/2 ||w||^2", "w"),
    BenchCase("ml logistic dX", LOGISTIC, "X"),
    BenchCase("ml gaussian nll dm", "1/2 (x - m)^T S^-1 (x - m) + 1/2 logdet(S)", "m",
              "S: spd"),
    BenchCase("ml gaussian nll dS", "1/2 (x - m)^T S^-1 (x - m) + 1/2 logdet(S)", "S",
              "S: spd"),
    BenchCase("ml matrix factorization", "||A - U V^T||_F^2", "U"),
    BenchCase("ml linear regression dX", "||y - X w||^2", "X"),
]

# Hand translations (in the input language, then mc.to_sympy) where to_sympy's general
# form (norms as sqrt(tr(·)), scalars as traces of 1×1 products) defeats SymPy's diff.
SYMPY_TEXT = {
    "5.1 MSE": "1/(2n) (y - X w)^T (y - X w)",
    "problem 5 ridge": "1/(2n) (y - X w)^T (y - X w) + λ/2 w^T w",
    "(129)": "sqrt((x - a)^T (x - a))",
    "(131)": "x^T x",
    "(132)": "tr(X^T X)",
    "||X||_F": "sqrt(tr(X^T X))",
    "ml two-layer dW1": "(W2 tanh(W1 x) - y)^T (W2 tanh(W1 x) - y)",
    "ml two-layer dW2": "(W2 tanh(W1 x) - y)^T (W2 tanh(W1 x) - y)",
    "ml three-layer dW1": "(W3 tanh(W2 tanh(W1 x)) - y)^T (W3 tanh(W2 tanh(W1 x)) - y)",
    "ml l2 logistic": LOGISTIC + " + λ/2 w^T w",
    "ml matrix factorization": "tr((A - U V^T)^T (A - U V^T))",
    "ml linear regression dX": "(y - X w)^T (y - X w)",
}


def corpus() -> list[BenchCase]:
    cases = [BenchCase(c.id, c.expr, c.wrt, c.where) for c in LESSON + COOKBOOK]
    return cases + ML_LOSSES


def _sympy_closed(d) -> bool:
    from sympy.matrices.expressions import MatrixExpr
    text = type(d).__name__ + " " + str(d)
    return isinstance(d, MatrixExpr) and "Array" not in text and "Derivative" not in text \
        and "PermuteDims" not in text


def _sympy_callable(s, d, wrt_name: str):
    """A numpy function of mc.check's inputs computing SymPy's derivative d."""
    import sympy
    from sympy.matrices.expressions import MatrixSymbol

    mats = sorted(s.atoms(MatrixSymbol) | d.atoms(MatrixSymbol), key=str)
    free = set()
    for part in (s, d):
        free |= {a for a in part.free_symbols if not isinstance(a, MatrixSymbol)}
    scalars = sorted((a for a in free if not a.is_integer), key=str)
    def result(inputs: dict):
        dim_values = {}
        values = []
        for m in mats:
            v = np.asarray(inputs[str(m)], dtype=float)
            v = v.reshape(-1, 1) if v.ndim == 1 else v
            for sym, size in zip(m.shape, v.shape):
                if not sym.is_number:
                    dim_values[sym] = size
            values.append(v)
        values += [float(inputs[str(a)]) for a in scalars]
        concrete = d.subs(dim_values)
        try:  # SymPy's numpy printer; it lacks elementwise functions of matrices
            out = sympy.lambdify([m.subs(dim_values) for m in mats] + scalars, concrete,
                                 modules="numpy")(*values)
        except Exception:  # noqa: BLE001  substitute the numbers and evaluate exactly
            subs = {m.subs(dim_values): sympy.ImmutableMatrix(v)
                    for m, v in zip(mats, values)}
            subs.update({a: float(inputs[str(a)]) for a in scalars})
            out = concrete.xreplace(subs).doit()
            out = out.as_explicit() if hasattr(out, "as_explicit") else out
            out = np.array(sympy.Array(out).tolist() if not hasattr(out, "tolist")
                           else out.tolist(), dtype=float)
        out = np.asarray(out, dtype=float)
        shape = np.shape(inputs[wrt_name])
        if out.size == 1 and int(np.prod(shape)) != 1:
            out = np.broadcast_to(out, shape)
        return np.array(out).reshape(shape)

    return result


def bench_matrixcalc(case: BenchCase, repeats: int) -> dict:
    row: dict = {}
    try:
        e = mc.parse(case.expr, where=case.where)
        mc.derive(e, case.wrt, where=case.where)  # first run untimed (warm)
        row["seconds"] = median_time(lambda: mc.derive(e, case.wrt, where=case.where),
                                     repeats)
        r = mc.derive(e, case.wrt, where=case.where)
        row["result"] = str(r)
        row["size"] = len(str(r))
        row["closed"] = "_{" not in str(r) and "∂" not in str(r)
        report = mc.check(e, case.wrt, result=r, where=case.where, trials=3, seed=1)
        row["correct"] = bool(report.ok)
        if not report.ok:
            row["max_error"] = float(report.max_error)
    except Exception as error:  # noqa: BLE001  the benchmark reports what breaks
        row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
        row.setdefault("correct", False)
        row.setdefault("closed", False)
    return row


def bench_sympy(case: BenchCase, repeats: int, limit: float = 20.0) -> dict:
    import sympy
    from sympy.core.cache import clear_cache
    from sympy.matrices.expressions import MatrixSymbol

    row: dict = {"translation": "hand" if case.id in SYMPY_TEXT else "to_sympy"}
    try:
        text = SYMPY_TEXT.get(case.id, case.expr)
        s = mc.to_sympy(mc.parse(text, where=case.where))
        x = next(a for a in s.atoms(MatrixSymbol) if str(a) == case.wrt)
        with time_limit(limit):
            row["seconds"] = median_time(lambda: s.diff(x), repeats, before=clear_cache)
            d = s.diff(x)
        row["result"] = str(d)[:300]
        row["size"] = len(str(d))
        row["closed"] = _sympy_closed(d)
        try:
            report = mc.check(case.expr, case.wrt, result=_sympy_callable(s, d, case.wrt),
                              where=case.where, trials=3, seed=1)
            row["correct"] = bool(report.ok)
        except Exception as error:  # noqa: BLE001  SymPy's result cannot be evaluated
            row["correct"] = False
            row["check_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
    except Timeout as error:
        row.update(error=f"timeout {error}", correct=False, closed=False)
    except Exception as error:  # noqa: BLE001
        row.update(error=f"{type(error).__name__}: {str(error).splitlines()[0][:120]}",
                   correct=False, closed=False)
    del sympy
    return row


def bench_tensorgrad(repeats: int, quick: bool) -> dict:
    """Run bench/tensorgrad_bench.py in bench/.venv-tensorgrad; {} with a reason if absent."""
    python = HERE / ".venv-tensorgrad" / "bin" / "python"
    if not python.exists():
        return {"available": False,
                "reason": "bench/.venv-tensorgrad is absent (see bench/README section)"}
    cmd = [str(python), str(HERE / "tensorgrad_bench.py"), "--repeats", str(repeats)]
    if quick:
        cmd.append("--quick")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return {"available": False, "reason": "tensorgrad_bench.py ran over 600 s"}
    if done.returncode != 0:
        return {"available": False, "reason": done.stderr.strip().splitlines()[-1][:200]
                if done.stderr.strip() else f"exit {done.returncode}"}
    data = json.loads(done.stdout)
    data["available"] = True
    return data


def run(repeats: int = 5, quick: bool = False, with_tensorgrad: bool = True) -> dict:
    cases = corpus()
    if quick:
        cases = cases[:4] + ML_LOSSES[:1]
    mc.derive("x^T A x", "x")  # loads the engine (SymPy, tables) before timing
    rows = []
    for case in cases:
        row = {"id": case.id, "expr": case.expr, "wrt": case.wrt, "where": case.where,
               "matrixcalc": bench_matrixcalc(case, repeats),
               "sympy": bench_sympy(case, repeats)}
        m, s = row["matrixcalc"], row["sympy"]
        if "seconds" in m and "seconds" in s:
            row["speedup_vs_sympy"] = s["seconds"] / m["seconds"]
        rows.append(row)
    tg = bench_tensorgrad(repeats, quick) if with_tensorgrad else {
        "available": False, "reason": "skipped"}
    by_id = {r["id"]: r for r in rows}
    for item in tg.get("cases", []):
        if item["id"] in by_id:
            by_id[item["id"]]["tensorgrad"] = item
            if "seconds" in item and "seconds" in by_id[item["id"]]["matrixcalc"]:
                by_id[item["id"]]["speedup_vs_tensorgrad"] = (
                    item["seconds"] / by_id[item["id"]]["matrixcalc"]["seconds"])
    return {"benchmark": "derive", "repeats": repeats, "cases": rows,
            "tensorgrad": {k: v for k, v in tg.items() if k != "cases"},
            "summary": summarize(rows)}


def _med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(rows: list[dict]) -> dict:
    out = {"cases": len(rows)}
    for peer in ("matrixcalc", "sympy", "tensorgrad"):
        peer_rows = [r[peer] for r in rows if peer in r]
        if not peer_rows:
            continue
        out[peer] = {
            "cases": len(peer_rows),
            "correct": sum(bool(p.get("correct")) for p in peer_rows)
            if any(p.get("correct") is not None for p in peer_rows) else "not checked",
            "closed": sum(bool(p.get("closed")) for p in peer_rows),
            "correct_and_closed": sum(bool(p.get("correct") and p.get("closed"))
                                      for p in peer_rows)
            if any(p.get("correct") is not None for p in peer_rows) else "not checked",
            "errors": sum("error" in p for p in peer_rows),
            "median_seconds": _med([p.get("seconds") for p in peer_rows]),
        }
    out["median_speedup_vs_sympy"] = _med([r.get("speedup_vs_sympy") for r in rows])
    out["median_speedup_vs_sympy_where_sympy_correct"] = _med(
        [r.get("speedup_vs_sympy") for r in rows if r["sympy"].get("correct")])
    both = [r for r in rows if "speedup_vs_tensorgrad" in r]
    if both:
        out["median_speedup_vs_tensorgrad"] = _med([r["speedup_vs_tensorgrad"] for r in both])
        out["tensorgrad_cases_compared"] = len(both)
        out["matrixcalc_median_on_tensorgrad_cases"] = _med(
            [r["matrixcalc"]["seconds"] for r in both])
    return out


if __name__ == "__main__":
    t = time.time()
    print(json.dumps(run(repeats=1, quick=True)["summary"], indent=1), time.time() - t)
