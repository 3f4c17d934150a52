"""The machine's limits, measured in the same run, and generated kernels as fractions of
them.

- memory bandwidth: a STREAM triad a = b + s c on float64 arrays far larger than the
  caches, in one pass (s c of each block of 64 Ki entries into a buffer that stays in
  cache, then added), bytes moved counted as STREAM does: 3 × 8 × N (b and c read, a
  written). Measured with one thread and with a thread per usable core, each on its own
  contiguous part of the arrays (numpy releases the GIL in its loops), as STREAM runs a
  thread per core: the all-core figure is the machine's bandwidth, the bound below;
- multiply rate: float64 matrix products (numpy's BLAS), in GFLOP/s (2 n³ per product).

Kernels (numpy code from mc.lambdify, float64):
- the Hessian of x^T A x, A + A^T at n = 4096: memory-bound, 16 n² bytes counted as the
  triad's are (A read once, the result written once; no kernel can move less, and the
  write-allocate read is left out of both counts), reported as bound / measured (1.0 is
  the machine's limit), beside A.copy() (the same bytes moved, no transpose) as a
  practical floor. The generated code calls _mc_plus_transpose (ops/arithmetic.py);
- the logistic loss's Hessian X^T diag(s) X at (n, d) = (4096, 512): multiply-bound (a
  symmetric rank-k product does n d² flops), the same fraction. The generated code calls
  _mc_gram (outputs/codegen/gram.py): BLAS syrk on sqrt(s)-scaled rows;
- the logistic gradient against hand-written numpy (a ratio).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from common import best_time, paired_best

import matrixcalc as mc

LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"


BLOCK = 2 ** 16  # triad entries per step: 512 KB of s c, kept in cache


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1


def bandwidth(n: int = 2 ** 25, repeats: int = 5, threads: int = 1) -> float:
    """Bytes per second of the triad a = b + 3 c over n float64 entries, `threads`
    threads each on its own contiguous part."""
    b, c = np.random.default_rng(0).standard_normal((2, n))
    a = np.empty(n)
    parts = [range(k * n // threads, (k + 1) * n // threads) for k in range(threads)]

    def triad_part(part: range) -> None:
        scaled = np.empty(min(BLOCK, len(part)))
        for start in range(part.start, part.stop, BLOCK):
            stop = min(start + BLOCK, part.stop)
            block = scaled[:stop - start]
            np.multiply(c[start:stop], 3.0, out=block)
            np.add(b[start:stop], block, out=a[start:stop])
    with ThreadPoolExecutor(threads) as pool:
        seconds = best_time(lambda: list(pool.map(triad_part, parts)), repeats, budget=2.0)
    return 3 * 8 * n / seconds


def multiply_rate(n: int = 2048, repeats: int = 3) -> float:
    """Float64 GFLOP/s of an n×n product."""
    A, B = np.random.default_rng(1).standard_normal((2, n, n))
    seconds = best_time(lambda: A @ B, repeats, budget=3.0)
    return 2 * n ** 3 / seconds / 1e9


def quadratic_hessian(n: int, bytes_per_second: float, repeats: int) -> dict:
    H = mc.lambdify(mc.hessian("x^T A x", "x"))
    A, x = np.random.default_rng(2).standard_normal((n, n)), np.zeros(n)
    seconds = best_time(lambda: H(A=A, x=x), repeats, budget=2.0)
    copy = best_time(A.copy, repeats, budget=1.0)  # the same bytes, no transpose
    bound = 16 * n * n / bytes_per_second
    return {"name": "Hessian of x^T A x (A + A^T)", "size": f"n={n}", "seconds": seconds,
            "bound_seconds": bound, "fraction": bound / seconds, "target": 0.5,
            "copy_seconds": copy, "copy_fraction": bound / copy,
            "source": H.source.strip().splitlines()[-2].strip()}


def logistic_hessian(n: int, d: int, gflops: float, repeats: int) -> dict:
    H = mc.lambdify(mc.hessian(LOGISTIC, "w"))
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(float), \
        rng.standard_normal(d) / np.sqrt(d)
    seconds = best_time(lambda: H(X=X, y=y, w=w, n=n), repeats, budget=2.0)
    bound = n * d * d / (gflops * 1e9)
    return {"name": "logistic Hessian X^T diag(s) X", "size": f"n={n}, d={d}",
            "seconds": seconds, "bound_seconds": bound, "fraction": bound / seconds,
            "target": 1 / 1.5, "source": H.source.strip().splitlines()[-2].strip()}


def logistic_gradient(n: int, d: int, repeats: int) -> dict:
    g = mc.lambdify(mc.derive(LOGISTIC, "w"))
    rng = np.random.default_rng(4)
    X, y, w = rng.standard_normal((n, d)), rng.integers(0, 2, n).astype(float), \
        rng.standard_normal(d) / np.sqrt(d)

    def hand():
        s = 1 / (1 + np.exp(-(X @ w)))
        return X.T @ (s - y) / n
    ours, theirs = paired_best(lambda: g(X=X, y=y, w=w, n=n), hand, repeats, budget=2.0)
    return {"name": "logistic gradient vs hand-written numpy", "size": f"n={n}, d={d}",
            "seconds": ours, "hand_seconds": theirs, "ratio": ours / theirs, "target": 1.1}


def run(quick: bool = False, repeats: int = 5) -> dict:
    start = time.perf_counter()
    entries = 2 ** 20 if quick else 2 ** 25
    bw_one = bandwidth(entries, repeats)
    bw = bandwidth(entries, repeats, threads=usable_cores())
    rate = multiply_rate(256 if quick else 2048, repeats)
    n, (ln, ld) = (256, (256, 32)) if quick else (4096, (4096, 512))
    kernels = [quadratic_hessian(n, bw, repeats), logistic_hessian(ln, ld, rate, repeats),
               logistic_gradient(ln, ld, repeats)]
    return {"benchmark": "machine", "bandwidth_gb_s": bw / 1e9,
            "bandwidth_1thread_gb_s": bw_one / 1e9, "bandwidth_threads": usable_cores(),
            "multiply_gflops": rate,
            "kernels": kernels, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
