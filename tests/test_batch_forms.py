# Batch and transformer forms (issue 15): row-wise softmax, attention, normalization layers,
# batched losses, as closed matrix forms checked against torch.autograd.
"""Losses over a batch (rows as samples) and the layers of a transformer, derived in closed
matrix form: each case's result is asserted as canonical text, checked against
torch.autograd with distinct sizes for distinct dimensions (`mc.check`), read back by
`mc.parse`, and its generated numpy, torch and JAX code agrees with `evaluate`. The torch
code of the attention backward pass is compared with torch's own autograd. The same
derivatives make up `identities/transformer.yaml`, with their sources."""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from test_codegen import assert_agrees, draw_point

import matrixcalc as mc

# softmax and logsumexp of a matrix act on each row (SPEC section 1); a dimension used as
# a scalar is its size (1/d, 1/n; SPEC section 2).
XC = "(X - 1/d X ones ones^T)"  # each row centred
SIGMA = f"sqrt(1/d ({XC} ⊙ {XC}) ones + eps ones)"  # each row's standard deviation
LAYER_NORM = f"diag({SIGMA}.^-1) {XC} diag(g) + ones b^T"  # Ba, Kiros & Hinton (2016)
RMS = "sqrt(1/d (X ⊙ X) ones + eps ones)"
RMS_NORM = f"diag({RMS}.^-1) X diag(g)"  # Zhang & Sennrich (2019)
BC = "(X - 1/n ones ones^T X)"  # each column centred
BATCH_SIGMA = f"sqrt(1/n ({BC} ⊙ {BC})^T ones + eps ones)"
BATCH_NORM = f"{BC} diag({BATCH_SIGMA}.^-1) diag(g) + ones b^T"  # Ioffe & Szegedy (2015)
ATTENTION = "softmax(Q K^T / sqrt(d)) V"  # Vaswani et al. (2017)
MASKED = "softmax(Q K^T / sqrt(d) + M) V"  # an additive mask (causal: -inf above the diagonal)
RESIDUAL = "||X + relu(X W1 + ones b1^T) W2 - Y||_F^2"
TWO_LAYER = "-1/n sum(Y ⊙ log(softmax(relu(X W1 + ones b1^T) W2 + ones b2^T)))"
SOFTMAX_REGRESSION = "-1/n sum(Y ⊙ log(softmax(X W + ones b^T)))"
LN_CORE = f"diag({SIGMA}.^-1) {XC}"
RMS_CORE = f"diag({RMS}.^-1) X"
BATCH = "X: matrix(n, d)"
NORM = "X: matrix(n, d); eps: scalar"
HEADS = "Q: matrix(n, d)"


@dataclass(frozen=True)
class Case:
    id: str
    expr: str
    wrt: str
    where: str | None
    expected: str

    def __str__(self) -> str:
        return self.id


