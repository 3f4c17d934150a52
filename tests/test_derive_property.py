"""Property: for random well-shaped expressions, the derived closed form agrees with
torch.autograd (issue 4). The default run draws at least 500 examples per kind of
derivative, and the simplifier keeps shapes and values; `--runslow` (`make fuzz`) runs
10,000 scalar and 3,000 of each other kind, with fresh examples each run."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import matrixcalc as mc
from matrixcalc.language.expr import walk
from matrixcalc.index.recover import NoMatrixForm
from strategies import FAMILIES, SAFE_OPS, WHERE, expressions, featuring

CORE_OPS = frozenset({"add", "neg", "mul", "matmul", "transpose", "tr", "sum", "I", "ones",
                      "det", "norm2", "normF", "matpow", "diag_matrix", "diag_vector",
                      "hadamard"})
FAST = settings(max_examples=170, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
LONG = settings(max_examples=10_000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _free_constant(e: mc.Expr) -> bool:
    """An I or ones whose size nothing else fixes (sum(ones)): its value is arbitrary."""
    fixed = {a for info in e.shapes.values() for a in info.rows + info.cols}
    return any(isinstance(n, mc.Const) and not set(n.ty.rows + n.ty.cols) <= fixed
               for n in walk(e))


# Variables that no drawn expression holds (one of each kind): the derivative by one is a
# zero shaped by that variable (SPEC section 3), never by another symbol of the expression.
ABSENT = {"q": 1, "Q": 2, "rho": 0}


def _zero_or_not(text: str, data) -> str:
    """Sometimes the expression minus itself: a derivative that is zero everywhere."""
    return f"({text}) - ({text})" if data.draw(st.booleans(), label="zero") else text


def _check(text: str, data) -> None:
    text = _zero_or_not(text, data)
    e = mc.parse(text)
    assume(not _free_constant(e))
    candidates = [s.name for s in e.symbols()] + list(ABSENT)
    wrt = data.draw(st.sampled_from(candidates), label="wrt")
    dims = ABSENT[wrt] if wrt in ABSENT else len(e.shapes[wrt].shape.dims)
    order = len(e.shape) + dims
    assume(order <= 2)
    try:
        result = mc.derive(e, wrt)
    except mc.UnsupportedError:
        assume(False)
    try:
        report = mc.check(e, wrt, result=result, trials=2, seed=zlib.crc32(text.encode()))
    except mc.UnsupportedError:  # no point inside every domain (||x - x||): not a test
        assume(False)
    assume(report.trials > 0)
    assert report.ok, f"{text} by {wrt}: {result}\n{report}"
    _check_zero_shape(e, wrt, result)


def _check_zero_shape(e: mc.Expr, wrt: str, result: mc.Expr) -> None:
    """A derivative by an absent variable is zero, its last dimensions that variable's
    own, none of them a dimension of the expression (SPEC section 3)."""
    if wrt not in ABSENT:
        return
    own = tuple(result.shapes[wrt].shape.dims)
    assert str(result) == "0", f"d/d{wrt} of {e} is {result}"
    assert tuple(result.shape[len(result.shape) - len(own):]) == own, (e, result.shape, own)
    assert not set(own) & set(e.shape), f"d/d{wrt} of {e} borrows the shape {result.shape}"


@pytest.mark.parametrize("kind", ["scalar", "vector", "matrix"])
@FAST
@given(data=st.data())
def test_derivative_agrees_with_autograd_core(kind, data):
    # d/dX of a random expression over the core operators equals autograd's
    _check(data.draw(expressions(kind=kind, ops=CORE_OPS, max_depth=3), label="expr"), data)


@FAST
@given(data=st.data())
def test_derivative_agrees_with_autograd_all_safe_operators(data):
    # the same over every operator defined on all inputs (elementwise ones included)
    _check(data.draw(expressions(kind="scalar", ops=SAFE_OPS, max_depth=3), label="expr"),
           data)


@pytest.mark.slow
@LONG
@given(data=st.data())
def test_fuzz_derivative_agrees_with_autograd(data):
    # the long run: 10,000 random scalar expressions over every safe operator
    _check(data.draw(expressions(kind="scalar", ops=SAFE_OPS | CORE_OPS, max_depth=4),
                     label="expr"), data)


def _check_family(text: str, data) -> None:
    """derive by a symbol the derivative of order at most 2 allows; check it."""
    zeroed = _zero_or_not(text, data)
    e = mc.parse(zeroed, where=WHERE)
    # f - f with a ones of free size (||ones||_F) has two sizes: not zero
    assume(zeroed == text or not _free_constant(e))
    candidates = [s.name for s in e.symbols()
                  if len(e.shape) + len(s.info.shape.dims) <= 2]
    candidates += [name for name, dims in ABSENT.items() if len(e.shape) + dims <= 2]
    wrt = data.draw(st.sampled_from(candidates), label="wrt")
    try:
        result = mc.derive(e, wrt)
    except mc.UnsupportedError as error:  # a zero matrix inverted: not a test; but every
        if isinstance(error, NoMatrixForm):  # derivative here has a matrix form
            raise
        assume(False)
    try:
        report = mc.check(e, wrt, result=result, trials=1, seed=zlib.crc32(text.encode()))
    except mc.UnsupportedError:  # no point inside every domain: not a test
        assume(False)
    assert report.ok, f"{text} by {wrt}: {result}\n{report}"
    _check_zero_shape(e, wrt, result)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("kind", ["scalar", "vector", "matrix"])
@FAST
@given(data=st.data())
def test_index_form_families_agree_with_autograd(family, kind, data):
    # d/dX around a matrix Hadamard product, diag, kron, vec or mean (170 draws per kind,
    # 510 per family) derives in closed form and equals autograd's
    _check_family(data.draw(featuring(family, kind), label="expr"), data)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
@settings(LONG, max_examples=2000)
@given(data=st.data())
def test_fuzz_index_form_families(family, data):
    # the long run of the families, every kind, deeper operands
    kind = data.draw(st.sampled_from(["scalar", "vector", "matrix"]), label="kind")
    _check_family(data.draw(featuring(family, kind, max_depth=3), label="expr"), data)


@pytest.mark.parametrize("kind", ["scalar", "vector", "matrix"])
@FAST
@given(data=st.data())
def test_simplify_keeps_shape_and_value(kind, data):
    # simplify(e) has e's shape and e's value at random points (ones + ones stays 2 ones)
    text = data.draw(expressions(kind=kind, ops=SAFE_OPS | CORE_OPS, max_depth=3),
                     label="expr")
    _check_simplify(text)


def _check_simplify(text: str) -> None:
    e = mc.parse(text)
    assume(not _free_constant(e))
    try:
        simplified = mc.simplify(e)
        verdict = mc.verify(f"{text} = {simplified}", trials=2, seed=zlib.crc32(text.encode()))
    except mc.UnsupportedError:  # a zero matrix inverted, or no point inside the domains
        assume(False)
    assert (simplified.kind, simplified.shape) == (e.kind, e.shape), f"{text} -> {simplified}"
    assert verdict.holds, f"{text} -> {simplified}\n{verdict}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["vector", "matrix"])
@settings(LONG, max_examples=3000)
@given(data=st.data())
def test_fuzz_vector_and_matrix_derivatives(kind, data):
    # the long run for Jacobians and matrix gradients, over every total operator
    _check(data.draw(expressions(kind=kind, ops=SAFE_OPS | CORE_OPS, max_depth=3),
                     label="expr"), data)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["scalar", "vector", "matrix"])
@settings(LONG, max_examples=3000)
@given(data=st.data())
def test_fuzz_simplify_keeps_shape_and_value(kind, data):
    # the long run of the simplify property, on deeper expressions
    _check_simplify(data.draw(expressions(kind=kind, ops=SAFE_OPS | CORE_OPS, max_depth=4),
                              label="expr"))
