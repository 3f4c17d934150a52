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
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "benchmark" in result.stdout and "µs/char" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "parse"
    assert [r["benchmark"] for r in report["results"]] == ["corpus"] + ["long_expression"] * 2
    assert all("error" not in r for r in report["results"])
