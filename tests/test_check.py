# mc.check: a right derivative passes and a mutated one fails, for every operator.
"""`check` against torch.autograd: per operator (from the table), per layout (scalar by
vector, by matrix, vector by vector, Hessians, 4th order), lists of variables, callables,
replayable seeds and errors."""

from __future__ import annotations


import numpy as np
import pytest

import matrixcalc as mc

def _mean_grad(scale):
    return lambda v: scale * np.ones_like(v["x"]) / len(v["x"])


def _vec_jacobian(order):
    """d vec(X) / dX in jacrev layout (mn, m, n): columns stacked ("F") or rows ("C")."""
    def result(v):
        m, n = v["X"].shape
        return np.eye(m * n).reshape(m * n, m, n, order=order)
    return result


def _commuted_gradient(transposed):
    """d a^T K vec(X) / dX = G with vec(G) = K^T a (K = commutation(m, n)): a's entries
    read row by row into X's shape."""
    def result(v):
        m, n = v["X"].shape
        a = v["a"]
        return a.reshape(n, m).T if transposed else a.reshape(m, n)
    return result


# operator -> (expression, wrt, right derivative, mutated derivative, where)
CASES: dict[str, tuple] = {
    "add": ("x^T A x + b^T x", "x", "(A + A^T) x + b", "(A + A^T) x - b", None),
    "neg": ("-a^T x", "x", "-a", "a", None),
    "mul": ("alpha x", "x", "alpha I", "I", None),
    "matmul": ("A x", "x", "A", "2 A", None),
    "div": ("x^T x / alpha", "alpha", "-x^T x / alpha^2", "x^T x / alpha^2", None),
    "hadamard": ("x .* y", "x", "diag(y)", "diag(x)", None),
    "ediv": ("x ./ y", "y", "-diag(x ./ (y .* y))", "diag(x ./ (y .* y))", None),
    "kron": ("kron(A, B) x", "x", "kron(A, B)", "kron(B, A)", None),
    "transpose": ("a^T X^T b", "X", "b a^T", "2 b a^T", None),
    "tr": ("tr(A X)", "X", "A^T", "A", "A: invertible"),
    "sum": ("sum(x .* x)", "x", "2 x", "x", None),
    "mean": ("mean(x)", "x", _mean_grad(1), _mean_grad(2), None),
    "vec": ("vec(X)", "X", _vec_jacobian("F"), _vec_jacobian("C"), None),
    "commutation": ("a^T commutation(m, n) vec(X)", "X", _commuted_gradient(False),
                    _commuted_gradient(True), "X: matrix(m, n)"),
    # a^T unvec(v) b = vec(a b^T)^T v
    "unvec": ("a^T unvec(v, m, n) b", "v", "kron(b, a)", "kron(a, b)",
              "a: vector(m); b: vector(n)"),
    "diag_matrix": ("diag(x) a", "x", "diag(a)", "diag(x)", None),
    "diag_vector": ("diag(X)^T a", "X", "diag(a)", "a ones^T", None),
    "bracket": ("[alpha^2, alpha beta; beta, 1]", "alpha", "[2 alpha, beta; 0, 0]",
                "[2 alpha, alpha; 0, 0]", None),
    "inv": ("a^T X^-1 b", "X", "-X^-T a b^T X^-T", "-X^-1 a b^T X^-1", None),
    "matpow": ("tr(X^3)", "X", "3 X^T X^T", "3 X X", None),
    "power": ("(x^T x)^3", "x", "6 (x^T x)^2 x", "3 (x^T x)^2 x", None),
    "det": ("det(X)", "X", "det(X) X^-T", "det(X) X^-1", None),
    "logdet": ("logdet(X)", "X", "X^-T", "X^-1", None),
    "norm2": ("||x||", "x", "x / ||x||", "x / ||x||^2", None),
    "norm1": ("||x||_1", "x", "sign(x)", "abs(x)", None),
    "normF": ("||X||_F", "X", "X / ||X||_F", "2 X / ||X||_F", None),
    "exp": ("exp(x)", "x", "diag(exp(x))", "exp(x) ones^T", None),
    "log": ("sum(log(x))", "x", "ones ./ x", "ones ./ (x .* x)", None),
    "sin": ("sin(x)", "x", "diag(cos(x))", "diag(-cos(x))", None),
    "cos": ("sum(cos(x))", "x", "-sin(x)", "sin(x)", None),
    "tanh": ("sum(tanh(x))", "x", "1 - tanh(x) .* tanh(x)", "1 + tanh(x) .* tanh(x)", None),
    "sigmoid": ("a^T sigmoid(x)", "x", "a .* sigmoid(x) .* (1 - sigmoid(x))",
                "a .* sigmoid(x)", None),
    "softplus": ("sum(softplus(x))", "x", "sigmoid(x)", "sigmoid(-x)", None),
    "sqrt": ("sum(sqrt(x))", "x", "0.5 ones ./ sqrt(x)", "ones ./ sqrt(x)", None),
    "abs": ("sum(abs(x))", "x", "sign(x)", "ones", None),
    "sign": ("sum(sign(x) .* x)", "x", "sign(x)", "x", None),
    "relu": ("sum(relu(x))", "x", "step(x)", "relu(x)", None),
    "step": ("step(x) .* x", "x", "diag(step(x))", "I", None),
    "epow": ("sum(x .^ 3)", "x", "3 x .^ 2", "2 x .^ 3", None),
    "softmax": ("softmax(z)", "z", "diag(softmax(z)) - softmax(z) softmax(z)^T",
                "diag(softmax(z))", None),
    "logsumexp": ("logsumexp(z)", "z", "softmax(z)", "exp(z)", None),
}



