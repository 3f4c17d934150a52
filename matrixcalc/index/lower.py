"""Lowering: a matrix-level tree to a sum of index terms.

`lower(e, (row, col), supply)` gives terms whose free indices are `row` and `col` (None
for a unit dimension). Linear structure (sums, products, transposes, traces, Hadamard
products, diag, sum) becomes index bookkeeping; scalars made of numbers and scalar
symbols become SymPy coefficients; everything else (inv, det, logdet, norms, powers,
elementwise functions, softmax, …) stays an opaque factor whose derivative rule lives in
`matrixcalc.diff`. Operators with neither raise UnsupportedError (never a silent 0).
"""

from __future__ import annotations

import sympy

from .. import build
from ..errors import UnsupportedError
from ..expr import Apply, Const, Expr, Number, Symbol
from .ir import Factor, IndexSupply, Term, multiply
from .scalars import to_sympy

Idx = tuple[str | None, str | None]

# Operators kept whole as factors; their derivative rules are in matrixcalc.diff.
OPAQUE = frozenset({
    "inv", "det", "logdet", "power", "norm2", "normF", "norm1", "epow", "softmax",
    "logsumexp", "bracket", "exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus",
    "sqrt", "abs", "sign", "relu", "step"})


def factor(e: Expr, idx: Idx) -> Factor:
    """`e` as one factor carrying the indices of its non-unit dimensions."""
    row, col = idx
    if e.ty.kind == "row vector":  # stored as the column it transposes: (x^T - s^T)^T = x - s
        from ..rewrite.simplify import simplify_tree
        return Factor(simplify_tree(build.apply("transpose", e)), (col,))
    return Factor(e, tuple(i for i in (row, col) if i is not None))


def lower(e: Expr, idx: Idx, supply: IndexSupply) -> list[Term]:
    coeff = to_sympy(e)
    if coeff is not None:
        return [] if coeff == 0 else [Term(coeff)]
    if isinstance(e, Number):
        return [] if e.value == 0 else [Term(sympy.Rational(e.value.numerator,
                                                           e.value.denominator))]
    if isinstance(e, (Symbol, Const)):
        return [Term(sympy.Integer(1), (factor(e, idx),))]
    if not isinstance(e, Apply):
        raise TypeError(f"not an expression node: {e!r}")
    handler = LOWERINGS.get(e.op)
    if handler is not None:
        return handler(e, idx, supply)
    if e.op in OPAQUE:
        return [Term(sympy.Integer(1), (factor(e, idx),))]
    raise UnsupportedError(f"no index form for `{e.op}` yet: derivatives through it are "
                           "not supported")


def _ones_pads(shape, idx: Idx) -> tuple[Factor, ...]:
    """ones_i for each index of `idx`: summing over it, or broadcasting along it."""
    dims = (shape.rows, shape.cols)
    return tuple(Factor(build.ones(dim), (i,)) for dim, i in zip(dims, idx) if i is not None)


def _broadcast(term_expr: Expr, idx: Idx, shape, supply) -> list[Term]:
    """A number added to a vector or matrix stands for that number times ones."""
    pads = _ones_pads(shape, idx)
    return [Term(t.coeff, t.factors + pads) for t in lower(term_expr, (None, None), supply)]


def _add(e, idx, supply):
    out: list[Term] = []
    for arg in e.args:
        if arg.ty.is_scalar and not e.ty.is_scalar:
            out += _broadcast(arg, idx, e.ty, supply)
        else:
            out += lower(arg, idx, supply)
    return out


def _neg(e, idx, supply):
    return [t.scaled(-1) for t in lower(e.args[0], idx, supply)]


def operand(e: Expr, idx: Idx, supply: IndexSupply) -> list[Term]:
    """An operand of a product: a sum stays one factor (`(D x + d)_a`), so that the
    product rule keeps it whole, as the textbook writes B^T C (D x + d)."""
    if isinstance(e, Apply) and to_sympy(e) is None:
        if e.op == "add":
            return [Term(sympy.Integer(1), (factor(e, idx),))]
        if e.op == "transpose":
            return operand(e.args[0], (idx[1], idx[0]), supply)
        if e.op == "neg":
            return [t.scaled(-1) for t in operand(e.args[0], idx, supply)]
    return lower(e, idx, supply)


def _mul(e, idx, supply):
    scalar, other = e.args if e.args[0].ty.is_scalar else reversed(e.args)
    return multiply(lower(scalar, (None, None), supply), operand(other, idx, supply))


def _matmul(e, idx, supply):
    left, right = e.args
    inner = supply.fresh() if left.ty.cols else None
    return multiply(operand(left, (idx[0], inner), supply),
                    operand(right, (inner, idx[1]), supply))


def _div(e, idx, supply):
    numerator, denominator = e.args
    reciprocal = build.apply("power", denominator, build.num(-1))
    return multiply(lower(numerator, idx, supply), lower(reciprocal, (None, None), supply))