# `Y: stochastic`: each row of Y is a distribution (its rows sum to one), as the rows of
# softmax(Z) are; without it the gradient keeps diag(Y ones), the rows' totals.
CASES = [
    Case('cross-entropy by Z', '-sum(Y ⊙ log(softmax(Z)))', 'Z', None,
         'diag(Y ones) softmax(Z) - Y'),
    Case('cross-entropy by Z, rows distributions', '-sum(Y ⊙ log(softmax(Z)))', 'Z', "Y: stochastic",
         'softmax(Z) - Y'),
    Case('cross-entropy through logsumexp', 'sum(logsumexp(Z)) - sum(Y ⊙ Z)', 'Z', "Y: stochastic",
         'softmax(Z) - Y'),
    Case('softmax regression by W', SOFTMAX_REGRESSION, 'W', f"{BATCH}; Y: stochastic",
         '1/n X^T (softmax(X W + ones b^T) - Y)'),
    Case('softmax regression by b', SOFTMAX_REGRESSION, 'b', f"{BATCH}; Y: stochastic",
         '1/n (softmax(X W + ones b^T)^T - Y^T) ones'),
    Case('softmax regression by W, any Y', SOFTMAX_REGRESSION, 'W', BATCH,
         '1/n X^T (diag(Y ones) softmax(X W + ones b^T) - Y)'),
    Case('attention backward by Q', f'tr(G^T {ATTENTION})', 'Q', HEADS,
         '1/sqrt(d) (softmax(Q K^T/sqrt(d)) ⊙ (G V^T - ((G V^T) ⊙ softmax(Q '
         'K^T/sqrt(d))) ones ones^T)) K'),
    Case('attention backward by K', f'tr(G^T {ATTENTION})', 'K', HEADS,
         '1/sqrt(d) (softmax(Q K^T/sqrt(d))^T ⊙ (V G^T - ones ones^T ((V G^T) ⊙ '
         'softmax(Q K^T/sqrt(d))^T))) Q'),
    Case('attention backward by V', f'tr(G^T {ATTENTION})', 'V', HEADS,
         'softmax(Q K^T/sqrt(d))^T G'),
    Case('attention squared loss by Q', f'||{ATTENTION} - Y||_F^2', 'Q', HEADS,
         '2/sqrt(d) (softmax(Q K^T/sqrt(d)) ⊙ ((softmax(Q K^T/sqrt(d)) V - Y) V^T - '
         '(((softmax(Q K^T/sqrt(d)) V - Y) V^T) ⊙ softmax(Q K^T/sqrt(d))) ones ones^T)) '
         'K'),
    Case('attention squared loss by K', f'||{ATTENTION} - Y||_F^2', 'K', HEADS,
         '2/sqrt(d) (softmax(Q K^T/sqrt(d))^T ⊙ (V (V^T softmax(Q K^T/sqrt(d))^T - Y^T) '
         '- ones ones^T ((V (V^T softmax(Q K^T/sqrt(d))^T - Y^T)) ⊙ softmax(Q '
         'K^T/sqrt(d))^T))) Q'),
    Case('attention squared loss by V', f'||{ATTENTION} - Y||_F^2', 'V', HEADS,
         '2 softmax(Q K^T/sqrt(d))^T (softmax(Q K^T/sqrt(d)) V - Y)'),
    Case('masked attention by Q', f'tr(G^T {MASKED})', 'Q', HEADS,
         '1/sqrt(d) (softmax(Q K^T/sqrt(d) + M) ⊙ (G V^T - ((G V^T) ⊙ softmax(Q '
         'K^T/sqrt(d) + M)) ones ones^T)) K'),
    Case('masked attention by K', f'tr(G^T {MASKED})', 'K', HEADS,
         '1/sqrt(d) (softmax(Q K^T/sqrt(d) + M)^T ⊙ (V G^T - ones ones^T ((V G^T) ⊙ '
         'softmax(Q K^T/sqrt(d) + M)^T))) Q'),
    Case('masked attention by V', f'tr(G^T {MASKED})', 'V', HEADS,
         'softmax(Q K^T/sqrt(d) + M)^T G'),
    Case('layer norm by X', f'tr(G^T ({LAYER_NORM}))', 'X', NORM,
         'diag(sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - 1/d X ones ones^T)) ones + eps '
         'ones).^-1) G (diag(g) - 1/d g ones^T) - 1/d diag(((G ⊙ (X - 1/d X ones '
         'ones^T)) g) ⊙ sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - 1/d X ones ones^T)) '
         'ones + eps ones).^-3) (X - 1/d X ones ones^T)'),
    Case('layer norm by g', f'tr(G^T ({LAYER_NORM}))', 'g', NORM,
         '(G^T ⊙ (X^T - 1/d ones ones^T X^T)) sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - '
         '1/d X ones ones^T)) ones + eps ones).^-1'),
    Case('layer norm by b', f'tr(G^T ({LAYER_NORM}))', 'b', NORM,
         'G^T ones'),
    Case('RMS norm by X', f'tr(G^T {RMS_NORM})', 'X', NORM,
         'diag(sqrt(1/d (X ⊙ X) ones + eps ones).^-1) G diag(g) - 1/d diag(((G ⊙ X) g) ⊙ '
         'sqrt(1/d (X ⊙ X) ones + eps ones).^-3) X'),
    Case('RMS norm by g', f'tr(G^T {RMS_NORM})', 'g', NORM,
         '(G^T ⊙ X^T) sqrt(1/d (X ⊙ X) ones + eps ones).^-1'),
    Case('batch norm by X', f'tr(G^T ({BATCH_NORM}))', 'X', NORM,
         'G diag(g ⊙ sqrt(1/n ((X^T - 1/n X^T ones ones^T) ⊙ (X^T - 1/n X^T ones '
         'ones^T)) ones + eps ones).^-1) - 1/n (X - 1/n ones ones^T X) diag(g ⊙ ((G^T ⊙ '
         '(X^T - 1/n X^T ones ones^T)) ones) ⊙ sqrt(1/n ((X^T - 1/n X^T ones ones^T) ⊙ '
         '(X^T - 1/n X^T ones ones^T)) ones + eps ones).^-3) - 1/n ones (g^T ⊙ (ones^T '
         'G) ⊙ (sqrt(1/n ((X^T - 1/n X^T ones ones^T) ⊙ (X^T - 1/n X^T ones ones^T)) ones '
         '+ eps ones).^-1)^T)'),
    Case('batch norm by g', f'tr(G^T ({BATCH_NORM}))', 'g', NORM,
         'diag(sqrt(1/n ((X^T - 1/n X^T ones ones^T) ⊙ (X^T - 1/n X^T ones ones^T)) ones '
         '+ eps ones).^-1) (G^T ⊙ (X^T - 1/n X^T ones ones^T)) ones'),
    Case('batch norm by b', f'tr(G^T ({BATCH_NORM}))', 'b', NORM,
         'G^T ones'),
    Case('residual MLP by W1', RESIDUAL, 'W1', None,
         '2 X^T (step(X W1 + ones b1^T) ⊙ ((X + relu(X W1 + ones b1^T) W2 - Y) W2^T))'),
    Case('residual MLP by b1', RESIDUAL, 'b1', None,
         '2 ((W2 (W2^T relu(X W1 + ones b1^T)^T + X^T - Y^T)) ⊙ step(X W1 + ones '
         'b1^T)^T) ones'),
    Case('residual MLP by W2', RESIDUAL, 'W2', None,
         '2 relu(X W1 + ones b1^T)^T (X + relu(X W1 + ones b1^T) W2 - Y)'),
    Case('two-layer network by W1', TWO_LAYER, 'W1', f"{BATCH}; Y: stochastic",
         '1/n X^T (step(X W1 + ones b1^T) ⊙ ((softmax(relu(X W1 + ones b1^T) W2 + ones '
         'b2^T) - Y) W2^T))'),
    Case('two-layer network by b1', TWO_LAYER, 'b1', f"{BATCH}; Y: stochastic",
         '1/n (step(X W1 + ones b1^T)^T ⊙ (W2 (softmax(relu(X W1 + ones b1^T) W2 + ones '
         'b2^T)^T - Y^T))) ones'),
    Case('two-layer network by W2', TWO_LAYER, 'W2', f"{BATCH}; Y: stochastic",
         '1/n relu(X W1 + ones b1^T)^T (softmax(relu(X W1 + ones b1^T) W2 + ones b2^T) - '
         'Y)'),
    Case('two-layer network by b2', TWO_LAYER, 'b2', f"{BATCH}; Y: stochastic",
         '1/n (softmax(relu(X W1 + ones b1^T) W2 + ones b2^T)^T - Y^T) ones'),
    Case('logistic regression', '-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - sigmoid(X w)))', 'w', BATCH,
         '1/n X^T (sigmoid(X w) - y)'),
    Case('Poisson regression', '1/n sum(exp(X w) - y ⊙ (X w))', 'w', BATCH,
         '1/n X^T (exp(X w) - y)'),
]