@pytest.mark.parametrize("op", sorted(CASES))
def test_check_accepts_right_and_rejects_mutated_derivative(op):
    # per operator: the right derivative passes, a mutated one fails with a counterexample
    # (an operator added by a record alone is checked from its example in test_optable)
    expr, wrt, right, wrong, where = CASES[op]
    good = mc.check(expr, wrt, right, where=where, trials=3, seed=11)
    assert good.ok, str(good)
    assert good.max_error < 1e-8
    bad = mc.check(expr, wrt, wrong, where=where, trials=3, seed=11)
    assert not bad.ok
    assert bad.counterexample is not None and bad.max_error > 1e-3
    assert wrt in bad.counterexample.inputs


@pytest.mark.parametrize("expr, wrt, right, wrong, where", [
    # scalar by vector: a gradient shaped like x
    ("x^T A x", "x", "(A + A^T) x", "2 A x", None),
    ("x^T A x", "x", "2 A x", "A x", "A: symmetric"),
    # scalar by matrix: shaped like X (Matrix Cookbook)
    ("tr(A X B)", "X", "A^T B^T", "B^T A^T", "A, B: invertible"),
    ("tr(X^T B X)", "X", "B X + B^T X", "2 B X", None),
    # vector by vector: the m×n Jacobian, numerator layout
    ("W x + b", "x", "W", "W^T", "W: invertible"),
    ("sigmoid(W x)", "x", "diag(sigmoid(W x) .* (1 - sigmoid(W x))) W",
     "diag(sigmoid(W x)) W", None),
    # vector or matrix by scalar: shaped like F
    ("exp(alpha) A", "alpha", "exp(alpha) A", "A", None),
    ("x^T alpha", "alpha", "x^T", "2 x^T", None),
])
def test_layouts(expr, wrt, right, wrong, where):
    # each layout of SPEC section 3 is compared entry for entry
    assert mc.check(expr, wrt, right, where=where, trials=3).ok
    assert not mc.check(expr, wrt, wrong, where=where, trials=3).ok


@pytest.mark.parametrize("expr, wrt, right, wrong, where", [
    ("x^T A x", "x", "A + A^T", "2 A", None),
    ("log(sum(exp(x)))", "x", "diag(softmax(x)) - softmax(x) softmax(x)^T",
     "diag(softmax(x))", None),
    ("alpha^3 beta", "alpha", "6 alpha beta", "3 alpha^2 beta", None),
    ("tr(X^T X)", "X", "2 I", "I", None),  # order 4 written as ∂vec(G)/∂vec(X), G = 2X
    ("tr(X^T A X)", "X", "kron(I, A + A^T)", "kron(A + A^T, I)", None),
])
def test_hessian_with_order_2(expr, wrt, right, wrong, where):
    # order=2: the Jacobian of the gradient (torch.func.jacrev twice)
    assert mc.check(expr, wrt, right, where=where, trials=3, order=2).ok
    assert not mc.check(expr, wrt, wrong, where=where, trials=3, order=2).ok


