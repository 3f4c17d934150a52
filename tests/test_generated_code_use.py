# Code as people run it (issue 18): shape checks, solves, chains, torch.func, hvp.
"""Generated functions check their inputs' shapes with a message naming the symbol and
its dimensions; they solve instead of inverting and multiply matrix chains in the order
the call's sizes make cheapest; an autograd_function goes through torch.func's grad and
vmap; a Hessian-vector product is computed without the Hessian. Every value is compared
with an independent computation (numpy, or torch.autograd)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import torch

import matrixcalc as mc

jax.config.update("jax_enable_x64", True)
RNG = np.random.default_rng(3)
BACKENDS = ["numpy", "torch", "jax"]


def call(f, backend: str, **values):
    args = {k: torch.tensor(v) if backend == "torch" else v for k, v in values.items()}
    out = f(**args)
    return out.numpy() if isinstance(out, torch.Tensor) else np.asarray(out)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_of_the_wrong_shape_are_named(backend):
    # A of 4×4 beside x of 3 entries: the message names A, its kind and dimensions
    f = mc.lambdify("x^T A x", backend=backend)
    with pytest.raises(ValueError, match=r"`A` is matrix \(n×n\), expected shape \(3, 3\)"):
        call(f, backend, x=np.ones(3), A=np.eye(4))
    with pytest.raises(ValueError, match=r"`x` is vector \(n\)"):
        call(f, backend, x=np.ones((3, 1)), A=np.eye(3))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("text, want", [
    ("A^-1 b", lambda A, B, b: np.linalg.inv(A) @ b),
    ("b^T A^-1", lambda A, B, b: b @ np.linalg.inv(A)),
    ("B A^-1", lambda A, B, b: B @ np.linalg.inv(A)),
    ("b^T A^-1 B b", lambda A, B, b: b @ np.linalg.inv(A) @ B @ b),
])
def test_an_inverse_in_a_product_is_a_solve(backend, text, want):
    # M^-1 B is solve(M, B): the code never forms the inverse, and the value is the same
    f = mc.lambdify(text, backend=backend)
    assert "solve(" in f.source and "inv(" not in f.source, f.source
    values = {"A": RNG.standard_normal((4, 4)) + 4 * np.eye(4),
              "B": RNG.standard_normal((4, 4)), "b": RNG.standard_normal(4)}
    used = {k: v for k, v in values.items() if k in f.inputs}
    assert np.allclose(call(f, backend, **used), want(**values))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_matrix_chain_is_ordered_at_call_time(backend):
    # A B C: multi_dot orders it by the sizes it is called with; a chain ending in a
    # vector is multiplied from the vector
    f = mc.lambdify("A B C", backend=backend)
    assert "multi_dot(" in f.source
    A, B, C = (RNG.standard_normal(s) for s in ((50, 2), (2, 60), (60, 3)))
    assert np.allclose(call(f, backend, A=A, B=B, C=C), A @ B @ C)
    g = mc.lambdify("A B C x", backend=backend)
    assert "multi_dot(" not in g.source and "(C @ x)" in g.source


def test_autograd_function_goes_through_torch_func():
    # torch.func.grad, jacrev and vmap of an autograd_function: torch's own answers
    F = mc.autograd_function("sum(tanh(W x)) + x^T x", ["W", "x"])
    W = torch.randn(3, 4, dtype=torch.float64)
    xs = torch.randn(5, 4, dtype=torch.float64)

    def reference(W, x):
        return torch.tanh(W @ x).sum() + x @ x
    for x in xs:
        assert torch.allclose(torch.func.grad(lambda W: F.apply(W, x))(W),
                              torch.func.grad(lambda W: reference(W, x))(W))
    batched = torch.vmap(torch.func.grad(lambda x: F.apply(W, x)))(xs)
    assert torch.allclose(batched, torch.vmap(torch.func.grad(lambda x: reference(W, x)))(xs))
    assert torch.allclose(torch.vmap(lambda x: F.apply(W, x))(xs),
                          torch.vmap(lambda x: reference(W, x))(xs))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hessian_vector_product_never_builds_the_hessian(backend):
    # the logistic loss: H v = X^T (s ⊙ (1 - s) ⊙ X v), no n×n matrix in the code
    loss = "-(y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"
    hv = mc.hvp(loss, "w", "v")
    f = mc.lambdify(hv, backend=backend)
    assert "diag(" not in f.source and "outer(" not in f.source, f.source
    X, y = RNG.standard_normal((7, 3)), RNG.integers(0, 2, 7).astype(float)
    w, v = RNG.standard_normal(3), RNG.standard_normal(3)
    H = torch.autograd.functional.hessian(
        lambda w: torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(X) @ w, torch.tensor(y), reduction="sum"), torch.tensor(w))
    assert np.allclose(call(f, backend, X=X, y=y, w=w, v=v), H.numpy() @ v)
