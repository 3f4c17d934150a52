"""Linear-algebra operators: inverse, powers, determinants, norms and the constant π. One
block each: shape, printing, index form or derivative rule (with its source), SymPy,
evaluation and generated code.

The syntax forms `^k`, `^-T`, `|X|`, `||x||_p` and `norm(x, p)` mean different things
for scalars and matrices; they are syntax-only records whose `elaborate` hook picks the
resolved operator once the operand's kind is known.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..budget import check, check_power_digits
from ..errors import UnsupportedError
from ..language.expr import Apply, Expr, Number, Symbol, number
from ..language.shapes import SCALAR
from .arithmetic import COOKBOOK
from .spec import (
    ATOM,
    POSTFIX,
    Differential,
    OpSpec,
    call_latex,
    call_text,
    constant,
    lookup,
    register,
)
from .structure import by_kind, on_arrays, square


def integer_literal(node: Expr) -> int | None:
    """The value of `3` or `-2` written as a literal; None for anything else."""
    sign = 1
    if isinstance(node, Apply) and node.op == "neg" and len(node.args) == 1:
        sign, node = -1, node.args[0]
    if isinstance(node, Number) and node.value.denominator == 1:
        return sign * int(node.value)
    return None


def exponent_text(p, exponent: Expr) -> str:
    """A number or a negated number is written bare (`^2`, `^-1`), anything else braced."""
    bare = isinstance(exponent, Number) or (
        isinstance(exponent, Apply) and exponent.op == "neg"
        and isinstance(exponent.args[0], Number))
    text = p.arg(exponent, 0)
    if text in ("T", "-T"):  # `x^{T}` would read as a transpose
        text = f"({text})"
    return text if bare else "{" + text + "}"


def exponent_latex(p, exponent: Expr) -> str:
    return "{" + p.arg(exponent, 0) + "}"


def power_value(x, k):
    """x^k on SymPy scalars; numbers whose power would have more digits than the limit
    allows are refused before SymPy computes them (9^{9^9})."""
    if getattr(x, "is_Rational", False) and getattr(k, "is_Rational", False):
        check_power_digits(Fraction(int(x.p), int(x.q)), Fraction(int(k.p), int(k.q)))
    return x ** k


def power_code(g, node, a):
    base, exponent = a
    base_code = g.numeric(base) if base.pyfloat and exponent.pyfloat else base.code
    return f"{base_code} ** {exponent.code}"


# -- powers and inverses -------------------------------------------------------------------

def _caret_elaborate(ctx, node, types):
    base, exponent = node.args
    if not types[1].is_scalar:
        ctx.fail(f"an exponent is a scalar, not {ctx.describe(types[1])}", node)
    if types[0].is_scalar:
        return Apply("power", node.args, span=node.span)
    if types[0].kind != "matrix":
        ctx.fail(f"cannot raise {ctx.describe(types[0])} to a power", node,
                 hint="use .^ for an elementwise power, or declare it a scalar")
    k = integer_literal(exponent)
    if k is None:
        ctx.fail("a matrix power needs an integer literal exponent (X^3, X^-1)", node,
                 hint=_fractional_power_hint(base, exponent))
    if k == -1:
        return Apply("inv", (base,), span=node.span)
    return Apply("matpow", (base,), (k,), span=node.span)


def _fractional_power_hint(base: Expr, exponent: Expr) -> str:
    """`sqrtm(A)` for A^0.5 where the operator table has sqrtm (looked up now: it may be
    registered later), and the elementwise power in every case."""
    name = base.name if isinstance(base, Symbol) else "(…)"
    value = _literal_value(exponent)
    shown = "p" if value is None else format(float(value), "g")
    elementwise = f"`{name}.^{shown}` for the elementwise power"
    roots = {Fraction(1, 2): f"sqrtm({name})", Fraction(-1, 2): f"inv(sqrtm({name}))"}
    if value not in roots or not _registered("sqrtm"):
        return f"write {elementwise}"
    return f"for the matrix square root write `{roots[value]}`; {elementwise}"


def _literal_value(node: Expr) -> Fraction | None:
    """The value of a literal exponent: `0.5`, `-0.5`, `{1/2}`; None for anything else."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Apply) and node.op == "neg":
        inner = _literal_value(node.args[0])
        return None if inner is None else -inner
    if isinstance(node, Apply) and node.op == "div":
        top, bottom = (_literal_value(a) for a in node.args)
        return None if top is None or not bottom else top / bottom
    return None


