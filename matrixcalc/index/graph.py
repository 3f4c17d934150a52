"""The graph that recovery reduces: a term's factors with their indices, the scalars
found so far, and the helpers the reduction rules share (which factor holds an index,
which copy tensor a port sits on). One job: bookkeeping; the rules live in
`recover` (chains, the result's shape), `recover_copies` (Hadamard products, diag) and
`recover_pairs` (vec, Kronecker products)."""

from __future__ import annotations

from collections import defaultdict
from itertools import count

import sympy

from ..errors import UnsupportedError
from ..language import build
from ..language.expr import Const, Expr
from ..language.printing import to_text
from .contract import contract_deltas
from .ir import Factor, Term, copy

Out = tuple[str | None, str | None]


class NoMatrixForm(UnsupportedError):
    """The term's index structure has no matrix form we can write."""


class Graph:
    """A term being reduced: its coefficient, the scalars found so far, and the factors
    that still carry indices."""

    def __init__(self, term: Term, out: Out) -> None:
        self.coeff: sympy.Expr = term.coeff
        self.scalars: list[Expr] = [f.expr for f in term.factors if not f.idx]
        self.factors: list[Factor] = [f for f in term.factors if f.idx]
        self.out = out
        self.free = {i for i in out if i is not None}
        self._names = count(1)

    def fresh(self) -> str:
        return f"r'{next(self._names)}"

    def holders(self) -> dict[str, list[int]]:
        at: dict[str, list[int]] = defaultdict(list)
        for n, f in enumerate(self.factors):
            for i in f.idx:
                at[i].append(n)
        return at

    def other(self, at: dict[str, list[int]], i: str, n: int) -> int | None:
        places = [m for m in at.get(i, ()) if m != n]
        return places[0] if places else None

    def other_any(self, at: dict[str, list[int]], i: str, skip: set[int]) -> int | None:
        """The one factor outside `skip` holding summed index i, if there is exactly one."""
        if i in self.free:
            return None
        places = [m for m in at.get(i, ()) if m not in skip]
        return places[0] if len(places) == 1 else None

    def copy(self) -> Graph:
        new = Graph.__new__(Graph)
        new.coeff, new.scalars, new.factors = self.coeff, list(self.scalars), list(self.factors)
        new.out, new.free, new._names = self.out, self.free, self._names
        return new

    def replace(self, drop: set[int], add: list[Factor]) -> None:
        self.factors = [f for m, f in enumerate(self.factors) if m not in drop] + add

    def contract(self) -> None:
        term = contract_deltas(Term(sympy.Integer(1), tuple(self.factors)), self.free)
        self.coeff *= term.coeff
        self.factors = list(term.factors)
        self.scalars += [f.expr for f in self.factors if not f.idx]
        self.factors = [f for f in self.factors if f.idx]


def is_const(e: Expr, name: str) -> bool:
    return isinstance(e, Const) and e.name == name


def is_plain(f: Factor) -> bool:
    return not f.is_structural


def is_vector(f: Factor) -> bool:
    """A column vector factor: one index."""
    return not f.is_structural and len(f.idx) == 1


def is_matrix(f: Factor) -> bool:
    """A matrix factor: a row and a column index."""
    return not f.is_structural and len(f.idx) == 2


def copy_of(graph: Graph, at, i: str, n: int) -> int | None:
    """The copy tensor holding summed index i besides factor n, if any."""
    if i in graph.free:
        return None
    m = graph.other(at, i, n)
    return m if m is not None and graph.factors[m].is_copy else None


def without(f: Factor, *indices: str) -> Factor:
    held = list(f.idx)
    for i in indices:
        held.remove(i)
    return copy(f.expr.ty.rows, tuple(held))


def hadamard(a: Expr, b: Expr) -> Expr:
    first, second = sorted((a, b), key=lambda e: (len(to_text(e)), to_text(e)))
    return build.apply("hadamard", first, second)


def hadamard_all(vectors: list[Expr]) -> Expr:
    """v1 ⊙ v2 ⊙ …, simplest first, leaving out ones (unless nothing else is there)."""
    real = sorted((v for v in vectors if not is_const(v, "ones")),
                  key=lambda v: (len(to_text(v)), to_text(v))) or vectors[:1]
    result = real[0]
    for v in real[1:]:
        result = build.apply("hadamard", result, v)
    return result
