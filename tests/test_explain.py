"""mc.explain: derivations step by step (the lesson's section 4.2 and 4.3)."""

from __future__ import annotations

import pytest

import matrixcalc as mc
from matrixcalc.cli import main


def _step(explanation, word: str) -> str:
    return next(text for title, text in explanation.steps if word.lower() in title.lower())


def test_quadratic_form_steps():
    ex = mc.explain("x^T A x", "x")
    assert "x_{a} A_{ab} x_{b}" in _step(ex, "index notation")
    rules = _step(ex, "each factor")
    assert "δ_{ak}" in rules and "δ_{bk}" in rules and "Kronecker" in rules
    assert "δ_{ak} A_{ab} x_{b} + x_{a} A_{ab} δ_{bk}" in _step(ex, "leibniz")
    assert _step(ex, "contract").endswith("A_{kb} x_{b} + x_{a} A_{ak}")
    pieces = _step(ex, "each term")
    assert "→  A x" in pieces and "→  A^T x" in pieces
    assert ex.steps[-1][1].endswith("(A + A^T) x")
    assert str(ex.result) == "(A + A^T) x"
    assert str(ex) == ex.text and ex.text.startswith("1. The expression")


def test_trace_steps():
    ex = mc.explain("tr(A B)", "A")
    assert "A_{ab} B_{ba}" in _step(ex, "index notation")
    assert "δ_{ak} δ_{bl}" in _step(ex, "each factor")
    assert _step(ex, "contract").endswith("B_{lk}")
    assert ex.steps[-1][1].endswith("B^T")


def test_opaque_rule_is_named():
    ex = mc.explain("x^T inv(A) x", "A")
    assert "inverse: d(M^-1) = -M^-1 dM M^-1" in _step(ex, "each factor")
    assert str(ex.result) == str(mc.derive("x^T inv(A) x", "A"))


@pytest.mark.parametrize("expr, wrt", [
    ("x^T A x", "x"), ("tr(A B)", "A"), ("a^T x", "x"), ("x^T x", "x"),
    ("a^T X b", "X"), ("logdet(A)", "A"), ("softmax(z)", "z"), ("W2 tanh(W1 x)", "x"),
    ("x^2 + 3 x", "x"), ("1/(2n) ||y - X w||^2", "w"),
])
def test_ends_with_derive_result(expr, wrt):
    ex = mc.explain(expr, wrt)
    assert str(ex.result) == str(mc.derive(expr, wrt))
    assert ex.steps[-1][1].endswith(str(ex.result))
    latex = ex.latex()
    assert latex.count("\\begin{align*}") == len(ex.steps)
    assert mc.derive(expr, wrt).latex() in latex


def test_lesson_identities_latex():
    latex = mc.explain("x^T A x", "x").latex()
    assert "\\delta_{ak}" in latex and "x_{a} A_{ab} x_{b}" in latex


def test_independent_variable():
    ex = mc.explain("a^T y", "x")
    assert "0" in ex.steps[-1][1] and str(ex.result) == "0"


def test_cli_explain(capsys):
    assert main(["derive", "x^T A x", "--wrt", "x", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "x_{a} A_{ab} x_{b}" in out and "(A + A^T) x" in out
    assert main(["derive", "tr(A B)", "--wrt", "A", "--explain", "--latex"]) == 0
    assert "\\begin{align*}" in capsys.readouterr().out
    assert main(["derive", "tr(A B)", "--wrt", "A", "--explain", "--json"]) != 0
