"""Parsing benchmarks: one long expression, and time per character on a small corpus.

Each benchmark times `mc.parse` (Lark LALR, the tree builder and shape inference) and
returns plain dicts, so `bench/run.py` can print a table and write JSON, and the smoke
test can run them on tiny sizes. Timings are the best of `repeats` runs (wall clock,
`time.perf_counter`), the usual way to damp noise from other processes. A text longer
than the input limit (`chars`, 200,000 by default: the 10,000 independent terms) is
parsed under a limit raised to its length: the benchmark measures parsing, not the guard.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import matrixcalc as mc
from matrixcalc.language.parse import parse_raw

# Term templates for the long expression; {i} numbers the term. SHARED terms all use
# `x`, as a generated loss would, so inference must tie thousands of dimensions to x's;
# INDEPENDENT terms share no symbol, which isolates the cost of parsing and typing.
SHARED = (
    "a{i}^T x",
    "x^T A{i} x",
    "tr(B{i} C)",
    "2 sin(x)^T u{i}",
    "||x - z{i}||^2",
    "λ{i} x^T x",
    "sum(exp(W{i} x + b{i}))",
    "logdet(S{i})",
)
INDEPENDENT = (
    "a{i}^T b{i}",
    "c{i}^T D{i} c{i}",
    "tr(E{i} F{i})",
    "2 sin(g{i})^T h{i}",
    "||p{i} - q{i}||^2",
    "λ{i} r{i}^T r{i}",
    "sum(exp(W{i} s{i} + t{i}))",
    "logdet(S{i})",
)
SLOW_SECONDS = 1.0  # a run slower than this is not repeated

# A small corpus: the lesson's expressions and a few longer ones.
CORPUS = (
    "a^T x", "x^T x", "x^T A x", "a^T X b", "tr(A B)", "log(|A|)", "x^T A^-1 x",
    "x^2 + x y + 2 y^2", "[x1^2 + x2; x1 x2; sin(x1) + cos(x2)]",
    "1/(2n) ||y - X w||^2", "-y^T log(softmax(z))", "W x + b",
    "1/(2n) ||y - X w||^2 + λ/2 ||w||^2",
    "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))",
    "sum(relu(W2 relu(W1 x + b1) + b2))", "tr(X^T B X) + logdet(X^T X)",
    "(x - mean(x) ones) / sqrt(mean((x - mean(x) ones).^2) + eps)",
    "||A - U diag(s) V^T||_F^2", "kron(A, B)^T kron(A, B)", "x^T (A ⊙ B) y - tr(inv(S) Σ)",
)
CORPUS_WHERE = None  # rule 3 infers the scalars x1, x2


def big_expression(terms: int, shared: bool = True) -> str:
    """A sum of `terms` terms drawn in turn from SHARED (or INDEPENDENT)."""
    templates = SHARED if shared else INDEPENDENT
    return " + ".join(templates[i % len(templates)].format(i=i) for i in range(terms))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def best_time(action: Callable[[], object], repeats: int) -> float:
    """The best of `repeats` runs; a first run slower than SLOW_SECONDS is not repeated."""
    best = timed(action)
    for _ in range(repeats - 1):
        if best > SLOW_SECONDS:
            break
        best = min(best, timed(action))
    return best


def bench_long_expression(terms: int = 10_000, shared: bool = True,
                          repeats: int = 3) -> dict:
    """Parse one sum of `terms` terms: Lark and the tree builder alone (`parse_raw`), then
    the whole of `mc.parse` (with shape inference). A failure is recorded, not raised."""
    text = big_expression(terms, shared)
    result: dict = {
        "name": f"{terms:,} terms, {'shared x' if shared else 'independent'}",
        "benchmark": "long_expression", "terms": terms, "shared": shared,
        "characters": len(text), "repeats": repeats}
    try:
        # the input limit is raised where the text passes it (10,000 independent terms)
        with mc.limits(chars=max(len(text), mc.limits().chars)):
            _time_parse(text, result, repeats)
    except Exception as error:  # noqa: BLE001  the benchmark reports what breaks
        result["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return result


def _time_parse(text: str, result: dict, repeats: int) -> None:
    """Lark and the tree builder alone, then the whole of `mc.parse`, into `result`."""
    parse_raw(text)  # warms the parser's cache
    result["raw_seconds"] = best_time(lambda: parse_raw(text), repeats)
    start = time.perf_counter()
    expr = mc.parse(text)
    first = time.perf_counter() - start
    result["symbols"] = len(expr.shapes)
    result["seconds"] = first if first > SLOW_SECONDS or repeats < 2 else min(
        first, best_time(lambda: mc.parse(text), repeats - 1))
    result["us_per_char"] = 1e6 * result["seconds"] / len(text)


def bench_corpus(repeats: int = 20, corpus: tuple[str, ...] = CORPUS) -> dict:
    """Parse every expression of the corpus; time per character over the whole corpus."""
    chars = sum(len(text) for text in corpus)

    def parse_all() -> None:
        for text in corpus:
            mc.parse(text, where=CORPUS_WHERE)

    parse_all()
    seconds = best_time(parse_all, repeats)
    return {"name": f"corpus ({len(corpus)} expressions)", "benchmark": "corpus",
            "expressions": len(corpus), "characters": chars, "seconds": seconds,
            "us_per_char": 1e6 * seconds / chars,
            "us_per_expression": 1e6 * seconds / len(corpus), "repeats": repeats}


def run(terms: tuple[int, ...] = (100, 1_000, 10_000), repeats: int = 3,
        corpus_repeats: int = 20) -> list[dict]:
    """Every parsing benchmark, smallest first."""
    results = [bench_corpus(corpus_repeats)]
    for shared in (False, True):
        results += [bench_long_expression(n, shared, repeats) for n in terms]
    return results
