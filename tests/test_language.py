"""The language on real material: every expression of the lesson
(shared/seed/matrix-calculus-lesson.txt) and of the Matrix Cookbook's section 2 that the
language can write parses with the kinds and dimensions a reader expects; `where=`
declarations; rule 3 (undeclared symbols that can only be scalars); LaTeX output.

Equation numbers are those of The Matrix Cookbook, version of November 15, 2012.
Dimensions are compared up to renaming: `{"x": ("a",), "A": ("a", "a")}` says A is
square and as wide as x, whatever the inferred names.
"""

from __future__ import annotations

import pytest

import matrixcalc as mc


def dims_of(e: mc.Expr) -> dict[str, tuple]:
    return {name: info.shape.dims for name, info in e.shapes.items()}


def assert_dims(e: mc.Expr, expected: dict[str, tuple], result: tuple | None = None) -> None:
    """Every symbol's dims (and the result's) match `expected` under one injective renaming
    of the placeholder names; 1 stands for itself, `a·b` for a product."""
    renaming: dict[str, str] = {}

    def match(actual: tuple, wanted: tuple, what: str) -> None:
        assert len(actual) == len(wanted), f"{what}: {actual} is not shaped like {wanted}"
        for got, want in zip(actual, wanted):
            if want == 1 or got == 1:
                assert got == want, f"{what}: {actual} vs {wanted}"
                continue
            got_parts, want_parts = str(got).split("·"), str(want).split("·")
            assert len(got_parts) == len(want_parts), f"{what}: {actual} vs {wanted}"
            # products are sorted by name: match them as multisets through the renaming
            mapped = sorted(renaming.get(w, "?" + w) for w in want_parts)
            if all(not m.startswith("?") for m in mapped):
                assert mapped == sorted(got_parts), f"{what}: {actual} vs {wanted}"
            elif len(want_parts) == 1:
                w, g = want_parts[0], got_parts[0]
                assert g not in renaming.values(), f"{what}: {g} already stands for another"
                renaming[w] = g
            else:
                pytest.fail(f"{what}: name {wanted}'s parts before using them in a product")

    actual = dims_of(e)
    assert set(actual) == set(expected), f"symbols {sorted(actual)} vs {sorted(expected)}"
    for name, wanted in expected.items():
        match(actual[name], wanted, name)
    if result is not None:
        match(e.shape, result, "result")


# -- the lesson ---------------------------------------------------------------------------