# Jacobians of row-wise maps, vec=True: ∂vec(F)/∂vec(X), columns stacked (SPEC section 3).
VEC_CASES = [
    Case('row-wise softmax Jacobian', 'softmax(X)', 'X', None,
         'diag(vec(softmax(X))) - diag(vec(softmax(X))) ((ones ones^T) ⊗ I) '
         'diag(vec(softmax(X)))'),
    Case('softmax layer Jacobian', 'softmax(X W)', 'W', None,
         '(diag(vec(softmax(X W))) - diag(vec(softmax(X W))) ((ones ones^T) ⊗ I) '
         'diag(vec(softmax(X W)))) (I ⊗ X)'),
    Case('row-wise logsumexp Jacobian', 'logsumexp(X)', 'X', None,
         '(ones^T ⊗ I) diag(vec(softmax(X)))'),
    Case('layer norm Jacobian', LN_CORE, 'X', NORM,
         '(I - 1/d ones ones^T) ⊗ diag(sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - 1/d X '
         'ones ones^T)) ones + eps ones).^-1) - 1/d diag(vec(X - 1/d X ones ones^T)) '
         '((ones ones^T) ⊗ diag(sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - 1/d X ones '
         'ones^T)) ones + eps ones).^-3)) diag(vec(X - 1/d X ones ones^T))'),
    Case('RMS norm Jacobian', RMS_CORE, 'X', NORM,
         'I ⊗ diag(sqrt(1/d (X ⊙ X) ones + eps ones).^-1) - 1/d diag(vec(X)) ((ones '
         'ones^T) ⊗ diag(sqrt(1/d (X ⊙ X) ones + eps ones).^-3)) diag(vec(X))'),
]


