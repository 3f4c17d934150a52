# simplify decides everyday equalities: traces, inner products, sums of entries, literals
"""mc.simplify decides the equalities a user writes every day (SPEC sections 4, 5):

- the trace is linear, cyclic and blind to transposition (Matrix Cookbook (11), (16));
- a scalar equals its transpose (x^T A y = y^T A^T x);
- sums of entries are linear, and known for ones, softmax and distributions; a mean is a
  sum over the size (sum(x - mean(x) ones) = 0);
- bracket literals multiply, add, scale and take powers entry by entry.

Each decision is a difference that simplifies to 0, paired with a near miss that must not,
and every canonical form read back with `mc.parse` gives the same tree.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matrixcalc as mc

RNG = np.random.default_rng(0)


def simplified(text: str, where: str | None = None):
    """The simplified form, checked to read back as itself."""
    result = mc.simplify(text, where=where)
    assert mc.parse(str(result), where=where) == result, str(result)
    return result


def random_values(expr, sizes: dict[str, int]) -> dict:
    values = {}
    for name, info in expr.shapes.items():
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in info.rows + info.cols)
        values[name] = float(RNG.standard_normal()) if not shape else RNG.standard_normal(shape)
    return values


# -- traces ---------------------------------------------------------------------------------

MNP = "A: matrix(m, n); B: matrix(n, p); C: matrix(p, m)"


@pytest.mark.parametrize("text, where", [
    ("tr(A B) - tr(B A)", None),
    ("tr(A B) - tr(B A)", "A: matrix(m, n); B: matrix(n, m)"),
    ("tr(A B C) - tr(C A B)", None),
    ("tr(A B C) - tr(B C A)", MNP),
    ("tr(A B C) - tr(C A B)", MNP),
    ("tr(A + B) - tr(A) - tr(B)", None),
    ("tr(A - 3 B) - tr(A) + 3 tr(B)", None),
    ("tr(2 A) - 2 tr(A)", None),
    ("tr(α A B) - α tr(B A)", "A: matrix(m, n); B: matrix(n, m)"),
    ("tr(A^T B) - tr(B^T A)", "A, B: matrix(m, n)"),
    ("tr(A^T) - tr(A)", None),
    ("tr(A B C) - tr(C^T B^T A^T)", MNP),
    ("tr(A^-1 B A) - tr(B A A^-1)", None),
    ("tr(A + 2) - tr(A) - 2 n", "A: matrix(n, n)"),
])
def test_trace_equalities_simplify_to_zero(text, where):
    # tr(A B) = tr(B A), tr(A + B) = tr A + tr B, tr(X^T) = tr(X): the difference is 0
    assert str(simplified(text, where)) == "0"


@pytest.mark.parametrize("text, where", [
    ("tr(A B C) - tr(A C B)", None),  # not a rotation: a different trace
    ("tr(A^T B) - tr(A B)", None),
    ("tr(A) - tr(B)", None),
    ("tr(A B) - 2 tr(B A)", "A: matrix(m, n); B: matrix(n, m)"),
])
def test_traces_that_differ_stay_apart(text, where):
    # tr(A B C) ≠ tr(A C B) in general: the rules must not equate what is not equal
    result = simplified(text, where)
    assert str(result) != "0"
    expr = mc.parse(text, where=where)
    values = random_values(expr, {"m": 2, "n": 3, "p": 4})
    assert np.isclose(result.evaluate(values), expr.evaluate(values))


def test_like_traces_collect_in_canonical_form():
    # tr(B A) + tr(A^T B^T) = 2 tr(A B): one canonical reading, collected
    where = "A: matrix(m, n); B: matrix(n, m)"
    result = simplified("tr(B A) + tr(A^T B^T)", where)
    assert str(result) == "2 tr(A B)"
    assert str(simplified("tr(B A)", where)) == str(simplified("tr(A B)", where))


def test_trace_canonical_form_does_not_depend_on_the_reading():
    # every cyclic and transposed reading of tr(A B C) has the same canonical form
    readings = ["tr(A B C)", "tr(B C A)", "tr(C A B)", "tr(C^T B^T A^T)", "tr(A^T C^T B^T)",
                "tr(B^T A^T C^T)"]
    forms = {str(simplified(r, MNP)) for r in readings}
    assert len(forms) == 1


def test_trace_of_an_outer_product_is_an_inner_product():
    # tr(A x y^T) = y^T A x (Matrix Cookbook (16) with a column and a row)
    where = "A: matrix(m, n); x: vector(n); y: vector(m)"
    result = simplified("tr(A x y^T)", where)
    assert str(result) == "x^T A^T y"
    assert result.kind == "scalar"


def test_trace_of_identity_is_its_size_where_fixed():
    # tr(A + I) = tr(A) + n, the size of A; a bare tr(I) fixes no size and stays
    assert str(simplified("tr(A + I)", "A: matrix(n, n)")) == "n + tr(A)"
    assert str(simplified("tr(I)")) == "tr(I)"


def test_simplified_trace_evaluates_as_the_original():
    # the canonical reading is the same number
    where = MNP
    text = "tr(C A B) + 3 tr(B^T A^T C^T) - tr(2 B C A)"
    expr, result = mc.parse(text, where=where), simplified(text, where)
    assert str(result) == "2 tr(A B C)"
    values = random_values(expr, {"m": 2, "n": 3, "p": 4})
    assert np.isclose(result.evaluate(values), expr.evaluate(values))


# -- inner products -------------------------------------------------------------------------

@pytest.mark.parametrize("text, where", [
    ("x^T y - y^T x", None),
    ("x^T y - y^T x", "x, y: vector(n)"),
    ("x^T A y - y^T A^T x", None),
    ("x^T A y - y^T A^T x", "x: vector(m); y: vector(n); A: matrix(m, n)"),
    ("x^T A B y - y^T B^T A^T x", "A: matrix(m, n); B: matrix(n, p); x: vector(m); "
                                  "y: vector(p)"),
    ("α x^T y - α y^T x", None),
    ("(x^T y) z - (y^T x) z", None),
])
def test_a_scalar_equals_its_transpose(text, where):
    # x^T A y = (x^T A y)^T = y^T A^T x
    assert str(simplified(text, where)) == "0"


def test_inner_products_collect():
    # x^T A y + y^T A^T x = 2 x^T A y
    where = "x: vector(m); y: vector(n); A: matrix(m, n)"
    assert str(simplified("y^T A^T x + x^T A y", where)) == "2 x^T A y"
    assert str(simplified("y^T x", None)) == "x^T y"


def test_an_inner_product_through_a_non_symmetric_matrix_is_not_its_mirror():
    # x^T A y ≠ y^T A x unless A is symmetric
    assert str(simplified("x^T A y - y^T A x")) != "0"
    assert str(simplified("x^T A y - y^T A x", "A: symmetric")) == "0"


# -- sums of entries ------------------------------------------------------------------------

@pytest.mark.parametrize("text, where, expected", [
    ("sum(softmax(x))", None, "1"),
    ("ones^T softmax(x)", None, "1"),
    ("softmax(x)^T ones", None, "1"),
    ("sum(3 softmax(x))", None, "3"),
    ("sum(x + 2) - sum(x)", "x: vector(n)", "2 n"),
    ("mean(x + 2) - mean(x)", None, "2"),
    ("sum(y)", "y: distribution", "1"),
    ("sum(x - mean(x) ones)", None, "0"),
    ("sum(x - mean(x) ones)", "x: vector(n)", "0"),
    ("sum(X - mean(X) ones ones^T)", "X: matrix(m, n)", "0"),
    ("sum(2 x + 3 y) - 2 sum(x) - 3 sum(y)", None, "0"),
    ("sum(x + ones) - sum(x)", "x: vector(n)", "n"),
    ("sum(x + mean(x) ones) - sum(x)", "x: vector(n)", "n mean(x)"),
    ("n mean(x) - sum(x)", "x: vector(n)", "0"),
    ("ones^T x - sum(x)", None, "0"),
    ("sum(x^T)", None, "sum(x)"),
])
def test_sums_of_entries(text, where, expected):
    # sum is linear; sum(ones) = n; sum(softmax(x)) = 1; mean(x) = sum(x)/n
    assert str(simplified(text, where)) == expected


def test_a_size_that_nothing_fixes_is_not_written():
    # sum(ones) alone: the size of ones is arbitrary, so it is not named
    assert str(simplified("sum(ones)")) == "sum(ones)"
    assert str(simplified("sum(x) + sum(ones)", "x: vector(k)")) == "sum(x) + sum(ones)"


def test_a_sum_that_is_not_known_stays():
    # sum(exp(x)) is not known; sum(x) - mean(x) is not 0
    assert str(simplified("sum(exp(x))")) == "sum(exp(x))"
    assert str(simplified("sum(x) - mean(x)", "x: vector(n)")) != "0"


def test_centred_sums_evaluate_as_the_original():
    # the simplified form of a sum is the same number
    text = "sum(3 x - 2 mean(x) ones) + ones^T softmax(x)"
    expr, result = mc.parse(text, where="x: vector(n)"), simplified(text, "x: vector(n)")
    values = random_values(expr, {"n": 5})
    assert np.isclose(result.evaluate(values), expr.evaluate(values))


# -- bracket literals -----------------------------------------------------------------------

@pytest.mark.parametrize("text, where, expected", [
    ("[m, 0; 0, m]^2", "m: scalar", "[m^2, 0; 0, m^2]"),
    ("[1, 2; 3, 4] [x; y]", "x, y: scalar", "[2 y + x; 3 x + 4 y]"),
    ("2 [a, b] + [c, d]", "a, b, c, d: scalar", "[2 a + c, 2 b + d]"),
    ("[a, b] - [a, b]", "a, b: scalar", "0"),
    ("[1, 2; 3, 4]^T", None, "[1, 3; 2, 4]"),
    ("[1, 1; 0, 1]^3", None, "[1, 3; 0, 1]"),
    ("[2, 0; 0, 4]^-1", None, "[1/2, 0; 0, 1/4]"),
    ("[1, 2] [3; 4]", None, "11"),
    ("[a; b] [c, d]", "a, b, c, d: scalar", "[a c, a d; b c, b d]"),
    ("tr([a, b; c, d])", "a, b, c, d: scalar", "a + d"),
    ("[a, b]/2 + [a, b]/2", "a, b: scalar", "[a, b]"),
])
def test_bracket_literal_arithmetic_folds(text, where, expected):
    # products, sums, scalar multiples and powers of literals are one literal
    assert str(simplified(text, where)) == expected


def test_a_literal_fold_evaluates_as_the_original():
    # [1, 2; 3, 4] [x; y] + 2 [x; y]: the same vector, entry by entry
    text, where = "[1, 2; 3, 4] [x; y] + 2 [x; y] - [m, 0; 0, m]^2 [1; 1]", "x, y, m: scalar"
    expr, result = mc.parse(text, where=where), simplified(text, where)
    values = {"x": 0.7, "y": -1.3, "m": 2.1}
    assert np.allclose(result.evaluate(values), expr.evaluate(values))


def test_a_literal_next_to_a_matrix_stays():
    # X [a; b] has no entries to fold: it is left as it is
    where = "X: matrix(n, 2); a, b: scalar"
    assert str(simplified("X [a; b]", where)) == "X [a; b]"


def test_derivative_of_a_literal_power_is_one_literal():
    # d/dm [m, 0; 0, m]^2 = [2 m, 0; 0, 2 m]
    result = mc.derive("[m, 0; 0, m]^2", "m", where="m: scalar")
    assert str(result) == "[2 m, 0; 0, 2 m]"
    assert mc.check("[m, 0; 0, m]^2", "m", result=result, where="m: scalar").ok


def test_a_large_literal_power_is_not_multiplied_out():
    # [a, b; c, d]^30 would be a huge literal: it stays a power
    result = simplified("[a, b; c, d]^30", "a, b, c, d: scalar")
    assert str(result) == "[a, b; c, d]^30"


# -- the property: a trace and its rotations ------------------------------------------------

DIMS = ("m", "n", "p", "q")
SIZES = {"m": 2, "n": 3, "p": 4, "q": 5}
NAMES = ("A", "B", "C", "D")


@st.composite
def trace_products(draw):
    """A product of 2-4 matrices of distinct compatible sizes (each factor maybe written
    transposed), its declarations and a cyclic rotation of it."""
    count = draw(st.integers(2, 4))
    dims = draw(st.permutations(DIMS))[:count]
    factors, decls = [], []
    for k in range(count):
        rows, cols = dims[k], dims[(k + 1) % count]
        if draw(st.booleans()):
            factors.append(f"{NAMES[k]}^T")
            decls.append(f"{NAMES[k]}: matrix({cols}, {rows})")
        else:
            factors.append(NAMES[k])
            decls.append(f"{NAMES[k]}: matrix({rows}, {cols})")
    shift = draw(st.integers(1, count - 1)) if count > 1 else 0
    rotated = factors[shift:] + factors[:shift]
    return " ".join(factors), " ".join(rotated), "; ".join(decls)


@settings(max_examples=40, deadline=None)
@given(trace_products(), st.sampled_from(["", "2 ", "α "]))
def test_a_trace_minus_a_rotation_is_zero(case, coefficient):
    # tr(F1 … Fk) - tr(Fj … Fk F1 … Fj-1) simplifies to 0 (Matrix Cookbook (16))
    product, rotated, where = case
    text = f"{coefficient}tr({product}) - {coefficient}tr({rotated})"
    assert str(simplified(text, where)) == "0"
    original = mc.parse(f"tr({product})", where=where)
    result = simplified(f"tr({product})", where)
    values = random_values(original, SIZES)
    assert np.isclose(result.evaluate(values), original.evaluate(values))
    assert str(simplified(f"tr({rotated})", where)) == str(result)
