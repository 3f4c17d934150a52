"""Powers and inverses: `^k` and `**` (syntax), X^-T, inv, the matrix power and the
scalar power, with the printing and evaluation helpers the elementwise power shares.
One block each: shape, printing, index form or derivative rule (with its source), SymPy,
evaluation and generated code.

The syntax forms `^k`, `^-T` and `**` mean different things for scalars and matrices;
they are syntax-only records whose `elaborate` hook picks the resolved operator once the
operand's kind is known.
"""

from __future__ import annotations

from fractions import Fraction

from ..budget import check, check_power_digits
from ..errors import UnsupportedError
from ..language.expr import Apply, Expr, Number, Symbol, number
from ..language.shapes import SCALAR
from .arithmetic import COOKBOOK
from .spec import POSTFIX, Differential, OpSpec, register, registered
from .structure import square


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


# -- the records ------------------------------------------------------------------------

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
    if value not in roots or not registered("sqrtm"):
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