# The same Jacobians without vec: order-4 tensors in index form (SPEC section 3), F_ij by
# X_kl; the copy tensor δ_{iak} carries the row that a row-wise map keeps.
INDEX_FORMS = {
    'row-wise softmax Jacobian':
        '(softmax(X))_{ab} δ_{jbl} δ_{iak} - (softmax(X))_{aj} (softmax(X))_{bl} δ_{iabk}',
    'softmax layer Jacobian':
        'X_{ak} (softmax(X W))_{bc} δ_{jcl} δ_{iba} - X_{ak} (softmax(X W))_{bj} '
        '(softmax(X W))_{cl} δ_{ibca}',
    'row-wise logsumexp Jacobian': '(softmax(X))_{al} δ_{iak}',
    # a term summed against ones alone is dropped where the simplifier finds that sum zero
    # (the rows of a centred matrix: (X - 1/d X ones ones^T) ones = 0)
    'layer norm Jacobian':
        '-1/d (X - 1/d X ones ones^T)_{aj} (X - 1/d X ones ones^T)_{bl} (sqrt(1/d ((X - '
        '1/d X ones ones^T) ⊙ (X - 1/d X ones ones^T)) ones + eps ones).^-3)_{c} '
        'δ_{kbiac} + δ_{jl} (sqrt(1/d ((X - 1/d X ones ones^T) ⊙ (X - 1/d X ones '
        'ones^T)) ones + eps ones).^-1)_{a} δ_{iak} - 1/d 1_{j} 1_{l} (sqrt(1/d ((X - 1/d '
        'X ones ones^T) ⊙ (X - 1/d X ones ones^T)) ones + eps ones).^-1)_{a} δ_{iak}',
    'RMS norm Jacobian':
        '-1/d X_{aj} X_{bl} (sqrt(1/d (X ⊙ X) ones + eps ones).^-3)_{c} δ_{kbiac} + δ_{jl} '
        '(sqrt(1/d (X ⊙ X) ones + eps ones).^-1)_{a} δ_{iak}',
}


@pytest.mark.parametrize("case", VEC_CASES, ids=str)
def test_rowwise_jacobian_in_index_form(case):
    # without vec the Jacobian is a tensor in index form, equal to torch.autograd's
    result = mc.derive(case.expr, case.wrt, where=case.where)
    assert (result.kind, str(result)) == ("tensor", INDEX_FORMS[case.id])
    assert mc.check(case.expr, case.wrt, where=case.where, result=result.evaluate,
                    seed=zlib.crc32(case.id.encode())).ok


@pytest.mark.parametrize("case", CASES + VEC_CASES, ids=str)
def test_canonical_text(case):
    # the closed form, as text, is the canonical one listed
    result = mc.derive(case.expr, case.wrt, where=case.where, vec=case in VEC_CASES)
    assert str(result) == case.expected