def _transpose(e, idx, supply):
    return lower(e.args[0], (idx[1], idx[0]), supply)


def _trace(e, idx, supply):
    (arg,) = e.args
    if arg.ty.is_scalar:
        return lower(arg, idx, supply)
    k = supply.fresh()
    return lower(arg, (k, k), supply)


def _identity_on_scalars(e, idx, supply):
    if e.args[0].ty.is_scalar:
        return lower(e.args[0], idx, supply)
    return [Term(sympy.Integer(1), (factor(e, idx),))]


def _sum(e, idx, supply):
    (arg,) = e.args
    row = supply.fresh() if arg.ty.rows else None
    col = supply.fresh() if arg.ty.cols else None
    pads = _ones_pads(arg.ty, (row, col))
    return [Term(t.coeff, t.factors + pads) for t in lower(arg, (row, col), supply)]


def _mean(e, idx, supply):
    """mean(M) = avg^T M avg: `avg` (ones/n, an index-form-only vector) that recovery
    must absorb into a mean(…); a term it cannot absorb has no matrix form."""
    (arg,) = e.args
    if arg.ty.is_scalar:
        return lower(arg, idx, supply)
    row = supply.fresh() if arg.ty.rows else None
    col = supply.fresh() if arg.ty.cols else None
    dims = (arg.ty.rows, arg.ty.cols)
    pads = tuple(Factor(average(dim), (i,)) for dim, i in zip(dims, (row, col)) if i)
    return [Term(t.coeff, t.factors + pads) for t in lower(arg, (row, col), supply)]


def average(dim) -> Const:
    """The vector of 1/n (n the size of `dim`), used only inside index terms."""
    from ..shapes import ONE, Shape
    return Const("avg", ty=Shape(dim, ONE))


def _hadamard(e, idx, supply):
    left, right = e.args
    if left.ty.is_scalar or right.ty.is_scalar:
        return _mul(e, idx, supply)
    return multiply(operand(left, idx, supply), operand(right, idx, supply))


def _ediv(e, idx, supply):
    left, right = e.args
    reciprocal = build.apply("epow", right, build.num(-1))
    return _hadamard(build.apply("hadamard", left, reciprocal), idx, supply)


def _diag_matrix(e, idx, supply):
    row, col = idx
    delta = Term(sympy.Integer(1), (Factor(build.identity(e.ty.rows), (row, col)),))
    return multiply(operand(e.args[0], (row, None), supply), [delta])


def _diag_vector(e, idx, supply):
    row = idx[0]
    return lower(e.args[0], (row, row), supply)


def _matpow(e, idx, supply):
    (base,), (k,) = e.args, e.attrs
    if k == 0:
        return lower(build.identity(base.ty.rows), idx, supply)
    single = base if k > 0 else build.apply("inv", base)
    chain = single
    for _ in range(abs(k) - 1):
        chain = build.apply("matmul", chain, single)
    return lower(chain, idx, supply)


LOWERINGS = {
    "add": _add, "neg": _neg, "mul": _mul, "matmul": _matmul, "div": _div,
    "transpose": _transpose, "tr": _trace, "sum": _sum, "mean": _mean, "hadamard": _hadamard,
    "ediv": _ediv, "diag_matrix": _diag_matrix, "diag_vector": _diag_vector,
    "matpow": _matpow, "det": _identity_on_scalars,
}


EXPANDABLE = frozenset({"add", "neg", "mul", "matmul", "transpose", "hadamard"})


def expansion_limit(terms: list[Term]) -> int:
    """How many terms expanding `terms` may give before it is not worth it: a product of
    k sums has 2^k terms (a depth-k network's gradient), and cancels nothing."""
    return 2 * len(terms) + 8


def expand(terms: list[Term], supply: IndexSupply, limit: int | None = None
           ) -> list[Term] | None:
    """Distribute composite linear factors (`(1 - s)_i`, `(y - X w)_i`) into their terms;
    None once there would be more than `limit` terms."""
    out: list[Term] = []
    pending = list(terms)
    while pending:
        if limit is not None and len(out) + len(pending) > limit:
            return None
        term = pending.pop()
        for n, f in enumerate(term.factors):
            parts = _expansion(f, supply)
            if parts is not None:
                rest = Term(term.coeff, term.factors[:n] + term.factors[n + 1:])
                pending += [rest.times(t) for t in parts]
                break
        else:
            out.append(term)
    return out[::-1]


def _expansion(f: Factor, supply: IndexSupply) -> list[Term] | None:
    """The terms of a composite factor, or None when it is atomic (lowering gives it back)."""
    if not (isinstance(f.expr, Apply) and f.expr.op in EXPANDABLE):
        return None
    idx = (f.idx[0] if f.idx else None, f.idx[1] if len(f.idx) > 1 else None)
    parts = lower(f.expr, idx, supply)
    if len(parts) == 1 and parts[0].coeff == 1 and parts[0].factors == (f,):
        return None
    return parts
