"""Kinds users can trust (issue 13, SPEC sections 2 and 8): each misreading a new user met
is now an error with a hint and a caret, a KindWarning, or a reported kind.

Every derivative asserted here is also checked against torch.autograd (`mc.check`, with
distinct sizes for distinct dimensions)."""

from __future__ import annotations

import json
import warnings

import pytest

import matrixcalc as mc
from matrixcalc.ops import REGISTRY, OpSpec
from test_cli import run


def caret(error: mc.MatrixCalcError) -> str:
    """The caret line of a rendered error: spaces, then one ^ per character pointed at."""
    return next(line for line in str(error).splitlines() if line.strip().startswith("^"))


def holds(expr, wrt, result, where=None) -> bool:
    return mc.check(expr, wrt, result=result, where=where, trials=3, seed=13).ok


# -- rule 3: lower-case Latin names only ---------------------------------------------------

@pytest.fixture
def no_sqrtm(monkeypatch):
    monkeypatch.delitem(REGISTRY, "sqrtm", raising=False)


@pytest.fixture
def with_sqrtm(monkeypatch):
    monkeypatch.setitem(REGISTRY, "sqrtm", REGISTRY.get("sqrtm") or OpSpec("sqrtm", 1))


@pytest.mark.parametrize("text, exponent", [("tr(A^0.5)", "0.5"), ("A^{1/2}", "0.5"),
                                            ("tr(A^0.3)", "0.3")])
def test_an_upper_case_name_is_never_inferred_a_scalar(no_sqrtm, text, exponent):
    # tr(A^0.5) once made A a scalar; now a ShapeError with the caret on ^ whose hint
    # offers the elementwise power and the declaration
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse(text)
    error = caught.value
    assert "integer literal exponent" in error.message
    assert text[error.span[0]] == "^" and caret(error).strip() == "^"
    assert f"`A.^{exponent}` for the elementwise power" in error.hint
    assert "`A` is a matrix by the naming convention (an upper-case name): declare " \
           "`where=\"A: scalar\"`" in error.hint
    assert "sqrtm" not in error.hint  # no such operator in the table: not suggested


@pytest.mark.parametrize("text, root", [("tr(A^0.5)", "sqrtm(A)"), ("A^{1/2}", "sqrtm(A)"),
                                        ("A^-0.5", "inv(sqrtm(A))")])
def test_a_square_root_suggests_sqrtm_where_the_table_has_it(with_sqrtm, text, root):
    # with an operator `sqrtm` registered, the hint names the matrix square root first
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse(text)
    assert caught.value.hint.startswith(f"for the matrix square root write `{root}`")
    assert "where=\"A: scalar\"" in caught.value.hint


def test_declared_a_scalar_the_upper_case_name_is_one():
    # where="A: scalar": tr(A^0.5) is √A, whose derivative is 1/(2 √A) (checked)
    e = mc.parse("tr(A^0.5)", where="A: scalar")
    assert e.kind == "scalar" and e.shapes["A"].origin == "declared"
    assert holds(e, "A", "1/(2 A^0.5)", where="A: scalar")


@pytest.mark.parametrize("text, scalars", [
    ("x^4", {"x"}), ("1/(2n)", {"n"}), ("(x + y)(x - y)", {"x", "y"}), ("exp(a) x", {"a"}),
    ("[x1^2 + x2; x1 x2]", {"x1", "x2"}), ("x^0.5", {"x"}),
])
def test_rule3_still_makes_lower_case_names_scalars(text, scalars):
    # x^4, 1/(2n), (x + y)(x - y), exp(a) x and bracket entries read as before
    e = mc.parse(text)
    assert {n for n, i in e.shapes.items() if i.origin == "inferred scalar"} == scalars


@pytest.mark.parametrize("text", ["vec(X)^T vec(Y)", "kron(A, B) kron(C, D)", "X^0.5 + 1"])
def test_no_upper_case_name_is_rescued_by_rule3(text):
    # these once typed with X or A made a scalar; they are shape errors now
    with pytest.raises(mc.ShapeError):
        mc.parse(text)


