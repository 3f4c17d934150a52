# Output as people read it (issue 18): every result type renders in Jupyter.
"""IPython's display formatter renders every result type as mathematics (LaTeX valid in
math mode: latex2mathml converts it) or Markdown, and its plain text is the text form:
a derivative, the tuple of several partials, a shared form, an order-4 tensor, a check
report and a verdict."""

from __future__ import annotations

import pytest
from IPython.core.formatters import DisplayFormatter
from latex2mathml.converter import convert

import matrixcalc as mc

FORMAT = DisplayFormatter()


def results():
    return {
        "derivative": (mc.derive("x^T A x", "x"), "(A + A^T) x"),
        "partials": (mc.derive("x^T A y", ["x", "y"]), "(A y, A^T x)"),
        "tensor": (mc.derive("A X B", "X"), "A_{ik} B_{lj}"),
        "shared": (mc.derive("sum(tanh(W2 tanh(W1 x)))", "W1").shared(), None),
    }


@pytest.mark.parametrize("name", ["derivative", "partials", "tensor", "shared"])
def test_a_result_renders_as_mathematics(name):
    # text/plain is the text form; text/latex is math-mode LaTeX ($…$) that converts
    result, text = results()[name]
    data, _ = FORMAT.format(result)
    assert data["text/plain"] == (text or str(result))
    latex = data["text/latex"]
    assert latex.startswith("$") and latex.endswith("$")
    assert "<math" in convert(latex.strip("$"))


def test_reports_and_verdicts_render_as_markdown():
    # a check report and a verdict: their words, in a Markdown block
    report, verdict = mc.check("x^T x", "x", seed=1), mc.verify("tr(A B) = tr(B A)")
    for value in (report, verdict):
        data, _ = FORMAT.format(value)
        assert str(value) in data["text/markdown"] and data["text/plain"] == str(value)


def test_the_package_lists_its_api():
    # dir(mc) shows the API, lazily loaded parts included
    names = dir(mc)
    for name in ("derive", "hessian", "check", "verify", "lambdify", "explain", "to_sympy",
                 "load_table", "KindWarning", "LimitError"):
        assert name in names


@pytest.mark.parametrize("method", ["index", "differential"])
def test_an_explanation_renders_step_by_step(method):
    # Markdown: each step's title in bold over its line as display math; text/latex: one
    # math-mode block that converts; plain text: the numbered steps
    explanation = mc.explain("x^T A x", "x", method=method)
    data, _ = FORMAT.format(explanation)
    assert data["text/plain"] == str(explanation)
    markdown = data["text/markdown"]
    for n, (title, _) in enumerate(explanation.steps, 1):
        assert f"{n}. **{title}**" in markdown
    assert markdown.count("$$") == 2 * len(explanation.steps)
    latex = data["text/latex"]
    assert latex.startswith("$\\begin{array}") and latex.endswith("\\end{array}$")
    math = convert(latex.strip("$"))
    assert "<math" in math and math.count("<mtr>") >= 2 * len(explanation.steps)
    assert explanation.latex_steps[-1][1] in latex  # the result's line is the last one
