"""e.subs(...): composition, and the lesson's chain rule (section 2.4)."""

from __future__ import annotations

import numpy as np
import pytest

import matrixcalc as mc
from matrixcalc.errors import ShapeError

RNG = np.random.default_rng(3)


def test_subs_text_and_expr():
    r = mc.parse("y^T y").subs({"y": "W x + b"})
    assert str(r) == "(W x + b)^T (W x + b)"
    assert r.kind == "scalar"
    assert r.shapes["W"].kind == "matrix" and r.shapes["x"].kind == "vector"
    assert r.shapes["W"].rows == r.shapes["b"].rows
    same = mc.parse("y^T y").subs({"y": mc.parse("W x + b")})
    assert same == r
    # simultaneous, and dimensions of e's other symbols kept
    swapped = mc.parse("A y + z").subs({"y": "B u", "z": "c"})
    assert str(swapped) == "A (B u) + c"  # composed as written, not re-associated
    assert swapped.shapes["A"].rows == mc.parse("A y + z").shapes["A"].rows


def test_subs_scalar_by_expression():
    r = mc.parse("alpha x").subs({"alpha": "a^T b"})
    assert r.kind == "vector"
    v = {"a": RNG.normal(size=3), "b": RNG.normal(size=3), "x": RNG.normal(size=4)}
    assert np.allclose(r.evaluate(v), (v["a"] @ v["b"]) * v["x"])


@pytest.mark.parametrize("mapping", [{"y": "W"}, {"y": "alpha"}, {"y": "B z"}])
def test_subs_shape_mismatch(mapping):
    e = mc.parse("A y", where="A: symmetric") if "B z" not in mapping.values() \
        else mc.parse("y^T y + tr(C)", where="C: matrix")
    if "B z" in mapping.values():
        mapping = {"C": "z"}  # a vector where a matrix stood
    with pytest.raises(ShapeError):
        e.subs(mapping)


def test_lesson_chain_rule_with_scalars():
    """h = g ∘ f with f(x) = [x1^2; x1 + x2], g(y) = [y1 y2; y1 - y2]: J_h = J_g(f(x)) J_f."""
    f = mc.parse("[x1^2; x1 + x2]", where="x1, x2: scalar")
    g = mc.parse("[y1 y2; y1 - y2]", where="y1, y2: scalar")
    inner = {"y1": "x1^2", "y2": "x1 + x2"}
    h = g.subs(inner)
    J_h = mc.jacobian(h, ["x1", "x2"])
    J_f = mc.jacobian(f, ["x1", "x2"])
    J_g = mc.jacobian(g, ["y1", "y2"]).subs(inner)
    assert tuple(map(int, J_h.shape)) == (2, 2) == tuple(map(int, J_g.shape))
    for x1, x2 in [(1.0, 2.0), (-0.5, 3.0), (2.0, -1.5)]:
        values = {"x1": x1, "x2": x2}
        jh = np.asarray(J_h.evaluate(values), dtype=float)
        chain = np.asarray(J_g.evaluate(values), dtype=float) @ \
            np.asarray(J_f.evaluate(values), dtype=float)
        assert np.allclose(jh, chain)
    # the lesson's point x = (1, 2): J_h = [[3x1^2 + 2x1x2, x1^2], [2x1 - 1, -1]]
    assert np.allclose(J_h.evaluate({"x1": 1.0, "x2": 2.0}), [[7.0, 1.0], [1.0, -1.0]])
    # symbolically: the product of the Jacobians, as a matrix expression, simplifies to
    # the same entries (checked by verify on the statement)
    product = mc.parse(f"{J_g} {J_f}", where="x1, x2: scalar")
    assert mc.verify(f"{J_h} = {product}", where="x1, x2: scalar").holds


def test_chain_rule_vector_forms():
    """h(x) = W2 tanh(W1 x) = g(W1 x) with g(y) = W2 tanh(y)."""
    g = mc.parse("W2 tanh(y)")
    h = g.subs({"y": "W1 x"})
    assert str(h) == "W2 tanh(W1 x)"
    J_g = mc.jacobian(g, "y").subs({"y": "W1 x"})
    J_inner = mc.jacobian(mc.parse("W1 x"), "x")
    J_h = mc.jacobian(h, "x")
    # symbolically: J_h is J_g J_inner
    assert str(J_h) == f"{J_g} {J_inner}"
    assert mc.check(h, "x", result=mc.parse(f"{J_g} {J_inner}", where={
        k: i.kind for k, i in h.shapes.items()})).ok
    values = {"W2": RNG.normal(size=(3, 4)), "W1": RNG.normal(size=(4, 5)),
              "x": RNG.normal(size=5)}
    assert np.allclose(J_h.evaluate(values),
                       J_g.evaluate(values) @ J_inner.evaluate(values))


def test_chain_rule_scalar_loss():
    """L(z) = ||z||^2 / 2 with z = W x + b: dL/dx = W^T (W x + b)."""
    h = mc.parse("1/2 ||z||^2").subs({"z": "W x + b"})
    grad = mc.derive(h, "x")
    values = {"W": RNG.normal(size=(3, 4)), "x": RNG.normal(size=4), "b": RNG.normal(size=3)}
    z = values["W"] @ values["x"] + values["b"]
    assert np.allclose(grad.evaluate(values), values["W"].T @ z)
    assert mc.check(h, "x").ok
