# Numeric evaluation (SPEC section 5): every operator agrees with torch; user forms; errors.
"""Evaluation of every operator of the table against an independent torch computation,
the user-facing array forms, input validation, derivative layouts and the sampler."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import matrixcalc as mc
from matrixcalc.numbers.backends import backend
from matrixcalc.language.expr import Apply, walk
from matrixcalc.numbers.numeric import Layout, from_jacrev_layout, run, to_jacrev_layout
from matrixcalc.ops import REGISTRY
from matrixcalc.numbers.sampling import Problem

F = torch.nn.functional

# operator -> (expression text, where, independent torch computation on user forms)
CASES: dict[str, tuple[str, str | None, object]] = {
    "add": ("A + B - C", None, lambda v: v["A"] + v["B"] - v["C"]),
    "neg": ("-x", None, lambda v: -v["x"]),
    "mul": ("alpha A", None, lambda v: v["alpha"] * v["A"]),
    "matmul": ("A x", None, lambda v: v["A"] @ v["x"]),
    "div": ("x / alpha", None, lambda v: v["x"] / v["alpha"]),
    "hadamard": ("x .* y", None, lambda v: v["x"] * v["y"]),
    "ediv": ("x ./ y", None, lambda v: v["x"] / v["y"]),
    "kron": ("kron(A, B)", None, lambda v: torch.kron(v["A"], v["B"])),
    "transpose": ("A^T", None, lambda v: v["A"].T),
    "tr": ("tr(A)", None, lambda v: torch.trace(v["A"])),
    "sum": ("sum(A)", None, lambda v: v["A"].sum()),
    "mean": ("mean(A)", None, lambda v: v["A"].mean()),
    "vec": ("vec(A)", None, lambda v: v["A"].T.reshape(-1)),
    # K vec(A) = vec(A^T): A's rows one after the other
    "commutation": ("commutation(m, n) vec(A)", "A: matrix(m, n)",
                    lambda v: v["A"].reshape(-1)),
    # unvec: v's entries fill the columns of an m×n matrix
    "unvec": ("unvec(vec(A) + v, m, n)", "A: matrix(m, n)",
              lambda v: v["A"] + v["v"].reshape(v["A"].shape[1], v["A"].shape[0]).T),
    "diag_matrix": ("diag(x)", None, lambda v: torch.diag(v["x"])),
    "diag_vector": ("diag(A)", None, lambda v: torch.diagonal(v["A"])),
    "bracket": ("[a, b; c, d]", "a, b, c, d: scalar",
                lambda v: torch.stack([torch.stack([v["a"], v["b"]]),
                                       torch.stack([v["c"], v["d"]])])),
    "inv": ("inv(A)", None, lambda v: torch.linalg.inv(v["A"])),
    "matpow": ("A^3 + A^-2", None,
               lambda v: v["A"] @ v["A"] @ v["A"]
               + torch.linalg.inv(v["A"]) @ torch.linalg.inv(v["A"])),
    "power": ("alpha^3 + beta^0.5", None, lambda v: v["alpha"] ** 3 + torch.sqrt(v["beta"])),
    "det": ("det(A)", None, lambda v: torch.linalg.det(v["A"])),
    "logdet": ("logdet(A)", None, lambda v: torch.log(torch.abs(torch.linalg.det(v["A"])))),
    "norm2": ("||x||", None, lambda v: torch.linalg.vector_norm(v["x"])),
    "norm1": ("||x||_1", None, lambda v: torch.linalg.vector_norm(v["x"], 1)),
    "normF": ("||A||_F", None, lambda v: torch.linalg.matrix_norm(v["A"])),
    "exp": ("exp(A)", None, lambda v: torch.exp(v["A"])),
    "log": ("log(x)", None, lambda v: torch.log(v["x"])),
    "sin": ("sin(x)", None, lambda v: torch.sin(v["x"])),
    "cos": ("cos(x)", None, lambda v: torch.cos(v["x"])),
    "tanh": ("tanh(x)", None, lambda v: torch.tanh(v["x"])),
    "sigmoid": ("sigmoid(x)", None, lambda v: torch.sigmoid(v["x"])),
    "softplus": ("softplus(x)", None, lambda v: F.softplus(v["x"])),
    "sqrt": ("sqrt(x)", None, lambda v: torch.sqrt(v["x"])),
    "abs": ("abs(x)", None, lambda v: torch.abs(v["x"])),
    "sign": ("sign(x)", None, lambda v: torch.sign(v["x"])),
    "relu": ("relu(x)", None, lambda v: F.relu(v["x"])),
    "step": ("step(x)", None, lambda v: torch.heaviside(v["x"], torch.zeros(()).double())),
    "epow": ("x .^ 3", None, lambda v: v["x"] ** 3),
    "softmax": ("softmax(x)", None, lambda v: torch.softmax(v["x"], 0)),
    "logsumexp": ("logsumexp(x)", None, lambda v: torch.logsumexp(v["x"], 0)),
}

RESOLVED = sorted(name for name, spec in REGISTRY.items() if not spec.syntax_only)


def case_of(op: str) -> tuple[str, str | None]:
    """An expression exercising `op`: the hand-written case, else the record's example
    (an operator added by one record needs no entry here: test_optable walks it)."""
    if op in CASES:
        return CASES[op][:2]
    return REGISTRY[op].example, REGISTRY[op].example_where


def sample_inputs(expr, seed: int = 0) -> dict:
    """User-form inputs drawn by the checker's sampler (domains honoured)."""
    problem = Problem()
    problem.add_root(0, expr)
    _, draw = problem.draw(seed)
    out = {}
    for name, spec in problem.symbols.items():
        value = draw.values[name]
        out[name] = (float(value[0, 0]) if spec.kind == "scalar"
                     else value.reshape(-1) if spec.kind == "vector" else value)
    return out


