"""Traces and scalar product chains in canonical form, so that equal scalars are equal trees
and the sum rules collect them: tr(B A) is tr(A B), y^T A^T x is x^T A y.

The trace is linear (tr(A + B) = tr(A) + tr(B), tr(s A) = s tr(A)), invariant under cyclic
rotation of a product and under transposition (tr(X) = tr(X^T), Matrix Cookbook (11),
(16)); a scalar equals its transpose (x^T A y = y^T A^T x). Of the equivalent readings
of a trace of a product, or of a scalar chain, the canonical one is the least by the
printing sort key. Termination: a rewrite fires only when its result is strictly less by
that key (or when it removes a node: a scalar pulled out of a trace, a trace dropped),
so no two readings can take turns.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Const, Expr
from ..language.printing import sort_key
from .engine import rewrites
from .patterns import is_op, simplified, size_is_named
from .totals import linear_parts


def _transposed(e: Expr) -> Expr:
    """e^T, simplified (a factor of a chain: a symbol, an inverse, a sum, ...)."""
    if is_op(e, "transpose"):
        return e.args[0]
    return simplified(build.apply("transpose", e))


def _split(e: Expr) -> tuple[list[Expr], list[Expr]]:
    """The scalar factors and the non-scalar factors of a product chain, in order."""
    factors = build.factors_of(e)
    return [f for f in factors if f.ty.is_scalar], [f for f in factors if not f.ty.is_scalar]


def _reversed_reading(factors: list[Expr]) -> list[Expr]:
    """(F1 F2 … Fk)^T = Fk^T … F2^T F1^T, factor by factor."""
    return [_transposed(f) for f in reversed(factors)]


def _least(candidates: list[list[Expr]]) -> list[Expr]:
    return min(candidates, key=lambda fs: sort_key(build.chain(fs)))


def _is_inner_chain(factors: list[Expr]) -> bool:
    """Whether factors multiply as row vector · matrices · column vector."""
    return (len(factors) >= 2 and factors[0].ty.kind == "row vector"
            and factors[-1].ty.kind == "vector"
            and all(f.ty.kind == "matrix" for f in factors[1:-1]))


def _canonical_inner(factors: list[Expr]) -> list[Expr]:
    return _least([factors, _reversed_reading(factors)])


@rewrites("tr")
def trace_is_linear(e: Expr) -> Expr | None:
    """tr(A + B) = tr(A) + tr(B) (a broadcast scalar c adds n c), tr(-A) = -tr(A),
    tr(s A) = s tr(A), tr(s) = s for a scalar s, tr(A^T) = tr(A), and tr(I) = n for I of
    n×n where n may be written (Matrix Cookbook (11), (13)). Terminates: each rewrite moves
    a trace inwards or removes it."""
    if not is_op(e, "tr"):
        return None
    inner = e.args[0]
    linear = linear_parts("tr", inner, inner.ty.rows)  # tr(A + c) = tr(A) + n c
    if linear is not None:
        return linear
    if isinstance(inner, Const) and inner.name == "I" and size_is_named(inner.ty.rows):
        return build.dimension(inner.ty.rows)
    if is_op(inner, "mul") or is_op(inner, "matmul"):
        scalars, chain = _split(inner)
        if scalars and chain:
            return build.chain(scalars + [build.apply("tr", build.chain(chain))])
    return None


@rewrites("tr")
def trace_of_product(e: Expr) -> Expr | None:
    """tr(A B C) = tr(B C A) = tr(C^T B^T A^T) (cyclic and transposed readings, Matrix
    Cookbook (16)): the least reading by the sort key; a reading that starts at a row
    vector is a scalar, and the trace goes (tr(A x y^T) = y^T A x = x^T A^T y). Terminates: it fires
    only for a strictly smaller reading, or to drop the trace."""
    if not (is_op(e, "tr") and is_op(e.args[0], "matmul")):
        return None
    scalars, chain = _split(e.args[0])
    if scalars or len(chain) < 2:
        return None  # trace_is_linear pulls the scalars out first
    for n, f in enumerate(chain):
        if f.ty.kind == "row vector":
            rotated = chain[n:] + chain[:n]
            if _is_inner_chain(rotated):
                return build.chain(_canonical_inner(rotated))
            return build.chain(rotated)  # several inner products: a product of scalars
    readings = [chain, _reversed_reading(chain)]
    candidates = [r[n:] + r[:n] for r in readings for n in range(len(r))]
    best = build.apply("tr", build.chain(_least(candidates)))
    return best if sort_key(best) < sort_key(e) else None


@rewrites("matmul")
def inner_product_orientation(e: Expr) -> Expr | None:
    """x^T A y = (x^T A y)^T = y^T A^T x: a scalar equals its transpose; of the two
    readings of a chain row vector · matrices · column vector, the least by the sort key.
    Terminates: it fires only for a strictly smaller reading."""
    if not (is_op(e, "matmul") and e.ty.is_scalar):
        return None
    scalars, chain = _split(e)
    if not _is_inner_chain(chain):
        return None
    best = build.chain(scalars + _canonical_inner(chain))
    return best if sort_key(best) < sort_key(e) else None