def test_fourth_order_as_callable_and_as_vec_form():
    # d(A X B)/dX: a (p, q, m, n) tensor, T[i,j,k,l] = A[i,k] B[l,j]
    right = lambda v: np.einsum("ik,lj->ijkl", v["A"], v["B"])  # noqa: E731
    wrong = lambda v: np.einsum("ik,lj->ijkl", v["A"], v["B"]) * 1.001  # noqa: E731
    swapped = lambda v: np.einsum("ik,lj->ijlk", v["A"], v["B"])  # noqa: E731
    assert mc.check("A X B", "X", right, trials=3).ok
    assert not mc.check("A X B", "X", wrong, trials=3).ok
    with pytest.raises(mc.UsageError, match="jacrev layout"):
        mc.check("A X B", "X", swapped, trials=1)
    # the same derivative as the matrix ∂vec(AXB)/∂vec(X) = B^T ⊗ A (Cookbook 10.2.2)
    assert mc.check("A X B", "X", "kron(B^T, A)", trials=3).ok
    assert not mc.check("A X B", "X", "kron(A, B^T)", trials=3).ok


def test_order_3_vector_by_matrix():
    # d(X a)/dX: (m, m, n) with T[i,k,l] = δ_ik a_l; as a matrix, a^T ⊗ I
    assert mc.check("X a", "X", "kron(a^T, I)", trials=3).ok
    assert not mc.check("X a", "X", "kron(I, a^T)", trials=3).ok


def test_list_of_variables():
    # wrt as a list: one derivative per variable
    report = mc.check("x^T A y", ["x", "y"], ["A y", "A^T x"], trials=3)
    assert report.ok and report.wrt == ("x", "y")
    bad = mc.check("x^T A y", ["x", "y"], ["A y", "A x"], where="A: invertible", trials=3)
    assert not bad.ok and "[1]" in bad.counterexample.right_label
    with pytest.raises(mc.UsageError, match="list"):
        mc.check("x^T A y", ["x", "y"], "A y")


def test_variable_not_in_expression_has_zero_derivative():
    # a derivative with respect to a symbol that does not occur is zero
    assert mc.check("x^T x", "y", "0", trials=2).ok
    assert mc.check("x^T x", "Y", 0, trials=2).ok
    assert not mc.check("x^T x", "y", "y", trials=2).ok


def test_report_fields_and_replay():
    # sizes per trial, a seed, and a counterexample that replays from its seed
    report = mc.check("tr(A X)", "X", "A", where="A: invertible", trials=4, seed=100)
    assert not report.ok and report.seed == 100
    cx = report.counterexample
    assert set(cx.inputs) == {"A", "X"} and cx.left.shape == cx.right.shape
    assert "counterexample" in str(cx) and "seed" in str(report)
    again = mc.check("tr(A X)", "X", "A", where="A: invertible", trials=1, seed=cx.seed)
    assert np.allclose(again.counterexample.left, cx.left)
    ok = mc.check("tr(A X)", "X", "A^T", trials=4, seed=3)
    assert ok.ok and ok.trials == 4 and len(ok.sizes) == 4
    assert all(len(set(s.values())) == len(s) and min(s.values()) >= 2 for s in ok.sizes)


def test_result_typed_with_the_expression_kinds():
    # a result text uses the kinds inferred for the expression (rule 3: x is a scalar)
    assert mc.check("x^3", "x", "3 x^2", trials=2).ok
    assert mc.check(mc.parse("x^T A x"), mc.parse("x"), mc.parse("(A + A^T) x"), trials=2).ok


def test_without_result_uses_the_engine():
    # result=None checks the engine's own answer
    assert mc.check("x^T A x", "x", trials=2).ok
    assert mc.check("tr(A X B)", "X", trials=2).ok


@pytest.mark.parametrize("call, error", [
    (lambda: mc.check("x^T A x", "x", "A"), mc.ShapeError),
    (lambda: mc.check("x^T A x", "x", "(A x"), mc.ParseError),
    (lambda: mc.check("x^T A x", "x + y", "A x"), mc.UsageError),
    (lambda: mc.check("x^T A x", "x", "A x", trials=0), mc.UsageError),
    (lambda: mc.check("x^T A x", "x", "A x", order=3), mc.UsageError),
    (lambda: mc.check("x^T A x", "x", 3.5), mc.UsageError),
    (lambda: mc.check("x^T A x", "x", lambda v: 1 / 0), mc.UsageError),
])
def test_bad_calls_are_matrixcalc_errors(call, error):
    # every bad call is a MatrixCalcError, never a traceback
    with pytest.raises(error):
        call()