def _registered(name: str) -> bool:
    try:
        lookup(name)
    except UnsupportedError:
        return False
    return True


register(OpSpec(
    "caret", 2, POSTFIX, elaborate=_caret_elaborate, syntax_only=True,
    flags=frozenset({"scalar_context"}),
    source="^k: a power of a scalar, an integer power of a square matrix"))


def _starpow_elaborate(ctx, node, types):
    """`**` as pasted from Python: a power of a scalar, numpy's elementwise power of a
    vector (its only meaning there); of a matrix it is ambiguous (numpy: elementwise,
    SymPy and papers: the matrix power), so the user says which."""
    base, exponent = node.args
    if types[0].is_scalar or types[0].kind != "matrix":
        op = "caret" if types[0].is_scalar else "epow"
        return Apply(op, node.args, span=node.span)
    name = base.name if isinstance(base, Symbol) else "(…)"
    k = exponent if isinstance(exponent, Number) else f"{{{exponent}}}"
    ctx.fail("`**` of a matrix is ambiguous: numpy's elementwise power or the matrix power",
             node, hint=f"write `{name}.^{k}` for the elementwise power or `{name}^{k}` for "
                        "the matrix power")


register(OpSpec(
    "starpow", 2, POSTFIX, elaborate=_starpow_elaborate, syntax_only=True,
    source="**: Python's power operator, read as ^ (scalar) or .^ (vector)"))


def _inverse_transpose_elaborate(ctx, node, types):
    (base,) = node.args
    if types[0].is_scalar:
        return Apply("power", (base, number(-1)), span=node.span)
    return Apply("inv", (Apply("transpose", (base,), span=node.span),), span=node.span)


register(OpSpec(
    "inverse_transpose", 1, POSTFIX, elaborate=_inverse_transpose_elaborate,
    syntax_only=True, source="X^-T = (X^T)^-1 = (X^-1)^T"))


def _inv_elaborate(ctx, node, types):
    if types[0].is_scalar:
        return Apply("power", (node.args[0], number(-1)), span=node.span)
    return None


def _inv_shape(ctx, node, types):
    square(ctx, node, types[0], "inv")
    return types[0]


def _inv_text(p, node):
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "transpose":
        return f"{p.base(arg.args[0])}^-T"
    return f"{p.base(arg)}^-1"


def _inv_latex(p, node):
    (arg,) = node.args
    if isinstance(arg, Apply) and arg.op == "transpose":
        return f"{p.base(arg.args[0])}^{{-\\top}}"
    return f"{p.base(arg)}^{{-1}}"


def _inv_derivative(d, node, idx):
    """d(M^-1) = -M^-1 dM M^-1 (Matrix Cookbook (59))."""
    (m,) = node.args
    i, j = idx
    k, l = d.fresh(), d.fresh()
    return d.times(d.term(d.factor(node, (i, k)), coeff=-1), d.expr(m, (k, l)),
                   d.term(d.factor(node, (l, j))))


def _inv_differential(D, node, dargs):
    """d(M^-1) = -M^-1 dM M^-1."""
    return D.build.negate(D.chain(node, dargs[0], node))


