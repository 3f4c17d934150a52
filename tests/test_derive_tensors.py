"""Derivatives of order 3 and 4 (index form and vec/Kronecker form) and structured
derivatives for symmetric and diagonal matrices (issue 5); each asserted as text and
checked numerically against torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import matrixcalc as mc

TENSORS = [
    # (expression, wrt, index form, Kronecker form ∂vec(F)/∂vec(X))
    ("A X B", "X", "A_{ik} B_{lj}", "B^T ⊗ A"),               # Matrix Cookbook (520)
    ("W x + b", "W", "δ_{ik} x_{l}", "x^T ⊗ I"),
    ("X^-1", "X", "-(X^-1)_{ik} (X^-1)_{lj}", "-X^-T ⊗ X^-1"),  # Cookbook (60)
    ("x a^T", "x", "δ_{ik} a_{j}", "a ⊗ I"),
    # copy tensors: a Hadamard product and an elementwise function, by a matrix
    ("A ⊙ B", "A", "B_{ab} δ_{jbl} δ_{iak}", "diag(vec(B))"),
    ("exp(X)", "X", "(exp(X))_{ab} δ_{jbl} δ_{iak}", "diag(vec(exp(X)))"),
    # Magnus & Neudecker: d vec(tr(A) A) = vec(A) vec(I)^T dvec(A) + tr(A) dvec(A)
    ("tr(A) A", "A", "A_{ij} δ_{kl} + A_{aa} δ_{ik} δ_{jl}", "tr(A) I + vec(A) vec(I)^T"),
    # ∂vec(X^T)/∂vec(X): the commutation matrix
    ("X^T", "X", "δ_{jk} δ_{il}", "commutation(m, n)"),
]


@pytest.mark.parametrize("expr, wrt, index, _", TENSORS)
def test_tensor_derivative_in_index_form(expr, wrt, index, _):
    # ∂F/∂X of order 3 or 4 prints in Einstein notation and matches autograd (jacrev layout)
    result = mc.derive(expr, wrt)
    assert (result.kind, str(result)) == ("tensor", index)
    assert mc.check(expr, wrt, result=result.evaluate).ok


@pytest.mark.parametrize("expr, wrt, _, kron", TENSORS)
def test_tensor_derivative_in_kronecker_form(expr, wrt, _, kron):
    # with vec=True: the matrix ∂vec(F)/∂vec(X), columns stacked
    result = mc.derive(expr, wrt, vec=True)
    assert str(result) == kron
    assert mc.check(expr, wrt, result=result).ok


def test_check_derives_tensors_itself():
    # check with no result uses the engine's index-form derivative
    assert mc.check("A X B", "X").ok and mc.check("W x + b", "W").ok


def test_commutation_matrix_parses_back_with_its_dimensions():
    # K vec(A) = vec(A^T): the result names X's dimensions, and reads back with them
    result = mc.derive("X^T", "X", vec=True, where="X: matrix(m, n)")
    assert mc.parse(str(result), where="X: matrix(m, n)") == result
    x = np.arange(6.0).reshape(2, 3)
    k = result.evaluate({"X": x}, sizes={"m": 2, "n": 3})
    assert np.allclose(k @ x.T.reshape(-1), x.reshape(-1))  # vec(X) to vec(X^T)


def test_trace_of_a_kronecker_product_times_b():
    # d tr((A ⊗ X) B)/dX = Σ_ij A_ij (block (j, i) of B)^T: the blocks are summed by
    # ones ⊗ I after A is spread over them (A ⊗ ones ones^T) entry by entry
    result = mc.derive("tr(kron(A, X) B)", "X")
    assert str(result) == "(ones^T ⊗ I) (B^T ⊙ (A ⊗ (ones ones^T))) (ones ⊗ I)"
    assert mc.check("tr(kron(A, X) B)", "X", result=result).ok
    rng = np.random.default_rng(3)
    a, x = rng.normal(size=(2, 3)), rng.normal(size=(5, 7))
    b = rng.normal(size=(3 * 7, 2 * 5))
    blocks = sum(a[i, j] * b[j * 7:(j + 1) * 7, i * 5:(i + 1) * 5].T
                 for i in range(2) for j in range(3))  # independent of the engine
    assert np.allclose(result.evaluate({"A": a, "X": x, "B": b}), blocks)


def test_hessian_of_squared_relu_layer_in_kronecker_form():
    # ∂²/∂vec(W)² of sum(relu(X W + ones b^T).^2) = 2 (I ⊗ X^T) diag(vec(S)) (I ⊗ X)
    f = "sum(relu(X W + ones b^T).^2)"
    result = mc.hessian(f, "W", vec=True)
    s = "step(X W + ones b^T)"
    assert str(result) == f"2 (I ⊗ X^T) diag(vec({s} ⊙ {s})) (I ⊗ X)"
    assert mc.check(f, "W", result=result, order=2).ok


def test_vec_of_scalar_by_matrix_is_a_row():
    # vec layout of a gradient: vec(G)^T
    result = mc.derive("tr(A X)", "X", vec=True)
    assert str(result) == "vec(A^T)^T" and result.kind == "row vector"


def test_hessian_by_matrix_in_kronecker_form():
    # ∂²tr(X^T A X)/∂vec(X)² = I ⊗ (A + A^T)
    result = mc.hessian("tr(X^T A X)", "X", vec=True)
    assert str(result) == "I ⊗ (A + A^T)"
    assert mc.check("tr(X^T A X)", "X", result=result, order=2).ok


# -- structured derivatives (Matrix Cookbook section 2.8) ---------------------------------

STRUCTURED = [
    ("tr(A X)", "A + A^T - diag(diag(A))"),                            # (138)
    ("det(X)", "det(X) (2 X^-1 - diag(diag(X^-1)))"),                   # (139)
    ("logdet(X)", "2 X^-1 - diag(diag(X^-1))"),                         # (140)
    ("a^T X a", "2 a a^T - diag(a ⊙ a)"),
]


def _structured_gradient(expr: str, values: dict, n: int) -> np.ndarray:
    """Autograd through X = sym(u): entry (i, j), i <= j, of the derivative."""
    e = mc.parse(expr, where="X: symmetric")
    upper = torch.tensor(values["X"][np.triu_indices(n)], requires_grad=True)

    def f(u):
        m = torch.zeros(n, n, dtype=torch.float64)
        m[np.triu_indices(n)] = u
        m = m + m.T - torch.diag(torch.diag(m))
        env = {k: torch.as_tensor(v) for k, v in values.items() if k != "X"}
        return torch.as_tensor(mc.lambdify(e, backend="torch")(X=m, **env))

    (grad,) = torch.autograd.grad(f(upper), upper)
    out = np.zeros((n, n))
    out[np.triu_indices(n)] = grad.numpy()
    return out + np.triu(out, 1).T


@pytest.mark.parametrize("expr, expected", STRUCTURED)
def test_structured_symmetric_derivative(expr, expected):
    # for symmetric X: ∂f/∂X + (∂f/∂X)^T - diag(∂f/∂X), as autograd through sym(u) gives
    result = mc.derive(expr, "X", where="X: symmetric", structured=True)
    assert str(result) == expected
    rng = np.random.default_rng(7)
    n = 4
    b = rng.normal(size=(n, n))
    values = {"X": b @ b.T + n * np.eye(n), "A": rng.normal(size=(n, n)),
              "a": rng.normal(size=n)}
    expected_value = _structured_gradient(expr, values, n)
    assert np.allclose(result.evaluate(values), expected_value)


def test_structured_diagonal_derivative():
    # for diagonal X: diag(diag(∂f/∂X)) (Matrix Cookbook section 2.8.3)
    result = mc.derive("x^T X x", "X", where="X: diagonal", structured=True)
    assert str(result) == "diag(x ⊙ x)"
    d = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.3, 1.1, -0.7], dtype=torch.float64)
    (grad,) = torch.autograd.grad(x @ torch.diag(d) @ x, d)
    assert np.allclose(np.diag(result.evaluate({"x": x.numpy(), "X": np.diag(d.detach())})),
                       grad.numpy())


def test_structured_needs_a_structure():
    # structured=True without symmetric/diagonal is a usage error
    with pytest.raises(mc.UsageError):
        mc.derive("tr(A X)", "X", structured=True)