# -- transposing a number -------------------------------------------------------------------

@pytest.mark.parametrize("text, column, width, hint", [
    ("1^T x", 1, 3, "the all-ones vector is `ones`: write `ones^T x`"),
    ("2'", 1, 2, "for a row of 2s write `2 ones^T`"),
    ("0^T", 1, 3, "for a row of 0s write `0 ones^T`"),
    ("x^T A x + (1)^T y", 12, 4, "write `ones^T x`"),
    ("1.5^{T}", 1, 7, "for a row of 1.5s write `1.5 ones^T`"),
])
def test_transposing_a_number_is_a_parse_error(text, column, width, hint):
    # 1^T x read 1 as the number (its gradient was I): a ParseError whose hint is ones^T
    with pytest.raises(mc.ParseError) as caught:
        mc.parse(text)
    error = caught.value
    assert error.message == "cannot transpose a number"
    assert error.column == column and caret(error).strip() == "^" * width
    assert hint in error.hint and "ones" in error.hint


def test_the_suggested_ones_transpose_means_the_sum():
    # ones^T x sums x's entries: its gradient is ones (checked), not I
    e = mc.parse("ones^T x")
    result = mc.derive(e, "x")
    assert str(result) == "ones" and holds(e, "x", result)


# -- reported kinds -------------------------------------------------------------------------

def test_a_result_reports_the_inferred_kind():
    # derive's result, like parse's, says n is an inferred scalar; the gradient is checked
    result = mc.derive("1/(2n) ||y - X w||^2", "w")
    assert result.shapes["n"].origin == "inferred scalar"
    assert result.shapes["n"].describe() == "n: scalar (inferred scalar)"
    assert {result.shapes[s].origin for s in "yXw"} == {"convention"}
    assert holds("1/(2n) ||y - X w||^2", "w", result)


@pytest.mark.parametrize("args", [
    ("derive", "1/(2n) ||y - X w||^2", "--wrt", "w"),
    ("derive", "1/(2n) ||y - X w||^2", "--wrt", "w", "--latex"),
    ("jacobian", "x^2 w", "--wrt", "w"),
    ("hessian", "x^4 + w^T w", "--wrt", "w"),
    ("parse", "1/(2n) ||y - X w||^2", "--latex"),
    ("codegen", "1/(2n) ||y - X w||^2", "--wrt", "w"),
    ("derive", "1/(2n) ||y - X w||^2", "--wrt", "w", "--explain"),
])
def test_the_cli_says_with_on_stderr_when_a_kind_was_inferred(args):
    # stdout stays the bare result; stderr holds the `with` line
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("with ") and "scalar (inferred scalar)" in result.stderr
    assert "inferred" not in result.stdout


def test_the_cli_says_nothing_when_no_kind_was_inferred():
    # no inferred kind: stderr stays empty
    result = run("derive", "x^T A x", "--wrt", "x")
    assert (result.returncode, result.stdout, result.stderr) == (0, "(A + A^T) x\n", "")


@pytest.mark.parametrize("args, key", [
    (("parse", "x^4 + a^T a", "--json"), "symbols"),
    (("derive", "x^4 + a^T a", "--wrt", "a", "--json"), "symbols"),
])
def test_json_carries_every_origin(args, key):
    # --json's symbols say where each kind came from; nothing goes to stderr
    result = run(*args)
    data = json.loads(result.stdout)
    origins = {s["name"]: s["origin"] for s in data[key]}
    assert origins == {"x": "inferred scalar", "a": "convention"}
    assert result.stderr == ""


def test_verify_reports_inferred_kinds_in_text_and_json():
    # verify's own `with` line and its --json shapes carry the origin
    text = run("verify", "d/da x^2 a^T a = 2 x^2 a")
    assert "x: scalar (inferred scalar)" in text.stdout and text.returncode == 0
    data = json.loads(run("verify", "d/da x^2 a^T a = 2 x^2 a", "--json").stdout)
    assert data["shapes"]["x"] == "x: scalar (inferred scalar)"


# -- KindWarning ----------------------------------------------------------------------------