register(OpSpec(
    "inv", 1, POSTFIX, text=_inv_text, latex=_inv_latex, shape=_inv_shape,
    evaluate=lambda B, node, x: B.xp.linalg.inv(x), call_names=("inv",),
    elaborate=_inv_elaborate, derivative=_inv_derivative,
    title="inverse", rule="d(M^-1) = -M^-1 dM M^-1",
    differential=Differential(_inv_differential),
    sympy_matrix=lambda S, node, a: S.Inverse(a[0]), code="{xp}.linalg.inv({0})",
    domains=("invertible",), source=f"{COOKBOOK}, section 3, (59)",
    example="x^T X^-1 y", example_where="X: square"))


def _matpow_shape(ctx, node, types):
    square(ctx, node, types[0], "a matrix power")
    return types[0]


# Up to this exponent a matrix power is lowered as the product it stands for (X^3 = X X X),
# so that it cancels against the same product written out; a higher one stays one factor,
# differentiated by its rule, whose terms contraction merges back into powers.
CHAIN_POWER = 4


def _matpow_lower(L, node, idx):
    """X^k = X X … X (k factors, for |k| ≤ CHAIN_POWER); X^-k the same of X^-1."""
    (base,), (k,) = node.args, node.attrs
    if k == 0:
        return L.lower(L.build.identity(base.ty.rows), idx)
    if abs(k) > CHAIN_POWER:
        return L.leaf(node, idx)
    single = base if k > 0 else L.build.apply("inv", base)
    chain = single
    for _ in range(abs(k) - 1):
        chain = L.build.apply("matmul", chain, single)
    return L.lower(chain, idx)


def matrix_power(build, base: Expr, k: int) -> Expr:
    """X^k as a tree: X, X^-1 (inv) or matpow; k ≠ 0."""
    if k == 1:
        return base
    return build.apply("inv", base) if k == -1 else build.apply("matpow", base, attrs=(k,))


def _matpow_derivative(d, node, idx):
    """d(X^k) = Σ_{m<k} X^m dX X^(k-1-m); d(X^-k) = -Σ_{m<k} X^-(m+1) dX X^-(k-m)
    (the product rule over k factors, d(X^-1) = -X^-1 dX X^-1): k terms, so bounded by
    the power limit; under a trace, where they are one, d tr(X^k) = k tr(X^(k-1) dX) for
    any integer k (Matrix Cookbook (121)). Contraction merges the powers of each term."""
    (base,), (k,) = node.args, node.attrs
    i, j = idx
    if i == j:  # under a trace the k terms are one: tr(X^m dX X^(k-1-m)) = tr(X^(k-1) dX)
        a, b = d.fresh(), d.fresh()
        return d.times(d.term(d.factor(matrix_power(d.build, base, k - 1), (b, a)), coeff=k),
                       d.expr(base, (a, b)))
    check("power", abs(k), f"the number of terms of the derivative of X^{k}")
    sign, n = (1, k) if k > 0 else (-1, -k)
    out = []
    for m in range(n):
        left, right = (m, n - 1 - m) if k > 0 else (-(m + 1), -(n - m))
        a = d.fresh() if left else i
        b = d.fresh() if right else j
        parts = [d.expr(base, (a, b))]
        if left:
            parts.insert(0, d.term(d.factor(matrix_power(d.build, base, left), (i, a))))
        if right:
            parts.append(d.term(d.factor(matrix_power(d.build, base, right), (b, j))))
        out += [t.scaled(sign) for t in d.times(*parts)]
    return out


def _matpow_text(p, node):
    """X^5; a base with a postfix of its own is parenthesized: (X^T)^5, not X^T^5."""
    (base,) = node.args
    shown = p.base(base)  # parenthesizes every other postfix already
    if p.style == "text" and isinstance(base, Apply) and base.op == "transpose":
        shown = f"({shown})"
    return f"{shown}^{node.attrs[0]}"


