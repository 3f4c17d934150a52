# Matrix functions and decompositions (issue 16): each rule's canonical form and autograd.
"""expm, logm, sqrtm, pinv, chol, eigmax/eigmin and their eigenvectors, ||X||_2 and ||X||_*,
and the linear maps their derivatives are written with (dexpm, dlogm, sylvester,
lowerhalf). Every derivative expected here is checked twice: its canonical text, and
against torch.autograd (`mc.check`, distinct sizes for distinct dimensions; torch
differentiates matrix_exp, eig/eigh, cholesky, pinv, matrix_norm). Sources: Higham,
"Functions of Matrices" (2008); Magnus & Neudecker (2019); Golub & Pereyra (1973);
Murray, "Differentiation of the Cholesky decomposition" (2016)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import matrixcalc as mc

# (expression, by, where, canonical derivative)
RULES = [
    # trace forms: d tr(f(X)) = tr(f'(X) dX) (Higham 2008, Theorem 3.6 with E = I)
    ("tr(expm(X))", "X", None, "expm(X^T)"),
    ("tr(logm(X))", "X", None, "X^-T"),
    ("tr(sqrtm(X))", "X", None, "1/2 sqrtm(X^T)^-1"),
    # the Fréchet derivatives, read back through their adjoints
    ("a^T expm(X) b", "X", None, "dexpm(X^T, a b^T)"),
    ("a^T logm(X) b", "X", None, "dlogm(X^T, a b^T)"),
    ("a^T sqrtm(X) b", "X", None, "sylvester(sqrtm(X^T), sqrtm(X^T), a b^T)"),
    ("sum(expm(X))", "X", None, "dexpm(X^T, ones ones^T)"),
    ("||expm(X)||_F^2", "X", None, "2 dexpm(X^T, expm(X))"),
    ("tr(expm(expm(X)))", "X", None, "dexpm(X^T, expm(expm(X^T)))"),
    # the linear maps themselves: linear in a direction, and differentiable in X
    ("tr(C dexpm(X, E))", "E", None, "dexpm(X^T, C^T)"),
    ("tr(C dexpm(X, E))", "X", None, "dexpm(X^T, C^T, E^T) + dexpm(X^T, E^T, C^T)"),
    ("tr(C dlogm(X, E))", "X", None, "dlogm(X^T, C^T, E^T) + dlogm(X^T, E^T, C^T)"),
    ("tr(D sylvester(A, B, C))", "C", None, "sylvester(A^T, B^T, D^T)"),
    ("tr(D sylvester(A, B, C))", "A", None,
     "-sylvester(A^T, B^T, D^T) sylvester(B^T, A^T, C^T)"),
    ("tr(A lowerhalf(X))", "X", None, "lowerhalf(A^T)"),
    # decompositions (Golub & Pereyra 1973; Murray 2016, symmetrized as torch is)
    ("a^T pinv(A) b", "A", None,
     "((I - A pinv(A)) b a^T pinv(A) - pinv(A^T) a b^T) pinv(A^T) "
     "+ pinv(A^T) pinv(A) b a^T (I - pinv(A) A)"),
    ("a^T chol(S) b", "S", None,
     "1/2 chol(S)^-T (lowerhalf(chol(S)^T a b^T) + lowerhalf(chol(S)^T a b^T)^T) chol(S)^-1"),
    # eigenvalues, eigenvectors and norms (Magnus 1985)
    ("eigmax(S)", "S", "S: symmetric", "eigvecmax(S) eigvecmax(S)^T"),
    ("eigmin(S)", "S", "S: symmetric", "eigvecmin(S) eigvecmin(S)^T"),
    ("a^T eigvecmax(S)", "S", "S: symmetric",
     "1/2 eigvecmax(S) a^T pinv(eigmax(S) I - S) + 1/2 pinv(eigmax(S) I - S) a eigvecmax(S)^T"),
    ("||X||_2", "X", None, "X/||X||_2 eigvecmax(X^T X) eigvecmax(X^T X)^T"),
    ("||X||_*", "X", None, "X sqrtm(X^T X)^-1"),
    ("tr(sqrtm(A^T A))", "A", None, "A sqrtm(A^T A)^-1"),
]


@pytest.mark.parametrize("text, by, where, expected", RULES)
def test_rule_gives_its_canonical_form_and_agrees_with_autograd(text, by, where, expected):
    # the canonical text, read back by the parser, and torch.autograd agree
    result = mc.derive(text, by, where=where)
    assert str(result) == expected
    assert mc.parse(str(result), where=where) == mc.parse(expected, where=where)
    report = mc.check(text, by, result=result, where=where, trials=3, seed=1)
    assert report.ok, report
    assert len({size for sizes in report.sizes for size in sizes.values()}) >= 2 or \
        len(report.sizes[0]) == 1


# -- the worked cases -----------------------------------------------------------------------------

FRECHET_DISTANCE = "||m1 - m2||^2 + tr(S1 + S2 - 2 sqrtm(S1 S2))"
WORKED = [
    # the Fréchet distance between Gaussians (FID): S1 S2 is not symmetric, but its
    # eigenvalues are positive (it is similar to S1^1/2 S2 S1^1/2): sqrtm's domain, a
    # positive spectrum, holds it; S1 and S2 are drawn spd by their declaration
    (FRECHET_DISTANCE, "S1", "S1, S2: spd", "I - sqrtm(S2 S1)^-1 S2"),
    (FRECHET_DISTANCE, "m1", "S1, S2: spd", "2 (m1 - m2)"),
    # the nuclear-norm regularized loss (matrix completion)
    ("||X - Y||_F^2 + λ ||X||_*", "X", None, "2 (X - Y) + λ X sqrtm(X^T X)^-1"),
    # the exponential of a generator, by the time and by the generator
    ("a^T expm(t A) b", "t", "t: scalar", "a^T expm(t A) A b"),
    ("a^T expm(t A) b", "A", "t: scalar", "t dexpm(t A^T, a b^T)"),
    # the largest eigenvalue of a Gram matrix (the squared spectral norm)
    ("eigmax(X^T X)", "X", None, "2 X eigvecmax(X^T X) eigvecmax(X^T X)^T"),
]


@pytest.mark.parametrize("text, by, where, expected", WORKED)
def test_worked_case(text, by, where, expected):
    # printed form and autograd, as in the README's "Matrix functions"
    result = mc.derive(text, by, where=where)
    assert str(result) == expected
    assert mc.check(text, by, result=result, where=where, trials=3, seed=2).ok


def test_logdet_through_the_cholesky_factor_is_the_inverse():
    # logdet(S) = 2 sum(log(diag(chol(S)))): through chol's rule the gradient is S^-1
    # (Murray 2016); checked against autograd, and equal to S^-1 at random spd points
    text, where = "2 sum(log(diag(chol(S))))", "S: spd"
    result = mc.derive(text, "S", where=where)
    assert "lowerhalf" in str(result)
    assert mc.check(text, "S", result=result, where=where, trials=3, seed=3).ok
    assert mc.check(text, "S", result="S^-1", where=where, trials=3, seed=3).ok
    assert str(mc.derive("logdet(S)", "S", where=where)) == "S^-1"


def test_frechet_distance_samples_a_product_of_spd_matrices():
    # sqrtm(S1 S2): the checker draws S1, S2 spd; the product is not symmetric, and both
    # the numpy (scipy) and torch (eig) values of its square root agree
    from matrixcalc.numbers.backends import backend
    from matrixcalc.numbers.sampling import Problem
    e = mc.parse("tr(sqrtm(S1 S2))", "S1, S2: spd")
    problem = Problem()
    problem.add_root(0, e)
    values = problem.draw(0)[1].values
    product = values["S1"] @ values["S2"]
    assert not np.allclose(product, product.T)
    assert np.all(np.linalg.eigvals(product).real > 0)
    root_numpy = backend("numpy").sqrtm(product)
    root_torch = backend("torch").sqrtm(torch.from_numpy(product)).numpy()
    assert np.allclose(root_numpy @ root_numpy, product) and np.allclose(root_numpy, root_torch)


@pytest.mark.parametrize("rows, cols, expected", [
    (2, 4, "sqrtm(X X^T)^-1 X"), (4, 2, "X sqrtm(X^T X)^-1"), (3, 3, "X sqrtm(X^T X)^-1")])
def test_nuclear_norm_gradient_follows_the_declared_orientation(rows, cols, expected):
    # U V^T = X (X^T X)^-1/2 needs full column rank; a matrix declared wide gets
    # (X X^T)^-1/2 X instead; both equal torch's gradient of the nuclear norm
    where = f"X: matrix({rows}, {cols})"
    result = mc.derive("||X||_*", "X", where=where)
    assert str(result) == expected
    x = torch.tensor(np.random.default_rng(rows).standard_normal((rows, cols)),
                     requires_grad=True)
    torch.linalg.matrix_norm(x, "nuc").backward()
    assert np.allclose(result.evaluate({"X": x.detach().numpy()}), x.grad.numpy())


# -- higher orders, vec, modes ---------------------------------------------------------------------

def test_jacobian_of_expm_is_an_index_form_with_its_map():
    # ∂expm(X)/∂X: order 4, the Fréchet derivative's own index form; it evaluates (the map
    # applied to each unit direction) and agrees with autograd
    result = mc.derive("expm(X)", "X")
    assert result.is_tensor and str(result) == "(dexpm(X, □))_{ij,kl}"
    assert mc.check("expm(X)", "X", result=result, trials=2, seed=0).ok


@pytest.mark.parametrize("text", ["a^T expm(X) b", "a^T sqrtm(X) b", "a^T logm(X) b",
                                  "tr(expm(X))", "a^T chol(X) b", "eigmax(X)"])
def test_hessian_agrees_with_autograd(text):
    # second derivatives: the Fréchet maps differentiate once more (dexpm(X, E, dX))
    assert mc.check(text, "X", order=2, trials=2, seed=4).ok


def test_vec_derivative_of_sqrtm_is_a_kronecker_inverse():
    # ∂vec(sqrtm(X))/∂vec(X) = (I ⊗ S + S^T ⊗ I)^-1 (the Sylvester equation in vec form)
    result = mc.derive("sqrtm(X)", "X", vec=True)
    assert str(result) == "(I ⊗ sqrtm(X) + sqrtm(X^T) ⊗ I)^-1"
    assert mc.check("sqrtm(X)", "X", result=result, trials=2, seed=0).ok


def test_vec_derivative_of_expm_says_it_has_no_matrix_form():
    # the Fréchet derivative of expm has no Kronecker form: said, with the index form
    with pytest.raises(mc.UnsupportedError, match="index notation"):
        mc.derive("expm(X)", "X", vec=True)


def test_jacobian_through_a_sylvester_solve_has_a_kronecker_form():
    # a vector function of a vector: both sides of the map stay open, its Kronecker form
    # is used
    text = "sqrtm(A + x x^T) a"
    result = mc.derive(text, "x")
    assert "⊗" in str(result)
    assert mc.check(text, "x", result=result, trials=2, seed=0).ok


def test_jvp_vjp_hvp_apply_the_maps():
    # forward mode applies the map to the direction, reverse mode its adjoint
    assert str(mc.jvp("a^T expm(X) b", "X", "V")) == "a^T dexpm(X, V) b"
    assert str(mc.vjp("expm(X)", "X", "U")) == "dexpm(X^T, U)"
    hvp = mc.hvp("a^T expm(X) b", "X", "V")
    assert str(hvp) == "dexpm(X^T, V^T, a b^T) + dexpm(X^T, a b^T, V^T)"
    rng = np.random.default_rng(0)
    x, v, a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), \
        rng.standard_normal(3), rng.standard_normal(3)
    hessian = mc.hessian("a^T expm(X) b", "X").evaluate({"X": x, "a": a, "b": b})
    assert np.allclose(hvp.evaluate({"X": x, "V": v, "a": a, "b": b}),
                       np.einsum("ijkl,kl->ij", hessian, v))


# -- simplification, printing, parsing ---------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("dexpm(X, I)", "expm(X)"), ("dlogm(X, I)", "X^-1"), ("sylvester(A, A, I)", "1/2 A^-1"),
    ("dexpm(t A, A)", "expm(t A) A"), ("dexpm(X, 2 E) - dexpm(X, -E)", "3 dexpm(X, E)"),
    ("expm(X)^T", "expm(X^T)"), ("sqrtm(X)^T + logm(X)^T", "logm(X^T) + sqrtm(X^T)"),
    ("pinv(A)^T", "pinv(A^T)"), ("dexpm(X, E, F)^T", "dexpm(X^T, F^T, E^T)"),
    ("sylvester(A, B, C)^T", "sylvester(B^T, A^T, C^T)"), ("lowerhalf(0 X)", "0"),
])
def test_operator_identities_simplify(text, expected):
    # each record's own identities (its `rules` and `transpose`), and equal values
    where = "t: scalar"
    assert str(mc.simplify(text, where)) == expected
    assert mc.verify(f"{text} = {expected}", where=where, trials=2, seed=0).holds


@pytest.mark.parametrize("text, printed, latex", [
    ("||X||_*", "||X||_*", r"\left\|X\right\|_{*}"),
    ("||X||_{*}", "||X||_*", r"\left\|X\right\|_{*}"),
    ('norm(X, "nuc")', "||X||_*", r"\left\|X\right\|_{*}"),
    ("norm(X, 2) + ||X||_2", "||X||_2 + ||X||_2", r"\left\|X\right\|_{2}"),
    ("expm(X) + logm(X)", "expm(X) + logm(X)", r"\exp\left(X\right)"),
    ("sqrtm(X)", "sqrtm(X)", "X^{1/2}"), ("pinv(A)", "pinv(A)", "A^{+}"),
    ("eigmax(S) - eigmin(S)", "eigmax(S) - eigmin(S)", r"\lambda_{\max}"),
])
def test_new_spellings_parse_print_and_render(text, printed, latex):
    # the norms' orders and the functions read back and render in LaTeX
    e = mc.parse(text)
    assert str(e) == printed and mc.parse(printed) == e
    assert latex in e.latex()


@pytest.mark.parametrize("text, error, message", [
    ("||X||", mc.UnsupportedError, "needs its order"),
    ("norm(X)", mc.UnsupportedError, "needs its order"),
    ("||x||_*", mc.UnsupportedError, "takes a matrix"),
    ("||X||_3", mc.ParseError, "||X||_*"),
    ("sqrtm(x)", mc.ShapeError, "square matrix"),
    ("dexpm(X)", mc.ShapeError, "at least one direction"),
    ("dexpm(X, x)", mc.ShapeError, "direction"),
    ("sylvester(A, B, x)", mc.ShapeError, "A's rows and B's columns"),
    ("eigmax(X Y)", None, None),
])
def test_misuse_is_a_clear_error(text, error, message):
    # a wrong use of the new operators says what is wrong, with a caret
    if error is None:
        assert mc.parse(text).kind == "scalar"
        return
    with pytest.raises(error) as raised:
        mc.parse(text)
    assert message in str(raised.value) and "^" in str(raised.value)


def test_fractional_matrix_power_hints_at_sqrtm():
    with pytest.raises(mc.ShapeError, match=r"sqrtm\(X\)"):
        mc.parse("X^0.5")


# -- generated code ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, by, where", [
    ("a^T expm(X) b", "X", None), ("a^T logm(X) b", "X", None),
    ("a^T sqrtm(X) b", "X", None), ("a^T chol(S) b", "S", None),
    ("a^T pinv(A) b", "A", None), ("eigmax(S) + a^T eigvecmin(S)", "S", None),
    ("||X||_2 + ||X||_*", "X", None), ("tr(C dexpm(X, E))", "X", None),
])
@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_generated_gradient_code_matches_evaluation(text, by, where, backend):
    # numpy code uses scipy's expm_frechet and solve_sylvester; torch and JAX their own
    # routines (matrix_exp of a block matrix, a Kronecker solve, the eigendecomposition)
    from test_codegen import draw_point, torch_inputs
    from matrixcalc.numbers.reports import relative_error
    gradient = mc.derive(text, by, where=where)
    point = next(p for p in (draw_point(gradient, seed) for seed in range(20)) if p)
    inputs, want = point
    if backend == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
    f = mc.lambdify(gradient, backend=backend)
    got = f(**(torch_inputs(inputs) if backend == "torch" else inputs))
    got = got.detach().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    assert relative_error(got, want) <= 1e-8, f.source
    if backend == "numpy" and "dexpm" in str(gradient):
        assert "scipy.linalg" in f.source


def test_numpy_code_uses_scipy_routines():
    source = mc.lambdify(mc.derive("a^T expm(X) b + tr(sqrtm(Y) C)", "X"), "numpy").source
    assert "scipy.linalg.expm_frechet" in source
    source = mc.lambdify(mc.parse("sylvester(A, B, C)"), "numpy").source
    assert "scipy.linalg.solve_sylvester" in source


def test_code_for_an_order_four_map_is_refused_plainly():
    with pytest.raises(mc.UnsupportedError, match="linear map"):
        mc.lambdify(mc.derive("expm(X)", "X"))


# -- torch evaluation: differentiable, and a reference built from eigh ---------------------------

@pytest.mark.parametrize("function, method, spectral", [
    ("sqrtm", "sqrtm", torch.sqrt), ("logm", "logm", torch.log), ("expm", "expm", torch.exp)])
def test_torch_value_matches_an_eigh_reference_and_its_gradient(function, method, spectral):
    # on spd inputs the torch value is V f(Λ) V^T (eigh), and autograd through the eigh
    # reference gives the derived gradient (C symmetric: the gradient is symmetric)
    from matrixcalc.numbers.backends import backend
    rng = np.random.default_rng(5)
    g = rng.standard_normal((4, 4))
    s = torch.tensor(g @ g.T / 4 + 0.5 * np.eye(4), requires_grad=True)
    c = torch.tensor((g + g.T) / 2)
    lam, v = torch.linalg.eigh(s)
    reference = v @ torch.diag(spectral(lam)) @ v.T
    assert torch.allclose(getattr(backend("torch"), method)(s), reference)
    (torch.trace(c @ reference)).backward()
    derived = mc.derive(f"tr(C {function}(S))", "S").evaluate({"S": s.detach().numpy(),
                                                                "C": c.numpy()})
    assert np.allclose(s.grad.numpy(), derived)


def test_import_stays_light():
    # scipy is imported when a matrix function is first evaluated, not by `import matrixcalc`
    code = ("import sys, matrixcalc; matrixcalc.parse('sqrtm(X) + expm(X)'); "
            "print(sorted(m for m in ('scipy', 'torch', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


# -- random expressions around each function ---------------------------------------------------------

# arguments inside each function's domain: for sqrtm and logm a positive spectrum (spd
# symbols, a product of two, a Gram matrix plus I), for chol an spd matrix
ARGUMENTS = {
    "any": ["X", "X^T", "t X", "X + X^T", "X Y", "X - t Y"],
    "spectrum": ["S", "S T", "X^T X + I", "t S", "S + t I", "T S T"],
    "spd": ["S", "X^T X + I", "S + T", "t S"],
    "symmetric": ["X + X^T", "X^T X", "S - T"],
}
FUNCTIONS = {"expm": "any", "logm": "spectrum", "sqrtm": "spectrum", "chol": "spd",
             "eigmax": "symmetric", "eigmin": "symmetric", "eigvecmax": "symmetric",
             "pinv": "any", "normspec": "any", "normnuc": "spd"}
CONSUMERS = ["a^T {F} b", "tr(C {F})", "sum({F})", "||{F}||_F^2", "{F}"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FUNCTIONS)), st.data())
def test_random_uses_agree_with_autograd(function, data):
    # a scalar of f(M) by each symbol of M: the gradient, read back through the maps'
    # adjoints, agrees with autograd
    argument = data.draw(st.sampled_from(ARGUMENTS[FUNCTIONS[function]]), label="argument")
    inner = {"normspec": f"||{argument}||_2", "normnuc": f"||{argument}||_*"}.get(
        function, f"{function}({argument})")
    result_kind = mc.parse(inner, "t: scalar; S, T: spd").kind
    consumers = CONSUMERS if result_kind == "matrix" else ["{F}"] if result_kind == "scalar" \
        else ["a^T {F}", "sum({F})"]
    text = data.draw(st.sampled_from(consumers), label="consumer").format(F=inner)
    e = mc.parse(text, "t: scalar; S, T: spd")
    by = data.draw(st.sampled_from(sorted(s.name for s in e.symbols()
                                          if s.name not in ("a", "b"))), label="by")
    where = "t: scalar; S, T: spd"
    result = mc.derive(e, by, where=where)
    assert mc.check(e, by, result=result, where=where, trials=2, seed=7).ok, (text, by, result)
