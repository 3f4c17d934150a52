"""Contraction and canonical form of index terms.

`contract(terms, free)` brings each term to its smallest form and collects like terms:
- copy tensors (tensorgrad's Delta) merge over a summed index they share, an order-2
  copy over a summed index is a renaming (δ_ab y_b = y_a), a copy met only by itself is
  a size (δ_aa = n);
- pair tensors cancel against each other (vec(X)^T vec(Y) = tr(X^T Y), and
  (A ⊗ B)(C ⊗ D) = A C ⊗ B D), and a sum over a combined index sums over both parts;
- factors with one base joined entry by entry multiply by adding exponents
  (s ⊙ s.^-1 = ones), and so do matrix powers of one base joined as a matrix product
  where one of them is a power (X^2_ia X^3_aj = X^5_ij, X_ia X^-3_aj = X^-2_ij);
- like terms (equal up to the naming of summed indices) add their coefficients.
Each step removes a factor or an index, or leaves the term alone, so it ends.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import count

import sympy

from ..language import build
from ..language.expr import Apply, Expr
from ..language.shapes import dim_text
from .ir import Factor, Term, copy
from .scalars import from_sympy, size, to_sympy


def contract(terms: list[Term], free: tuple[str, ...]) -> list[Term]:
    out = []
    for term in terms:
        term = simplify_term(term, set(free))
        if term.coeff != 0:
            out.append(term)
    return collect(out, free)


def simplify_term(term: Term, free: set[str]) -> Term:
    term = to_copy_form(term, free)
    while True:
        new = merge_matrix_powers(merge_powers(contract_deltas(term, free), free), free)
        if new == term:
            return new
        term = new


def to_copy_form(term: Term, free: set[str]) -> Term:
    """An index met in more than two places (a free one in more than one) becomes a copy
    tensor joining fresh indices, so that every index occurs at most twice."""
    slots: dict[str, int] = defaultdict(int)
    for f in term.factors:
        for i in f.idx:
            slots[i] += 1
    crowded = {i for i, n in slots.items() if n + (i in free) > 2}
    if not crowded:
        return term
    dims = term.index_dims()
    fresh = count(1)
    joined: dict[str, list[str]] = defaultdict(list)
    factors = []
    for f in term.factors:
        idx = []
        for i in f.idx:
            if i in crowded:
                i = _fresh_copy(i, joined, fresh)
            idx.append(i)
        factors.append(Factor(f.expr, tuple(idx)))
    for i, names in joined.items():
        factors.append(copy(dims[i], ((i,) if i in free else ()) + tuple(names)))
    return Term(term.coeff, tuple(factors))


def _fresh_copy(i: str, joined: dict[str, list[str]], fresh) -> str:
    name = f"{i}'{next(fresh)}"
    joined[i].append(name)
    return name


class _Holders:
    """Where each index occurs: (factor position, slot) pairs."""

    def __init__(self, factors: list[Factor]) -> None:
        self.at: dict[str, list[int]] = defaultdict(list)
        for n, f in enumerate(factors):
            for i in f.idx:
                self.at[i].append(n)

    def other(self, i: str, n: int) -> int | None:
        """The other factor holding summed index i (None if i is held by n alone)."""
        places = [m for m in self.at[i] if m != n]
        return places[0] if places else None


def contract_deltas(term: Term, free: set[str]) -> Term:
    """Contract copy and pair tensors (see the module docstring) until none applies."""
    factors, coeff = list(term.factors), term.coeff
    while True:
        step = _contract_once(factors, free)
        if step is None:
            return Term(coeff, tuple(factors))
        factors, scale = step
        coeff = coeff * scale


def _contract_once(factors: list[Factor], free: set[str]):
    """One contraction: (new factors, coefficient factor), or None."""
    holders = _Holders(factors)
    for n, f in enumerate(factors):
        if f.is_copy:
            step = _contract_copy(factors, n, f, holders, free)
        elif f.is_pair:
            step = _contract_pair(factors, n, f, holders, free)
        else:
            continue
        if step is not None:
            return step
    return None


def _replace(factors: list[Factor], drop: set[int], add: list[Factor]) -> list[Factor]:
    return [f for m, f in enumerate(factors) if m not in drop] + add


def _contract_copy(factors, n, f: Factor, holders: _Holders, free):
    dim = f.expr.ty.rows
    if not f.idx:
        return _replace(factors, {n}, []), size(dim)
    for i in dict.fromkeys(f.idx):
        if i in free:
            continue
        if f.idx.count(i) >= 2:  # Σ_a δ_{aa…} = δ_{…}
            rest = list(f.idx)
            rest.remove(i)
            rest.remove(i)
            return _replace(factors, {n}, [copy(dim, tuple(rest))]), 1
        m = holders.other(i, n)
        if m is None:  # summed over where nothing else depends on it
            rest = tuple(j for j in f.idx if j != i)
            return _replace(factors, {n}, [copy(dim, rest)] if rest else []), \
                (1 if rest else size(dim))
        g = factors[m]
        if g.is_copy:  # δ_{…a} δ_{a…} = δ_{……}
            merged = tuple(j for j in f.idx if j != i) + tuple(j for j in g.idx if j != i)
            return _replace(factors, {n, m}, [copy(dim, merged)]), 1
        if len(f.idx) == 2:  # δ_ab y_b = y_a
            (keep,) = [j for j in f.idx if j != i]
            return [g.renamed({i: keep}) if k == m else h
                    for k, h in enumerate(factors) if k != n], 1
    return None


def _contract_pair(factors, n, f: Factor, holders: _Holders, free):
    c, o, i = f.idx
    outer_dim, inner_dim = f.expr.ty.rows, f.expr.ty.cols
    if c not in free:
        m = holders.other(c, n)
        g = factors[m] if m is not None else None
        if g is not None and g.is_pair and g.idx[0] == c and g.expr.ty == f.expr.ty:
            # [c = (o, i)] [c = (o', i')] = δ_oo' δ_ii'
            return _replace(factors, {n, m}, [copy(outer_dim, (o, g.idx[1])),
                                              copy(inner_dim, (i, g.idx[2]))]), 1
        if g is None or (g.is_copy and len(g.idx) == 1):  # Σ_c [c = (o, i)] = 1
            drop = {n} if g is None else {n, m}
            return _replace(factors, drop, [copy(outer_dim, (o,)), copy(inner_dim, (i,))]), 1
    if o in free or i in free or o == i:
        return None
    mo, mi = holders.other(o, n), holders.other(i, n)
    if mo is None or mi is None:
        return None
    go, gi = factors[mo], factors[mi]
    if mo == mi and go.is_pair and go.idx[1:] == (o, i):  # Σ_oi [c = (o,i)] [d = (o,i)] = δ_cd
        return _replace(factors, {n, mo}, [copy(build_dim(f), (c, go.idx[0]))]), 1
    if go.is_copy and gi.is_copy and len(go.idx) == 1 and len(gi.idx) == 1:
        return _replace(factors, {n, mo, mi}, [copy(build_dim(f), (c,))]), 1  # ones ⊗ ones
    return None


def build_dim(f: Factor):
    """The combined dimension of a pair tensor."""
    return f.dims()[0]


# -- powers --------------------------------------------------------------------------------

def _base_and_exponent(f: Factor) -> tuple[Expr, sympy.Expr]:
    e = f.expr
    if isinstance(e, Apply) and e.op in ("power", "epow"):
        exponent = to_sympy(e.args[1])
        if exponent is not None:
            return e.args[0], exponent
    return e, sympy.Integer(1)


def merge_powers(term: Term, free: set[str]) -> Term:
    """Two factors with one base, joined entry by entry (each index shared, or both on one
    copy tensor), multiply by adding exponents: s ⊙ s.^-1 = ones, s_a s_a = (s.^2)_a."""
    factors = list(term.factors)
    groups: dict[Expr, list[int]] = defaultdict(list)
    for n, f in enumerate(factors):
        if not f.is_structural:
            groups[_base_and_exponent(f)[0]].append(n)
    holders = _Holders(factors)
    for base, members in groups.items():
        for a in members:
            for b in members:
                if a < b and not _both_plain(factors[a], factors[b]):
                    joins = _entry_joins(factors, a, b, holders, free)
                    if joins is not None:
                        merged, scale = _merge(factors, a, b, base, joins)
                        return Term(term.coeff * scale, tuple(merged))
    return term


def _both_plain(f: Factor, g: Factor) -> bool:
    """s ⊙ s and x^T x stay as they are: only powers merge (s ⊙ s.^-1, s^2 s^-1)."""
    return _base_and_exponent(f)[1] == 1 and _base_and_exponent(g)[1] == 1


def _entry_joins(factors, a: int, b: int, holders: _Holders, free) -> list | None:
    """For each index position of factors a and b: None where they share the index, the
    copy tensor's position where both sit on one; None overall if they are not joined."""
    f, g = factors[a], factors[b]
    if len(f.idx) != len(g.idx):
        return None
    joins = []
    for i, j in zip(f.idx, g.idx):
        if i == j and i not in free:
            joins.append(None)
            continue
        if i in free or j in free or i == j:
            return None
        ci, cj = holders.other(i, a), holders.other(j, b)
        if ci is None or ci != cj or not factors[ci].is_copy:
            return None
        joins.append(ci)
    return joins


