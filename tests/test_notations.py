"""Input as people paste it (SPEC section 1, issue 18): numpy's `.T`, `@` and `**`,
Unicode superscripts, LaTeX's `^\\top`, `^(-1)` and `trace(…)` read as meant; other
notations get a ParseError whose hint names ours."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import expressions

import matrixcalc as mc

# (pasted, what it means in our notation)
READ_AS_MEANT = [
    ("x.T @ A @ x", "x^T A x"),
    ("x.T@A@x", "x^T A x"),
    ("(A @ B).T", "(A B)^T"),
    ("sum(x**2)", "sum(x.^2)"),
    ("alpha**2 + x.T @ x", "alpha^2 + x^T x"),
    ("Aᵀ x", "A^T x"),
    ("A⁻¹ b", "A^-1 b"),
    ("X⁻ᵀ", "X^-T"),
    ("X² + X³", "X^2 + X^3"),
    ("x^\\top A x", "x^T A x"),
    ("x^{\\top} A x", "x^T A x"),
    ("x^\\intercal y", "x^T y"),
    ("A^\\mathsf{T} y", "A^T y"),
    ("A^(-1) b", "A^-1 b"),
    ("A^(-T) b", "A^-T b"),
    ("X^(2)", "X^2"),
    ("trace(A B)", "tr(A B)"),
    ("trace(X.T @ X)", "tr(X^T X)"),
]


@pytest.mark.parametrize("pasted, ours", READ_AS_MEANT)
def test_pasted_notation_reads_as_ours(pasted, ours):
    got, expected = mc.parse(pasted), mc.parse(ours)
    assert str(got) == str(expected)
    assert got.shapes == expected.shapes


def test_a_pasted_expression_derives_like_ours():
    """numpy text end to end: the derivative's text and autograd agree (distinct sizes)."""
    pasted = "(X @ w - y).T @ (X @ w - y) + lam * w.T @ w"
    where = "lam: scalar; X: matrix(n, d)"
    result = mc.derive(pasted, "w", where=where)
    assert str(result) == str(mc.derive("||X w - y||^2 + lam w^T w", "w", where=where))
    assert str(result) == "2 X^T (X w - y) + 2 lam w"
    assert mc.check(pasted, "w", result=result, where=where).ok


def test_numpy_power_of_a_vector_is_elementwise_and_of_a_matrix_ambiguous():
    result = mc.derive("sum(x**3)", "x")
    assert str(result) == "3 x.^2"
    assert mc.check("sum(x**3)", "x", result=result).ok
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse("A**2")
    assert "`A.^2` for the elementwise power or `A^2` for the matrix power" in str(caught.value)


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _paste(text: str, draw) -> str:
    """Our canonical text rewritten into the pasted notations, each spot by a random
    choice (or left as it is)."""
    def choose(options):
        return lambda match: draw(st.sampled_from(options + [match.group(0)]))

    text = re.sub(r"\^T\b", choose([".T", "ᵀ", "^\\top", "^{\\top}", "^\\intercal"]), text)
    text = re.sub(r"(?<![.\w])\^-1(?![\d.eE/])", choose(["⁻¹", "^(-1)", "^{-1}"]), text)
    text = re.sub(r"\^-T", choose(["⁻ᵀ", "^(-T)"]), text)
    text = re.sub(r"(?<!\.)\^(\d+)(?![\d.eE/])",
                  lambda m: draw(st.sampled_from([m.group(1).translate(SUPERSCRIPT),
                                                  m.group(0)])), text)
    text = re.sub(r"\btr\(", choose(["trace("]), text)
    return text


@settings(max_examples=150, deadline=None)
@given(expressions(max_depth=4), st.data())
def test_pasted_notations_parse_to_the_same_tree(text, data):
    canonical = mc.parse(text)
    pasted = _paste(str(canonical), data.draw)
    again = mc.parse(pasted)
    assert str(again) == str(canonical), pasted
    assert again.shapes == canonical.shapes


HINTS = [
    ("\\operatorname{tr}(A B)", "write `tr(…)` for `\\operatorname{tr}`"),
    ("\\mathrm{tr}(A)", "write `tr(…)`"),
    ("\\mathbf{x}^T A", "write the name alone: `x`"),
    ("\\frac{1}{2} x^T x", "`a / b`"),
    ("x \\cdot y", "a space or `*`"),
    ("\\log(x)", "write `log(…)` without the backslash"),
    ("np.linalg.inv(A) b", "write `A^-1` for the inverse"),
    ("torch.exp(x)", "drop the `torch.` prefix"),
    ("A.I b", "write `A^-1`"),
    ("x.sum()", "`sum(x)`"),
    ("x.dot(y)", "`x^T y`"),
    ("max(x)", "`logsumexp(x)` is the smooth maximum"),
    ("transpose(A)", "`A^T`"),
    ("sigmod(x)", "did you mean `sigmoid`?"),
    ("torch.linalg.matrix_exp(X)", "`expm(X)`"),
    ("np.linalg.cholesky(S) a", "`chol(S)`"),
    ("torch.linalg.svdvals(X)", "`||X||_*`"),
]


@pytest.mark.parametrize("text, hint", HINTS)
def test_other_notations_get_a_hint_naming_ours(text, hint):
    with pytest.raises(mc.ParseError) as caught:
        mc.parse(text)
    assert hint in caught.value.hint
    assert "^" in str(caught.value)  # the caret under the spot


def test_max_no_longer_suggests_softmax():
    with pytest.raises(mc.ParseError) as caught:
        mc.parse("max(x)")
    assert "softmax" not in caught.value.hint


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "matrixcalc", *argv],
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_vec_after_the_expression():
    run = _cli("derive", "A X B", "--wrt", "X", "--vec")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "B^T ⊗ A"
    assert "starts with `-`" not in run.stderr
    run = _cli("derive", "A X B", "--wrt", "X", "--vec", "--check")
    assert run.returncode == 0 and "check ok" in run.stdout


def test_cli_reads_pasted_numpy():
    run = _cli("derive", "--wrt", "x", "--", "-x.T @ A @ x + sum(x**2)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2 x - (A + A^T) x"
