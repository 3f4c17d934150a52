"""Lowering: a matrix-level tree to a sum of index terms.

`lower(e, (row, col), supply)` gives terms whose free indices are `row` and `col` (None
for a unit dimension). Linear structure becomes index bookkeeping: sums, products,
transposes and traces rename indices; Hadamard products, diag (both ways) and broadcast
numbers go through copy tensors, Kronecker products and vec through pair tensors, so that
within a term no index occurs more than twice; `I` and `ones` are copy tensors of order 2
and 1, and `mean` is a sum over the number of entries. Scalars made of numbers, scalar
symbols and sizes become SymPy coefficients; everything else (inv, det, logdet, norms,
powers, elementwise functions, softmax, …) stays an opaque factor whose derivative rule
lives in `matrixcalc.diff`. Operators with neither raise UnsupportedError (never a silent 0).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from .. import build
from ..errors import UnsupportedError
from ..expr import Apply, Const, Dimension, Expr, Number, Symbol
from ..shapes import Shape
from .ir import Factor, IndexSupply, Term, copy, multiply, pair
from .scalars import size, to_sympy

Idx = tuple[str | None, str | None]
ONE = sympy.Integer(1)

# Operators kept whole as factors; their derivative rules are in matrixcalc.diff.
OPAQUE = frozenset({
    "inv", "det", "logdet", "power", "norm2", "normF", "norm1", "epow", "softmax",
    "logsumexp", "bracket", "exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus",
    "sqrt", "abs", "sign", "relu", "step"})


def factor(e: Expr, idx: Idx) -> Factor:
    """`e` as one factor carrying the indices of its non-unit dimensions; a row vector is
    stored as the column it transposes ((x^T - s^T)^T = x - s)."""
    row, col = idx
    if e.ty.kind == "row vector":
        return Factor(build.transposed(e), (col,))
    return Factor(e, tuple(i for i in (row, col) if i is not None))


def lower(e: Expr, idx: Idx, supply: IndexSupply) -> list[Term]:
    coeff = to_sympy(e)
    if coeff is not None:
        return [] if coeff == 0 else [Term(coeff)]
    if isinstance(e, Number):
        return [] if e.value == 0 else [Term(sympy.Rational(e.value.numerator,
                                                           e.value.denominator))]
    if isinstance(e, Const):
        return [Term(ONE, (copy(e.ty.rows, tuple(i for i in idx if i is not None)),))]
    if isinstance(e, (Symbol, Dimension)):
        return [Term(ONE, (factor(e, idx),))]
    if not isinstance(e, Apply):
        raise TypeError(f"not an expression node: {e!r}")
    handler = LOWERINGS.get(e.op)
    if handler is not None:
        return handler(e, idx, supply)
    if e.op in OPAQUE:
        return [Term(ONE, (factor(e, idx),))]
    raise UnsupportedError(f"no index form for `{e.op}` yet: derivatives through it are "
                           "not supported")


def _ones_pads(shape: Shape, idx: Idx) -> tuple[Factor, ...]:
    """ones_i (a copy tensor of order 1) for each index: summing over it, or broadcasting
    along it."""
    dims = (shape.rows, shape.cols)
    return tuple(copy(dim, (i,)) for dim, i in zip(dims, idx) if i is not None)


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
            return [Term(ONE, (factor(e, idx),))]
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
    return [Term(ONE, (factor(e, idx),))]


def _sum(e, idx, supply):
    (arg,) = e.args
    row = supply.fresh() if arg.ty.rows else None
    col = supply.fresh() if arg.ty.cols else None
    pads = _ones_pads(arg.ty, (row, col))
    return [Term(t.coeff, t.factors + pads) for t in lower(arg, (row, col), supply)]


def _mean(e, idx, supply):
    """mean(M) = sum(M) / (the number of entries of M), a size."""
    (arg,) = e.args
    entries = size(arg.ty.rows + arg.ty.cols)
    return [t.scaled(1 / entries) for t in _sum(e, idx, supply)]


Part = Callable[[Idx], list[Term]]


def entrywise(parts: list[Part], shape: Shape, idx: Idx, supply: IndexSupply) -> list[Term]:
    """The entry-by-entry product of `parts` (each lowered at indices it is given), all of
    `shape`: each part gets indices of its own, joined to `idx` by copy tensors."""
    if len(parts) == 1:
        return parts[0](idx)
    dims = (shape.rows, shape.cols)
    own = [tuple(supply.fresh() if i is not None else None for i in idx) for _ in parts]
    copies = tuple(copy(dims[k], (idx[k], *(names[k] for names in own)))
                   for k in (0, 1) if idx[k] is not None)
    terms = [Term(ONE, copies)]
    for part, names in zip(parts, own):
        terms = multiply(terms, part(names))
    return terms


def _hadamard(e, idx, supply):
    left, right = e.args
    if left.ty.is_scalar or right.ty.is_scalar:
        return _mul(e, idx, supply)
    return entrywise([lambda i: operand(left, i, supply), lambda i: operand(right, i, supply)],
                     e.ty, idx, supply)


def _ediv(e, idx, supply):
    left, right = e.args
    reciprocal = build.apply("epow", right, build.num(-1))
    return _hadamard(build.apply("hadamard", left, reciprocal), idx, supply)


def _diag_matrix(e, idx, supply):
    """diag(v)_ij = δ_ija v_a."""
    row, col = idx
    a = supply.fresh()
    return multiply([Term(ONE, (copy(e.ty.rows, (row, col, a)),))],
                    operand(e.args[0], (a, None), supply))


def _diag_vector(e, idx, supply):
    """diag(M)_i = δ_iab M_ab."""
    a, b = supply.fresh(), supply.fresh()
    return multiply([Term(ONE, (copy(e.ty.rows, (idx[0], a, b)),))],
                    operand(e.args[0], (a, b), supply))


def _matpow(e, idx, supply):
    (base,), (k,) = e.args, e.attrs
    if k == 0:
        return lower(build.identity(base.ty.rows), idx, supply)
    single = base if k > 0 else build.apply("inv", base)
    chain = single
    for _ in range(abs(k) - 1):
        chain = build.apply("matmul", chain, single)
    return lower(chain, idx, supply)


def _split(combined: str | None, outer_dim, inner_dim, supply) -> tuple[list, str | None,
                                                                       str | None]:
    """A combined index of outer_dim × inner_dim as its (outer, inner) parts; a unit part
    needs no index and no pair tensor."""
    if combined is None:
        return [], None, None
    if not outer_dim:
        return [], None, combined
    if not inner_dim:
        return [], combined, None
    outer, inner = supply.fresh(), supply.fresh()
    return [pair(combined, outer, inner, outer_dim, inner_dim)], outer, inner


def _kron(e, idx, supply):
    """(A ⊗ B)_{(i1 i2)(j1 j2)} = A_{i1 j1} B_{i2 j2} (Matrix Cookbook (506))."""
    a, b = e.args
    if a.ty.is_scalar or b.ty.is_scalar:
        return _mul(e, idx, supply)
    rows, i1, i2 = _split(idx[0], a.ty.rows, b.ty.rows, supply)
    cols, j1, j2 = _split(idx[1], a.ty.cols, b.ty.cols, supply)
    return multiply(multiply([Term(ONE, tuple(rows + cols))], operand(a, (i1, j1), supply)),
                    operand(b, (i2, j2), supply))


def _vec(e, idx, supply):
    """vec(M)_a = M_ij with a = (j, i): columns stacked (Matrix Cookbook section 10.2.2)."""
    (m,) = e.args
    if m.ty.kind != "matrix":
        return lower(m, (idx[0], None) if m.ty.kind != "row vector" else (None, idx[0]),
                     supply)
    pairs, j, i = _split(idx[0], m.ty.cols, m.ty.rows, supply)
    return multiply([Term(ONE, tuple(pairs))], operand(m, (i, j), supply))


def _commutation(e, idx, supply):
    """K_ab = [a = (i, j)] [b = (j, i)] for i of m and j of n: K vec(A) = vec(A^T)."""
    from ..ops.linear import dimension_of
    m, n = (dimension_of(None, e, arg) for arg in e.args)
    i, j = supply.fresh(), supply.fresh()
    return [Term(ONE, (pair(idx[0], i, j, m, n), pair(idx[1], j, i, n, m)))]


def _unvec(e, idx, supply):
    """unvec(v, m, n)_ij = v_c with c = (j, i)."""
    from ..ops.linear import dimension_of
    v, m, n = e.args[0], *(dimension_of(None, e, arg) for arg in e.args[1:])
    c = supply.fresh()
    return multiply([Term(ONE, (pair(c, idx[1], idx[0], n, m),))],
                    operand(v, (c, None), supply))


LOWERINGS = {
    "add": _add, "neg": _neg, "mul": _mul, "matmul": _matmul, "div": _div,
    "transpose": _transpose, "tr": _trace, "sum": _sum, "mean": _mean, "hadamard": _hadamard,
    "ediv": _ediv, "diag_matrix": _diag_matrix, "diag_vector": _diag_vector,
    "matpow": _matpow, "det": _identity_on_scalars, "kron": _kron, "vec": _vec,
    "commutation": _commutation, "unvec": _unvec,
}


EXPANDABLE = frozenset({"add", "neg", "mul", "matmul", "transpose", "hadamard", "kron", "vec",
                        "commutation", "unvec"})


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
    if f.is_structural or not (isinstance(f.expr, Apply) and f.expr.op in EXPANDABLE):
        return None
    idx = (f.idx[0] if f.idx else None, f.idx[1] if len(f.idx) > 1 else None)
    parts = lower(f.expr, idx, supply)
    if len(parts) == 1 and parts[0].coeff == 1 and parts[0].factors == (f,):
        return None
    return parts