LESSON = [
    # (text, where, result kind, result dims, symbol dims)
    ("a^T x", None, (), {"a": ("n",), "x": ("n",)}),                      # 1.2 ex. 1
    ("x^T x", None, (), {"x": ("n",)}),                                   # 1.2 ex. 2
    ("x^T A x", None, (), {"x": ("n",), "A": ("n", "n")}),                # 1.2 ex. 3
    ("(A + A^T) x", None, ("n",), {"x": ("n",), "A": ("n", "n")}),        # its gradient
    ("2 A x", "A: symmetric", ("n",), {"x": ("n",), "A": ("n", "n")}),    # A symmetric
    ("[x1^2 + x2; x1 x2; sin(x1) + cos(x2)]", None, ("3",),              # 2.3 f: R^2 -> R^3
     {"x1": (), "x2": ()}),
    ("[2 x1, 1; x2, x1; cos(x1), -sin(x2)]", None, ("3", "2"),            # 2.3 its Jacobian
     {"x1": (), "x2": ()}),
    ("x^2 + x y + 2 y^2", None, (), {"x": (), "y": ()}),                  # 3.4 f(x, y)
    ("[2, 1; 1, 4]", None, ("2", "2"), {}),                               # 3.4 its Hessian
    ("x_k - H^-1 g", None, ("n",), {"x_k": ("n",), "H": ("n", "n"), "g": ("n",)}),  # 3.3
    ("x^2 + 2 y^2", None, (), {"x": (), "y": ()}),                        # 3.5 convex
    ("x^2 - y^2", None, (), {"x": (), "y": ()}),                          # 3.5 saddle
    ("a^T X b", None, (), {"a": ("m",), "X": ("m", "n"), "b": ("n",)}),   # 4.1 table
    ("a b^T", None, ("m", "n"), {"a": ("m",), "b": ("n",)}),              # its derivative
    ("tr(A B)", None, (), {"A": ("n", "m"), "B": ("m", "n")}),            # 4.1, 4.3
    ("log(|A|)", None, (), {"A": ("n", "n")}),                            # 4.1
    ("A^-T", None, ("n", "n"), {"A": ("n", "n")}),                        # its derivative
    ("x^T A^-1 x", None, (), {"x": ("n",), "A": ("n", "n")}),             # 4.1
    ("-A^-1 x x^T A^-1", None, ("n", "n"), {"x": ("n",), "A": ("n", "n")}),
    ("1/(2n) ||y - X w||^2", None, (),                                    # 5.1 MSE loss
     {"n": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("-1/n X^T (y - X w)", None, ("p",),                                  # 5.1 its gradient
     {"n": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("1/(2n) (y - X w)^T (y - X w)", None, (),                            # 5.1 derivation
     {"n": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("1/n r^T r", None, (), {"n": (), "r": ("m",)}),                      # 5.1 r = y - X w
    ("0.5 mean((y - X w).^2)", None, (), {"y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("-sum(y ⊙ log(softmax(z)))", None, (), {"y": ("n",), "z": ("n",)}),  # 5.3 cross-entropy
    ("softmax(z) - y", None, ("n",), {"y": ("n",), "z": ("n",)}),         # 5.3 its gradient
    ("W x + b", None, ("m",), {"W": ("m", "n"), "x": ("n",), "b": ("m",)}),  # 5.6 layer
    ("g x^T", None, ("m", "n"), {"g": ("m",), "x": ("n",)}),              # 5.6 dL/dW
    ("W^T g", None, ("n",), {"W": ("m", "n"), "g": ("m",)}),              # 5.6 dL/dx
    ("(x + y)(x - y)", None, (), {"x": (), "y": ()}),                     # 6.2 graph
    ("sum(relu(W x + b))", None, (), {"W": ("m", "n"), "x": ("n",), "b": ("m",)}),  # 6.3
    ("x^4", None, (), {"x": ()}),                                         # 6.4
    ("12 x^2", None, (), {"x": ()}),                                      # 6.4 f''
    ("-1/n (y^T log(sigmoid(X w)) + (1 - y)^T log(1 - sigmoid(X w)))", None, (),  # problem 2
     {"n": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("1/n X^T (sigmoid(X w) - y)", None, ("p",),                          # problem 2 gradient
     {"n": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("(x - μ ones) / sqrt(σ^2 + ε)", None, ("n",),                        # problem 3 (batch norm)
     {"x": ("n",), "μ": (), "σ": (), "ε": ()}),
    ("diag(softmax(z)) - softmax(z) softmax(z)^T", None, ("n", "n"),      # problem 4
     {"z": ("n",)}),
    ("1/(2n) ||y - X w||^2 + λ/2 ||w||^2", None, (),                      # problem 5 ridge
     {"n": (), "λ": (), "y": ("m",), "X": ("m", "p"), "w": ("p",)}),
    ("(X^T X + n λ I)^-1 X^T y", None, ("p",),                            # its normal equation
     {"n": (), "λ": (), "y": ("m",), "X": ("m", "p")}),
]


@pytest.mark.parametrize("text, where, result, symbols", LESSON, ids=[c[0] for c in LESSON])
def test_lesson_expressions_parse_with_expected_shapes(text, where, result, symbols):
    # each expression of the lesson has the kinds and dimensions the lesson gives them
    e = mc.parse(text, where=where)
    assert_dims(e, symbols, result)


# -- The Matrix Cookbook, section 2 --------------------------------------------------------

# Derivative claims `d/dX f = g` with f scalar: the right side is shaped like X.
COOKBOOK_GRADIENTS = [
    # 2.1 determinants
    ("d/dX det(X) = det(X) X^-T", None),                            # (49)
    ("d/dX det(A X B) = det(A X B) X^-T", None),                    # (51)
    ("d/dX det(X^T A X) = 2 det(X^T A X) X^-T", None),              # (52) X square
    ("d/dX det(X^T A X) = 2 det(X^T A X) A X (X^T A X)^-1", "A: symmetric"),  # (53)
    ("d/dX det(X^T A X) = det(X^T A X) (A X (X^T A X)^-1 + A^T X (X^T A^T X)^-1)",
     None),                                                         # (54)
    ("d/dX log(|X|) = X^-T", None),                                 # (57)
    ("d/dX logdet(X) = (X^T)^-1", None),                            # (57)
    ("d/dX det(X^3) = 3 det(X^3) X^-T", None),                      # (58), k = 3
    # 2.2 inverses
    ("d/dX a^T X^-1 b = -X^-T a b^T X^-T", None),                   # (61)
    ("d/dX det(X^-1) = -det(X^-1) (X^-1)^T", None),                 # (62)
    ("d/dX tr(A X^-1 B) = -(X^-1 B A X^-1)^T", None),               # (63)
    ("d/dX tr((X + A)^-1) = -((X + A)^-1 (X + A)^-1)^T", None),     # (64)
    # 2.3 eigenvalues, through trace and determinant
    ("d/dX tr(X) = I", None),                                       # (66)
    ("d/dX det(X) = det(X) X^-T", None),                            # (67)
    # 2.4 scalar forms
    ("d/dx x^T a = a", None),                                       # (69)
    ("d/dx a^T x = a", None),                                       # (69)
    ("d/dX a^T X b = a b^T", None),                                 # (70)
    ("d/dX a^T X^T b = b a^T", None),                               # (71)
    ("d/dX a^T X a = a a^T", None),                                 # (72)
    ("d/dX a^T X^T a = a a^T", None),                               # (72)
    ("d/dX b^T X^T X c = X (b c^T + c b^T)", None),                 # (77)
    ("d/dx (B x + b)^T C (D x + d) = B^T C (D x + d) + D^T C^T (B x + b)", None),  # (78)
    ("d/dx x^T B x = (B + B^T) x", None),                           # (81)
    ("d/dX b^T X^T D X c = D^T X b c^T + D X c b^T", None),         # (82)
    ("d/dX (X b + c)^T D (X b + c) = (D + D^T) (X b + c) b^T", None),  # (83)
    ("d/dx (x - s)^T W (x - s) = 2 W (x - s)", "W: symmetric"),     # (84)
    ("d/ds (x - s)^T W (x - s) = -2 W (x - s)", "W: symmetric"),    # (85)
    ("d/dx (x - A s)^T W (x - A s) = 2 W (x - A s)", "W: symmetric"),  # (86)
    ("d/ds (x - A s)^T W (x - A s) = -2 A^T W (x - A s)", "W: symmetric"),  # (87)
    ("d/dA (x - A s)^T W (x - A s) = -2 W (x - A s) s^T", "W: symmetric"),  # (88)
    ("d/dX a^T X^2 b = a b^T X^T + X^T a b^T", None),               # (91), n = 2
    ("d/dx x^T A x + b^T x = (A + A^T) x + b", None),               # (96)
    # 2.5 traces
    ("d/dX tr(X A) = A^T", None),                                   # (100)
    ("d/dX tr(A X B) = A^T B^T", None),                             # (101)
    ("d/dX tr(A X^T B) = B A", None),                               # (102)
    ("d/dX tr(X^T A) = A", None),                                   # (103)
    ("d/dX tr(A X^T) = A", None),                                   # (104)
    # (105), (120): the unifier cannot split a product n·m, so the Kronecker factors are
    # declared square (`invertible` is the only word that implies it)
    ("d/dX tr(A ⊗ X) = tr(A) I", "A, X: invertible"),               # (105)
    ("d/dX tr(X^2) = 2 X^T", None),                                 # (106)
    ("d/dX tr(X^2 B) = (X B + B X)^T", None),                       # (107)
    ("d/dX tr(X^T B X) = B X + B^T X", None),                       # (108)
    ("d/dX tr(B X X^T) = B X + B^T X", None),                       # (109)
    ("d/dX tr(X X^T B) = B X + B^T X", None),                       # (110)
    ("d/dX tr(X B X^T) = X B^T + X B", None),                       # (111)
    ("d/dX tr(B X^T X) = X B^T + X B", None),                       # (112)
    ("d/dX tr(X^T X B) = X B^T + X B", None),                       # (113)
    ("d/dX tr(A X B X) = A^T X^T B^T + B^T X^T A^T", None),         # (114)
    ("d/dX tr(X^T X) = 2 X", None),                                 # (115)
    ("d/dX tr(X X^T) = 2 X", None),                                 # (115)
    ("d/dX tr(B^T X^T C X B) = C^T X B B^T + C X B B^T", None),     # (116)
    ("d/dX tr(X^T B X C) = B X C + B^T X C^T", None),               # (117)
    ("d/dX tr(A X B X^T C) = A^T C^T X B^T + C A X B", None),       # (118)
    ("d/dX tr((A X B + C) (A X B + C)^T) = 2 A^T (A X B + C) B^T", None),  # (119)
    ("d/dX tr(X ⊗ X) = 2 tr(X) I", "X: invertible"),                # (120)
    ("d/dX tr(X) tr(X) = 2 tr(X) I", None),                         # (120)
    ("d/dX tr(X^3) = 3 (X^2)^T", None),                             # (121), k = 3
    ("d/dX tr(A X^2) = (A X)^T + (X A)^T", None),                   # (122), k = 2
    ("d/dX tr(A X^-1 B) = -X^-T A^T B^T X^-T", None),               # (124)
    ("d/dX tr((X^T C X)^-1 A) = -(C X (X^T C X)^-1) (A + A^T) (X^T C X)^-1",
     "C: symmetric"),                                               # (125)
    ("d/dX tr((X^T C X)^-1 (X^T B X)) = -2 C X (X^T C X)^-1 X^T B X (X^T C X)^-1"
     " + 2 B X (X^T C X)^-1", "B, C: symmetric"),                   # (126)
    # 2.6 vector norms, 2.7 matrix norms
    ("d/dx ||x - a||_2 = (x - a) / ||x - a||_2", None),             # (129)
    ("d/dx ||x||_2^2 = 2 x", None),                                 # (131)
    ("d/dx ||x^T x||_2 = 2 x", None),                               # (131), a scalar's norm
    ("d/dX ||X||_F^2 = 2 X", None),                                 # (132)
    ("d/dX tr(X X^T) = 2 X", None),                                 # (132)
    # 2.8 structured matrices
    ("d/dX tr(A X) = A + A^T - A ⊙ I", "X: symmetric"),             # (138)
    ("d/dX det(X) = det(X) (2 X^-1 - X^-1 ⊙ I)", "X: symmetric"),   # (139)
    ("d/dX logdet(X) = 2 X^-1 - X^-1 ⊙ I", "X: symmetric"),         # (140)
    ("d/dX tr(A X) = A ⊙ I", "X: diagonal"),                        # (141)
]


@pytest.mark.parametrize("statement, where", COOKBOOK_GRADIENTS,
                         ids=[c[0] for c in COOKBOOK_GRADIENTS])
def test_cookbook_gradient_claims_are_well_shaped(statement, where):
    # scalar f, and the claimed derivative has the shape of the variable
    claim = mc.parse_statement(statement, where=where)
    assert claim.kind == "derivative"
    assert claim.lhs.kind == "scalar"
    assert claim.rhs.kind == claim.wrt.kind
    # a statement does not unify the two sides (`I` keeps its own size): adding 0 X does
    rhs = statement.split(" = ", 1)[1]
    both = mc.parse(f"({rhs}) + 0 {claim.wrt.name}", where=where)
    assert both.shape == both.shapes[claim.wrt.name].shape.dims


# Matrix- and vector-valued expressions of section 2 with their shapes.
COOKBOOK_SHAPES = [
    ("(X^-1)^T", None, ("a", "a"), {"X": ("a", "a")}),                    # (49)
    ("(X^T)^-1", None, ("a", "a"), {"X": ("a", "a")}),                    # (51)
    ("-Y^-1 Z Y^-1", None, ("a", "a"), {"Y": ("a", "a"), "Z": ("a", "a")}),  # (59) Z = dY/dx
    ("x - a", None, ("a",), {"x": ("a",), "a": ("a",)}),                  # (129)
    ("I / ||x - a||_2 - (x - a) (x - a)^T / ||x - a||_2^3", None,        # (130)
     ("a", "a"), {"x": ("a",), "a": ("a",)}),
    ("A ⊙ I", None, ("a", "a"), {"A": ("a", "a")}),                       # (138)
    ("A ⊗ X", None, ("a·c", "b·d"), {"A": ("a", "b"), "X": ("c", "d")}),   # (105)
    ("tr(A) I", None, ("b", "b"), {"A": ("a", "a")}),                     # (105)
    ("cos(X)^T", None, ("b", "a"), {"X": ("a", "b")}),                    # (128), entrywise
    ("(A + A^T) x + b", None, ("a",), {"A": ("a", "a"), "x": ("a",), "b": ("a",)}),  # (96)
    ("A + A^T", None, ("a", "a"), {"A": ("a", "a")}),                     # (97) Hessian
    ("x^T A^T A x / (x^T B^T B x)", None, (),                             # (95)-style quotient
     {"x": ("a",), "A": ("b", "a"), "B": ("c", "a")}),
    ("vec(A X B)", None, ("c·d",), {"A": ("c", "a"), "X": ("a", "b"), "B": ("b", "d")}),
]


@pytest.mark.parametrize("text, where, result, symbols", COOKBOOK_SHAPES,
                         ids=[c[0] for c in COOKBOOK_SHAPES])
def test_cookbook_expressions_parse_with_expected_shapes(text, where, result, symbols):
    # matrix- and vector-valued forms of section 2 have the dimensions the book implies
    assert_dims(mc.parse(text, where=where), symbols, result)


def test_vec_of_a_product_statement_types():
    # vec(A X B) = (B^T ⊗ A) vec(X) (section 10.2.2): both sides are vectors of size q·m
    claim = mc.parse_statement("vec(A X B) = (B^T ⊗ A) vec(X)")
    assert claim.lhs.shape == claim.rhs.shape
    assert len(claim.lhs.shape[0].split("·")) == 2


# -- where= ----------------------------------------------------------------------------------

def test_where_string_declares_kinds_and_assumptions():
    # "n, m: scalar; A: symmetric; S: spd matrix" declares each symbol as written
    e = mc.parse("n A x + m S x", where="n, m: scalar; A: symmetric; S: spd matrix")
    info = e.shapes
    assert info["n"].kind == info["m"].kind == "scalar"
    assert info["A"].assumptions == {"symmetric"}
    assert info["S"].assumptions == {"spd", "symmetric", "invertible"}
    assert all(info[s].origin == "declared" for s in "nmAS")
    assert info["x"].origin == "convention"


def test_where_dict_equals_where_string():
    # {"A": "symmetric", "n": "scalar"} declares the same as "A: symmetric; n: scalar"
    text = "n A x"
    a = mc.parse(text, where={"A": "symmetric", "n": "scalar"})
    b = mc.parse(text, where="A: symmetric; n: scalar")
    assert a == b and a.shapes == b.shapes


def test_where_dict_accepts_a_list_of_words():
    # {"S": ["spd", "matrix"]} is "S: spd matrix"
    assert mc.parse("S", where={"S": ["spd", "matrix"]}).shapes["S"].assumptions >= {"spd"}


@pytest.mark.parametrize("word", ["spd", "symmetric", "diagonal", "orthogonal", "invertible"])
def test_square_assumptions_imply_a_square_matrix(word):
    # `A: spd` (and the other square assumptions) make a lower-case name a square matrix
    info = mc.parse("a", where=f"a: {word}").shapes["a"]
    assert info.kind == "matrix" and info.rows == info.cols


def test_distribution_implies_a_vector():
    # `P: distribution` makes even an upper-case name a vector
    assert mc.parse("P", where="P: distribution").kind == "vector"


def test_constant_implies_no_kind():
    # `constant` keeps the conventional kind
    e = mc.parse("c + x", where="c: constant")
    assert e.shapes["c"].kind == "vector" and e.shapes["c"].assumptions == {"constant"}


def test_declared_scalar_overrides_the_convention():
    # `A: scalar` makes an upper-case name a scalar: A^2 is a scalar power
    assert mc.parse("A^2", where="A: scalar").kind == "scalar"


def test_declared_vector_is_never_made_a_scalar():
    # rule 3 never overrides a declaration: x^2 of a declared vector is a ShapeError
    with pytest.raises(mc.ShapeError):
        mc.parse("x^2", where="x: vector")


@pytest.mark.parametrize("where", ["x: scalar vector", "x: spd vector", "x: scalar, matrix",
                                   "x: scalar; x: vector", "p: distribution matrix"])
def test_contradictory_declarations_are_usage_errors(where):
    # a symbol declared with two kinds is a usage error
    with pytest.raises(mc.UsageError):
        mc.parse("x + p", where=where)


def test_where_words_are_case_insensitive():
    # "A: SPD" is "A: spd"
    assert mc.parse("A", where="A: SPD").shapes["A"].assumptions >= {"spd"}


def test_where_allows_greek_and_subscripted_names():
    # λ, W_1 and x_hat can be declared
    e = mc.parse("λ W_1 x_hat", where="λ: scalar; W_1: symmetric; x_hat: vector")
    assert e.shapes["W_1"].rows == e.shapes["W_1"].cols


# -- rule 3 --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, scalars", [
    ("x^4", {"x"}),
    ("1/(2n)", {"n"}),
    ("(x + y)(x - y)", {"x", "y"}),
    ("x^2 + x y + 2 y^2", {"x", "y"}),
    ("[a, b; c, d]", {"a", "b", "c", "d"}),
    ("x / y", {"y"}),
    ("a^{b}", {"a", "b"}),
    ("x^{1/2}", {"x"}),
])
def test_rule3_makes_undeclared_symbols_scalars(text, scalars):
    # a symbol that can only be valid as a scalar where it is used is a scalar
    e = mc.parse(text)
    made = {name for name, info in e.shapes.items() if info.origin == "inferred scalar"}
    assert made == scalars
    assert all(e.shapes[s].kind == "scalar" for s in scalars)


@pytest.mark.parametrize("text", ["x + A", "tr(x)", "det(A x)", "(x + A) y", "x^T + x",
                                  "|x|", "softmax(x^T)", "x^2 tr(y)"])
def test_rule3_does_not_rescue_real_shape_errors(text):
    # `x + A`, `tr(x)`, `det(A x)` stay shape errors: no kind is guessed to fix them
    with pytest.raises(mc.ShapeError):
        mc.parse(text)


def test_rule3_never_touches_a_declared_symbol():
    # with n declared a vector, 1/(2n) is a ShapeError
    with pytest.raises(mc.ShapeError):
        mc.parse("1/(2n)", where="n: vector")


def test_inferred_scalar_is_reported():
    # the origin of every kind is reported, so nothing is decided silently
    info = mc.parse("1/(2n) ||y - X w||^2").shapes
    assert info["n"].origin == "inferred scalar"
    assert {info[s].origin for s in "yXw"} == {"convention"}


# -- kinds by convention ---------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", [
    ("x", "vector"), ("W1", "matrix"), ("W_1", "matrix"), ("x_hat", "vector"),
    ("lambda", "scalar"), ("λ", "scalar"), ("σ", "scalar"), ("Σ", "matrix"),
    ("alpha", "scalar"), ("eps", "scalar"), ("omega", "scalar"), ("A", "matrix"),
])
def test_naming_convention(name, kind):
    # upper-case: matrix; Greek letter or Greek name: scalar; other lower-case: vector
    assert mc.parse(name).shapes[name].kind == kind


@pytest.mark.parametrize("text, kind, shape", [
    ("I", "matrix", ("n", "n")), ("ones", "vector", ("n",)), ("0", "scalar", ()),
    ("2", "scalar", ()), ("0.5", "scalar", ()), ("1e-3", "scalar", ()),
    ("ones^T x", "scalar", ()), ("x^T", "row vector", (1, "n")),
])
def test_constants_and_numbers(text, kind, shape):
    # I, ones, 0 and numbers take their sizes from context
    e = mc.parse(text)
    assert (e.kind, e.shape) == (kind, shape)


def test_tr_and_det_of_a_scalar_are_allowed():
    # tr(x^T A x) and det(α) are scalars (SPEC section 2)
    assert mc.parse("tr(x^T A x) + det(α)").kind == "scalar"


def test_bars_mean_det_or_abs():
    # |X| is det(X); |s| is the absolute value of a scalar
    assert mc.parse("|X|") == mc.parse("det(X)")
    assert mc.parse("|α|") == mc.parse("abs(α)")


def test_three_spellings_of_log_det():
    # log(|X|) and log(det(X)) are the same tree; logdet(X) has the same shape
    assert mc.parse("log(|X|)") == mc.parse("log(det(X))")
    assert mc.parse("logdet(X)").shapes["X"].rows == mc.parse("logdet(X)").shapes["X"].cols


def test_diag_both_ways():
    # diag(v) is a square matrix, diag(X) a vector (and makes X square)
    assert mc.parse("diag(x)").shape == ("n", "n")
    e = mc.parse("diag(X)")
    assert e.kind == "vector" and e.shapes["X"].rows == e.shapes["X"].cols


# -- LaTeX ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, latex", [
    ("x^T A x", r"x^{\top} A x"),
    ("tr(A B)", r"\operatorname{tr}\left(A B\right)"),
    ("A^-T", r"A^{-\top}"),
    ("X^-1^T", r"{X^{-1}}^{\top}"),
    ("1/(2n) ||y - X w||^2", r"\frac{1}{2 n} \left\|y - X w\right\|_2^{2}"),
    ("x ⊙ y", r"x \odot y"),
    ("A ⊗ B", r"A \otimes B"),
    ("x.^2", r"x^{\circ 2}"),
    ("sqrt(x)", r"\sqrt{x}"),
    ("[a, b; c, d]", r"\begin{bmatrix} a & b \\ c & d \end{bmatrix}"),
    ("x_hat + W_1 x", r"\hat{x} + W_{1} x"),
    ("logdet(Σ)", r"\log\left|\Sigma\right|"),
    ("λ ||w||_1", r"\lambda \left\|w\right\|_1"),
    ("x^{1/2}", r"x^{\frac{1}{2}}"),
])
def test_latex(text, latex):
    # LaTeX output of typical expressions (no double superscripts)
    assert mc.parse(text).latex() == latex


@pytest.mark.parametrize("text, printed", [
    ("(X.^2)^T", "(X.^2)^T"),            # not X.^2^T, which reads as the power 2^T
    ("X^-1^T", "(X^-1)^T"),
    ("(sqrt(x).^-1)^T y", "(sqrt(x).^-1)^T y"),
    ("(A^T)^2", "(A^T)^2"),              # a matrix power says what it raises
    ("(X.^2)^3", "(X.^2)^3"),            # parenthesized once
    ("(X.^{p})^-1", "(X.^{p})^-1"),
])
def test_text_parenthesizes_a_power_under_a_postfix(text, printed):
    # a postfix after a power is written with the power in parentheses, and reads back
    expr = mc.parse(text, where="p: scalar")
    assert str(expr) == printed
    assert mc.parse(printed, where="p: scalar") == expr
