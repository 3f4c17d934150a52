"""Hessians of deep compositions taken level by level (calculus.layers): the second-order
chain rule J^T H J + ∇²(w^T g) at each level, checked against torch.autograd. The checks
are relative: a softmax nest's Hessian shrinks with its depth (about 1e-45 at 64 deep),
so an absolute tolerance would pass anything."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import matrixcalc as mc
from matrixcalc.calculus import layers

SIZES = {"n": 4, "m": 3}  # distinct sizes: a missing transpose shows
TOPS = {
    "y^T {}": lambda v, y: y @ v,
    "sum(exp({}))": lambda v, y: torch.exp(v).sum(),
    "||{}||^2": lambda v, y: v @ v,
    "log(sum(exp({})))": lambda v, y: torch.logsumexp(v, 0),
    "(y^T {})^2": lambda v, y: (y @ v) ** 2,
}


def _times(matrix):
    return lambda v: torch.from_numpy(matrix) @ v


def _plus(vector):
    return lambda v: v + torch.from_numpy(vector)


@st.composite
def compositions(draw):
    """(text, where, values, torch function of x) of levels around x, at least two of
    them softmax, the others elementwise, linear maps between the two sizes, or shifts."""
    kinds = draw(st.lists(st.sampled_from(["softmax", "tanh", "map", "shift"]), max_size=5))
    kinds = draw(st.permutations(kinds + ["softmax", "softmax"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    text, dim, declared, steps = "x", "n", ["x: vector(n)"], []
    values = {"x": 2 * rng.normal(size=SIZES["n"])}
    for i, kind in enumerate(kinds):
        if kind == "softmax":
            text, step = f"softmax({text})", (lambda v: torch.softmax(v, 0))
        elif kind == "tanh":
            text, step = f"tanh({text})", torch.tanh
        elif kind == "map":
            other, name = ("m" if dim == "n" else "n"), f"M{i}"
            declared.append(f"{name}: matrix({other}, {dim})")
            values[name] = rng.normal(size=(SIZES[other], SIZES[dim]))
            text, dim = f"{name} {text}", other
            step = _times(values[name])
        else:
            name = f"b{i}"
            declared.append(f"{name}: vector({dim})")
            values[name] = rng.normal(size=SIZES[dim])
            text, step = f"({text} + {name})", _plus(values[name])
        steps.append(step)
    top = draw(st.sampled_from(sorted(TOPS)))
    declared.append(f"y: vector({dim})")
    values["y"] = rng.normal(size=SIZES[dim])
    y = torch.from_numpy(values["y"])

    def function(v):
        for step in steps:
            v = step(v)
        return TOPS[top](v, y)
    return top.format(text), "; ".join(declared), values, function


def assert_relatively_close(got, values, function, wrt="x"):
    """`got` (the Hessian by `wrt` at `values`) against autograd's of `function`."""
    expected = torch.autograd.functional.hessian(function, torch.from_numpy(values[wrt]))
    expected = expected.numpy()
    got = np.asarray(got, dtype=float).reshape(expected.shape)
    scale = np.abs(expected).max()
    assert scale > 0 and np.abs(got - expected).max() <= 1e-9 * scale, (scale, got, expected)


@pytest.fixture
def layered(monkeypatch):
    """How many Hessians were taken level by level."""
    taken = []
    original = layers.layered_hessian

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        taken.append(result is not None)
        return result
    monkeypatch.setattr("matrixcalc.calculus.derive.layered_hessian", counted)
    return taken


@settings(max_examples=40, deadline=None)
@given(compositions())
def test_layered_hessians_agree_with_autograd(case):
    text, where, values, function = case
    result = mc.hessian(text, "x", where=where)
    assert_relatively_close(result.evaluate(values), values, function)


@settings(max_examples=25, deadline=None)
@given(compositions())
def test_layered_hessian_vector_products_agree_with_autograd(case):
    """hvp carries the direction forward through the levels and H v back, without
    forming H; it is autograd's Hessian times v."""
    text, where, values, function = case
    values = {**values, "v": np.random.default_rng(1).normal(size=values["x"].shape)}
    result = mc.hvp(text, "x", "v", where=where + "; v: vector(n)")
    expected = torch.autograd.functional.hessian(function, torch.from_numpy(values["x"]))
    expected = expected.numpy() @ values["v"]
    got = np.asarray(result.evaluate(values), dtype=float)
    scale = np.abs(expected).max()
    assert scale > 0 and np.abs(got - expected).max() <= 1e-9 * scale


def test_compositions_with_two_dense_levels_are_layered(layered):
    mc.hessian("y^T softmax(tanh(softmax(x)))", "x")
    mc.hessian("y^T softmax(tanh(x))", "x")  # one dense level: the index form
    assert layered == [True, False]


