"""Lowering: a matrix-level tree to a sum of index terms.

`lower(e, (row, col), supply)` gives terms whose free indices are `row` and `col` (None
for a unit dimension). Each operator's record says how it is lowered (`OpSpec.lower`,
given a `Lowerer`): sums, products, transposes and traces rename indices; Hadamard
products, diag (both ways) and broadcast numbers go through copy tensors, Kronecker
products and vec through pair tensors, so that within a term no index occurs more than
twice; `I` and `ones` are copy tensors of order 2 and 1. Scalars made of numbers, scalar
symbols and sizes become SymPy coefficients; an opaque operator (inv, det, powers,
elementwise functions, softmax, …) stays one factor, differentiated by its record's
rule. A record with neither raises UnsupportedError naming it (never a silent 0).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from ..errors import UnsupportedError
from ..language import build
from ..language.expr import Apply, Const, Dimension, Expr, Number, Symbol
from ..language.shapes import Dim, Shape
from ..ops.spec import lookup
from .ir import Factor, IndexSupply, Term, copy, multiply, pair, product
from .scalars import size, to_sympy

Idx = tuple[str | None, str | None]
ONE = sympy.Integer(1)


def factor(e: Expr, idx: Idx) -> Factor:
    """`e` as one factor carrying the indices of its non-unit dimensions; a row vector is
    stored as the column it transposes ((x^T - s^T)^T = x - s)."""
    row, col = idx
    if e.ty.kind == "row vector":
        return Factor(build.transposed(e), (col,))
    return Factor(e, tuple(i for i in (row, col) if i is not None))


def lower(e: Expr, idx: Idx, supply: IndexSupply) -> list[Term]:
    return Lowerer(supply).lower(e, idx)


Part = Callable[[Idx], list[Term]]


class Lowerer:
    """What a record's `lower(L, node, idx)` may use: lowering of its arguments, fresh
    index names, and the structural tensors (copies and pairs) terms are built with."""

    build = build  # the typed constructors, for trees a lowering makes (X^-1 of X^-k)

    def __init__(self, supply: IndexSupply) -> None:
        self.supply = supply

    def lower(self, e: Expr, idx: Idx) -> list[Term]:
        coeff = to_sympy(e)
        if coeff is not None:
            return [] if coeff == 0 else [Term(coeff)]
        if isinstance(e, Number):
            return [] if e.value == 0 else [Term(sympy.Rational(e.value.numerator,
                                                               e.value.denominator))]
        if isinstance(e, Const):
            return self.copy(e.ty.rows, *(i for i in idx if i is not None))
        if isinstance(e, (Symbol, Dimension)):
            return self.leaf(e, idx)
        if not isinstance(e, Apply):
            raise TypeError(f"not an expression node: {e!r}")
        spec = lookup(e.op)
        if spec.lower is not None:
            return spec.lower(self, e, idx)
        if spec.derivative is not None:
            return self.leaf(e, idx)
        raise UnsupportedError(f"`{e.op}` has neither an index form nor a derivative rule: "
                               "derivatives through it are not supported")

    def operand(self, e: Expr, idx: Idx) -> list[Term]:
        """An operand of a product: a sum stays one factor (`(D x + d)_a`), so that the
        product rule keeps it whole, as the textbook writes B^T C (D x + d)."""
        if isinstance(e, Apply) and to_sympy(e) is None:
            if e.op == "add":
                return self.leaf(e, idx)
            if e.op == "transpose":
                return self.operand(e.args[0], (idx[1], idx[0]))
            if e.op == "neg":
                return self.scaled(self.operand(e.args[0], idx), -1)
        return self.lower(e, idx)

    def fresh(self) -> str:
        return self.supply.fresh()

    def vanishes(self, e: Expr) -> bool:
        """Whether e is identically zero (its index form contracts to nothing)."""
        from .contract import contract  # contraction builds on the index form
        idx = (self.fresh() if e.ty.rows else None, self.fresh() if e.ty.cols else None)
        return not contract(self.lower(e, idx), tuple(i for i in idx if i))

    def fresh_like(self, idx: Idx) -> Idx:
        """New names where idx has an index."""
        return tuple(self.fresh() if i is not None else None for i in idx)

    # -- terms ------------------------------------------------------------------------
    @staticmethod
    def leaf(e: Expr, idx: Idx) -> list[Term]:
        """e kept whole, as one factor."""
        return [Term(ONE, (factor(e, idx),))]

    @staticmethod
    def copy(dim: Dim, *idx: str) -> list[Term]:
        """δ_{idx} of `dim`: ones_i, the Kronecker delta δ_ij, or a copy of order ≥ 3."""
        return [Term(ONE, (copy(dim, tuple(idx)),))]

    times = staticmethod(product)

    @staticmethod
    def scaled(terms: list[Term], c) -> list[Term]:
        return [t.scaled(c) for t in terms]

    @staticmethod
    def size(dim: Dim) -> sympy.Expr:
        return size(dim)

    def ones_pads(self, shape: Shape, idx: Idx) -> list[Term]:
        """ones_i (a copy tensor of order 1) for each index: summing over it, or
        broadcasting along it."""
        dims = (shape.rows, shape.cols)
        return [Term(ONE, tuple(copy(dim, (i,)) for dim, i in zip(dims, idx)
                                if i is not None))]

    def split(self, combined: str | None, outer_dim: Dim, inner_dim: Dim
              ) -> tuple[list[Term], str | None, str | None]:
        """A combined index of outer_dim × inner_dim as its (outer, inner) parts, with the
        pair tensor that ties them; a unit part needs no index and no pair tensor."""
        if combined is None:
            return [Term(ONE)], None, None
        if not outer_dim:
            return [Term(ONE)], None, combined
        if not inner_dim:
            return [Term(ONE)], combined, None
        outer, inner = self.fresh(), self.fresh()
        return [Term(ONE, (pair(combined, outer, inner, outer_dim, inner_dim),))], outer, inner

    @staticmethod
    def pair(combined: str, outer: str, inner: str, outer_dim: Dim, inner_dim: Dim
             ) -> list[Term]:
        """[combined = (outer, inner)]."""
        return [Term(ONE, (pair(combined, outer, inner, outer_dim, inner_dim),))]

    def entrywise(self, parts: list[Part], shape: Shape, idx: Idx) -> list[Term]:
        """The entry-by-entry product of `parts` (each lowered at indices it is given), all
        of `shape`: each part gets indices of its own, joined to `idx` by copy tensors."""
        if len(parts) == 1:
            return parts[0](idx)
        dims = (shape.rows, shape.cols)
        own = [self.fresh_like(idx) for _ in parts]
        copies = tuple(copy(dims[k], (idx[k], *(names[k] for names in own)))
                       for k in (0, 1) if idx[k] is not None)
        terms = [Term(ONE, copies)]
        for part, names in zip(parts, own):
            terms = multiply(terms, part(names))
        return terms


def entrywise(parts: list[Part], shape: Shape, idx: Idx, supply: IndexSupply) -> list[Term]:
    return Lowerer(supply).entrywise(parts, shape, idx)



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
    if f.is_structural or not (isinstance(f.expr, Apply)
                               and "expands" in lookup(f.expr.op).flags):
        return None
    idx = (f.idx[0] if f.idx else None, f.idx[1] if len(f.idx) > 1 else None)
    parts = lower(f.expr, idx, supply)
    if len(parts) == 1 and parts[0].coeff == 1 and parts[0].factors == (f,):
        return None
    return parts