def caught_warnings(action) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [w for w in caught if issubclass(w.category, mc.KindWarning)]


def test_kind_warning_is_a_user_warning_exported_by_the_package():
    # mc.KindWarning is a UserWarning: Python's warning filters apply to it
    assert issubclass(mc.KindWarning, UserWarning) and "KindWarning" in mc.__all__


@pytest.mark.parametrize("text, name, jacobian", [
    ("k/2 ||w||^2", "k", "k w^T"),
    ("t x^T x", "t", None),
    ("n/2 logdet(S)", "n", None),
    ("-c ||x - y||^2", "c", None),
    ("2 k tr(A)", "k", None),
])
def test_a_coefficient_made_a_vector_by_the_convention_warns(text, name, jacobian):
    # the function is a vector only because `name` is one: derive warns once, at the
    # caller's line, naming the declaration that makes it a scalar
    e = mc.parse(text, where=f"{name}: vector")  # declared: no warning
    wrt = next(s.name for s in e.symbols() if s.name != name)
    found = caught_warnings(lambda: mc.derive(text, wrt))
    assert len(found) == 1 and found[0].filename == __file__
    message = str(found[0].message)
    assert message.startswith(f"`{name}` is a vector by the naming convention (a lower-case "
                              f"Latin name), so `{text}` is a vector")
    assert f"declare `where=\"{name}: scalar\"`" in message
    if jacobian is not None:  # as the convention reads it: a Jacobian (checked)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", mc.KindWarning)
            result = mc.derive(text, wrt)
            assert str(result) == jacobian and holds(text, wrt, result)


@pytest.mark.parametrize("text, wrt, where, gradient", [
    ("k/2 ||w||^2", "w", "k: scalar", "k w"),
    ("t x^T x", "x", "t: scalar", "2 t x"),      # README's CLI tour
    ("n/2 logdet(S)", "S", "n: scalar", "n/2 S^-T"),
])
def test_the_named_declaration_makes_the_gradient(text, wrt, where, gradient):
    # with the declaration the warning names: no warning, and a gradient (checked)
    found = caught_warnings(lambda: mc.derive(text, wrt, where=where))
    assert found == []
    result = mc.derive(text, wrt, where=where)
    assert str(result) == gradient and holds(text, wrt, result, where=where)


def test_several_coefficients_warn_together():
    # t and s each alone leave a vector; declared scalars together, the function is one
    (found,) = caught_warnings(lambda: mc.parse("t x^T x + s ||x||^2"))
    assert str(found.message).startswith("`t` and `s` are vectors by the naming convention")
    assert "declare `where=\"t, s: scalar\"`" in str(found.message)
    assert mc.parse("t x^T x + s ||x||^2", where="t, s: scalar").kind == "scalar"


@pytest.mark.parametrize("call", [
    lambda: mc.parse("t x^T x"),
    lambda: mc.derive("t x^T x", ["x", "t"]),
    lambda: mc.jacobian("t x^T x", "x"),
    lambda: mc.check("t x^T x", "x", trials=1, seed=1),
    lambda: mc.verify("d/dx t x^T x = 2 t x^T", trials=1, seed=1),
    lambda: mc.verify("t x^T x = t ||x||^2", trials=1, seed=1),
])
def test_each_public_call_warns_once(call):
    # the call that parsed the user's text warns; the engine's own parsing does not
    assert len(caught_warnings(call)) == 1


@pytest.mark.parametrize("text", [
    "x", "exp(x)", "x x^T x", "A x", "softmax(x)", "a x + b", "2 x", "α x", "sum(y) x",
    "(x^T y) z", "x^T x z", "X det(A)", "A tr(B)", "W x + b", "k/2 ||w||^2 + b",
    "x^T A x", "||W x - y||^2",
])
def test_no_warning_where_the_convention_is_meant(text):
    # a function that is a vector or matrix for its own sake, or a scalar: no warning
    assert caught_warnings(lambda: mc.parse(text)) == []