@pytest.mark.parametrize("case", CASES + VEC_CASES, ids=str)
def test_agrees_with_autograd(case):
    # the listed form equals torch.autograd's derivative (distinct sizes per dimension)
    report = mc.check(case.expr, case.wrt, where=case.where, trials=3,
                      seed=zlib.crc32(case.id.encode()),
                      result=mc.derive(case.expr, case.wrt, where=case.where,
                                       vec=case in VEC_CASES))
    assert report.ok, report


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reads_back(case):
    # mc.parse(str(r)) gives back r (SPEC section 4)
    result = mc.derive(case.expr, case.wrt, where=case.where)
    assert mc.parse(str(result), where=case.where) == mc.simplify(result)


@pytest.mark.parametrize("case", CASES + VEC_CASES, ids=str)
def test_generated_code_agrees(case):
    # numpy and torch code of the derivative = evaluate, at sampled points
    result = mc.derive(case.expr, case.wrt, where=case.where, vec=case in VEC_CASES)
    assert assert_agrees(result, seeds=range(10)) >= 1  # points where var + eps > 0


@pytest.mark.parametrize("case", [c for c in CASES if "attention" in c.id or "norm by X" in c.id
                                  or "regression by W" in c.id], ids=str)
def test_jax_code_agrees(case):
    # the JAX code too (the records' templates for all three backends)
    import jax
    jax.config.update("jax_enable_x64", True)
    result = mc.derive(case.expr, case.wrt, where=case.where)
    point = next(p for p in map(lambda seed: draw_point(result, seed), range(20)) if p)
    inputs, want = point
    got = mc.lambdify(result, backend="jax")(**inputs)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9, atol=1e-12)


# -- the attention backward pass against torch's autograd ---------------------------------------

def _attention_inputs(n=7, m=6, d=5, dv=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = {"Q": (n, d), "K": (m, d), "V": (m, dv), "G": (n, dv)}
    return {k: torch.randn(*s, generator=g, dtype=torch.float64) for k, s in shapes.items()}


def _autograd_attention(values, mask=None):
    leaves = {k: v.clone().requires_grad_(k != "G") for k, v in values.items()}
    scores = leaves["Q"] @ leaves["K"].T / math.sqrt(values["Q"].shape[1])
    if mask is not None:
        scores = scores + mask
    (torch.softmax(scores, dim=-1) @ leaves["V"]).backward(leaves["G"])
    return {k: leaves[k].grad for k in "QKV"}


@pytest.mark.parametrize("masked", [False, True], ids=["plain", "causal"])
def test_generated_torch_attention_backward_equals_autograd(masked):
    # dQ, dK, dV of tr(G^T softmax(Q K^T/sqrt(d) [+ M]) V), as generated torch code, equal
    # torch.autograd's backward of the same forward pass (a causal mask: -inf above the
    # diagonal)
    forward = MASKED if masked else ATTENTION
    values = _attention_inputs(n=6 if masked else 7)
    mask = torch.triu(torch.full((6, 6), float("-inf"), dtype=torch.float64), diagonal=1) \
        if masked else None
    if masked:
        values["M"] = mask
    want = _autograd_attention(values, mask)
    for wrt in "QKV":
        f = mc.lambdify(mc.derive(f"tr(G^T {forward})", wrt, where=HEADS), backend="torch")
        got = f(**{k: values[k] for k in f.inputs})
        torch.testing.assert_close(got, want[wrt], rtol=1e-10, atol=1e-12)


def test_attention_backward_is_the_fused_kernel_form():
    # dS = P ⊙ (dP - rowsum(dP ⊙ P) ones^T), dQ = dS K / sqrt(d), dP = G V^T, P = softmax(S)
    # (Dao et al., FlashAttention, 2022): the engine's form is that, symbol for symbol
    p = "softmax(Q K^T/sqrt(d))"
    fused = f"1/sqrt(d) ({p} ⊙ (G V^T - ((G V^T) ⊙ {p}) ones ones^T)) K"
    assert mc.derive(f"tr(G^T {ATTENTION})", "Q", where=HEADS) == mc.simplify(
        mc.parse(fused, where=HEADS))
    assert mc.verify(f"d/dQ tr(G^T {ATTENTION}) = {fused}", where=HEADS).holds


# -- row-wise softmax and logsumexp: shapes, values, declarations ---------------------------

def test_rowwise_shapes():
    # softmax(Z) is shaped like Z, logsumexp(Z) is the column of its rows' values (SPEC 1)
    assert mc.parse("softmax(Z)", where="Z: matrix(n, k)").shape == ("n", "k")
    assert mc.parse("logsumexp(Z)", where="Z: matrix(n, k)").kind == "vector"
    assert mc.parse("logsumexp(Z)", where="Z: matrix(n, k)").shape == ("n",)
    assert mc.parse("logsumexp(z)").kind == "scalar"
    for text in ("softmax(x^T)", "logsumexp(α)"):
        with pytest.raises(mc.ShapeError, match="takes a vector, or a matrix row by row"):
            mc.parse(text)


def test_rowwise_values():
    # each row of softmax(Z) is the softmax of that row of Z; logsumexp likewise
    z = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    rows = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mc.parse("softmax(Z)").evaluate({"Z": z}), rows)
    np.testing.assert_allclose(mc.parse("logsumexp(Z)").evaluate({"Z": z}),
                               np.log(np.exp(z).sum(axis=1)))
    for backend in ("numpy", "torch", "jax"):
        f = mc.lambdify("softmax(Z) ones + logsumexp(Z)", backend=backend)
        np.testing.assert_allclose(np.asarray(f(Z=z)), 1 + np.log(np.exp(z).sum(axis=1)))


