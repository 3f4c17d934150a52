"""Sums and means of entries: linear, and known for the vectors whose total is fixed.

sum(A + B) = sum(A) + sum(B), sum(s A) = s sum(A); sum(ones) = n, sum(I) = n,
sum(softmax(x)) = 1, sum(y) = 1 for a distribution y; ones^T v = sum(v) where that sum is
known; mean(a + b) = mean(a) + mean(b). With the sum rules' reading of mean(X) as
sum(X)/size (sums.py), sum(x - mean(x) ones) = sum(x) - n mean(x) = 0.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Expr
from ..language.shapes import SCALAR
from .engine import rewrites
from .patterns import assumes, is_const, is_op, size_is_named


def total_dims(e: Expr) -> tuple | None:
    """The dimensions whose sizes multiply to the sum of the entries of e, where that sum
    does not depend on e's values: () (the sum is 1) for a softmax of a vector or a
    distribution, the rows for a row-wise softmax of a matrix or a stochastic matrix, the entries of ones,
    ones^T and ones ones^T, the rows of I; None where the sum is not known."""
    if is_op(e, "transpose") and not is_const(e.args[0], "ones"):
        return total_dims(e.args[0]) if e.args[0].ty.kind == "vector" else None
    if is_op(e, "softmax"):
        return e.args[0].ty.rows if e.args[0].ty.kind == "matrix" else ()
    if assumes(e, "distribution") and e.ty.kind == "vector":
        return ()
    if assumes(e, "stochastic") and e.ty.kind == "matrix":
        return e.ty.rows
    if is_const(e, "I"):
        return e.ty.rows
    if is_const(e, "ones") or (is_op(e, "transpose") and is_const(e.args[0], "ones")) \
            or (is_op(e, "matmul") and is_const(e.args[0], "ones")
                and is_op(e.args[1], "transpose") and is_const(e.args[1].args[0], "ones")):
        return e.ty.rows + e.ty.cols
    return None


def known_total(e: Expr) -> Expr | None:
    """The sum of the entries of e (`total_dims`) as a tree, where its size may be written
    by name (`patterns.size_is_named`)."""
    dims = total_dims(e)
    return build.dimension(dims) if dims is not None and size_is_named(dims) else None


@rewrites("sum")
def sum_of_distribution(e: Expr) -> Expr | None:
    """sum(y) = 1 for a vector y declared a distribution or a softmax (whose entries sum
    to one), sum(softmax(Z)) = m for Z of m rows; sum(ones) = n, sum(ones ones^T) = m n,
    sum(I) = n (a dimension's size, written by name). Terminates: the sum goes."""
    if is_op(e, "sum"):
        return known_total(e.args[0])
    return None


def broadcast_total(terms: list[Expr], shape) -> list[Expr] | None:
    """f(t) for each term of a sum of `shape`, for f a sum of entries (sum, or tr with the
    diagonal's size): a scalar term is broadcast, so it counts once per entry (sum(x + 1)
    = sum(x) + n); None where that count is not a size that may be written."""
    out = []
    for t in terms:
        if t.ty.is_scalar:
            if not size_is_named(shape):
                return None
            out.append(build.chain([build.dimension(shape), t]))
        else:
            out.append(t)
    return out


def linear_parts(op: str, inner: Expr, dims) -> Expr | None:
    """op(inner) for op a linear function of the entries that ignores transposition (sum,
    or tr with `dims` the diagonal's size), taken apart over inner's sums, signs and
    transposes: op(s) = s for a scalar s, op(A + B) = op(A) + op(B) (a broadcast scalar c
    counts once per entry: sum(x + c) = sum(x) + n c), op(-A) = -op(A), op(A^T) = op(A).
    None where inner is none of these, or a count is a size that may not be written."""
    if inner.ty.is_scalar:
        return inner
    if is_op(inner, "add"):
        terms = broadcast_total(list(inner.args), dims)
        if terms is None:
            return None
        return build.total([t if t.ty.is_scalar else build.apply(op, t) for t in terms],
                           SCALAR)
    if is_op(inner, "neg"):
        return build.negate(build.apply(op, inner.args[0]))
    if is_op(inner, "transpose"):
        return build.apply(op, inner.args[0])
    return None


@rewrites("sum")
def sum_is_linear(e: Expr) -> Expr | None:
    """sum(A + B) = sum(A) + sum(B), sum(-A) = -sum(A), sum(s A) = s sum(A) for a scalar
    s, sum(A^T) = sum(A), sum(s) = s; a broadcast scalar c in a sum of n entries adds
    n c. Terminates: the sum moves inwards or goes."""
    if not is_op(e, "sum"):
        return None
    inner = e.args[0]
    linear = linear_parts("sum", inner, inner.ty.rows + inner.ty.cols)
    if linear is not None:
        return linear
    if is_op(inner, "mul") or is_op(inner, "matmul"):
        factors = build.factors_of(inner)
        scalars = [f for f in factors if f.ty.is_scalar]
        chain = [f for f in factors if not f.ty.is_scalar]
        if not scalars:
            return None
        rest = build.chain(chain)
        total = known_total(rest)  # a size goes in front: n mean(x)
        return build.chain(scalars + [build.apply("sum", rest)]) if total is None \
            else build.chain([total] + scalars)
    if is_op(inner, "div") and inner.args[1].ty.is_scalar:
        return build.apply("div", build.apply("sum", inner.args[0]), inner.args[1])
    return None


@rewrites("matmul")
def ones_times_known_total(e: Expr) -> Expr | None:
    """ones^T v = v^T ones = sum(v), where that sum is known (ones^T softmax(x) = 1).
    Terminates: the product goes."""
    if not (is_op(e, "matmul") and e.ty.is_scalar):
        return None
    a, b = e.args
    if is_op(a, "transpose") and is_const(a.args[0], "ones"):
        return known_total(b)
    if is_const(b, "ones"):
        return known_total(a)
    return None


@rewrites("mean")
def mean_is_linear(e: Expr) -> Expr | None:
    """mean(a - b ones) = mean(a) - b, mean(s v) = s mean(v): so mean(x - mean(x) ones)
    is 0. Terminates: the mean moves inwards or goes."""
    if not is_op(e, "mean"):
        return None
    inner = e.args[0]
    if is_const(inner, "ones"):
        return build.num(1)
    if is_op(inner, "add"):
        return build.total([build.apply("mean", t) for t in inner.args], e.ty)
    if is_op(inner, "neg"):
        return build.negate(build.apply("mean", inner.args[0]))
    if is_op(inner, "mul"):
        s, v = inner.args if inner.args[0].ty.is_scalar else inner.args[::-1]
        return build.product(s, build.apply("mean", v))
    if inner.ty.is_scalar:
        return inner
    return None

