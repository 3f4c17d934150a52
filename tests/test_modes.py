"""mc.jvp, mc.vjp, mc.hvp: closed forms that never build a full Jacobian or Hessian."""

from __future__ import annotations

import numpy as np
import pytest

import matrixcalc as mc
from matrixcalc.errors import ShapeError, UsageError

RNG = np.random.default_rng(7)
SIZES = {"n": 4, "m": 3}

# expr, wrt, where, direction names: (v shaped like x, u shaped like F)
CASES = [
    ("W x + b", "x", None, "v", "u"),             # the lesson's linear layer (5.6)
    ("W x + b", "W", None, "V", "u"),
    ("x^T A x", "x", None, "v", "mu"),              # section 4.2
    ("softmax(z)", "z", None, "v", "u"),            # section 5.3
    ("log(1 + exp(-y w^T x))", "w", "y: scalar", "v", "mu"),  # logistic loss
    ("W2 tanh(W1 x)", "x", None, "v", "u"),
    ("tr(A B)", "A", None, "V", "mu"),              # section 4.3
]


def _values(*exprs: mc.Expr) -> dict:
    """Random inputs for every symbol, with consistent sizes per dimension name."""
    sizes: dict = {}
    values: dict = {}

    def size(dim):
        if isinstance(dim, int):
            return dim
        return sizes.setdefault(dim, 3 + len(sizes))

    for e in exprs:
        for name, info in e.shapes.items():
            if name in values:
                continue
            dims = [size(d) for d in info.rows + info.cols]
            values[name] = float(RNG.normal()) if not dims else RNG.normal(size=dims)
    return values


def _flat(a) -> np.ndarray:
    return np.atleast_1d(np.asarray(a, dtype=float)).reshape(-1)


def _jacobian_matrix(e, wrt, where, values):
    """The full derivative, as a (len F) × (len x) matrix (row-major flattening)."""
    d = mc.derive(e, wrt, where=where)
    x = values[wrt]
    value = np.asarray(d.evaluate(values), dtype=float)
    f_size = _flat(mc.parse(e, where).evaluate(values)).size
    x_size = _flat(x).size
    if f_size == 1:
        return value.reshape(1, x_size)
    if x_size == 1:
        return value.reshape(f_size, 1)
    return value.reshape(f_size, x_size)


@pytest.mark.parametrize("expr, wrt, where, v, u", CASES)
def test_jvp_agrees_with_full_jacobian(expr, wrt, where, v, u):
    r = mc.jvp(expr, wrt, v, where=where)
    e = mc.parse(expr, where)
    assert r.ty == e.ty
    values = _values(e, r)
    J = _jacobian_matrix(expr, wrt, where, values)
    expected = J @ _flat(values[v])
    assert np.allclose(_flat(r.evaluate(values)), expected)


@pytest.mark.parametrize("expr, wrt, where, v, u", CASES)
def test_vjp_agrees_with_full_jacobian(expr, wrt, where, v, u):
    r = mc.vjp(expr, wrt, u, where=where)
    e = mc.parse(expr, where)
    x = next(s for s in e.symbols() if s.name == wrt)
    assert r.ty == x.ty
    values = _values(e, r)
    J = _jacobian_matrix(expr, wrt, where, values)
    expected = _flat(values[u]) @ J
    assert np.allclose(_flat(r.evaluate(values)), expected)


@pytest.mark.parametrize("expr, wrt, where", [
    ("x^T A x", "x", None),
    ("log(1 + exp(-y w^T x))", "w", "y: scalar"),
    ("logsumexp(z)", "z", None),
    ("-y^T log(softmax(z))", "z", None),
])
def test_hvp_agrees_with_hessian(expr, wrt, where):
    r = mc.hvp(expr, wrt, "v", where=where)
    values = _values(mc.parse(expr, where), r)
    H = np.asarray(mc.hessian(expr, wrt, where=where).evaluate(values), dtype=float)
    assert np.allclose(r.evaluate(values), H @ values["v"])


def test_jvp_vjp_agree_with_torch_func():
    torch = pytest.importorskip("torch")
    from torch.func import jvp, vjp
    for expr, wrt, where, v, u in CASES:
        if mc.parse(expr, where).ty.is_scalar:
            continue
        e = mc.parse(expr, where)
        f = mc.lambdify(e, backend="torch")
        forward = mc.jvp(e, wrt, v)
        backward = mc.vjp(e, wrt, u)
        values = _values(e, forward, backward)
        t = {k: torch.tensor(val, dtype=torch.float64) for k, val in values.items()}

        def g(x, t=t, f=f, wrt=wrt):
            return f(**{**{k: t[k] for k in f.inputs}, wrt: x})

        _, tangent = jvp(g, (t[wrt],), (t[v],))
        assert np.allclose(_flat(forward.evaluate(values)), _flat(tangent.numpy())), expr
        _, pullback = vjp(g, t[wrt])
        (cotangent,) = pullback(t[u])
        assert np.allclose(_flat(backward.evaluate(values)), _flat(cotangent.numpy())), expr


def test_no_jacobian_sized_objects():
    soft = str(mc.jvp("softmax(z)", "z", "v"))
    assert "diag" not in soft and "softmax(z) softmax(z)^T" not in soft, soft
    assert "v ⊙ softmax(z)" in soft
    assert "diag" not in str(mc.vjp("softmax(z)", "z", "u"))
    assert str(mc.hvp("x^T A x", "x", "v")) == "(A + A^T) v"
    assert str(mc.jvp("W x + b", "x", "v")) == "W v"
    assert str(mc.vjp("W x + b", "x", "u")) == "W^T u"
    assert str(mc.vjp("W x + b", "W", "u")) == "u x^T"
    assert str(mc.jvp("tr(A B)", "A", "V")) == "tr(B V)"
    layer = str(mc.jvp("W2 tanh(W1 x)", "x", "v"))
    assert layer.endswith("W1 v"), layer


def test_results_round_trip():
    for expr, wrt, where, v, u in CASES:
        for r in (mc.jvp(expr, wrt, v, where=where), mc.vjp(expr, wrt, u, where=where)):
            assert mc.parse(str(r), {**(dict([where.split(":")]) if where else {}),
                                     **{k: i.kind for k, i in r.shapes.items()}}) == r


def test_directions_must_fit():
    with pytest.raises(ShapeError):
        mc.jvp("W x + b", "x", "V")          # a matrix where x is a vector
    with pytest.raises(ShapeError):
        mc.vjp("W x + b", "x", "v2", where="v2: matrix")
    with pytest.raises(ShapeError):
        mc.jvp("x^T A x", "x", "A")           # A occurs, as a matrix
    with pytest.raises(UsageError):
        mc.hvp("softmax(z)", "z", "v")        # not a scalar function
    # a text direction, and an Expr one
    assert str(mc.jvp("W x", "x", "2 v")) == "2 W v"
    assert str(mc.jvp("W x", "x", mc.parse("v"))) == "W v"


def test_independent_of_wrt_is_zero():
    r = mc.jvp("A y", "x", "v")
    assert r.ty == mc.parse("A y").ty and str(r) == "0"
    assert str(mc.vjp("A y", "x", "u")) == "0"