def test_stochastic_declares_rows_that_are_distributions():
    # `stochastic`: a matrix whose rows are distributions; its rows sum to one, and so do
    # those of a row-wise softmax; the checker samples such matrices
    assert mc.parse("Y", where="Y: stochastic").kind == "matrix"
    assert str(mc.simplify("Y ones", where="Y: stochastic")) == "ones"
    assert str(mc.simplify("softmax(Z) ones")) == "ones"
    assert str(mc.simplify("sum(Y)", where="Y: matrix(n, k) stochastic")) == "n"
    assert mc.verify("Y ones = ones", where="Y: stochastic").holds
    assert not mc.verify("Y ones = ones", seed=0).holds
    with pytest.raises(mc.UsageError, match="implies a matrix"):
        mc.parse("y", where="y: vector stochastic")


def test_centred_rows_sum_to_zero():
    # the rows of X - 1/d X ones ones^T and the columns of X - 1/n ones ones^T X sum to 0
    assert str(mc.simplify(f"{XC} ones", where=BATCH)) == "0"
    assert str(mc.simplify(f"ones^T {BC}", where=BATCH)) == "0"


def test_attention_code_computes_ds_once():
    # dK = dS^T Q / sqrt(d) reuses dQ's dS as a transpose (the simplifier writes the two
    # apart: P ⊙ (G V^T - …) and P^T ⊙ (V G^T - …)), and rowsum(dP ⊙ P) ones^T is a
    # broadcast view, never an n×n array filled with an outer product
    grads = mc.derive(f"tr(G^T {ATTENTION})", ["Q", "K", "V"], where=HEADS)
    for backend in ("numpy", "torch", "jax"):
        source = mc.lambdify(list(grads), backend=backend).source
        assert source.count("@ V.T") == 1 and "G.T" not in source, source
        assert re.search(r"\bt\d+\.T\b", source), source  # dS^T, a temporary transposed
        assert "outer" not in source and "broadcast_to" in source


@pytest.mark.parametrize("case", CASES, ids=str)
def test_derivation_by_differentials_agrees(case):
    # the row-wise differentials (d softmax(Z) = S ⊙ (dZ - (S ⊙ dZ) ones ones^T),
    # d logsumexp(Z) = (softmax(Z) ⊙ dZ) ones) give the same gradient as the index form
    by_differentials = mc.explain(case.expr, case.wrt, where=case.where,
                                  method="differential").result
    assert mc.check(case.expr, case.wrt, where=case.where, trials=2, result=by_differentials,
                    seed=zlib.crc32(case.id.encode())).ok
