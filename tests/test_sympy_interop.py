# SymPy interop (SPEC section 5): to_sympy / from_sympy preserve meaning.
"""`mc.to_sympy` gives SymPy matrix expressions (MatrixSymbol, Trace, Inverse, ...) and
`mc.from_sympy` reads them back; each round trip is checked with mc.verify (LHS = RHS).
Operators SymPy lacks raise UnsupportedError naming the operator."""

from __future__ import annotations

import pytest
import sympy
from sympy import (Determinant, HadamardProduct, Inverse, KroneckerProduct, MatrixSymbol,
                   Trace, Transpose)

import matrixcalc as mc
from matrixcalc.errors import UnsupportedError

WHERE = "a, b, c, d, n: scalar"
ROUND_TRIPS = [
    "x^T A x", "tr(A X B)", "logdet(X) + det(X)^2", "A^-1 B ⊙ C", "kron(A, B)",
    "sigmoid(X w) - y", "sum(A) + 3", "(x^T y) z", "||x||^2 + ||A||_F", "2 A^3 - A^T",
    "diag(x) + diag(diag(A))", "x ./ y + x.^2", "[a, b; c, d]", "exp(x^T x) - 1/n x^T x",
    "relu(x) + step(x) ⊙ abs(x) + sign(x) + softplus(x) + tanh(x) + sin(x) + cos(x)",
    "log(x) + sqrt(x)", "X^-T + I", "inv(A + I) ones", "x ⊗ y^T", "A^-2",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_round_trip_preserves_meaning(text):
    # from_sympy(to_sympy(e)) = e, checked numerically
    e = mc.parse(text, where=WHERE)
    back = mc.from_sympy(mc.to_sympy(e))
    verdict = mc.verify(f"{e} = {back}", where=WHERE, trials=3, seed=0)
    assert verdict.holds, (text, str(back), verdict.counterexample)


def test_to_sympy_builds_matrix_expressions():
    # the SymPy classes: MatrixSymbol, Trace, Inverse, Transpose, Hadamard, Kronecker, det
    n = sympy.Symbol("n", integer=True, positive=True)
    assert mc.to_sympy("tr(A)") == Trace(MatrixSymbol("A", n, n))
    assert isinstance(mc.to_sympy("inv(A)"), Inverse)
    assert isinstance(mc.to_sympy("A^T"), Transpose)
    assert isinstance(mc.to_sympy("A ⊙ B"), HadamardProduct)
    assert isinstance(mc.to_sympy("kron(A, B)"), KroneckerProduct)
    assert isinstance(mc.to_sympy("det(A)"), Determinant)
    x = mc.to_sympy("x", sizes={"n": 3})
    assert x.shape == (3, 1)


def test_from_sympy_reads_sympy_built_expressions():
    # SymPy's own tr(A B) and (A + B^T)^-1 x come back with the same meaning
    n = sympy.Symbol("n")
    A, B, x = MatrixSymbol("A", n, n), MatrixSymbol("B", n, n), MatrixSymbol("x", n, 1)
    assert str(mc.from_sympy(Trace(A * B))) == "tr(A B)"
    e = mc.from_sympy((A + B.T).I * x)
    assert mc.verify(f"{e} = (A + B^T)^-1 x").holds
    assert mc.from_sympy(sympy.Symbol("c") * x).shapes["c"].kind == "scalar"


@pytest.mark.parametrize("text, op", [("vec(A)", "vec"), ("softmax(x)", "softmax"),
                                      ("logsumexp(x)", "logsumexp"), ("||x||_1", "norm1"),
                                      ("mean(A)", "mean")])
def test_unsupported_operators_raise_naming_them(text, op):
    # an operator SymPy lacks: UnsupportedError naming it
    with pytest.raises(UnsupportedError, match=f"`{op}`"):
        mc.to_sympy(text)


def test_from_sympy_refuses_what_it_cannot_read():
    # a SymPy construct with no counterpart: UnsupportedError naming the class
    n = sympy.Symbol("n")
    with pytest.raises(UnsupportedError, match="Adjoint"):
        mc.from_sympy(sympy.Adjoint(MatrixSymbol("A", n, n)))
