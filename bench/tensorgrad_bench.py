"""tensorgrad's side of the derivation benchmark; runs in bench/.venv-tensorgrad.

    bench/.venv-tensorgrad/bin/python bench/tensorgrad_bench.py [--repeats 5] [--quick]

Prints one JSON object: per case (ids as in derive_bench.py) the median time of
`expr.grad(X).full_simplify()`, whether the result still holds a Derivative (closed =
none left), and whether it is correct: the simplified gradient, evaluated with
tensorgrad's evaluator, against torch.autograd through the evaluated expression. Only
the cases with a hand translation below take part (tensorgrad's language is named
tensor edges, not matrix text).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import tensorgrad as tg
import tensorgrad.functions as F
import torch
from sympy import symbols
from tensorgrad.extras.evaluate import evaluate

i, j, k, h, r = symbols("i j k h r")
SIZES = {i: 3, j: 4, k: 5, h: 6, r: 2}


def V(name, *dims, **named):
    return tg.Variable(name, *dims, **named)


def cases():
    """id -> (expression, variable to differentiate, all variables)."""
    out = {}
    a, x = V("a", i), V("x", i)
    A = V("A", i, j=i)
    out["1.2 example 1"] = (a @ x, x, [a, x])
    out["1.2 example 2"] = (x @ x, x, [x])
    out["1.2 example 3"] = (x @ A @ x.rename(i="j"), x, [x, A])
    out["(84)"] = out["1.2 example 3"]
    X, aa, bb = V("X", i, j), V("a", i), V("b", j)
    out["4.1 a^T X b"] = (aa @ X @ bb, X, [aa, X, bb])
    out["(70)"] = out["4.1 a^T X b"]
    A2, B2 = V("A", i, j), V("B", j, i)
    out["4.1 tr(AB)"] = (A2 @ B2, A2, [A2, B2])
    Xs = V("X", i, j=i)
    out["(72)"] = (a @ Xs @ a.rename(i="j"), Xs, [a, Xs])
    y, Xm, w = V("y", i), V("X", i, j), V("w", j)
    out["5.1 MSE"] = (F.frobenius2(y - Xm @ w), w, [y, Xm, w])  # without the 1/(2n)
    out["ml linear regression dX"] = (F.frobenius2(y - Xm @ w), Xm, [y, Xm, w])
    W, xx, g, bi = V("W", i, j), V("x", j), V("g", i), V("b", i)
    out["5.6 linear layer dW"] = (g @ (W @ xx + bi), W, [W, xx, g, bi])
    out["5.6 linear layer dx"] = (g @ (W @ xx + bi), xx, [W, xx, g, bi])
    Ak, Xij, Bjk = V("A", k, i), V("X", i, j), V("B", j, k)
    out["(101)"] = (Ak @ Xij @ Bjk, Xij, [Ak, Xij, Bjk])
    Bik = V("B", i, k=i)
    out["(108)"] = (Xij @ Bik @ Xij.rename(i="k"), Xij, [Xij, Bik])
    Cl = V("C", j, l=j)
    out["(117)"] = (Xij @ Bik @ Xij.rename(i="k", j="l") @ Cl, Xij, [Xij, Bik, Cl])
    out["(115)"] = (F.frobenius2(Xij), Xij, [Xij])
    out["(132)"] = out["(115)"]
    W1, W2, x1, y2 = V("W1", h, j), V("W2", i, h), V("x", j), V("y", i)
    net = F.frobenius2(W2 @ F.tanh(W1 @ x1) - y2)
    out["ml two-layer dW1"] = (net, W1, [W1, W2, x1, y2])
    out["ml two-layer dW2"] = (net, W2, [W1, W2, x1, y2])
    Am, U, Vr = V("A", i, j), V("U", i, r), V("V", j, r)
    out["ml matrix factorization"] = (F.frobenius2(Am - U @ Vr), U, [Am, U, Vr])
    Xw, ww = V("X", i, j), V("w", j)
    out["ml poisson regression"] = (F.sum(F.exp(Xw @ ww)) - y @ Xw @ ww, ww, [Xw, ww, y])
    return out


def check(expr, wrt, variables, grad) -> tuple[bool, float]:
    torch.manual_seed(0)
    leaves, values = {}, {}
    for v in variables:
        edges = list(v.shape.keys())
        leaf = torch.randn(*[SIZES[v.shape[e]] for e in edges], dtype=torch.float64,
                           requires_grad=True)
        leaves[v.name] = (leaf, edges)
        values[v] = leaf.refine_names(*edges)
    value = evaluate(expr, values)
    value.rename(None).sum().backward()
    leaf, edges = leaves[wrt.name]
    with torch.no_grad():
        got = evaluate(grad, values).align_to(*edges).rename(None)
    err = float((got - leaf.grad).abs().max())
    return err < 1e-8 * max(1.0, float(leaf.grad.abs().max())), err


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    results = []
    all_cases = cases()
    if args.quick:
        all_cases = dict(list(all_cases.items())[:3])
    for case_id, (expr, wrt, variables) in all_cases.items():
        row = {"id": case_id}
        try:
            expr.grad(wrt).full_simplify()  # warm
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                grad = expr.grad(wrt).full_simplify()
                times.append(time.perf_counter() - start)
            row["seconds"] = statistics.median(times)
            row["closed"] = "Derivative" not in repr(grad)
            row["size"] = len(repr(grad))
            try:
                row["correct"], row["max_error"] = check(expr, wrt, variables, grad)
            except AttributeError as error:  # torch without named tensors
                row["correct"] = None
                row["check_error"] = (f"not checked: tensorgrad's evaluator needs torch named "
                                      f"tensors ({error})")
        except Exception as error:  # noqa: BLE001
            row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
            row.setdefault("correct", False)
        results.append(row)
    import importlib.metadata as md
    json.dump({"version": md.version("tensorgrad"), "torch": torch.__version__,
               "cases": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
