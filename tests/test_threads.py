# SPEC section 5: every function may be called from many threads at once, and a result
# never depends on what other calls did before or meanwhile.
"""8 threads run 200 varied derivations (the same expressions with and without
assumptions, Hessians, simplifications, functions of loaded tables) while another thread
loads tables, with Python switching threads every few microseconds; every result equals
the one computed alone, in each of 5 runs. The derivations' results are checked against
the cases' expectations (tests/derivative_cases.py, themselves checked against autograd in
test_derive.py) so that agreeing on a wrong answer cannot pass."""

from __future__ import annotations

import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import matrixcalc as mc
from derivative_cases import COOKBOOK, FOUND_BY_FUZZING, LESSON

RUNS = 5
THREADS = 8
TABLE = """table: threads
functions:
  - name: cubic_t
    elementwise: true
    derivative: 3 x^2
    definition: x^3
  - name: swish_t
    elementwise: true
    derivative: sigmoid(x) + x sigmoid(x) (1 - sigmoid(x))
    definition: x sigmoid(x)
"""
# the same text under different assumptions: a cache keyed by structure alone mixes them
ASSUMED = [("x^T A x", "x", w) for w in (None, "A: symmetric", "A: diagonal", "A: spd")] + [
    ("x^T A^-1 x", "A", w) for w in (None, "A: symmetric", "A: spd")] + [
    ("tr(A X B)", "X", w) for w in (None, "A, B: symmetric")] + [
    ("log(det(S))", "S", w) for w in (None, "S: spd", "S: symmetric")] + [
    ("-y^T log(softmax(z))", "z", w) for w in (None, "y: distribution")] + [
    ("x^T Q^T Q x", "x", w) for w in (None, "Q: orthogonal")]
TABLE_JOBS = [("sum(cubic_t(x))", "x", None), ("sum(swish_t(W x))", "x", None),
              ("sum(swish_t(W x))", "W", None), ("y^T cubic_t(A x)", "A", None)]


def _symmetric_variants(cases) -> list[tuple]:
    """Each case without assumptions again with a constant matrix of it declared
    symmetric, and diagonal: the same text, other answers."""
    out = []
    for expr, wrt, where in cases:
        names = [n for n in "ABCDW" if n != wrt and re.search(rf"\b{n}\b", expr)]
        if where is None and names:
            out += [(expr, wrt, f"{names[0]}: {word}") for word in ("symmetric", "diagonal")]
    return out


def _jobs() -> list[tuple]:
    cases = [(c.expr, c.wrt, c.where) for c in LESSON + COOKBOOK + FOUND_BY_FUZZING]
    cases += _symmetric_variants(cases)
    derives = [("derive",) + job for job in dict.fromkeys(cases + ASSUMED + TABLE_JOBS)]
    hessians = [("hessian", e, w, where) for e, w, where in
                [("x^T A x", "x", None), ("x^T A x", "x", "A: symmetric"),
                 ("sum(cubic_t(x))", "x", None), ("log(sum(exp(x)))", "x", None),
                 ("1/2 x^T A x - b^T x", "x", "A: symmetric")]]
    simplified = [("simplify", e, None, where) for e, where in
                  [("A^T + A", "A: symmetric"), ("A^T + A", None), ("(A B)^T", None),
                   ("x^T x - x^T x", None), ("Q^T Q", "Q: orthogonal"), ("Q^T Q", None)]]
    jobs = derives + hessians + simplified
    while len(jobs) < 200:  # repeats interleave with different neighbours
        jobs += derives[: 200 - len(jobs)]
    return jobs[:200]


def _run(job) -> str:
    kind, expr, wrt, where = job
    try:
        if kind == "derive":
            return str(mc.derive(expr, wrt, where=where))
        if kind == "hessian":
            return str(mc.hessian(expr, wrt, where=where))
        return str(mc.simplify(expr, where=where))
    except mc.MatrixCalcError as error:  # a typed error is an answer too, if it repeats
        return f"{type(error).__name__}: {error}"


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("threads") / "threads.yaml"
    path.write_text(TABLE, encoding="utf-8")
    mc.load_table(str(path))
    return path.parent


def _load_more(folder, run: int) -> None:
    """Tables loaded while the derivations run: each registers a function (changing the
    operator table's version, which caches are keyed by)."""
    for k in range(3):
        path = folder / f"more{run}_{k}.yaml"
        path.write_text(TABLE.replace("threads", f"more{run}_{k}")
                        .replace("cubic_t", f"cubic_{run}_{k}")
                        .replace("swish_t", f"swish_{run}_{k}"), encoding="utf-8")
        mc.load_table(str(path))


def test_jobs_are_varied_and_right(table):
    # 200 jobs; the sequential results are the cases' own expectations
    jobs = _jobs()
    assert len(jobs) == 200 and len(set(jobs)) > 150
    expected = {(c.expr, c.wrt, c.where): c.expected for c in LESSON + COOKBOOK}
    for job in jobs:
        if job[0] == "derive" and job[1:] in expected:
            assert _run(job) == expected[job[1:]], job
    assert _run(("derive", "x^T A x", "x", "A: symmetric")) == "2 A x"
    assert _run(("derive", "x^T A x", "x", None)) == "(A + A^T) x"
    assert _run(("derive", "sum(cubic_t(x))", "x", None)) == "3 x.^2"


def test_threads_give_the_sequential_results(table):
    jobs = _jobs()
    alone = [_run(job) for job in jobs]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch often: races show up in a few runs
    try:
        for run in range(RUNS):
            loader = threading.Thread(target=_load_more, args=(table, run))
            order = list(np.random.default_rng(run).permutation(len(jobs)))
            with ThreadPoolExecutor(THREADS) as pool:
                loader.start()
                together = dict(zip(order, pool.map(_run, [jobs[k] for k in order])))
                loader.join()
            differences = [(jobs[k], alone[k], together[k]) for k in range(len(jobs))
                           if together[k] != alone[k]]
            assert differences == [], f"run {run}"
    finally:
        sys.setswitchinterval(switch)


def test_limits_are_per_thread():
    # a thread's limits are its own: another thread's change is never seen
    # (tr(X^k) by X is one term whatever k: tr(A X^k) gives k terms, bounded by power)
    seen = {}
    barrier = threading.Barrier(2)
    expected = str(mc.derive("tr(A X^20)", "X"))
    assert expected.count("A^T") == 20

    def low():
        with mc.limits(power=10):
            barrier.wait()
            try:
                mc.derive("tr(A X^20)", "X")
            except mc.LimitError as error:
                seen["low"] = error.limit
            barrier.wait()

    def default():
        barrier.wait()
        seen["default"] = str(mc.derive("tr(A X^20)", "X"))
        barrier.wait()

    threads = [threading.Thread(target=low), threading.Thread(target=default)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"low": "power", "default": expected}
