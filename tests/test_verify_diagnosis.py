# mc.verify on a false claim says how it is off, when it is off in a standard way.
"""`Verdict.diagnosis`: a false claim that holds for the transpose of its right side, for
its negation, for a constant multiple of it, or with a product's factors in the other
order says so, found numerically on the claim's own draws; true claims and claims wrong
in other ways get none. Also: the diagnosis is shown by str(), format_verdict and the
CLI, and declared dimensions stay distinct (a transposed shape is diagnosed too)."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import matrixcalc as mc
from matrixcalc.numbers.reports import format_verdict

from strategies import expressions

TRANSPOSE = "holds for the transpose of the right side"
SIGN = "holds for the negated right side"


def factor(c: str) -> str:
    return f"holds for {c} times the right side"


def order(product: str) -> str:
    return f"holds with the product's factors in the other order: {product}"


def shaped(claimed: str, expected: str) -> str:
    return (f"{TRANSPOSE}, which has the transposed shape: {claimed} where {expected} is "
            "expected")


FAMILIES = {
    "transpose": [  # the layout confusion
        ("d/dX tr(A X) = A", None, TRANSPOSE),
        ("d/dX a^T X b = b a^T", None, TRANSPOSE),
        ("d/dX tr(X^-1 A) = -X^-1 A X^-1", None, TRANSPOSE),
        ("(A B)^T = A B", "A: matrix(m, n); B: matrix(n, m)", TRANSPOSE),
        ("x y^T = y x^T", None, TRANSPOSE),
        # ... of the transposed shape: a row vector for a gradient, an m×n for an n×m
        ("d/dx x^T A x = x^T (A + A^T)", None, shaped("a row vector (1×n)", "a vector (n)")),
        ("d/dX tr(A X) = A", "A: matrix(m, n)", shaped("a matrix (m×n)", "a matrix (n×m)")),
        ("d/dX a^T X b = b a^T", "a: vector(m); b: vector(n)",
         shaped("a matrix (n×m)", "a matrix (m×n)")),
        ("A x = x^T A^T", None, shaped("a row vector (1×n)", "a vector (n)")),
        ("A = A^T", "A: matrix(m, n)", shaped("a matrix (n×m)", "a matrix (m×n)")),
    ],
    "sign": [
        ("d/dx -x^T x = 2 x", None, SIGN),
        ("d/dX tr(X^-1 A) = X^-T A^T X^-T", None, SIGN),
        ("a - b = b - a", None, SIGN),
        ("tr(A^T B) = -tr(B^T A)", None, SIGN),
    ],
    "factor": [  # shown as a simple fraction where it is one
        ("d/dx ||x||^2 = x", None, factor("2")),
        ("d/dX tr(X X) = X^T", None, factor("2")),
        ("d/dx ||x||^2 = 4 x", None, factor("1/2")),
        ("x^T A x = 2 x^T A x", None, factor("1/2")),
        ("3 (A + B) = A + B", "A: matrix(m, n)", factor("3")),
        ("x = 0.7 x", None, factor("10/7")),
        ("x = 0.123 x", None, factor("8.13")),
    ],
    "order": [
        ("d/dX tr(A X B) = B^T A^T", None, order("A^T B^T")),
        ("d/dX A X B = kron(A, B^T)", None, order("B^T ⊗ A")),
        ("(A B)^T = A^T B^T", None, order("B^T A^T")),
        ("(A B C)^-1 = A^-1 B^-1 C^-1", None, order("C^-1 B^-1 A^-1")),
        ("-(A B)^T = -A^T B^T", None, order("-B^T A^T")),
        ("(2 A B)^T = 2 A^T B^T", None, order("2 B^T A^T")),
    ],
}
DIAGNOSED = [case for cases in FAMILIES.values() for case in cases]

UNDIAGNOSED = [
    ("d/dX tr(A X) = A^T + I", None),              # off by an added term
    ("exp(x + y) = exp(x) .* exp(y) + ones", None),
    ("d/dx x^T A x = 2 A x", None),                # holds only for a symmetric A
    ("mean(x) = sum(x)", None),                    # a factor 1/n: not a constant
    ("x^T y = x^T x", None),                       # a ratio that varies
    ("(alpha A)^-1 = alpha A^-1", None),           # a factor 1/alpha^2: not a constant
    ("d/dy x^T x = y", None),                      # the truth is zero
    ("d/dx x^T x = 0", None),                      # the claim is zero
    ("A B C = B A C", None),                       # reversed, and still wrong
    ("tr(A + B) = tr(A) tr(B)", None),
    # the entries reshuffled: the transpose (n×m), reshaped to m×n, would match
    ("A = unvec(vec(A^T), m, n)", "A: matrix(m, n)"),
]


@pytest.mark.parametrize("claim, where, diagnosis", DIAGNOSED,
                         ids=[f"{c} [{w}]" for c, w, _ in DIAGNOSED])
def test_a_claim_off_in_a_standard_way_says_how(claim, where, diagnosis):
    verdict = mc.verify(claim, where=where, trials=3, seed=11)
    assert not verdict.holds and not verdict
    assert verdict.diagnosis == diagnosis
    assert format_verdict(verdict).startswith(f"false: {diagnosis}")
    assert str(verdict) == format_verdict(verdict)


def test_every_diagnosis_is_tested_on_both_kinds_of_claim():
    for family, cases in FAMILIES.items():
        kinds = [claim.startswith("d/d") for claim, _, _ in cases]
        assert kinds.count(True) >= 2 and kinds.count(False) >= 2, family


@pytest.mark.parametrize("claim, where", UNDIAGNOSED, ids=[c for c, _ in UNDIAGNOSED])
def test_a_claim_wrong_in_another_way_has_no_diagnosis(claim, where):
    verdict = mc.verify(claim, where=where, trials=3, seed=11)
    assert not verdict.holds and verdict.diagnosis is None
    assert verdict.counterexample is not None
    text = format_verdict(verdict)
    assert text.split("\n")[0] == "false" and "holds for" not in text


@pytest.mark.parametrize("claim, where", [
    ("d/dX tr(A X) = A^T", None),
    ("(A B)^T = B^T A^T", "A: matrix(m, n); B: matrix(n, p)"),
    ("d/dx x^T A x = 2 A x", "A: symmetric"),
    ("A = A^T", "A: symmetric"),                     # its transpose holds too
])
def test_a_true_claim_has_no_diagnosis(claim, where):
    verdict = mc.verify(claim, where=where, trials=3)
    assert verdict.holds and verdict.diagnosis is None
    assert "holds for" not in format_verdict(verdict)


def test_the_diagnosis_is_found_on_the_claims_own_draws():
    # the multiple said holds at the seed the verdict reports, and the claim does not
    verdict = mc.verify("d/dx ||x||^2 = 4 x", trials=4)
    assert verdict.diagnosis == factor("1/2")
    assert mc.verify("d/dx ||x||^2 = 1/2 (4 x)", trials=4, seed=verdict.seed).holds
    assert verdict.counterexample.seed == verdict.seed  # failed at its first draw


def test_one_scalar_value_cannot_tell_a_factor():
    # with one draw of a scalar, any two nonzero values are "proportional": no diagnosis
    assert mc.verify("x^T y = x^T x", trials=1, seed=3).diagnosis is None
    assert mc.verify("x^T A x = 2 x^T A x", trials=2, seed=3).diagnosis == factor("1/2")


def test_declared_dimensions_stay_distinct():
    # the checker never equates m and n to make the sides agree; the transposed shape is
    # diagnosed, with the evidence of the transposed claim and no counterexample
    verdict = mc.verify("d/dX tr(A X) = A", where="A: matrix(m, n)", trials=4)
    assert all(s["m"] != s["n"] for s in verdict.sizes) and len(verdict.sizes) == 4
    assert verdict.counterexample is None and verdict.max_error < 1e-8
    text = format_verdict(verdict)
    assert "None" not in text and "counterexample" not in text
    assert "with A: matrix (m×n)" in text
    verdict = mc.verify("d/dX tr(A X) = A^T", where="A: matrix(m, n)", trials=4)
    assert verdict.holds and all(s["m"] != s["n"] for s in verdict.sizes)


@pytest.mark.parametrize("claim, where", [
    ("A x = x^T A", None),                     # its transpose, A^T x, does not hold
    ("d/dx x^T A x = a^T", None),
    ("A B = B A", "A: matrix(m, n); B: matrix(n, m)"),
    ("d/dX tr(A X) = 2 A", "A: matrix(m, n)"),        # its transpose is off by 2
])
def test_sides_that_differ_in_shape_stay_shape_errors(claim, where):
    with pytest.raises(mc.ShapeError, match="differ in shape"):
        mc.verify(claim, where=where)


def test_the_cli_prints_the_diagnosis(capsys):
    from matrixcalc.cli import main
    from matrixcalc.cli.registry import EXIT_FALSE
    assert main(["verify", "(A B)^T = A^T B^T", "--seed", "2"]) == EXIT_FALSE
    out = capsys.readouterr().out
    assert out.startswith(f"false: {order('B^T A^T')}\n") and "counterexample" in out
    assert main(["verify", "d/dx a^T x = a^T", "--seed", "2"]) == EXIT_FALSE
    assert capsys.readouterr().out.startswith(
        f"false: {shaped('a row vector (1×n)', 'a vector (n)')}\n")


# -- properties ---------------------------------------------------------------------------

FACTORS = ("A", "A^T", "B", "B^T", "W_1", "(A + B)", "(A - W_1^T)", "I", "2 A", "A^-1")


@st.composite
def matrix_polynomials(draw) -> str:
    """A sum of one or two products of square (n×n) factors, at least one of them in A."""
    factors = st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4)
    first, *rest = draw(st.lists(factors, min_size=1, max_size=2))
    first = draw(st.permutations([*first, "A"]))
    return " + ".join(" ".join(p) for p in [first, *rest])


@settings(max_examples=30)
@given(matrix_polynomials())
@example("A").via("a symmetric derivative: I")
@example("A B + B^T A").via("a symmetric derivative: B + B^T")
def test_the_transposed_gradient_is_diagnosed_unless_it_is_symmetric(f):
    # d/dA tr(F) claimed as its derivative's transpose: true exactly where the derivative
    # is symmetric, else diagnosed as a transpose
    text = f"tr({f})"
    gradient = mc.derive(text, wrt="A")
    assume(str(gradient) != "0")  # tr(A^-1 A) is constant
    verdict = mc.verify(f"d/dA {text} = ({gradient})^T", trials=3, seed=5)
    symmetric = mc.verify(f"{gradient} = ({gradient})^T", where="A, B, W_1: matrix(n)",
                          trials=3, seed=5).holds
    assert verdict.holds == symmetric, format_verdict(verdict)
    assert verdict.diagnosis == (None if symmetric else TRANSPOSE), format_verdict(verdict)


SCALES = {"2": "1/2", "3": "1/3", "0.5": "2", "1.5": "2/3", "-2": "-1/2", "0.25": "4"}
VECTOR_OPS = ("add", "neg", "mul", "matmul", "hadamard", "transpose", "ones", "I", "tr",
              "sum", "exp", "sin", "tanh", "sigmoid", "relu")


@settings(max_examples=25)
@given(expressions(kind="vector", ops=VECTOR_OPS, max_depth=3), st.sampled_from(sorted(SCALES)))
def test_a_scaled_right_side_is_diagnosed_by_its_factor(f, scale):
    # F = c (F): holds only where F vanishes; otherwise the factor found is 1/c
    verdict = mc.verify(f"{f} = {scale} ({f})", trials=3, seed=7)
    if not verdict.holds:
        assert verdict.diagnosis == factor(SCALES[scale]), format_verdict(verdict)
