"""Trust in the corners (issue 13): second derivatives by structured variables, and
results that remember what they were derived from."""

import numpy as np
import pytest

import matrixcalc as mc

# Functions of a structured matrix (log-determinants, inverse forms, traces, the Gaussian
# negative log-likelihood, quadratic forms), each with the declarations it needs.
STRUCTURED_HESSIANS = [
    ("logdet(S)", "S", "S: spd"),
    ("tr(S^-1 B)", "S", "S: spd"),
    ("x^T S^-1 x", "S", "S: spd"),
    ("tr(S S)", "S", "S: symmetric"),
    ("tr(S B S)", "S", "S: symmetric"),
    ("tr(S^-1 B S^-1)", "S", "S: spd"),
    ("1/2 logdet(S) + 1/2 (x - m)^T S^-1 (x - m)", "S", "S: spd"),
    ("logdet(S) + tr(S^-1 B)", "S", "S: spd"),
    ("x^T S x", "S", "S: symmetric"),
    ("x^T S S x", "S", "S: symmetric"),
    ("tr(D^-1 B)", "D", "D: diagonal invertible"),
    ("logdet(D)", "D", "D: diagonal invertible"),
    ("x^T D^-1 x", "D", "D: diagonal invertible"),
    ("tr(D B D)", "D", "D: diagonal"),
    ("x^T S^-1 x", "x", "S: spd"),
    ("logdet(S) + x^T S x", "x", "S: spd"),
    ("tr(Q B)", "Q", "Q: orthogonal"),
]


@pytest.mark.parametrize("text, wrt, where", STRUCTURED_HESSIANS)
def test_structured_hessians_agree_with_autograd(text, wrt, where):
    # the Jacobian of the unstructured gradient, the assumption applied at the end only
    report = mc.check(text, wrt, where=where, order=2)
    assert report.ok, report


def test_hessian_of_logdet_is_autograds_layout():
    h = mc.hessian("logdet(S)", "S", where="S: spd")
    assert h.index() == "-(S^-1)_{il} (S^-1)_{kj}"


@pytest.mark.parametrize("text, wrt, where", STRUCTURED_HESSIANS[:6])
def test_derivative_of_a_gradient_is_the_hessian(text, wrt, where):
    # a gradient remembers its input: derived again, it starts from the unstructured one
    again = mc.derive(mc.derive(text, wrt, where=where), wrt)
    assert again.index() == mc.hessian(text, wrt, where=where).index()


@pytest.mark.parametrize("text, wrt, where", [("tr(S S)", "S", "S: symmetric"),
                                              ("logdet(S)", "S", "S: spd"),
                                              ("tr(S B)", "S", "S: symmetric")])
def test_hvp_by_a_structured_variable(text, wrt, where):
    # H[V] against torch.func.hessian of the function itself (unstructured, as autograd)
    import torch
    rng = np.random.default_rng(0)
    n = 3
    a = rng.standard_normal((n, n))
    s = a @ a.T + n * np.eye(n)
    b, v = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    got = mc.hvp(text, wrt, "V", where=where + "; V: matrix").evaluate(
        {"S": s, "B": b, "V": v})
    f = mc.lambdify(text, backend="torch", where=where)
    full = torch.func.hessian(lambda S: f(S=S, B=torch.from_numpy(b)))(torch.from_numpy(s))
    assert np.allclose(got, np.einsum("ijkl,kl->ij", full.numpy(), v))


def test_structured_conventions_follow_their_papers():
    # Cookbook (141): G + G^T - diag(G); Srinivasan & Panda: (G + G^T)/2; G = B^T here
    rng = np.random.default_rng(1)
    b = rng.standard_normal((4, 4))
    g = b.T
    cook = mc.derive("tr(S B)", "S", where="S: symmetric", structured="cookbook")
    sym = mc.derive("tr(S B)", "S", where="S: symmetric", structured="sym")
    assert np.allclose(cook.evaluate({"B": b}), g + g.T - np.diag(np.diag(g)))
    assert np.allclose(sym.evaluate({"B": b}), (g + g.T) / 2)
    assert mc.derive("tr(S B)", "S", where="S: symmetric", structured=True) == cook
    diag = mc.derive("tr(D B)", "D", where="D: diagonal", structured="sym")
    assert np.allclose(diag.evaluate({"B": b}), np.diag(np.diag(g)))
    with pytest.raises(mc.UsageError, match="structured"):
        mc.derive("tr(S B)", "S", where="S: symmetric", structured="other")


@pytest.mark.parametrize("text, wrt, value_of", [
    ("x", "x", "x"), ("x^T x", "y", "x"), ("A x", "x", "x"), ("tr(X)", "X", "X"),
    ("sum(x)", "x", "x"), ("x^T a", "x", "a")])
def test_results_take_sizes_from_every_input_they_know(text, wrt, value_of):
    rng = np.random.default_rng(2)
    values = {"x": rng.standard_normal(3), "a": rng.standard_normal(3),
              "A": rng.standard_normal((2, 3)), "X": rng.standard_normal((4, 4)),
              "y": rng.standard_normal(5)}
    r = mc.derive(text, wrt)
    value = np.asarray(r.evaluate(values))
    assert value.size > 0 and value.shape[0] in (2, 3, 4, 5)
    assert value_of in r.shapes and r.derived_from.wrt[0].name == wrt
    assert mc.check(text, wrt, result=r).ok  # the value is the derivative, by autograd


def test_identity_result_is_of_the_variables_size():
    r = mc.derive("x", "x")
    assert np.allclose(r.evaluate({"x": np.zeros(4)}), np.eye(4))
    with pytest.raises(mc.UsageError, match=r"sizes=\{'n': 3\}"):
        r.evaluate({})


def test_absent_variable_has_dimensions_of_its_own():
    r = mc.derive("x^T x", "y")
    assert r.shapes["y"].rows != r.shapes["x"].rows
    assert mc.derive("x^T x", "y", where="y: vector(n)").shapes["y"].rows == ("n",)