def test_hessian_by_a_scalar_through_levels():
    rng = np.random.default_rng(3)
    values = {"a": np.array(0.7), "x": rng.normal(size=4), "y": rng.normal(size=4)}
    text = "y^T softmax(softmax(softmax(a x)))"

    def function(a):
        v = a * torch.from_numpy(values["x"])
        for _ in range(3):
            v = torch.softmax(v, 0)
        return torch.from_numpy(values["y"]) @ v
    result = mc.hessian(text, "a", where="a: scalar; x, y: vector(n)")
    assert result.ty.is_scalar
    assert_relatively_close(result.evaluate(values), values, function, wrt="a")


def test_user_symbols_named_as_the_levels_are_their_own():
    """The levels' symbols are the engine's own (∂#u1, ∂#w1, ∂#h1): a user's u1, w1 and
    h1 are other symbols."""
    rng = np.random.default_rng(5)
    values = {"u1": 2 * rng.normal(size=4), "w1": rng.normal(size=4),
              "h1": rng.normal(size=4)}
    text = "w1^T softmax(softmax(u1 + h1))"

    def function(u):
        v = torch.softmax(torch.softmax(u + torch.from_numpy(values["h1"]), 0), 0)
        return torch.from_numpy(values["w1"]) @ v
    result = mc.hessian(text, "u1", where="u1, w1, h1: vector(n)")
    assert_relatively_close(result.evaluate(values), values, function, wrt="u1")


def _nodes_built(monkeypatch, text: str) -> int:
    from matrixcalc import budget
    built = []
    counted = budget.count_built
    monkeypatch.setattr(budget, "count_built", lambda size: (built.append(1), counted(size)))
    mc.hessian(text, "x", where="x, y: vector(n)")
    monkeypatch.setattr(budget, "count_built", counted)
    return len(built)


def softmax_nest(k: int) -> str:
    return "y^T " + "softmax(" * k + "x" + ")" * k


def softmax_nest_function(k: int, y):
    """softmax_nest(k) in torch, y given."""
    def function(v):
        for _ in range(k):
            v = torch.softmax(v, 0)
        return torch.from_numpy(y) @ v
    return function


def test_softmax_nest_hessian_builds_in_proportion_to_its_depth(monkeypatch):
    """Each level is derived with the others held as symbols: doubling the depth doubles
    the nodes built (the Jacobian of the gradient: 66,000 at 16 deep, 135,000 at 32)."""
    built = [_nodes_built(monkeypatch, softmax_nest(k)) for k in (16, 32, 64)]
    assert built[1] < 2.2 * built[0] and built[2] < 2.2 * built[1], built


def test_softmax_nest_hessian_64_deep_under_default_limits():
    """The Hessian and the Hessian-vector product of softmax nested 64 deep (both over
    the node limit from 32 deep before levels)."""
    k, rng = 64, np.random.default_rng(7)
    values = {"x": 3 * rng.normal(size=5), "y": rng.normal(size=5), "v": rng.normal(size=5)}
    where = "x, y, v: vector(n)"
    result = mc.hessian(softmax_nest(k), "x", where=where)
    product = mc.hvp(softmax_nest(k), "x", "v", where=where)
    function = softmax_nest_function(k, values["y"])
    assert_relatively_close(result.evaluate(values), values, function)
    hessian = result.evaluate(values)
    got, expected = product.evaluate(values), hessian @ values["v"]
    assert np.abs(got - expected).max() <= 1e-9 * np.abs(expected).max()


def test_generated_code_of_a_deep_layered_hessian():
    """numpy code for the Hessian of softmax nested 24 deep: the transposes shared in
    generated code are looked for among parts of at most 2,000 nodes (simplifying the
    transposes of its nested parts took 11 s at 20 deep), and the code agrees with
    autograd."""
    k, rng = 24, np.random.default_rng(11)
    values = {"x": 3 * rng.normal(size=5), "y": rng.normal(size=5)}
    result = mc.hessian(softmax_nest(k), "x", where="x, y: vector(n)")
    code = mc.lambdify(result)
    function = softmax_nest_function(k, values["y"])
    assert_relatively_close(code(**values), values, function)


def test_a_level_without_a_matrix_form_leaves_the_index_form(monkeypatch):
    """Where a level has no matrix form (UnsupportedError), the Hessian and hvp are those
    of the index form, which may still have one for the whole."""
    text, where = "y^T softmax(softmax(x))", "x, y, v: vector(n)"
    monkeypatch.setattr(layers, "LAYERED_LEVELS", 99)
    hessian, product = mc.hessian(text, "x", where=where), mc.hvp(text, "x", "v", where=where)
    monkeypatch.setattr(layers, "LAYERED_LEVELS", 2)

    def no_form(*args):
        raise mc.UnsupportedError("no matrix form")
    monkeypatch.setattr(layers, "_jacobian", no_form)
    assert mc.hessian(text, "x", where=where) == hessian
    assert mc.hvp(text, "x", "v", where=where) == product
