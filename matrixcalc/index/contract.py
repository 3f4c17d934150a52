"""Contraction and canonical form of index terms.

`contract(terms, free)` eliminates Kronecker deltas over summed indices, merges powers
of the same base sharing the same indices (`s · s^-1 = 1`, `x ⊙ x.^-1 = ones`), drops
zero terms, and collects like terms under a canonical renaming of summed indices.
Each step strictly shrinks the term (fewer factors) or leaves it alone, so it ends.
"""

from __future__ import annotations

from collections import defaultdict

import sympy

from .. import build
from ..expr import Apply, Expr
from .ir import Factor, Term
from .scalars import from_sympy, to_sympy


def contract(terms: list[Term], free: tuple[str, ...]) -> list[Term]:
    out = []
    for term in terms:
        term = merge_powers(contract_deltas(term, set(free)))
        if term.coeff != 0:
            out.append(term)
    return collect(out, free)


def contract_deltas(term: Term, free: set[str]) -> Term:
    """δ_ab with a summed: drop the delta and rename a to b everywhere (and vice versa)."""
    factors = list(term.factors)
    changed = True
    while changed:
        changed = False
        for n, f in enumerate(factors):
            if not f.is_delta or f.idx[0] == f.idx[1]:
                continue
            a, b = f.idx
            if a in free and b in free:
                continue
            gone, kept = (b, a) if a in free else (a, b)
            rest = factors[:n] + factors[n + 1:]
            factors = [g.renamed({gone: kept}) for g in rest]
            changed = True
            break
    return Term(term.coeff, tuple(factors))


def _base_and_exponent(f: Factor) -> tuple[Expr, sympy.Expr]:
    e = f.expr
    if isinstance(e, Apply) and e.op in ("power", "epow"):
        exponent = to_sympy(e.args[1])
        if exponent is not None:
            return e.args[0], exponent
    return e, sympy.Integer(1)


def merge_powers(term: Term) -> Term:
    """Factors with one base and the same indices multiply by adding exponents."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for n, f in enumerate(term.factors):
        if not f.is_delta:
            base, _ = _base_and_exponent(f)
            groups[(base, f.idx)].append(n)
    merged: dict[int, list[Factor]] = {}
    dropped: set[int] = set()
    for (base, idx), members in groups.items():
        powers = [_base_and_exponent(term.factors[n])[1] for n in members]
        if len(members) < 2 or all(p == 1 for p in powers):
            continue
        exponent = sympy.Add(*powers)
        dropped.update(members)
        merged[members[0]] = _power_factors(base, exponent, idx)
    if not dropped:
        return term
    factors: list[Factor] = []
    for n, f in enumerate(term.factors):
        if n in merged:
            factors += merged[n]
        elif n not in dropped:
            factors.append(f)
    return Term(term.coeff, tuple(factors))


def _power_factors(base: Expr, exponent: sympy.Expr, idx: tuple[str, ...]) -> list[Factor]:
    if exponent == 0:  # the indices stay summed over (or broadcast along) ones
        dims = (base.ty.rows, base.ty.cols)
        return [Factor(build.ones(dim), (i,)) for dim, i in zip(dims, idx)]
    if exponent == 1:
        return [Factor(base, idx)]
    op = "power" if base.ty.is_scalar else "epow"
    return [Factor(build.apply(op, base, from_sympy(exponent)), idx)]


def canonical(term: Term, free: tuple[str, ...]) -> tuple[Term, tuple]:
    """The term with summed indices renamed in a canonical order, and its key."""
    free_set = set(free)

    def shape_key(f: Factor) -> tuple:
        return (str(f.expr), tuple(i if i in free_set else "*" for i in f.idx))

    ordered = sorted(term.factors, key=shape_key)
    mapping: dict[str, str] = {}
    for f in ordered:
        for i in f.idx:
            if i not in free_set and i not in mapping:
                mapping[i] = f"_{len(mapping)}"
    renamed = tuple(sorted((f.renamed(mapping) for f in ordered),
                           key=lambda f: (str(f.expr), f.idx)))
    key = tuple((str(f.expr), f.idx) for f in renamed)
    return Term(term.coeff, renamed), key


def collect(terms: list[Term], free: tuple[str, ...]) -> list[Term]:
    """Like terms (equal up to the naming of summed indices) add their coefficients."""
    totals: dict[tuple, Term] = {}
    for term in terms:
        renamed, key = canonical(term, free)
        if key in totals:
            totals[key] = Term(totals[key].coeff + renamed.coeff, renamed.factors)
        else:
            totals[key] = renamed
    return [t for t in totals.values() if t.coeff != 0]