def _matpow_differential(D, node, dargs):
    """d(X^k) = dX X^(k-1) + X dX X^(k-2) + … + X^(k-1) dX; for k < 0 the same of X^-1,
    whose differential is -X^-1 dX X^-1: d(X^-k) = -(X^-1 dX X^-k + … + X^-k dX X^-1)."""
    (x,), (k,), (dx,) = node.args, node.attrs, dargs
    if k == 0:
        return None
    check("power", abs(k), f"the number of terms of the differential of X^{k}")
    power = lambda j: D.matrix_power(x, j if k > 0 else -j)  # noqa: E731
    terms = [D.chain(power(j), dx, power(abs(k) - 1 - j)) if k > 0 else
             D.chain(power(j + 1), dx, power(abs(k) - j)) for j in range(abs(k))]
    total = D.total(terms)
    return total if k > 0 else D.build.negate(total)


register(OpSpec(
    "matpow", 1, POSTFIX,
    text=_matpow_text,
    latex=lambda p, node: f"{p.base(node.args[0])}^{{{node.attrs[0]}}}",
    shape=_matpow_shape,
    evaluate=lambda B, node, x: B.xp.linalg.matrix_power(x, node.attrs[0]),
    lower=_matpow_lower, derivative=_matpow_derivative,
    title="matrix power", rule="d(X^k) = Σ_{m<k} X^m dX X^(k-1-m)",
    sympy_matrix=lambda S, node, a: S.MatPow(a[0], node.attrs[0]),
    differential=Differential(_matpow_differential, "matrix power",
                              "d(X^k) = dX X^(k-1) + X dX X^(k-2) + … + X^(k-1) dX"),
    code=lambda g, node, a: g.call("linalg.matrix_power", a[0], str(node.attrs[0])),
    domains=("invertible",), source=f"{COOKBOOK}, section 2.5 (101) for tr(X^k)",
    example="tr(X^3)", example_where="X: square"))


def _power_shape(ctx, node, types):
    for ty in types:
        if not ty.is_scalar:
            ctx.fail(f"power takes scalars, not {ctx.describe(ty)}", node)
    return SCALAR


def power_derivative(d, node, idx):
    """d(s^p) = p s^(p-1) ds, elementwise for .^ (p constant)."""
    base, exponent = node.args
    p = d.constant_exponent(exponent)
    if p < 0 and d.vanishes(base):  # 1/0: no value, so no derivative (never a quiet 0)
        raise UnsupportedError(f"`{base}` is identically 0, so `{node}` divides by zero: "
                               "it has no value and no derivative")
    trees = [] if p == 1 else [base if p == 2 else
                               d.build.apply(node.op, base, d.tree(p - 1, exponent))]
    return [t.scaled(p) for t in d.entrywise_times(trees, base, idx)]


def power_differential(D, node, dargs):
    """d(s^p) = p s^(p-1) ds, elementwise for .^ (p constant)."""
    base, exponent = node.args
    p = D.constant_exponent(exponent)
    trees = [] if p == 1 else [base if p == 2 else
                               D.build.apply(node.op, base, D.tree(p - 1, exponent))]
    return D.entrywise(D.tree(p, exponent), trees, dargs[0])


register(OpSpec(
    "power", 2, POSTFIX,
    text=lambda p, node: f"{p.base(node.args[0])}^{exponent_text(p, node.args[1])}",
    latex=lambda p, node: f"{p.base(node.args[0])}^{exponent_latex(p, node.args[1])}",
    shape=_power_shape, evaluate=lambda B, node, x, k: x ** k,
    derivative=power_derivative, title="power", rule="d(s^p) = p s^(p-1) ds",
    differential=Differential(power_differential),
    scalar=lambda S, node, x, k: power_value(x, k),
    sympy_matrix=lambda S, node, a: power_value(S.scalar(a[0]), S.scalar(a[1])),
    code=power_code,
    domains=("positive", "real"), flags=frozenset({"scalar_context"}), source="definition",
    example="α^3 + β^0.5", example_where="α, β: scalar"))


# -- determinants --------------------------------------------------------------------------

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


# -- norms ---------------------------------------------------------------------------------