@pytest.mark.parametrize("op", sorted(CASES))
def test_every_operator_agrees_with_torch(op):
    # evaluate(op) = an independent torch computation, on sampled inputs (the operators
    # added by a record alone are checked against their own library code in test_optable)
    text, where, reference = CASES[op]
    expr = mc.parse(text, where)
    assert any(isinstance(n, Apply) and n.op == op for n in walk(expr)), \
        f"`{text}` does not exercise `{op}`"
    for seed in range(3):
        inputs = sample_inputs(expr, seed)
        got = expr.evaluate(inputs)
        want = reference({k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()})
        want = want.numpy()
        assert np.shape(got) == want.shape
        assert np.allclose(got, want, rtol=1e-10, atol=1e-12), (op, seed)


@pytest.mark.parametrize("op", RESOLVED)
def test_torch_backend_agrees_with_numpy(op):
    # the torch tree evaluator (used under autograd) computes what numpy computes
    text, where = case_of(op)
    expr = mc.parse(text, where)
    problem = Problem()
    problem.add_root(0, expr)
    _, draw = problem.draw(7)
    size_of = lambda dim: problem.size(0, dim, draw.sizes)  # noqa: E731
    np_value = run(expr, draw.values, backend("numpy"), size_of)
    torch_env = {k: torch.from_numpy(v) for k, v in draw.values.items()}
    torch_value = run(expr, torch_env, backend("torch"), size_of)
    assert torch_value.dtype == torch.float64
    assert np.allclose(np_value, torch_value.numpy(), rtol=1e-12, atol=1e-12)


def test_user_forms():
    # scalars come back as floats, vectors 1-D, row vectors 1×n, matrices 2-D
    x, A = np.array([1.0, 2.0, 3.0]), np.arange(12.0).reshape(3, 4)
    y = np.array([1.0, -1.0, 0.5, 2.0])
    assert isinstance(mc.parse("x^T x").evaluate({"x": x}), float)
    assert mc.parse("x^T x").evaluate({"x": x}) == 14.0
    assert mc.parse("A y").evaluate({"A": A, "y": y}).shape == (3,)
    assert mc.parse("x^T A").evaluate({"A": A, "x": x}).shape == (1, 4)
    assert mc.parse("A^T").evaluate({"A": A}).shape == (4, 3)
    assert mc.parse("alpha x").evaluate({"alpha": 2, "x": x}).tolist() == [2.0, 4.0, 6.0]


def test_unused_symbols_are_ignored_and_constants_sized():
    # extra inputs are ignored; I and ones take their sizes from the context
    x = np.array([1.0, 2.0])
    value = mc.parse("(I + ones ones^T) x").evaluate({"x": x, "unused": np.eye(5)})
    assert value.tolist() == [4.0, 5.0]


def test_concrete_and_product_dimensions():
    # bracket literals keep their sizes; kron's dimensions are products
    assert mc.parse("[alpha; 2 alpha]").evaluate({"alpha": 3.0}).tolist() == [3.0, 6.0]
    A, B, x = np.ones((2, 3)), np.ones((4, 5)), np.ones(15)
    assert mc.parse("kron(A, B) x").evaluate({"A": A, "B": B, "x": x}).shape == (8,)


def test_missing_input_is_a_usage_error_naming_it():
    # a missing input names the symbol
    with pytest.raises(mc.UsageError, match="missing input `A`"):
        mc.parse("x^T A x").evaluate({"x": np.ones(3)})


@pytest.mark.parametrize("values, pattern", [
    ({"x": np.ones(3), "A": np.ones((3, 4))}, "wrong shape for `A`"),
    ({"x": np.ones(3), "A": np.ones(3)}, "`A` is a matrix"),
    ({"x": np.ones((3, 3)), "A": np.ones((3, 3))}, "`x` is a vector"),
    ({"x": np.ones(2), "A": np.ones((3, 3))}, "wrong shape"),
    ({"x": "abc", "A": np.ones((3, 3))}, "not numeric"),
])
def test_wrong_shapes_are_usage_errors(values, pattern):
    # arrays that do not fit the inferred shapes are refused with the symbol named
    with pytest.raises(mc.UsageError, match=pattern):
        mc.parse("x^T A x").evaluate(values)


