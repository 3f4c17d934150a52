"""The index IR: a derivative is a sum of terms, each a coefficient times factors.

A `Factor` is a matrix-level expression with named indices: `A_ij`, `x_i`, or an opaque
operator application such as `inv(A)_ij`; or one of two structural tensors:
- the copy tensor δ_{i1…ik} of a dimension (1 where all its indices are equal): order 1
  is `ones`, order 2 the Kronecker delta `I`, order 3 and more what Hadamard products,
  diag and elementwise arguments are written with (tensorgrad's copy tensor);
- the pair tensor [a = (o, n)] (1 where index a is the pair (o, n), a = o·|n| + n),
  what `kron` and `vec` are written with.
Invariants: an expression factor carries one index per non-unit dimension of its
expression (rows first), a linear map's factor (`dexpm(X, □)`, see `Factor.slot`) then
one per non-unit dimension of its slot, and a row vector is stored as its transpose, a
column with one index; within a term every index occurs at most twice (a free index once); the
coefficient is a SymPy expression in scalar symbols, sizes and numbers only. Indices
that occur twice are summed. Index names come from an explicit `IndexSupply`, never from
hashes, so the output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..language.expr import Apply, Const, Expr, is_slot
from ..language.shapes import ONE, Dim, Shape, normalize

ScalarCoeff = sympy.Expr
COPY, PAIR = "δ", "pair"


@dataclass(frozen=True)
class Factor:
    expr: Expr
    idx: tuple[str, ...]

    @property
    def is_copy(self) -> bool:
        return isinstance(self.expr, Const) and self.expr.name == COPY

    @property
    def is_pair(self) -> bool:
        return isinstance(self.expr, Const) and self.expr.name == PAIR

    @property
    def is_structural(self) -> bool:
        return isinstance(self.expr, Const) and self.expr.name in (COPY, PAIR)

    @property
    def is_delta(self) -> bool:
        return self.is_copy and len(self.idx) == 2

    @property
    def slot(self) -> Expr | None:
        """A linear map's slot (`dexpm(X, □)`): its factor carries the value's indices, then
        the slot's; None for any other factor."""
        e = self.expr
        if isinstance(e, Apply):
            return next((a for a in e.args if is_slot(a)), None)
        return None

    def dims(self) -> tuple[Dim, ...]:
        """The dimension of each index, in order."""
        ty = self.expr.ty
        if self.is_copy:
            return (ty.rows,) * len(self.idx)
        if self.is_pair:
            return (normalize(ty.rows + ty.cols), ty.rows, ty.cols)
        own = tuple(d for d in (ty.rows, ty.cols) if d)
        slot = self.slot
        return own if slot is None else own + tuple(d for d in (slot.ty.rows, slot.ty.cols) if d)

    def renamed(self, mapping: dict[str, str]) -> Factor:
        return Factor(self.expr, tuple(mapping.get(i, i) for i in self.idx))


def copy(dim: Dim, idx: tuple[str, ...]) -> Factor:
    """δ_{idx}: the copy tensor of `dim` with these indices."""
    return Factor(Const(COPY, ty=Shape(dim, ONE)), tuple(idx))


def pair(combined: str, outer: str, inner: str, outer_dim: Dim, inner_dim: Dim) -> Factor:
    """[combined = (outer, inner)]: combined runs over outer_dim × inner_dim, inner fastest."""
    return Factor(Const(PAIR, ty=Shape(outer_dim, inner_dim)), (combined, outer, inner))


@dataclass(frozen=True)
class Term:
    coeff: ScalarCoeff
    factors: tuple[Factor, ...] = ()

    def times(self, other: Term) -> Term:
        return Term(self.coeff * other.coeff, self.factors + other.factors)

    def scaled(self, c) -> Term:
        return Term(self.coeff * c, self.factors)

    def indices(self) -> list[str]:
        seen: dict[str, None] = {}
        for factor in self.factors:
            for i in factor.idx:
                seen.setdefault(i)
        return list(seen)

    def index_dims(self) -> dict[str, Dim]:
        dims: dict[str, Dim] = {}
        for factor in self.factors:
            for i, dim in zip(factor.idx, factor.dims()):
                dims.setdefault(i, dim)
        return dims

    def renamed(self, mapping: dict[str, str]) -> Term:
        return Term(self.coeff, tuple(f.renamed(mapping) for f in self.factors))


def multiply(left: list[Term], right: list[Term]) -> list[Term]:
    """The product of two sums of terms, distributed."""
    return [a.times(b) for a in left for b in right]


def product(*sums: list[Term]) -> list[Term]:
    """The product of any number of sums of terms, distributed."""
    out = [Term(sympy.Integer(1))]
    for terms in sums:
        out = multiply(out, terms)
    return out


@dataclass
class IndexSupply:
    """Fresh summation indices a, b, c, … then a1, b1, …, skipping reserved names."""

    reserved: set[str] = field(default_factory=set)
    count: int = 0

    def fresh(self) -> str:
        while True:
            letter = "abcdefgh"[self.count % 8]
            suffix = self.count // 8
            self.count += 1
            name = f"{letter}{suffix}" if suffix else letter
            if name not in self.reserved:
                return name


class IndexGroups:
    """Union-find over index names: which indices a term's factors join together."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, index: str) -> str:
        while self.parent.setdefault(index, index) != index:
            index = self.parent[index]
        return index

    def join(self, indices: tuple[str, ...]) -> None:
        for index in indices[1:]:
            self.parent[self.find(index)] = self.find(indices[0])
