"""The index IR: a derivative is a sum of terms, each a coefficient times factors.

A `Factor` is a matrix-level expression with named indices: `A_ij`, `x_i`, `I_ij` (the
Kronecker delta), `ones_i`, or an opaque operator application such as `inv(A)_ij`.
Invariants: a factor carries one index per non-unit dimension of its expression (rows
first); a row-vector expression is stored as its transpose, a column with one index;
the coefficient is a SymPy expression in scalar symbols and numbers only. Indices not
among a term's free indices are summed. Index names come from an explicit `IndexSupply`,
never from hashes, so the output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..expr import Const, Expr

ScalarCoeff = sympy.Expr


@dataclass(frozen=True)
class Factor:
    expr: Expr
    idx: tuple[str, ...]

    @property
    def is_delta(self) -> bool:
        return isinstance(self.expr, Const) and self.expr.name == "I"

    def renamed(self, mapping: dict[str, str]) -> Factor:
        return Factor(self.expr, tuple(mapping.get(i, i) for i in self.idx))


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

    def renamed(self, mapping: dict[str, str]) -> Term:
        return Term(self.coeff, tuple(f.renamed(mapping) for f in self.factors))


def multiply(left: list[Term], right: list[Term]) -> list[Term]:
    """The product of two sums of terms, distributed."""
    return [a.times(b) for a in left for b in right]


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
