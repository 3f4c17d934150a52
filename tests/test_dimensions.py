"""Dimensions as numbers (SPEC sections 1-3): declarations name dimensions, a named
dimension used as a scalar is its size, and derivatives that need a size write it."""

from __future__ import annotations

import numpy as np
import pytest

import matrixcalc as mc
from matrixcalc.language.expr import Dimension, walk


def test_declared_dimensions_are_used_everywhere():
    # X: matrix(n, d) fixes X's rows as n and columns as d; y and w follow
    e = mc.parse("||y - X w||^2", where="X: matrix(n, d)")
    assert e.shapes["X"].shape.dims == ("n", "d")
    assert e.shapes["y"].shape.dims == ("n",) and e.shapes["w"].shape.dims == ("d",)


def test_a_declared_dimension_used_as_a_scalar_is_its_size():
    # in 1/(2n) the n is X's number of rows, not an input
    e = mc.parse("1/(2n) ||y - X w||^2", where="X: matrix(n, d)")
    assert any(isinstance(node, Dimension) and node.name == "n" for node in walk(e))
    assert "n" not in e.shapes
    x, y, w = np.arange(12.0).reshape(4, 3), np.ones(4), np.ones(3)
    assert np.isclose(e.evaluate({"X": x, "y": y, "w": w}),
                      np.sum((y - x @ w) ** 2) / 8)


def test_evaluating_a_result_takes_the_size_from_the_inputs():
    # -1/n X^T (y - X w): n is read off X's shape
    r = mc.derive("1/(2n) ||y - X w||^2", "w", where="X: matrix(n, d)")
    assert str(r) == "-1/n X^T (y - X w)"
    x = np.random.default_rng(0).normal(size=(5, 3))
    y, w = np.ones(5), np.zeros(3)
    assert np.allclose(r.evaluate({"X": x, "y": y, "w": w}), -x.T @ (y - x @ w) / 5)


@pytest.mark.parametrize("where, shapes", [
    ("y: vector(n)", {"y": ("n",)}),
    ("A: square", {"A": ("n", "n")}),
    ("S: spd matrix(k)", {"S": ("k", "k")}),
    ("v: vector(3)", {"v": ("3",)}),
    ({"X": "matrix(p, q)"}, {"X": ("p", "q")}),
])
def test_declaration_forms(where, shapes):
    # vector(n), square, a matrix of one named size, a concrete size, the dict form
    e = mc.parse(" + ".join(f"sum({name})" for name in shapes), where=where)
    for name, dims in shapes.items():
        assert e.shapes[name].shape.dims == dims


@pytest.mark.parametrize("where", [
    "X: matrix(n, d, e)", "y: vector(n, m)", "X: matrix(1, 3)", "X: scalar(n)",
    "A: symmetric matrix(n, m)", "X: matrix(n, _d)"])
def test_malformed_dimension_declarations_are_usage_errors(where):
    # a dimension is a name or a size of at least 2; a square matrix has one size
    with pytest.raises(mc.UsageError):
        mc.parse("sum(X) + sum(y) + sum(A)", where=where)


def test_a_name_cannot_be_both_a_dimension_and_a_symbol():
    # n names X's rows and is declared a scalar: a clear error
    with pytest.raises(mc.UsageError, match="both a dimension"):
        mc.parse("n sum(X)", where="X: matrix(n, d); n: scalar")


def test_declared_dimensions_must_agree():
    # X: matrix(n, d) times a vector of m entries: a shape error naming both
    with pytest.raises(mc.ShapeError, match="d"):
        mc.parse("X y", where="X: matrix(n, d); y: vector(m)")


def test_unnamed_dimensions_clash_with_no_symbol():
    # n is a scalar symbol here, so x's dimension gets another name
    r = mc.derive("mean(x) + n", "x", where="n: scalar")
    (dim,) = r.shape
    assert dim != "n" and str(r) == f"1/{dim} ones"


@pytest.mark.parametrize("text, wrt, expected", [
    ("mean(x)", "x", "1/n ones"),
    ("mean(A x)", "x", "1/n A^T ones"),
    ("tr(α I)", "α", "n"),
    ("mean(X)", "X", "1/(m n) ones ones^T"),
])
def test_a_derivative_that_needs_a_size_writes_it(text, wrt, expected):
    # d mean(x)/dx = 1/n ones, d tr(α I)/dα = n, and checked against autograd
    r = mc.derive(text, wrt)
    assert str(r) == expected
    assert mc.check(text, wrt, result=r).ok


def test_kronecker_dimensions_cancel_and_say_what_is_missing():
    # tr(A ⊗ X) with A square makes X square; with neither declared, the hint names them
    e = mc.parse("tr(A ⊗ X)", where="A: square")
    assert e.shapes["X"].rows == e.shapes["X"].cols
    with pytest.raises(mc.ShapeError) as caught:
        mc.parse("tr(A ⊗ X)")
    assert "A, X: square" in str(caught.value)
