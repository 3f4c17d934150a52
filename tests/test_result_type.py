# One result type for every order (SPEC section 4): an order-3/4 derivative goes everywhere.
"""A derivative of order 3 or 4 (index form) is an `mc.Expr` like any other result, and
every function that takes an expression takes it: evaluate, lambdify (numpy, torch, JAX),
check, latex, to_sympy, the CLI's --check and --json. Each is compared with
torch.autograd's jacrev of the input, with distinct sizes for distinct dimensions."""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import numpy as np
import pytest
import sympy
import torch

import matrixcalc as mc

jax.config.update("jax_enable_x64", True)

SIZES = {"n": 2, "m": 3, "p": 4, "q": 5, "r": 6, "s": 7}  # distinct for distinct dims
CASES = [("A X B", "X", None), ("diag(x) X", "X", None), ("tr(A) A", "A", None),
         ("A ⊙ B", "A", None), ("exp(X)", "X", None), ("(I + I)(X + X)", "X", None),
         ("x^T S^-1", "S", "S: spd"), ("α A X", "X", None)]


def values_for(result, where) -> dict:
    rng = np.random.default_rng(7)
    values = {}
    for name, info in result.shapes.items():
        shape = tuple(SIZES.get(d, d) if isinstance(d, str) else d
                      for dim in (info.rows, info.cols) for d in dim)
        value = rng.standard_normal(shape) if shape else float(rng.standard_normal())
        if "spd" in info.assumptions:
            value = value @ value.T + len(value) * np.eye(len(value))
        values[name] = value
    return values


def jacrev(text: str, wrt: str, where, values: dict) -> np.ndarray:
    """torch.func.jacrev of the input, through the tree evaluator (the checker's truth)."""
    from matrixcalc.numbers.backends import backend
    from matrixcalc.numbers.numeric import run, size_function, to_user
    e = mc.parse(text, where=where)
    env = {}
    for name, value in values.items():
        info = e.shapes[name]
        array = torch.tensor(np.asarray(value, dtype=float))
        env[name] = array.reshape(-1, 1) if info.kind == "vector" else array.reshape(
            (1, 1) if info.kind == "scalar" else array.shape)
    sizes = {d: SIZES[d] for d in SIZES}
    size_of = size_function(sizes)
    wrt_shape = env[wrt].shape

    def f(w):
        return to_user(run(e, {**env, wrt: w.reshape(wrt_shape)}, backend("torch"), size_of),
                       e.ty, backend("torch"), size_of)
    user = torch.tensor(np.asarray(values[wrt], dtype=float))
    return torch.func.jacrev(f)(user).numpy()


@pytest.mark.parametrize("text, wrt, where", CASES)
def test_a_tensor_result_is_an_expr_that_evaluates_as_autograd(text, wrt, where):
    # kind, shape, what it was derived from; evaluate = jacrev (distinct sizes)
    r = mc.derive(text, wrt, where=where)
    assert isinstance(r, mc.Expr) and r.kind == "tensor" and len(r.shape) in (3, 4)
    assert r.derived_from is not None and r.derived_from.of == mc.parse(text, where=where)
    assert "_0" not in str(r) and r.latex()
    values = values_for(r, where)
    want = jacrev(text, wrt, where, values)
    assert np.allclose(r.evaluate(values), want)
    assert mc.check(text, wrt, result=r, where=where, trials=3).ok


@pytest.mark.parametrize("text, wrt, where", CASES)
@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_a_tensor_result_generates_code(text, wrt, where, backend):
    # lambdify(result) computes the tensor in jacrev layout in every backend
    r = mc.derive(text, wrt, where=where)
    values = values_for(r, where)
    f = mc.lambdify(r, backend=backend)
    args = {k: torch.tensor(np.asarray(v, dtype=float)) if backend == "torch" else v
            for k, v in values.items()}
    got = f(**args)
    got = got.numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    assert np.allclose(got, jacrev(text, wrt, where, values)), f.source


@pytest.mark.parametrize("text, wrt, where", CASES[:5])
def test_a_tensor_result_to_sympy_is_the_explicit_array(text, wrt, where):
    # to_sympy with sizes: an explicit array whose entries, at the values, are the tensor
    r = mc.derive(text, wrt, where=where)
    values = values_for(r, where)
    sizes = {d: SIZES[d] for d in SIZES}
    array = mc.to_sympy(r, sizes=sizes)
    assert isinstance(array, sympy.Array) and array.shape == np.shape(r.evaluate(values))
    bindings = {}
    for name, value in values.items():
        value = np.asarray(value, dtype=float)
        info = r.shapes[name]
        if info.kind == "scalar":
            bindings[sympy.Symbol(name, real=True)] = float(value)
            continue
        matrix = value.reshape(-1, 1) if info.kind == "vector" else value
        bindings[sympy.MatrixSymbol(name, *matrix.shape)] = sympy.Matrix(matrix)
    entries = np.array(array.subs(bindings).doit().tolist(), dtype=float)
    assert np.allclose(entries, r.evaluate(values))


def test_to_sympy_of_a_tensor_needs_the_sizes():
    # symbolic sizes: SymPy's array expressions cannot hold copy tensors; the error says so
    with pytest.raises(mc.UnsupportedError, match="sizes="):
        mc.to_sympy(mc.derive("A X B", "X"))


def test_a_tensor_result_is_not_differentiated_again():
    # a derivative of order 5 or more is not what a user means: a clear UsageError
    r = mc.derive("A X B", "X")
    with pytest.raises(mc.UsageError, match="order 3 or 4"):
        mc.derive(r, "A")


def test_a_missing_value_is_a_usage_error():
    # evaluate without the values that fix the sizes: says which size and how to give it
    with pytest.raises(mc.UsageError, match="not determined"):
        mc.derive("(I + I)(X + X)", "X").evaluate({})


def test_the_cli_checks_and_prints_a_tensor():
    # derive --check and --json with an order-4 result
    run = [sys.executable, "-m", "matrixcalc", "derive", "A X B", "--wrt", "X"]
    checked = subprocess.run(run + ["--check"], capture_output=True, text=True)
    assert checked.returncode == 0 and "check ok" in checked.stdout
    data = json.loads(subprocess.run(run + ["--json"], capture_output=True, text=True).stdout)
    (result,) = data["results"]
    assert result["kind"] == "tensor" and result["text"] == "A_{ik} B_{lj}"
    assert len(result["shape"]) == 4
