"""The kernels generated numpy code calls for memory- and multiply-bound products:
`_mc_plus_transpose` (M + M^T, tile by tile, threaded) equals `m + m.T` bit for bit, and
`_mc_gram` (M^T diag(v) M by a symmetric rank-k product) equals the plain product, on
odd sizes, tiny sizes, float32, integers, complex numbers and weights of either sign; the
generated source calls them where they apply and only there."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import matrixcalc as mc

LOGISTIC = "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))"


def helper(expr: str, wrt: str | None, name: str):
    """The helper `name` as the generated module defines it."""
    tree = mc.hessian(expr, wrt) if wrt else mc.parse(expr)
    namespace: dict = {}
    exec(mc.lambdify(tree).source, namespace)  # noqa: S102 - our own generated source
    return namespace[name]


PLUS_TRANSPOSE = helper("x^T A x", "x", "_mc_plus_transpose")
GRAM = helper("A^T diag(v) A", None, "_mc_gram")


# -- A + A^T ------------------------------------------------------------------------------

def test_the_quadratic_forms_hessian_calls_the_plus_transpose_kernel():
    f = mc.lambdify(mc.hessian("x^T A x", "x"))
    assert "result = _mc_plus_transpose(A)" in f.source
    for backend in ("torch", "jax"):
        assert "_mc_plus_transpose" not in mc.lambdify(mc.hessian("x^T A x", "x"),
                                                       backend=backend).source


@pytest.mark.parametrize("size", [1, 2, 7, 64, 511, 512, 513, 577, 640, 1000])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.complex128])
def test_plus_transpose_equals_the_plain_sum_bit_for_bit(size, dtype):
    rng = np.random.default_rng(size)
    m = (rng.standard_normal((size, size)) * 1000).astype(dtype)
    if dtype == np.complex128:
        m = m + 1j * rng.standard_normal((size, size))
    got = PLUS_TRANSPOSE(m)
    assert got.dtype == (m + m.T).dtype
    assert np.array_equal(got, m + m.T)
    assert np.array_equal(PLUS_TRANSPOSE(np.asfortranarray(m)), m + m.T)


@settings(max_examples=15, deadline=None)
@given(size=st.integers(500, 800), tile=st.sampled_from([32, 48, 64, 100]),
       seed=st.integers(0, 2 ** 16))
def test_plus_transpose_property(size, tile, seed):
    """Any size and tile, multiples or not, NaN and infinities included."""
    m = np.random.default_rng(seed).standard_normal((size, size))
    m[seed % size, (seed // 7) % size] = np.nan
    m[(seed // 3) % size, seed % size] = np.inf
    assert np.array_equal(PLUS_TRANSPOSE(m, tile=tile), m + m.T, equal_nan=True)


def test_plus_transpose_of_a_non_square_array_fails_as_numpy_does():
    with pytest.raises(ValueError):
        PLUS_TRANSPOSE(np.ones((600, 700)))


# -- the weighted Gram matrix ---------------------------------------------------------------

def plain_gram(a, w):
    return a.T @ (w[:, None] * a)


def assert_gram(a, w):
    want, got = plain_gram(a, w), GRAM(a, w)
    assert got.dtype == want.dtype and got.shape == want.shape
    tight = np.result_type(a, w) == np.float64
    scale = np.abs(a).max() ** 2 * np.abs(w).sum() if a.size and w.size else 1.0
    assert np.allclose(got, want, rtol=1e-10 if tight else 1e-4,
                       atol=(1e-12 if tight else 1e-5) * scale)


def by_syrk(result) -> bool:
    """Whether a Gram matrix came out exactly symmetric, as a symmetric rank-k product's
    mirrored triangle does (a general product rounds (i, j) and (j, i) apart)."""
    return np.array_equal(result, result.T)


@pytest.mark.parametrize("rows, cols", [(4096, 512), (5000, 400), (257, 97), (2000, 33),
                                        (300, 200), (100, 1000), (3001, 65), (5, 3), (0, 40)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gram_by_syrk_equals_the_plain_product(rows, cols, dtype):
    rng = np.random.default_rng(rows * cols)
    a = rng.standard_normal((rows, cols)).astype(dtype)
    w = rng.random(rows).astype(dtype)
    w[::5] = 0.0  # zero weights are non-negative: still syrk
    assert_gram(a, w)
    assert_gram(np.asfortranarray(a), w)
    result = GRAM(a, w)
    assert by_syrk(result) and result.flags.c_contiguous
    if rows >= cols > 8:  # the plain product is not exactly symmetric: the test can tell
        assert not by_syrk(plain_gram(a, w))


def test_gram_falls_back_where_syrk_does_not_apply():
    rng = np.random.default_rng(7)
    a, w = rng.standard_normal((600, 90)), rng.random(600)
    negative = w.copy()
    negative[17] = -1e-3
    with_nan = w.copy()
    with_nan[3] = np.nan
    assert np.array_equal(GRAM(a, negative), plain_gram(a, negative))  # the plain product
    assert np.array_equal(np.isnan(GRAM(a, with_nan)), np.isnan(plain_gram(a, with_nan)))
    assert_gram(a.astype(np.complex128) * (1 + 1j), w)
    integers, counts = rng.integers(-5, 5, (600, 90)), rng.integers(0, 3, 600)
    assert np.array_equal(GRAM(integers, counts), plain_gram(integers, counts))
    mixed = GRAM(a.astype(np.float32), w)  # float32 rows, float64 weights: float64 syrk
    assert mixed.dtype == np.float64 and by_syrk(mixed)
    assert_gram(a.astype(np.float32), w)


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(200, 1200), cols=st.integers(32, 160), seed=st.integers(0, 2 ** 16),
       shift=st.sampled_from([0.0, 0.0, 0.5]))
def test_gram_property(rows, cols, seed, shift):
    """Any shape past the size threshold or not; weights of one sign or of both."""
    rng = np.random.default_rng(seed)
    assert_gram(rng.standard_normal((rows, cols)), rng.random(rows) - shift)


# -- where the generated code calls it ------------------------------------------------------

def test_the_logistic_hessian_calls_the_gram_kernel_and_agrees_with_torch():
    hessian = mc.hessian(LOGISTIC, "w")
    f = mc.lambdify(hessian)
    assert "result = (1.0 / n) * _mc_gram(X, t1 * (1.0 - t1))" in f.source, f.source
    f_torch = mc.lambdify(hessian, backend="torch")
    assert "_mc_gram" not in f_torch.source
    assert "_mc_gram" not in mc.lambdify(hessian, backend="jax").source
    rng = np.random.default_rng(3)
    n, d = 700, 90
    X, w = rng.standard_normal((n, d)), rng.standard_normal(d) / np.sqrt(d)
    got = f(X=X, w=w, n=n)
    want = f_torch(X=torch.tensor(X), w=torch.tensor(w), n=n).numpy()
    assert np.allclose(got, want, rtol=1e-10, atol=1e-12)


def test_the_logistic_hessian_agrees_with_autograd():
    result = mc.hessian(LOGISTIC, "w")
    assert str(result) == "1/n X^T diag(sigmoid(X w) ⊙ (1 - sigmoid(X w))) X"
    assert mc.check(LOGISTIC, "w", result=result, order=2).ok


RNG = np.random.default_rng(5)
A_, B_, V_ = RNG.standard_normal((300, 120)), RNG.standard_normal((300, 120)), RNG.random(300)


@pytest.mark.parametrize("text, call, inputs, want", [
    ("A^T diag(v) A", "_mc_gram(A, v)", {"A": A_, "v": V_}, A_.T @ (V_[:, None] * A_)),
    ("A diag(v) A^T", "_mc_gram(A.T, v)", {"A": A_.T.copy(), "v": V_},
     A_.T @ (V_[:, None] * A_)),
    ("2 A^T diag(exp(v)) A", "2.0 * _mc_gram(A, np.exp(v))", {"A": A_, "v": V_},
     2 * A_.T @ (np.exp(V_)[:, None] * A_)),
    ("(A + B)^T diag(v) (A + B)", "_mc_gram(t1, v)", {"A": A_, "B": B_, "v": V_},
     (A_ + B_).T @ (V_[:, None] * (A_ + B_))),
])
def test_weighted_gram_products_call_the_kernel(text, call, inputs, want):
    f = mc.lambdify(mc.parse(text))
    assert f"result = {call}" in f.source, f.source
    assert np.allclose(f(**inputs), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("text, line", [
    ("X^T X", "result = X.T @ X"),  # numpy's matmul calls syrk itself for x.T @ x
    ("A^T diag(v) A B", "result = A.T @ (v[:, None] * (A @ B))"),
    ("A^T diag(v) B", "result = A.T @ (v[:, None] * B)"),
])
def test_other_products_keep_the_plain_code(text, line):
    assert line in mc.lambdify(mc.parse(text)).source
