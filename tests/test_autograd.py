# mc.autograd_function (SPEC section 5): forward is the expression, backward the derived VJP.
"""`autograd_function(expr, inputs)` passes torch.autograd.gradcheck for the lesson's
linear layer, logistic regression loss and softmax cross-entropy, and for matrix and
row-vector outputs (whose backward derives tr(Gᵀ F) and F g)."""

from __future__ import annotations

import pytest
import torch

import matrixcalc as mc
from matrixcalc.errors import UsageError

D = torch.float64
LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"


def leaf(*shape, positive=False):
    torch.manual_seed(sum(shape) + len(shape))
    value = torch.rand(*shape, dtype=D) * 0.8 + 0.1 if positive else torch.randn(*shape,
                                                                                 dtype=D)
    return value.requires_grad_(True)


def test_linear_layer_passes_gradcheck():
    # W x + b with inputs W, x, b: backward = (g x^T, W^T g, g)
    F = mc.autograd_function("W x + b", ["W", "x", "b"])
    assert torch.autograd.gradcheck(F.apply, (leaf(3, 4), leaf(4), leaf(3)))
    assert "torch.outer" in F.source


def test_logistic_regression_loss_passes_gradcheck():
    # the lesson's logistic loss wrt w (and X, y and the scalar n)
    F = mc.autograd_function(LOGISTIC, ["w", "X", "y", "n"], where="n: scalar")
    X, w, y = leaf(6, 3), leaf(3), leaf(6, positive=True)
    n = torch.tensor(6.0, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(F.apply, (w, X, y, n))
    w_only = (w, X.detach(), y.detach(), n.detach())
    assert torch.autograd.gradcheck(F.apply, w_only)


def test_softmax_cross_entropy_passes_gradcheck():
    # -y^T log(softmax(z)) wrt z and y
    F = mc.autograd_function("-y^T log(softmax(z))", ["y", "z"])
    assert torch.autograd.gradcheck(F.apply, (leaf(5, positive=True), leaf(5)))


def test_matrix_output_uses_trace_of_incoming_gradient():
    # A X B (a matrix): backward derives tr(G^T A X B), giving A^T G B^T for X
    F = mc.autograd_function("A X B + sigmoid(X)", ["A", "X", "B"])
    assert torch.autograd.gradcheck(F.apply, (leaf(3, 3), leaf(3, 4), leaf(4, 4)))


def test_row_vector_and_scalar_outputs():
    # x^T A (a row vector) and tr(A) α (a scalar)
    F = mc.autograd_function("x^T A", ["x", "A"])
    assert torch.autograd.gradcheck(F.apply, (leaf(3), leaf(3, 4)))
    G = mc.autograd_function("α tr(A) + logdet(A)", ["α", "A"])
    A = (torch.eye(3, dtype=D) * 3 + torch.randn(3, 3, dtype=D) * 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(G.apply, (torch.tensor(2.0, dtype=D,
                                                           requires_grad=True), A))


def test_forward_matches_evaluate_and_backward_matches_autograd():
    # F.apply(...) = evaluate; .backward() = torch.autograd through plain torch
    F = mc.autograd_function("||A x - b||^2", ["A", "x", "b"])
    A, x, b = leaf(4, 3), leaf(3), leaf(4)
    out = F.apply(A, x, b)
    out.backward()
    A2, x2, b2 = (t.detach().clone().requires_grad_(True) for t in (A, x, b))
    ((A2 @ x2 - b2) ** 2).sum().backward()
    assert torch.allclose(A.grad, A2.grad) and torch.allclose(x.grad, x2.grad)
    assert torch.allclose(b.grad, b2.grad)


def test_inputs_must_cover_the_symbols():
    # a symbol missing from `inputs`: UsageError naming it
    with pytest.raises(UsageError, match="b"):
        mc.autograd_function("W x + b", ["W", "x"])
