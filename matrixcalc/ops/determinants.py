"""Determinants: det, logdet (log|det|) and the syntax `|X|` (the determinant of a
matrix, the absolute value of a scalar). One block each: shape, printing, index form or
derivative rule (with its source), SymPy, evaluation and generated code.
"""

from __future__ import annotations

from ..language.shapes import SCALAR
from .arithmetic import COOKBOOK
from .spec import ATOM, Differential, OpSpec, call_latex, call_text, register
from .structure import by_kind, on_arrays, square


def _det_shape(ctx, node, types):
    if not types[0].is_scalar:
        square(ctx, node, types[0], node.op)
    return SCALAR


def _det_lower(L, node, idx):
    """det(s) = s for a scalar; det(M) is kept whole (its rule is its derivative)."""
    if node.args[0].ty.is_scalar:
        return L.lower(node.args[0], idx)
    return L.leaf(node, idx)


def _det_derivative(d, node, idx):
    """d det(M) = det(M) tr(M^-1 dM) (Matrix Cookbook (41))."""
    (m,) = node.args
    k, l = d.fresh(), d.fresh()
    return d.times(d.term(d.factor(node, (None, None)),
                          d.factor(d.build.apply("inv", m), (l, k))), d.expr(m, (k, l)))


def _det_differential(D, node, dargs):
    """d det(M) = det(M) tr(M^-1 dM); det(s) = s for a scalar."""
    (m,), (dm,) = node.args, dargs
    if m.ty.is_scalar:
        return dm
    return D.build.apply("mul", node, D.trace_of(D.chain(D.build.apply("inv", m), dm)))


register(OpSpec(
    "det", 1, ATOM, text=call_text("det"), latex=call_latex(r"\det"), shape=_det_shape,
    evaluate=lambda B, node, x: B.xp.linalg.det(x).reshape(1, 1), call_names=("det",),
    lower=_det_lower, derivative=_det_derivative,
    title="determinant", rule="d det(M) = det(M) tr(M^-1 dM)",
    differential=Differential(_det_differential),
    scalar=lambda S, node, a: a,
    sympy_matrix=lambda S, node, a: S.on_scalar(node, a, S.Determinant),
    code=on_arrays("{xp}.linalg.det({0})"),
    domains=("invertible",), flags=frozenset({"vanishes_at_zero", "number_code"}),
    source=f"{COOKBOOK}, section 2.1, (41)", example="det(A X)",
    example_where="A, X: square"))


def _logdet_derivative(d, node, idx):
    """d log|det M| = tr(M^-1 dM) (Matrix Cookbook (43)); d log|s| = ds / s."""
    (m,) = node.args
    if m.ty.is_scalar:
        return d.times(d.term(d.factor(d.build.reciprocal(m), (None, None))),
                       d.expr(m, (None, None)))
    k, l = d.fresh(), d.fresh()
    return d.times(d.term(d.factor(d.build.apply("inv", m), (l, k))), d.expr(m, (k, l)))


def _logdet_differential(D, node, dargs):
    """d log|det M| = tr(M^-1 dM); d log|s| = ds/s."""
    (m,), (dm,) = node.args, dargs
    if m.ty.is_scalar:
        return D.build.apply("div", dm, m)
    return D.trace_of(D.chain(D.build.apply("inv", m), dm))


register(OpSpec(
    "logdet", 1, ATOM, text=call_text("logdet"),
    latex=lambda p, node: f"\\log\\left|{p.arg(node.args[0], 0)}\\right|",
    shape=_det_shape, evaluate=lambda B, node, x: B.xp.linalg.slogdet(x)[1].reshape(1, 1),
    call_names=("logdet",), derivative=_logdet_derivative,
    title="log-determinant", rule="d log|det M| = tr(M^-1 dM)",
    differential=Differential(_logdet_differential),
    sympy_matrix=lambda S, node, a: S.logdet(node, a),
    code=lambda g, node, a: (g.call("log", g.call("abs", a[0])) if a[0].shape.is_scalar
                             else f"{g.call('linalg.slogdet', *a)}[1]"),
    domains=("invertible",), source=f"{COOKBOOK}, section 2.1.1 (43), (57): log|det X|",
    example="logdet(X)", example_where="X: square"))


_bars_elaborate = by_kind(
    {"matrix": "det", "scalar": "abs"},
    "|…| is the determinant of a matrix or the absolute value of a scalar",
    hint="write abs(x) for elementwise absolute values or ||x|| for the norm")


register(OpSpec(
    "bars", 1, ATOM, elaborate=_bars_elaborate, syntax_only=True,
    source="|X| is det(X) for a matrix, the absolute value for a scalar"))