def test_undetermined_size_needs_sizes():
    # tr(I) has no input fixing n: a usage error, or pass sizes
    expr = mc.parse("tr(I)")
    with pytest.raises(mc.UsageError, match="size"):
        expr.evaluate({})
    from matrixcalc.numbers.numeric import evaluate
    assert evaluate(expr, {}, sizes={"n": 4}) == 4.0


def test_layout_helper_matches_jacrev_for_order_4():
    # ∂vec(A X B)/∂vec(X) = B^T ⊗ A, reshaped, is jacrev's (p, q, m, n) tensor
    rng = np.random.default_rng(1)
    A, X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 5)), rng.normal(size=(5, 7))
    matrix = np.kron(B.T, A)
    tensor = to_jacrev_layout(matrix, (2, 7, 3, 5))
    want = torch.func.jacrev(lambda x: torch.tensor(A) @ x @ torch.tensor(B))(
        torch.tensor(X)).numpy()
    assert np.allclose(tensor, want)
    assert np.allclose(from_jacrev_layout(tensor, (2, 7)), matrix)
    torch_tensor = to_jacrev_layout(torch.tensor(matrix), (2, 7, 3, 5), backend("torch"))
    assert np.allclose(torch_tensor.numpy(), want)


def test_evaluate_with_a_layout_returns_jacrev_layout():
    # a closed form marked as d(A X B)/dX comes back as jacrev's (p, q, m, n) tensor
    from matrixcalc.numbers.numeric import evaluate
    stmt = mc.parse_statement("d/dX A X B = kron(B^T, A)")
    rng = np.random.default_rng(2)
    A, X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 5)), rng.normal(size=(5, 7))
    out = evaluate(stmt.rhs, {"A": A, "B": B}, layout=Layout(stmt.lhs.ty, stmt.wrt.ty))
    want = torch.func.jacrev(lambda x: torch.tensor(A) @ x @ torch.tensor(B))(
        torch.tensor(X)).numpy()
    assert out.shape == (2, 7, 3, 5) and np.allclose(out, want)
    # for a gradient the layout changes nothing
    grad = mc.parse_statement("d/dx a^T x = a")
    value = evaluate(grad.rhs, {"a": np.ones(3)}, layout=Layout(grad.lhs.ty, grad.wrt.ty))
    assert value.shape == (3,)


def test_import_does_not_load_torch():
    # `import matrixcalc` stays light: torch only inside the numeric checker's functions
    code = "import matrixcalc, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the sampler -----------------------------------------------------------------------------

def draw(text: str, where=None, seed: int = 0):
    expr = mc.parse(text, where)
    problem = Problem()
    problem.add_root(0, expr)
    return problem.draw(seed)[1]


def test_distinct_dimensions_get_distinct_sizes():
    # distinct dimension names are drawn distinct sizes >= 2
    for seed in range(10):
        d = draw("tr(A B C D)", seed=seed)
        sizes = list(d.named_sizes.values())
        assert len(sizes) == 4 and len(set(sizes)) == 4 and min(sizes) >= 2


def test_sizes_vary_between_draws_and_replay_from_seed():
    # independent draws use different sizes; a seed replays exactly
    seen = {tuple(draw("A x", seed=s).named_sizes.values()) for s in range(8)}
    assert len(seen) > 1
    a, b = draw("A x", seed=5), draw("A x", seed=5)
    assert a.named_sizes == b.named_sizes
    assert all(np.array_equal(a.values[k], b.values[k]) for k in a.values)


@pytest.mark.parametrize("where, test", [
    ("A: symmetric", lambda A: np.allclose(A, A.T)),
    ("A: spd", lambda A: np.allclose(A, A.T) and np.linalg.eigvalsh(A).min() > 0),
    ("A: diagonal", lambda A: np.allclose(A, np.diag(np.diag(A)))),
    ("A: orthogonal", lambda A: np.allclose(A @ A.T, np.eye(len(A)))),
    ("A: invertible", lambda A: np.linalg.cond(A) < 1e4),
])
def test_assumptions_are_honoured(where, test):
    # declared assumptions shape the draws
    for seed in range(5):
        assert test(draw("A x", where, seed).values["A"])


def test_distribution_and_domains():
    # distributions sum to one; log/sqrt arguments positive; divisors nonzero
    for seed in range(5):
        d = draw("y^T log(p) + sum(sqrt(q)) / alpha", "y: distribution", seed)
        assert np.isclose(d.values["y"].sum(), 1) and (d.values["y"] >= 0).all()
        assert (d.values["p"] > 0).all() and (d.values["q"] > 0).all()
        assert abs(d.values["alpha"][0, 0]) >= 0.5
        assert np.linalg.cond(draw("inv(X) + det(Y) I", seed=seed).values["X"]) < 1e4


def test_integer_power_keeps_real_base():
    # x^2 does not force x positive (x^0.5 does)
    negatives = [draw("alpha^2", seed=s).values["alpha"][0, 0] < 0 for s in range(20)]
    assert any(negatives)
    assert all(draw("alpha^0.5", seed=s).values["alpha"][0, 0] > 0 for s in range(20))
