# Generated numpy / torch code (SPEC section 5): every operator, derivatives, CSE, chains.
"""`mc.lambdify` and `mc.value_and_grad`: the generated code agrees with `evaluate` and with
torch.autograd for every operator of the table, for the lesson's and the Matrix
Cookbook's derivatives and for random expressions; shared subexpressions are computed
once and matrix chains are multiplied vector-first."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from derivative_cases import COOKBOOK, LESSON
from hypothesis import HealthCheck, assume, given, settings
from strategies import ALL_OPS, SAFE_OPS, expressions
from test_evaluate import RESOLVED, case_of

import matrixcalc as mc
from matrixcalc.numbers.backends import backend
from matrixcalc.numbers.reports import relative_error
from matrixcalc.outputs.codegen.operand import is_atomic
from matrixcalc.ops import REGISTRY
from matrixcalc.ops.spec import BACKENDS
from matrixcalc.errors import MatrixCalcError, UnsupportedError
from matrixcalc.language.expr import Apply, Symbol
from matrixcalc.numbers.numeric import run, to_user
from matrixcalc.numbers.sampling import OutOfDomain, Problem, domain_guard

LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"


def draw_point(expr, seed: int):
    """(user-form inputs, reference value) at a sampled point inside every domain, or
    None when the draw leaves a domain (as the checker redraws)."""
    problem = Problem()
    problem.add_root(0, expr)
    _, draw = problem.draw(seed)
    size_of = lambda dim: problem.size(0, dim, draw.sizes)  # noqa: E731
    try:
        with np.errstate(all="ignore"):
            value = run(expr, draw.values, backend("numpy"), size_of, domain_guard)
    except (OutOfDomain, np.linalg.LinAlgError):
        return None
    if not np.all(np.isfinite(value)):
        return None
    inputs = {}
    for name, spec in problem.symbols.items():
        v = draw.values[name]
        inputs[name] = (float(v[0, 0]) if spec.kind == "scalar"
                        else v.reshape(-1).copy() if spec.kind == "vector" else v.copy())
    atoms = {a for node in _walk(expr) for a in node.ty.rows + node.ty.cols
             if isinstance(a, str)}
    inputs["sizes"] = {a: size_of((a,)) for a in atoms}  # for dimensions no input fixes
    return inputs, to_user(value, expr.ty, backend("numpy"), size_of)


def torch_inputs(inputs: dict) -> dict:
    return {k: v if k == "sizes" else torch.tensor(v, dtype=torch.float64)
            for k, v in inputs.items()}


def assert_agrees(expr, seeds=range(2), tolerance=1e-8):
    numpy_f = mc.lambdify(expr, backend="numpy")
    torch_f = mc.lambdify(expr, backend="torch")
    checked = 0
    for seed in seeds:
        point = draw_point(expr, seed)
        if point is None:
            continue
        inputs, want = point
        with np.errstate(all="ignore"):
            got = numpy_f(**inputs)
        got_torch = torch_f(**torch_inputs(inputs))
        assert isinstance(got_torch, torch.Tensor)
        assert np.shape(got) == np.shape(want), (str(expr), numpy_f.source)
        assert tuple(got_torch.shape) == np.shape(want), (str(expr), torch_f.source)
        if np.ndim(want) == 0:
            assert isinstance(got, float)
        assert relative_error(got, want) <= tolerance, (str(expr), numpy_f.source)
        assert relative_error(got_torch.numpy(), want) <= tolerance, (str(expr), torch_f.source)
        checked += 1
    return checked


# -- the operator table ------------------------------------------------------------------

def test_every_resolved_operator_has_a_template():
    # one code template per operator of the table and backend (the records hold them)
    missing = [(op, b) for op in RESOLVED for b in BACKENDS
               if REGISTRY[op].template(b) is None]
    assert not missing, f"no code template for {missing}: add `code=` to their records"


@pytest.mark.parametrize("op", RESOLVED)
def test_every_operator_generates_code_that_agrees_with_evaluate(op):
    # lambdify(op case) = evaluate(op case), numpy and torch, on sampled inputs
    text, where = case_of(op)
    expr = mc.parse(text, where)
    assert any(isinstance(n, Apply) and n.op == op for n in _walk(expr))
    assert assert_agrees(expr, seeds=range(3)) >= 1


SCALAR_FORMS = ["tr(2) + det(3) + logdet(0.5) + ||2||_1 + ||3|| + ||2||_F + sum(2) + mean(3)",
                "exp(2) + log(3) + sqrt(2) + sigmoid(1) + softplus(1) + abs(0 - 2) + sign(2)"
                " + relu(2) + step(1) + 2^0.5 + 2 .^ 2 + vec(2) + [3] + 2 ⊙ 3 + 2 ./ 4",
                "kron(2, A) + 2 ⊗ B + A ⊗ (x^T y)", "kron(x, y^T) + kron(x^T, y)^T",
                "x ⊗ y - kron(x, y)", "kron(A, x)^T kron(A, x)", "tr(α) det(β) logdet(α)",
                "x^T ⊗ A", "0 - sigmoid(x)", "[α, 2; β^2, 0.5] y_2", "1 / 0 + α", "diag(I + A) + ones"]


@pytest.mark.parametrize("text", SCALAR_FORMS)
def test_operators_on_numbers_scalars_and_vector_kinds(text):
    # the templates' special cases: plain numbers, 1×1 arguments, vector and row kinds
    expr = mc.parse(text.replace("y_2", "[x1; x2]"), where="x1, x2: scalar")
    numpy_f, torch_f = mc.lambdify(expr), mc.lambdify(expr, backend="torch")
    point = draw_point(expr, 0)
    if point is None:  # 1 / 0: both give inf, as evaluate does
        with np.errstate(all="ignore"):
            inputs = {s.name: 1.0 for s in expr.symbols()}
            assert np.isinf(numpy_f(**inputs))
            assert torch.isinf(torch_f(**inputs))
        return
    assert assert_agrees(expr, seeds=range(1)) == 1


def _walk(expr):
    from matrixcalc.language.expr import walk
    return walk(expr)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(ops=SAFE_OPS, max_depth=4))
def test_random_expressions_generate_agreeing_code(text):
    # lambdify(e) = evaluate(e) for random well-formed e (every operator defined on R)
    expr = mc.parse(text)
    assume(assert_agrees(expr, seeds=range(1), tolerance=1e-7) > 0)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions(ops=ALL_OPS, max_depth=3))
def test_random_expressions_with_partial_domains(text):
    # lambdify(e) = evaluate(e) where e is defined (inverses, logs, roots, divisions)
    expr = mc.parse(text)
    try:
        checked = assert_agrees(expr, seeds=range(1), tolerance=1e-6)
    except UnsupportedError:
        checked = 0
    assume(checked > 0)


# -- derivatives: value and gradient against torch.autograd ---------------------------------

CASES_D = LESSON + COOKBOOK


@pytest.mark.parametrize("case", CASES_D, ids=str)
@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
def test_generated_gradients_agree_with_autograd(case, backend_name):
    # value_and_grad(f, x) = (f, torch.autograd's df/dx) for the lesson and the Cookbook
    expr = mc.parse(case.expr, case.where)
    if expr.ty.is_scalar:
        f = mc.value_and_grad(expr, case.wrt, where=case.where, backend=backend_name)
        pick = lambda out: out[1]  # noqa: E731
    else:
        f = mc.lambdify(mc.derive(expr, case.wrt, where=case.where), backend=backend_name)
        pick = lambda out: out  # noqa: E731

    def result(inputs):
        out = pick(f(**inputs))
        return out.numpy() if isinstance(out, torch.Tensor) else out

    report = mc.check(expr, case.wrt, result=result, where=case.where, trials=2, seed=1)
    assert report.ok, f"{report}\n{f.source}"


def test_value_and_grad_returns_value_and_gradient():
    # value_and_grad(x^T A x) = (x^T A x, (A + A^T) x)
    f = mc.value_and_grad("x^T A x", "x")
    rng = np.random.default_rng(0)
    x, A = rng.normal(size=3), rng.normal(size=(3, 3))
    value, grad = f(x=x, A=A)
    assert isinstance(value, float) and np.isclose(value, x @ A @ x)
    assert np.allclose(grad, (A + A.T) @ x)
    assert mc.lambdify("x^T A x", wrt="x").source == f.source


def test_value_and_grad_with_several_variables():
    # value_and_grad(f, [x, A]) = (f, (df/dx, df/dA))
    f = mc.value_and_grad("x^T A x", ["x", "A"], backend="torch")
    x, A = torch.randn(3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    value, (gx, gA) = f(x=x, A=A)
    assert torch.allclose(gx, (A + A.T) @ x) and torch.allclose(gA, torch.outer(x, x))
    assert value.shape == ()


# -- what the code looks like ----------------------------------------------------------------

def test_chain_gradient_is_multiplied_vector_first():
    # d/dX1 a^T X1 X2 X3 b = a (X2 X3 b)^T: computed as a ⊗ ((b^T X3^T) X2^T), no X X product
    f = mc.value_and_grad("a^T X1 X2 X3 b", "X1")
    grad_line = next(line for line in f.source.splitlines() if "grad_X1 =" in line)
    assert "np.outer(a, (b @ X3.T) @ X2.T)" in grad_line, f.source
    value_line = next(line for line in f.source.splitlines() if "value =" in line)
    assert "X3 @ b" in value_line and "X1 @ X2" not in value_line, f.source
    assert not re.search(r"X\d(\.T)? @ X\d", f.source), f.source
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=2), rng.normal(size=5)
    X1, X2, X3 = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    value, grad = f(a=a, b=b, X1=X1, X2=X2, X3=X3)
    assert np.isclose(value, a @ X1 @ X2 @ X3 @ b)
    assert np.allclose(grad, np.outer(a, X2 @ X3 @ b))


def test_scalar_factors_scale_the_smallest_operand():
    # 1/n X^T r: the scalar multiplies the vector, never the matrix X
    f = mc.lambdify("1/n X^T y", where="n: scalar")
    assert "* X" not in f.source and "X.T @ y" in f.source, f.source


def test_a_shared_inverse_is_computed_once():
    # an inverse used twice is one temporary, not two solves
    f = mc.lambdify("a^T A^-1 B A^-1 b")
    assert f.source.count("inv(A)") == 1, f.source
    assert assert_agrees(mc.parse("a^T A^-1 B A^-1 b")) == 2


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
def test_shared_subexpression_is_computed_once(backend_name):
    # sigmoid(X w) occurs in the loss and its gradient: one temporary, one X @ w
    f = mc.value_and_grad(LOGISTIC, "w", where="n: scalar", backend=backend_name)
    body = "\n".join(line for line in f.source.split("def f(")[1].splitlines()
                     if not line.strip().startswith("'"))  # the docstring quotes the input
    assert body.count("X @ w") == 1, f.source
    assert body.count("sigmoid(") == 1, f.source
    assert re.search(r"t\d+ = (torch\.|_mc_)?sigmoid\(X @ w\)", body), f.source


def test_source_is_readable_python():
    # .source: imports, one function with the inputs as parameters, a docstring
    f = mc.lambdify("x^T A x", backend="torch")
    assert f.source.startswith("import torch")
    assert "def f(x, A, **unused):" in f.source
    assert f.inputs == ("x", "A") and f.backend == "torch"
    compile(f.source, "<test>", "exec")


def test_names_that_are_python_keywords_are_renamed():
    # a symbol named `lambda` is a parameter `lambda_`; callers still pass `lambda`
    f = mc.lambdify("lambda x", where="lambda: scalar")
    assert "lambda_" in f.source
    assert np.allclose(f(**{"lambda": 2.0, "x": np.ones(2)}), [2.0, 2.0])


def test_user_forms_row_vectors_and_extra_arguments():
    # a row vector comes back 1×n; arguments that are not inputs are ignored
    f = mc.lambdify("x^T A")
    out = f(x=np.ones(2), A=np.eye(2), unrelated=3)
    assert out.shape == (1, 2)
    g = mc.lambdify(["x^T x", "2 x"])
    value, double = g(x=np.array([1.0, 2.0]))
    assert value == 5.0 and np.allclose(double, [2.0, 4.0])


def test_unknown_operator_raises_unsupported():
    # a tree with an operator no template knows: UnsupportedError naming it
    x = mc.parse("x")
    node = Apply("frobnicate", (x,), ty=x.ty)
    with pytest.raises(UnsupportedError, match="frobnicate"):
        mc.lambdify(node)


def test_bad_backend_is_a_usage_error():
    # an unknown backend (jax is one now, SPEC section 5): a UsageError naming the choices
    with pytest.raises(MatrixCalcError, match="numpy"):
        mc.lambdify("x", backend="tensorflow")


def test_is_atomic():
    # operands are parenthesized unless they are names, numbers or whole calls
    assert is_atomic("x") and is_atomic("np.exp(x)") and is_atomic("2.5")
    assert not is_atomic("np.exp(x) + f(y)") and not is_atomic("-x") and not is_atomic("a @ b")
    assert isinstance(mc.parse("x"), Symbol)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_number_for_a_vector_is_the_shape_checks_error(backend):
    # a size read from an input with too few axes is a ValueError naming the input (issue
    # 14: it was a raw IndexError from x.shape[0])
    f = mc.lambdify("x + A y", backend=backend)
    with pytest.raises(ValueError, match=r"`x` is vector \(n\), not of shape \(\)"):
        f(x=1.0, A=np.ones((2, 3)), y=np.ones(3))
    assert list(np.asarray(f(x=np.ones(2), A=np.ones((2, 3)), y=np.ones(3)))) == [4.0, 4.0]
