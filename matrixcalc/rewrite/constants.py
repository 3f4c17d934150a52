"""Constant folding: operators applied to zeros and to broadcast numbers.

The engine writes a zero (or a number) of any shape as a plain number (`0`); inside an
elementwise function that would print as a scalar (`exp(0)`) and read back with the
wrong shape. So f(c) over a vector or matrix becomes the number f(c) times ones:
exp(0) over a vector is `ones`, sigmoid(0) is `0.5 ones`, softplus(0) is
`softplus(0) ones`. Operators that vanish at zero (linear ones, norms) give zero, and
a matrix to the power 0 is I.
"""

from __future__ import annotations

from ..index.scalars import from_sympy, to_sympy
from ..language import build
from ..language.expr import Apply, Expr, Number
from ..language.shapes import ONE, SCALAR
from ..ops import lookup
from .engine import rewrites


def vanishing_at_zero(e: Expr) -> Expr | None:
    """tr(0) = 0, A 0 = 0, 0 ⊗ B = 0, 0/s = 0, ||0|| = 0."""
    if not isinstance(e, Apply) or e.op in ("add", "bracket"):
        return None
    flags = lookup(e.op).flags
    if flags & {"linear", "bilinear", "vanishes_at_zero"}:
        candidates = e.args
    elif "linear-in-first" in flags:
        candidates = e.args[:1]
    else:
        return None
    return build.zero(e.ty) if any(build.is_zero(a) for a in candidates) else None


@rewrites("matpow", "inv")
def matrix_power_of_zero(e: Expr) -> Expr | None:
    """X^0 = I; 0^k = 0 for k > 0; the zero matrix has no inverse (an error, not `0^-1`,
    which would read back as a scalar)."""
    (base,), k = e.args, (e.attrs[0] if e.op == "matpow" else -1)
    if k == 0:
        return build.identity(e.ty.rows)
    if build.is_zero(base) and not base.ty.is_scalar:
        if k < 0:
            from ..errors import UnsupportedError
            raise UnsupportedError(f"this inverts a zero matrix ({e}): it has no inverse")
        return build.zero(e.ty)
    return None


def elementwise_of_number(e: Expr) -> Expr | None:
    """f(c) for an elementwise f and numbers c, over a vector or a matrix."""
    if not (isinstance(e, Apply) and "elementwise" in lookup(e.op).flags) \
            or e.ty.is_scalar or not all(_is_number(a) for a in e.args):
        return None
    scalar = build.apply(e.op, *(_as_scalar(a) for a in e.args), attrs=e.attrs)
    value = to_sympy(scalar)
    if value is not None and value.is_Rational:
        if value == 0:
            return build.zero(e.ty)
        scalar = from_sympy(value)
    return build.chain([scalar, build.filled_ones(e.ty)])


@rewrites("softmax", "logsumexp")
def vector_function_of_number(e: Expr) -> Expr | None:
    """softmax(c) = ones/sum(ones) and logsumexp(c) = c + log(sum(ones)), c a number; of a
    matrix, row by row: softmax(c) = ones ones^T/sum(ones) (ones as wide as a row) and
    logsumexp(c) = (c + log(sum(ones))) ones, a column."""
    if not (isinstance(e, Apply) and e.op in ("softmax", "logsumexp")
            and _is_number(e.args[0])):
        return None
    shape = e.args[0].ty
    rowwise = bool(shape.cols) and shape.cols != ONE  # a matrix: the function of each row
    count = build.apply("sum", build.ones(shape.cols if rowwise else shape.rows))
    if e.op == "softmax":
        return build.apply("div", build.filled_ones(e.ty), count)
    log_count = build.apply("log", count)
    c = _as_scalar(e.args[0])
    value = log_count if build.is_zero(c) else build.total([c, log_count], SCALAR)
    return build.chain([value, build.ones(shape.rows)]) if rowwise else value


def _is_number(e: Expr) -> bool:
    if isinstance(e, Apply) and e.op == "neg":
        e = e.args[0]
    return isinstance(e, Number)


def _as_scalar(e: Expr) -> Expr:
    """The same number, typed as a scalar (a broadcast zero carries its vector shape)."""
    if isinstance(e, Apply):
        return build.negate(_as_scalar(e.args[0]))
    return Number(e.value, ty=SCALAR)
