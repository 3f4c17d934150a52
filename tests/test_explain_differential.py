# mc.explain(method="differential"): the lesson's derivations by differentials, line by line.
"""The derivation by differentials (SPEC section 5, issue 17): each lesson case as it
prints, asserted line by line; every line from the full differential on parses back and
equals the index engine's directional derivative (mc.jvp) at random points; the result is
mc.derive's, to the letter, and passes the autograd check; the identification theorems,
the Hessian by the second differential, order 3/4, LaTeX, Jupyter, errors and the CLI."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

import matrixcalc as mc
from matrixcalc.calculus.by_differentials import derive_by_differentials, second
from matrixcalc.cli import main
from matrixcalc.demo import LOGISTIC
from matrixcalc.ops import REGISTRY
from matrixcalc.ops.spec import register

MSE = "1/(2n) ||y - X w||^2"
RIDGE = "1/(2n) ||y - X w||^2 + λ/2 ||w||^2"
S = "sigmoid(X w)"

LESSON = [
    # §1.2 / 4.2: d(x^T A x) = dx^T A x + x^T A dx = ((A + A^T) x)^T dx
    ("x^T A x", "x", [
        "df = d(x^T A x)",
        "df = d(x^T) A x + x^T A dx",
        "df = dx^T A x + x^T A dx",
        "dx^T A x = (A x)^T dx",
        "x^T A dx = (A^T x)^T dx",
        "df = (A x + A^T x)^T dx",
        "df = ((A + A^T) x)^T dx",
        "∂f/∂x = (A + A^T) x",
    ]),
    # §4.3
    ("tr(A B)", "A", [
        "df = d tr(A B)",
        "df = tr(d(A B))",
        "df = tr(dA B)",
        "tr(dA B) = tr(B dA)",
        "∂f/∂A = B^T",
    ]),
    # §4.1: log|A|
    ("log(|A|)", "A", [
        "df = d logdet(A)",
        "df = tr(A^-1 dA)",
        "∂f/∂A = A^-T",
    ]),
    # §4.1: x^T A^-1 x by A
    ("x^T A^-1 x", "A", [
        "df = d(x^T A^-1 x)",
        "df = x^T d(A^-1) x",
        "df = -x^T A^-1 dA A^-1 x",
        "-x^T A^-1 dA A^-1 x = tr(-A^-1 x x^T A^-1 dA)",
        "∂f/∂A = -A^-T x x^T A^-T",
    ]),
    # §5.1: the MSE
    (MSE, "w", [
        "df = d(1/(2 n) ||y - X w||^2)",
        "df = 1/(2 n) d(||y - X w||^2)",
        "df = 1/(2 n) 2 ||y - X w|| d||y - X w||",
        "df = 1/(2 n) 2 ||y - X w|| ((y - X w)^T d(y - X w)/||y - X w||)",
        "df = -1/(2 n) 2 ||y - X w|| ((y - X w)^T d(X w)/||y - X w||)",
        "df = -1/(2 n) 2 ||y - X w|| ((y - X w)^T X dw/||y - X w||)",
        "-1/(2 n) 2 ||y - X w|| ((y - X w)^T X dw/||y - X w||) = (-1/n X^T (y - X w))^T dw",
        "∂f/∂w = -1/n X^T (y - X w)",
    ]),
    # problem 5: ridge
    (RIDGE, "w", [
        "df = d(1/(2 n) ||y - X w||^2 + λ/2 ||w||^2)",
        "df = d(1/(2 n) ||y - X w||^2) + d(λ/2 ||w||^2)",
        "df = 1/(2 n) d(||y - X w||^2) + λ/2 d(||w||^2)",
        "df = 1/(2 n) 2 ||y - X w|| d||y - X w|| + λ/2 2 ||w|| d||w||",
        "df = 1/(2 n) 2 ||y - X w|| ((y - X w)^T d(y - X w)/||y - X w||) + λ/2 2 ||w|| "
        "(w^T dw/||w||)",
        "df = -1/(2 n) 2 ||y - X w|| ((y - X w)^T d(X w)/||y - X w||) + λ/2 2 ||w|| "
        "(w^T dw/||w||)",
        "df = -1/(2 n) 2 ||y - X w|| ((y - X w)^T X dw/||y - X w||) + λ/2 2 ||w|| "
        "(w^T dw/||w||)",
        "-1/(2 n) 2 ||y - X w|| ((y - X w)^T X dw/||y - X w||) = (-1/n X^T (y - X w))^T dw",
        "λ/2 2 ||w|| (w^T dw/||w||) = (λ w)^T dw",
        "df = (-1/n X^T (y - X w) + λ w)^T dw",
        "df = (λ w - 1/n X^T (y - X w))^T dw",
        "∂f/∂w = λ w - 1/n X^T (y - X w)",
    ]),
    # problem 2: logistic regression
    (LOGISTIC, "w", [
        f"df = d({LOGISTIC})",
        f"df = -1/n d(y^T log({S}) + (ones - y)^T log(ones - {S}))",
        f"df = -1/n (d(y^T log({S})) + d((ones - y)^T log(ones - {S})))",
        f"df = -1/n (y^T d log({S}) + (ones - y)^T d log(ones - {S}))",
        f"df = -1/n (y^T ({S}.^-1 ⊙ d {S}) + (ones - y)^T ((ones - {S}).^-1 ⊙ "
        f"d(ones - {S})))",
        f"df = -1/n (y^T ({S}.^-1 ⊙ ((1 - {S}) ⊙ ({S} ⊙ d(X w)))) + (ones - y)^T "
        f"((ones - {S}).^-1 ⊙ (-d {S})))",
        f"df = -1/n (y^T ({S}.^-1 ⊙ ((1 - {S}) ⊙ ({S} ⊙ (X dw)))) + (ones - y)^T "
        f"((ones - {S}).^-1 ⊙ (-((1 - {S}) ⊙ ({S} ⊙ d(X w))))))",
        f"df = -1/n (y^T ({S}.^-1 ⊙ ((1 - {S}) ⊙ ({S} ⊙ (X dw)))) + (ones - y)^T "
        f"((ones - {S}).^-1 ⊙ (-((1 - {S}) ⊙ ({S} ⊙ (X dw))))))",
        f"-1/n (y^T ({S}.^-1 ⊙ ((1 - {S}) ⊙ ({S} ⊙ (X dw))))) = "
        f"(-1/n X^T (y ⊙ (1 - {S})))^T dw",
        f"1/n ((ones - y)^T ((ones - {S}).^-1 ⊙ ((1 - {S}) ⊙ ({S} ⊙ (X dw))))) = "
        f"(1/n X^T ((1 - y) ⊙ {S}))^T dw",
        f"df = (-1/n X^T (y ⊙ (1 - {S})) + 1/n X^T ((1 - y) ⊙ {S}))^T dw",
        f"df = (1/n X^T ({S} - y))^T dw",
        f"∂f/∂w = 1/n X^T ({S} - y)",
    ]),
    # §5.3: softmax cross-entropy
    ("-y^T log(softmax(z))", "z", [
        "df = d(-y^T log(softmax(z)))",
        "df = -y^T d log(softmax(z))",
        "df = -y^T (softmax(z).^-1 ⊙ d softmax(z))",
        "df = -y^T (softmax(z).^-1 ⊙ ((diag(softmax(z)) - softmax(z) softmax(z)^T) dz))",
        "-y^T (softmax(z).^-1 ⊙ ((diag(softmax(z)) - softmax(z) softmax(z)^T) dz)) = "
        "(sum(y) softmax(z) - y)^T dz",
        "∂f/∂z = sum(y) softmax(z) - y",
    ]),
    # §5.6: the linear layer, with the upstream gradient g
    ("g^T (W x + b)", "W", [
        "df = d(g^T (W x + b))",
        "df = g^T d(W x + b)",
        "df = g^T d(W x)",
        "df = g^T dW x",
        "g^T dW x = tr(x g^T dW)",
        "∂f/∂W = g x^T",
    ]),
    ("g^T (W x + b)", "b", [
        "df = d(g^T (W x + b))",
        "df = g^T d(W x + b)",
        "df = g^T db",
        "∂f/∂b = g",
    ]),
    ("g^T (W x + b)", "x", [
        "df = d(g^T (W x + b))",
        "df = g^T d(W x + b)",
        "df = g^T d(W x)",
        "df = g^T W dx",
        "g^T W dx = (W^T g)^T dx",
        "∂f/∂x = W^T g",
    ]),
]


PENDING = re.compile(r"(^|[^\w])d[ (|\[]")  # d(x^T), d log(…), d||r||: not yet taken


def _lines(ex) -> list[str]:
    return [body for _, body in ex.steps[1:]]


@pytest.mark.parametrize("expr, wrt, lines", LESSON, ids=[f"{e} by {w}" for e, w, _ in LESSON])
def test_lesson_derivation_line_by_line(expr, wrt, lines):
    # each line as the derivation prints it; the result is mc.derive's, to the letter, and
    # autograd's
    ex = mc.explain(expr, wrt, method="differential")
    assert _lines(ex) == lines
    assert ex.steps[0][1].startswith(f"f = {mc.parse(expr)}")
    derived = mc.derive(expr, wrt)
    assert str(ex.result) == str(derived)
    assert mc.check(expr, wrt, result=ex.result, seed=1).ok


@pytest.mark.parametrize("expr, wrt, lines", LESSON, ids=[f"{e} by {w}" for e, w, _ in LESSON])
def test_each_line_is_the_differential(expr, wrt, lines):
    # every line from the full differential on parses back (dx declared by ex.where), and
    # is the directional derivative d/dt f(x + t dx) (mc.jvp, by the index engine) at
    # random points: both sides of a term's rearrangement agree too
    ex = mc.explain(expr, wrt, method="differential")
    dx = f"d{wrt}"
    jvp = mc.jvp(expr, wrt, dx, where=ex.where)
    checked = 0
    for _, body in ex.steps[1:]:
        left, right = body.split(" = ", 1)
        if PENDING.search(body) or left.startswith("∂"):
            continue  # a d(…) still to take: the textbooks' notation, not the language
        rhs = mc.parse(right, where=ex.where)
        assert mc.parse(str(rhs), where=ex.where) == rhs
        other = jvp if left in ("df", "dF") else mc.parse(left, where=ex.where)
        verdict = mc.verify(f"{rhs} = {other}", where=ex.where, seed=3)
        assert verdict.holds, f"{body}\n{verdict}"
        checked += 1
    assert checked >= 1


def _step(ex, word: str) -> str:
    return next(title for title, _ in ex.steps if word.lower() in title.lower())


def test_each_step_names_its_rule():
    # the rules of the operator table, the moves and the identification theorem
    ex = mc.explain("x^T A x", "x", method="differential")
    assert _step(ex, "product rule") == "product rule: d(U V) = dU V + U dV"
    assert "transpose: d(U^T) = dU^T" in _step(ex, "transpose:")
    assert "cyclicity of the trace" in _step(ex, "cyclicity")
    assert _step(ex, "identification").startswith(
        "First identification theorem (Magnus & Neudecker, ch. 9): df = g^T dx ⟺ ∂f/∂x = g")
    log = mc.explain("log(|A|)", "A", method="differential")
    assert _step(log, "log-determinant") == "log-determinant: d log|det M| = tr(M^-1 dM)"
    soft = mc.explain("-y^T log(softmax(z))", "z", method="differential")
    assert "Hadamard product and trace" in _step(soft, "Hadamard")


def test_assumptions_and_the_cookbook_cases():
    # symmetric A: the unstructured derivation, simplified under the assumption at the end
    ex = mc.explain("x^T A x", "x", where="A: symmetric", method="differential")
    assert str(ex.result) == "2 A x" == str(mc.derive("x^T A x", "x", where="A: symmetric"))
    ex = mc.explain("x^T A^-1 x", "A", where="A: symmetric", method="differential")
    assert ex.steps[-1] == ("With the assumptions", "∂f/∂A = -A^-1 x x^T A^-1")
    for expr, wrt, expected in [("det(X)", "X", "det(X) X^-T"), ("tr(X^T B X)", "X",
                                                                   "(B + B^T) X"),
                                ("a^T X b", "X", "a b^T"), ("tr(A ⊗ X)", "X", "tr(A) I")]:
        ex = mc.explain(expr, wrt, method="differential", where="A, X: square")
        assert str(ex.result) == expected
        assert mc.check(expr, wrt, result=ex.result, where="A, X: square", seed=2).ok


def test_jacobian_and_scalar_variable():
    # dF = J dx gives the Jacobian; for a scalar x, dF = G dx
    ex = mc.explain("softmax(z)", "z", method="differential")
    assert _lines(ex)[-1] == "∂F/∂z = diag(softmax(z)) - softmax(z) softmax(z)^T"
    assert ex.steps[0][1].startswith("F = softmax(z)")
    ex = mc.explain("tanh(W x + b)", "x", method="differential")
    assert str(ex.result) == str(mc.derive("tanh(W x + b)", "x")) \
        == "diag(1 - tanh(W x + b).^2) W"
    assert "Hadamard product as diag" in _step(ex, "diag")
    ex = mc.explain("x^2 + 3 x", "x", method="differential", where="x: scalar")
    assert "dx is a scalar" in _step(ex, "scalar:")
    assert _lines(ex)[-1] == "∂f/∂x = 2 x + 3"
    ex = mc.explain("α A + α^2 B", "α", method="differential")
    assert str(ex.result) == str(mc.derive("α A + α^2 B", "α")) == "2 α B + A"


def test_no_closed_form_gives_the_differential():
    # order 3 or 4: said so, and dF is the answer (SPEC section 5)
    ex = mc.explain("A X B", "X", method="differential")
    assert ex.result is None
    title, body = ex.steps[-1]
    assert "No closed matrix form" in title and "order 3 or 4" in title
    assert body == "dF = A dX B"
    assert str(ex.differential) == "A dX B"


def test_independent_variable_and_the_variable_itself():
    ex = mc.explain("a^T y", "x", method="differential")
    assert ex.steps[1][1] == "df = 0" and str(ex.result) == "0"
    ex = mc.explain("x", "x", method="differential")
    assert str(ex.result) == "I" and ex.steps[1][1] == "dF = dx"


def test_hessian_by_the_second_differential():
    # d²f = dx^T B^T dx, H = (B + B^T)/2: the lesson's Newton step and logistic Hessian
    ex = mc.explain("1/2 x^T A x - b^T x", "x", where="A: symmetric", method="differential",
                    order=2)
    assert ex.steps[-1][1] == "∂²f/∂x² = A" and str(ex.result) == "A"
    assert ex.steps[-1][0].startswith("Second identification theorem")
    both = second(LOGISTIC, "w")
    assert str(both.result) == str(mc.hessian(LOGISTIC, "w")) == \
        "1/n X^T diag(sigmoid(X w) ⊙ (1 - sigmoid(X w))) X"
    assert mc.check(LOGISTIC, "w", result=both.result, order=2, seed=4).ok
    ex = mc.explain("x^4", "x", method="differential", order=2)
    assert ex.steps[-1][1] == "∂²f/∂x² = 12 x^2"
    with pytest.raises(mc.UsageError):
        mc.explain("x^T A x", "x", order=2)  # the index method has no Hessian steps


def test_latex_markdown_and_where():
    ex = mc.explain("x^T A x", "x", method="differential")
    latex = ex.latex()
    assert latex.count("\\begin{align*}") == len(ex.steps)
    assert "\\mathrm{d}f &= " in latex and "{\\mathrm{d}x}^{\\top} A x" in latex
    # Jupyter's text/latex is one math-mode block holding every step's lines (the document
    # form's align* is not math mode: tests/test_display.py converts it)
    math = ex._repr_latex_()
    assert math.startswith("$") and math.endswith("$") and "align*" not in math
    assert all(body in math for _, body in ex.latex_steps)
    markdown = ex._repr_markdown_()
    assert markdown.count("$$") == 2 * len(ex.steps) and "**product rule" in markdown
    assert ex.where == "dx: vector" and ex.method == "differential"
    ex = mc.explain("x^T A x", "x", where={"A": "symmetric"}, method="differential")
    assert ex.where == {"A": "symmetric", "dx": "vector"}


def test_errors():
    with pytest.raises(mc.UsageError):
        mc.explain("x^T A x", "x", method="matrix")
    with pytest.raises(mc.UsageError):
        mc.explain("x^T A x", "x", method="differential", order=3)
    spec = REGISTRY["tr"]
    register(replace(spec, differential=None), replace=True)
    try:
        with pytest.raises(mc.UnsupportedError, match="no differential rule for `tr`"):
            derive_by_differentials("tr(X)", "X")
    finally:
        register(spec, replace=True)
    with pytest.raises(mc.UnsupportedError, match="variable exponent"):
        mc.explain("α^{β}", "β", method="differential")


def test_a_name_already_taken_by_dx():
    # the differential symbol never collides with a symbol of the expression
    ex = mc.explain("dx^T x", "x", method="differential")
    assert "d_x" in ex.steps[0][1] and str(ex.result) == "dx"


def test_verify_reports_two_derivations():
    # a derivative claim that both engines derive is proved twice; an equality is symbolic
    verdict = mc.verify("d/dx x^T A x = (A + A^T) x")
    assert verdict.holds and verdict.how == "two derivations"
    assert "two derivations" in str(verdict)
    assert mc.verify("(A B)^T = B^T A^T").how == "symbolic"
    false = mc.verify("d/dx x^T A x = 2 A x")
    assert not false.holds and false.how == "numeric"


def test_cli_explain(capsys):
    assert main(["explain", "x^T A x", "--wrt", "x", "--method", "differential"]) == 0
    out = capsys.readouterr().out
    assert "df = dx^T A x + x^T A dx" in out and "∂f/∂x = (A + A^T) x" in out
    assert main(["explain", "log(|A|)", "--wrt", "A", "--method", "differential",
                 "--latex"]) == 0
    assert "\\mathrm{d}f &= \\operatorname{tr}" in capsys.readouterr().out
    assert main(["explain", "x^T A x", "--wrt", "x"]) == 0  # index notation by default
    assert "x_{a} A_{ab} x_{b}" in capsys.readouterr().out
    assert main(["explain", "x^T A x", "--wrt", "x", "--method", "differential",
                 "--order", "2"]) == 0
    assert "∂²f/∂x² = A + A^T" in capsys.readouterr().out
    assert main(["derive", "x^T A x", "--wrt", "x", "--explain"]) == 0  # still there
    assert "x_{a} A_{ab} x_{b}" in capsys.readouterr().out
    assert main(["explain", "x^T A x", "--wrt", "x", "--order", "2"]) == 2


def test_web_offers_the_differential_method():
    from matrixcalc.web.compute import explain_methods
    assert "differential" in explain_methods()