def test_the_cli_prints_the_warning_on_stderr_and_in_json():
    # matrixcalc derive "t x^T x": one warning line on stderr, one entry in --json
    result = run("derive", "t x^T x", "--wrt", "x")
    assert result.returncode == 0 and result.stdout.strip() != ""
    assert result.stderr.startswith("matrixcalc derive: warning: `t` is a vector")
    data = json.loads(run("derive", "t x^T x", "--wrt", "x", "--json").stdout)
    assert len(data["warnings"]) == 1 and "where=\"t: scalar\"" in data["warnings"][0]


# -- shape errors name the convention -------------------------------------------------------

@pytest.mark.parametrize("text, at, hint", [
    ("x - mu", 2, "`mu` is a scalar by the naming convention (a Greek letter's name): to "
                  "subtract it from every entry write `x - mu ones`, or declare "
                  "`where=\"mu: vector\"`"),
    ("x^T x + k", 6, "`k` is a vector by the naming convention (a lower-case Latin name): "
                     "declare `where=\"k: scalar\"`"),
    ("tr(A) + k", 6, "`k` is a vector by the naming convention (a lower-case Latin name): "
                     "declare `where=\"k: scalar\"`"),
    ("2 k + x^T x", 4, "`k` is a vector by the naming convention (a lower-case Latin name): "
                       "declare `where=\"k: scalar\"`"),
    ("X - σ", 2, "`σ` is a scalar by the naming convention (a Greek letter): to subtract it "
                 "from every entry write `X - σ ones ones^T`, or declare `where=\"σ: matrix\"`"),
    ("x^T + λ", 4, "`λ` is a scalar by the naming convention (a Greek letter): to add it to "
                   "every entry write `x^T + λ ones^T`"),
    ("x^4 + A", 4, "`A` is a matrix by the naming convention (an upper-case name): declare "
                   "`where=\"A: scalar\"`"),
])
def test_a_shape_error_names_the_convention_and_the_declaration(text, at, hint):
    # the hint names the convention behind the clashing kind and what changes it; caret kept
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse(text)
    error = caught.value
    assert error.hint == hint
    assert isinstance(error, mc.MatrixCalcError) and error.span[0] == at
    assert caret(error) == "  " + " " * at + "^"


@pytest.mark.parametrize("text, where", [
    ("x - mu ones", None), ("x - mu", "mu: vector"), ("x^T x + k", "k: scalar"),
    ("X - σ ones ones^T", None), ("x^T + λ ones^T", None),
])
def test_what_a_hint_suggests_types(text, where):
    # each spelling or declaration a hint above offers parses
    assert mc.parse(text, where=where) is not None


@pytest.mark.parametrize("text", ["x + A", "x^T + x", "tr(x)", "det(A x)", "softmax(x^T)"])
def test_no_convention_hint_where_no_declaration_helps(text):
    # x + A stays wrong whatever x or A is; x^T + x is x against itself; tr(x) says
    # what tr takes
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse(text)
    assert "naming convention" not in (caught.value.hint or "")


def test_a_declared_kind_is_not_blamed_on_the_convention():
    # k declared a vector: the hint does not speak of the convention
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse("x^T x + k", where="k: vector")
    assert "naming convention" not in (caught.value.hint or "")


def test_the_cli_shows_the_hint_with_its_caret():
    # matrixcalc parse "x - mu": exit 2, the caret under `-`, then the hint
    result = run("parse", "x - mu")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-3:] == [
        "  x - mu", "    ^",
        "hint: `mu` is a scalar by the naming convention (a Greek letter's name): to "
        "subtract it from every entry write `x - mu ones`, or declare `where=\"mu: vector\"`"]


# -- verify --json carries the diagnosis ----------------------------------------------------

def test_verify_json_carries_the_diagnosis():
    # a false claim off by a transpose says so in "diagnosis"; a true one has null
    false = json.loads(run("verify", "d/dX tr(A X) = A", "--json").stdout)
    assert false["holds"] is False and "transpose" in false["diagnosis"]
    true = json.loads(run("verify", "d/dX tr(A X) = A^T", "--json").stdout)
    assert true["holds"] is True and true["diagnosis"] is None