def _merge(factors, a: int, b: int, base: Expr, joins: list):
    f, g = factors[a], factors[b]
    exponent = _base_and_exponent(f)[1] + _base_and_exponent(g)[1]
    dims = f.dims()
    scale: sympy.Expr = sympy.Integer(1)
    edits: dict[int, Factor] = {}
    added: list[Factor] = []
    for i, j, c, dim in zip(f.idx, g.idx, joins, dims):
        if c is None:  # the shared index is summed over what is left
            if exponent == 0:
                scale *= size(dim)
            else:
                added.append(copy(dim, (i,)))
            continue
        held = list(edits.get(c, factors[c]).idx)
        held.remove(j)
        if exponent == 0:
            held.remove(i)
        edits[c] = copy(factors[c].expr.ty.rows, tuple(held))
    out = []
    for n, h in enumerate(factors):
        if n == a and exponent != 0:
            out.append(_power(base, exponent, f.idx))
        elif n not in (a, b):
            out.append(edits.get(n, h))
    return out + added, scale


def _power(base: Expr, exponent: sympy.Expr, idx: tuple[str, ...]) -> Factor:
    if exponent == 1:
        return Factor(base, idx)
    op = "power" if base.ty.is_scalar else "epow"
    return Factor(build.apply(op, base, from_sympy(exponent)), idx)


