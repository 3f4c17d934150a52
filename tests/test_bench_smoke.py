"""The benchmarks run (on tiny sizes): `make bench` must not rot between runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_parse_bench():
    spec = importlib.util.spec_from_file_location("parse_bench", BENCH / "parse_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_long_expression_has_the_requested_terms():
    # big_expression(n) is a sum of n numbered terms that parses
    bench = load_parse_bench()
    for shared in (True, False):
        text = bench.big_expression(12, shared)
        assert "a8^T" in text  # the ninth term starts the templates again
        result = bench.bench_long_expression(12, shared, repeats=1)
        assert "error" not in result, result
        assert result["seconds"] > 0 and result["raw_seconds"] > 0
        assert result["characters"] == len(text)


def test_corpus_parses():
    # every corpus expression parses; time per character is reported
    bench = load_parse_bench()
    result = bench.bench_corpus(repeats=1)
    assert result["expressions"] == len(bench.CORPUS)
    assert result["us_per_char"] > 0


def test_run_py_writes_json(tmp_path):
    # bench/run.py --quick prints the table and writes the JSON report
    out = tmp_path / "parse.json"
    result = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--terms", "3",
                             "--only", "parse", "--no-profile", "--results", str(tmp_path),
                             "--out", str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "benchmark" in result.stdout and "µs/char" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "parse"
    assert [r["benchmark"] for r in report["results"]] == ["corpus"] + ["long_expression"] * 2
    assert all("error" not in r for r in report["results"])


def load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_derive_corpus_is_large_enough_and_runs():
    # the shared corpus has at least 40 cases; a case runs for matrixcalc and SymPy
    bench = load("derive_bench")
    cases = bench.corpus()
    assert len(cases) >= 40 and len({c.id for c in cases}) == len(cases)
    case = next(c for c in cases if c.id == "1.2 example 3")
    mine, theirs = bench.bench_matrixcalc(case, 1), bench.bench_sympy(case, 1)
    assert mine["correct"] and mine["closed"] and mine["seconds"] > 0, mine
    assert theirs["correct"] and theirs["seconds"] > 0, theirs
    summary = bench.summarize([{"id": case.id, "matrixcalc": mine, "sympy": theirs,
                                "speedup_vs_sympy": theirs["seconds"] / mine["seconds"]}])
    assert summary["matrixcalc"]["correct"] == 1


def test_swell_numeric_startup_run_on_tiny_sizes():
    swell = load("swell_bench")
    assert swell.chain(3) == "a^T X1 X2 X3 b"
    assert "tanh(W1 x)" in swell.network(2)
    rows = swell.run(chain_sizes=(2,), depths=(1,), repeats=1, sympy_limit=5)["rows"]
    assert all("seconds" in r and r["size"] > 0 for r in rows), rows
    numeric = load("numeric_bench")
    row = numeric.gradient_logistic(16, 4, 1)
    assert "error" not in row and row["max_diff_vs_numpy by hand"] < 1e-12, row
    row = numeric.hessian_quadratic(8, 1)
    assert row["max_diff_vs_torch.func.hessian"] < 1e-12, row


def test_run_py_quick_writes_every_report(tmp_path):
    # the whole quick run (no tensorgrad, no profiles) writes the JSON files and RESULTS.md
    result = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick",
                             "--no-tensorgrad", "--no-profile", "--only", "derive", "swell",
                             "numeric", "--results", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    for name in ("derive", "swell", "numeric"):
        report = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        assert report["benchmark"] == name and "error" not in report, report.get("error")
        assert report["machine"]["cpu"]
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Machine" in text and "## Targets" in text and "GPU" in text