# Norms of a matrix other than the Frobenius norm, by order: records of the matrix
# functions' module (looked up when a norm is resolved).
MATRIX_NORMS = {"2": "normspec", "*": "normnuc"}
MATRIX_NORM_HINT = "write ||X||_F (Frobenius), ||X||_2 (spectral) or ||X||_* (nuclear)"


def _resolve_norm(ctx, node, ty, p: str):
    """The norm an order means for the operand's kind; "" is no order written: the
    Euclidean norm of a vector, and for a matrix a choice left to the user (numpy's
    norm(X) is Frobenius, a textbook's ||A|| often spectral)."""
    if p == "F":
        return "normF"
    if ty.kind == "matrix":
        if p in MATRIX_NORMS and _registered(MATRIX_NORMS[p]):
            return MATRIX_NORMS[p]
        raise UnsupportedError(f"the induced {p}-norm of a matrix is not supported" if p else
                               "the norm of a matrix needs its order: there are several",
                               span=node.span, hint=MATRIX_NORM_HINT)
    if p == "*":
        raise UnsupportedError("the nuclear norm ||X||_* takes a matrix", span=node.span,
                               hint="write ||x|| for the Euclidean norm of a vector")
    return "norm1" if p == "1" else "norm2"


def _normbars_elaborate(ctx, node, types):
    (p,) = node.attrs
    return Apply(_resolve_norm(ctx, node, types[0], p), node.args, span=node.span)


register(OpSpec(
    "normbars", 1, ATOM, elaborate=_normbars_elaborate, syntax_only=True,
    source="||x|| and ||x||_2 Euclidean, ||x||_1, ||X||_F Frobenius, ||X||_2 spectral, "
           "||X||_* nuclear"))

NORM_ORDERS = {Fraction(1): "1", Fraction(2): "2"}
NORM_STRINGS = {"fro": "F", "F": "F", "1": "1", "2": "2", "nuc": "*"}


def _norm_call_elaborate(ctx, node, types):
    args, strings = node.args, node.attrs
    if len(args) == 2 and not strings and isinstance(args[1], Number) \
            and args[1].value in NORM_ORDERS:
        p = NORM_ORDERS[args[1].value]
    elif len(args) == 1 and len(strings) == 1 and strings[0] in NORM_STRINGS:
        p = NORM_STRINGS[strings[0]]
    elif len(args) == 1 and not strings:
        p = ""
    else:
        raise UnsupportedError("norm takes norm(x), norm(x, 1), norm(x, 2), "
                               "norm(X, \"fro\") or norm(X, \"nuc\")", span=node.span)
    return Apply(_resolve_norm(ctx, node, types[0], p), args[:1], span=node.span)


register(OpSpec(
    "norm", None, ATOM, call_names=("norm",), elaborate=_norm_call_elaborate,
    syntax_only=True, flags=frozenset({"string_args"}),
    source="norm(x), norm(x, 1), norm(X, \"fro\"), norm(X, 2), norm(X, \"nuc\")"))


def norm_text(suffix: str):
    """`||x||_1`; an argument containing bars is parenthesized (`||(a ||x||)||`), since
    `||a ||x||||` would not read back."""
    def text(p, node):
        inner = p.arg(node.args[0], 0)
        return f"||({inner})||{suffix}" if "|" in inner else f"||{inner}||{suffix}"
    return text


def _norm_latex(suffix: str):
    return lambda p, node: f"\\left\\|{p.arg(node.args[0], 0)}\\right\\|_{suffix}"


def _vector_norm_shape(ctx, node, types):
    if types[0].kind == "matrix":
        ctx.fail(f"this norm takes a vector, not {ctx.describe(types[0])}", node)
    return SCALAR


def _refuse_norm_of_zero(ctx, node, v):
    """||0|| has no derivative (0/0): either engine's context says whether v vanishes."""
    if ctx.vanishes(v):
        raise UnsupportedError(f"`{node}` is the norm of something identically zero: it "
                               "has no derivative there (0/0), so the derivative is not "
                               "defined")