# -- matrix powers ---------------------------------------------------------------------------

def _matrix_power(e: Expr) -> tuple[Expr, int]:
    """(X, k) for X^k (matpow), X^-1 (inv) and X itself (k = 1)."""
    if isinstance(e, Apply) and e.op == "matpow":
        return e.args[0], e.attrs[0]
    if isinstance(e, Apply) and e.op == "inv":
        return e.args[0], -1
    return e, 1


def merge_matrix_powers(term: Term, free: set[str]) -> Term:
    """X^p_ia X^q_aj = X^(p+q)_ij over a summed index a that only these two factors hold,
    where p or q is a power other than ±1 (a product written out, X X, stays as it is); a
    total exponent 0 leaves the identity δ_ij. What the power rule's terms merge by."""
    factors = list(term.factors)
    holders = _Holders(factors)
    for n, f in enumerate(factors):
        if f.is_structural or len(f.idx) != 2:
            continue
        base, p = _matrix_power(f.expr)
        shared = f.idx[1]
        m = holders.other(shared, n)
        if shared in free or m is None or shared == f.idx[0]:
            continue
        g = factors[m]
        if g.is_structural or len(g.idx) != 2 or g.idx[0] != shared or g.idx[1] == shared:
            continue
        other, q = _matrix_power(g.expr)
        if other != base or abs(p) == 1 and abs(q) == 1:
            continue
        merged = _matrix_power_factor(base, p + q, (f.idx[0], g.idx[1]))
        return Term(term.coeff, tuple(_replace(factors, {n, m}, [merged])))
    return term


def _matrix_power_factor(base: Expr, k: int, idx: tuple[str, str]) -> Factor:
    if k == 0:
        return copy(base.ty.rows, idx)
    if k == 1:
        return Factor(base, idx)
    node = build.apply("inv", base) if k == -1 else build.apply("matpow", base, attrs=(k,))
    return Factor(node, idx)


# -- canonical naming and like terms ---------------------------------------------------------

def factor_key(f: Factor) -> str:
    """What a factor is, for sorting: its printed form (copies print as ones, I or δ)."""
    if f.is_copy:
        name = {1: "ones", 2: "I"}.get(len(f.idx), "δ")
        return f"{name}\x01{dim_text(f.expr.ty.rows)}"
    if f.is_pair:
        return f"pair{dim_text(f.expr.ty.rows)},{dim_text(f.expr.ty.cols)}"
    return str(f.expr)


def canonical(term: Term, free: tuple[str, ...]) -> tuple[Term, tuple]:
    """The term with summed indices renamed in a canonical order, and its key: factors
    sorted by what they are and where the free indices sit, summed indices named in
    order of appearance, refined until the order no longer changes."""
    free_set = set(free)
    keys = {id(f): factor_key(f) for f in term.factors}
    ordered = sorted(term.factors, key=lambda f: (
        keys[id(f)], tuple(i if i in free_set else "*" for i in f.idx)))
    renamed: tuple[Factor, ...] = ()
    for _ in range(3):
        mapping: dict[str, str] = {}
        for f in ordered:
            for i in f.idx:
                if i not in free_set and i not in mapping:
                    mapping[i] = f"_{len(mapping)}"
        pairs = sorted(((keys[id(f)], f.renamed(mapping), f) for f in ordered),
                       key=lambda p: (p[0], p[1].idx))
        new_order = [p[2] for p in pairs]
        renamed = tuple(p[1] for p in pairs)
        if new_order == ordered:
            break
        ordered = new_order
    key = tuple((factor_key(f), f.idx) for f in renamed)
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