def _euclidean_derivative(d, node, idx):
    """d||v|| = v^T dv / ||v|| (Matrix Cookbook (129)); the same for ||X||_F (130)."""
    (v,) = node.args
    _refuse_norm_of_zero(d, node, v)
    inner = d.inner(v)
    scale = d.factor(d.build.reciprocal(node), (None, None))
    return d.times(d.term(scale, d.factor(v, inner)), d.expr(v, inner))


def _euclidean_differential(D, node, dargs):
    """d||v|| = v^T dv / ||v||; d||X||_F = tr(X^T dX) / ||X||_F."""
    (v,) = node.args
    _refuse_norm_of_zero(D, node, v)
    return D.build.apply("div", D.inner(v, dargs[0]), node)


def _one_norm_derivative(d, node, idx):
    """d||v||_1 = sign(v)^T dv, away from zero entries."""
    (v,) = node.args
    inner = d.inner(v)
    return d.times(d.term(d.factor(d.build.apply("sign", v), inner)), d.expr(v, inner))


def _euclidean(name, suffix, shape, source, example, rule):
    register(OpSpec(
        name, 1, ATOM, text=norm_text(suffix and f"_{suffix}"), latex=_norm_latex(suffix or "2"),
        shape=shape, evaluate=lambda B, node, x: B.xp.sqrt((x * x).sum()).reshape(1, 1),
        derivative=_euclidean_derivative, rule=rule,
        differential=Differential(_euclidean_differential),
        title="Frobenius norm" if suffix else "Euclidean norm",
        sympy_matrix=lambda S, node, a: S.norm2(node, a),
        code={"numpy": "np.linalg.norm({0})", "torch": "torch.linalg.vector_norm({0})",
              "jax": "jnp.linalg.norm({0})"},
        flags=frozenset({"vanishes_at_zero"}), source=source, example=example))


_euclidean("norm2", "", _vector_norm_shape, f"{COOKBOOK}, section 2.6 (129)",
           "||A x - b||", "d||v|| = v^T dv / ||v||")
_euclidean("normF", "F", lambda ctx, node, types: SCALAR, f"{COOKBOOK}, section 2.7 (130)",
           "||A X - B||_F", "d||X||_F = tr(X^T dX) / ||X||_F")

register(OpSpec(
    "norm1", 1, ATOM, text=norm_text("_1"), latex=_norm_latex("1"), shape=_vector_norm_shape,
    evaluate=lambda B, node, x: B.xp.abs(x).sum().reshape(1, 1),
    derivative=_one_norm_derivative, title="1-norm", rule="d||v||_1 = sign(v)^T dv",
    differential=Differential(
        lambda D, node, dargs: D.inner(D.build.apply("sign", node.args[0]), dargs[0])),
    code={"numpy": "np.sum(np.abs({0}))", "torch": "torch.linalg.vector_norm({0}, 1)",
          "jax": "jnp.sum(jnp.abs({0}))"},
    flags=frozenset({"vanishes_at_zero"}), source=f"{COOKBOOK}, section 2.6",
    example="||A x||_1"))


# -- constants -----------------------------------------------------------------------------

register(OpSpec(
    "pi", 0, ATOM, text=lambda p, node: "pi", latex=lambda p, node: r"\pi",
    shape=lambda ctx, node, types: SCALAR,
    evaluate=lambda B, node: B.scalar(math.pi), derivative=lambda d, node, idx: [],
    title="constant", rule="dπ = 0", scalar=lambda S, node: S.pi,
    differential=constant("dπ = 0"),
    sympy_matrix=lambda S, node, a: S.pi,
    code={"numpy": "np.pi", "torch": "torch.pi", "jax": "jnp.pi"},
    flags=frozenset({"number_code"}),
    source="the circle constant π, as the derivative of erf needs it",
    example="pi α^2", example_where="α: scalar"))
