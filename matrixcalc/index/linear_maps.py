"""Linear maps in index form, applied in matrix form before a term is reduced.

A derivative rule that needs a linear map of the differential (d expm(M) = dexpm(M, dM),
d sqrtm(M) = sylvester(S, S, dM), the Φ of Cholesky's rule) writes the map as one factor,
`dexpm(M, □)`, carrying the value's indices and then the slot's
(`Differentiator.through`); the direction's terms meet the slot's indices. Recovery
applies each map to what it meets, on one side or the other:
- forward: where the factors joined to the slot (not through the map) make a matrix E
  with no free index, the map and they become `dexpm(M, E)` on the value's indices (a
  directional derivative: d/dt aᵀ expm(t A) b = aᵀ dexpm(t A, A) b);
- backward: where the factors joined to the value make a matrix G with no free index
  (the cotangent: a bᵀ for aᵀ expm(X) b), the map and they become the adjoint map applied
  to G on the slot's indices (the record's `adjoint`: dexpm(Mᵀ, G)), so that a gradient
  is one matrix, as reverse mode computes it.
The side searched holds no other map, so chains of maps (tr(expm(expm(X)))) unwind one at
a time, outermost first. A map that meets free indices on both sides (∂vec(F)/∂vec(X))
is written with its Kronecker matrix between two vec pairs where its record has one
(`kron`: a Sylvester solve); otherwise there is no matrix form (NoMatrixForm), and the
index form stays. Each step removes a map, so this ends.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import sympy

from ..language import build
from ..language.expr import Expr, is_slot
from ..language.shapes import Shape
from ..ops.spec import lookup
from .graph import NoMatrixForm, Out
from .ir import Factor, Term, copy, pair
from .lower import factor

Recover = Callable[[Term, Out, Shape], Expr]


def apply_linear_maps(term: Term, out: Out, recover_part: Recover) -> Term:
    """`term` with every linear map's factor applied (see the module docstring)."""
    if not any(f.slot is not None for f in term.factors):
        return term
    free = {i for i in out if i is not None}
    term = _distinct_indices(term)
    while True:
        maps = [n for n, f in enumerate(term.factors) if f.slot is not None]
        if not maps:
            return term
        applied = next((t for t in (_apply(term, n, free, recover_part) for n in maps)
                        if t is not None), None)
        applied = applied or next((t for t in (_as_kronecker(term, n) for n in maps)
                                   if t is not None), None)
        if applied is None:
            shown = term.factors[maps[0]].expr
            raise NoMatrixForm(f"the linear map `{shown}` meets free indices on both sides "
                               "and has no Kronecker form")
        term = applied


def _apply(term: Term, n: int, free: set[str], recover_part: Recover) -> Term | None:
    f = term.factors[n]
    own_count = len(f.idx) - len(_dims(f.slot.ty))
    own, into = f.idx[:own_count], f.idx[own_count:]
    others = [m for m in range(len(term.factors)) if m != n]
    side_into, open_into = _side(term.factors, others, into, free)
    side_own, open_own = _side(term.factors, others, own, free)
    if side_into & side_own:
        return None
    rest = [g for m, g in enumerate(term.factors) if m != n]
    if not open_into and not _holds_map(term, side_into):
        direction = recover_part(_part(term, side_into), _pair(f.slot.ty, into), f.slot.ty)
        applied = build.apply(f.expr.op, *(direction if is_slot(a) else a for a in f.expr.args),
                              attrs=f.expr.attrs)
        kept, idx = side_into, own
        shape = f.expr.ty
    elif not open_own and not _holds_map(term, side_own):
        cotangent = recover_part(_part(term, side_own), _pair(f.expr.ty, own), f.expr.ty)
        position = next(k for k, a in enumerate(f.expr.args) if is_slot(a))
        applied = lookup(f.expr.op).adjoint(build, f.expr, position, cotangent)
        kept, idx = side_own, into
        shape = f.slot.ty
    else:
        return None
    remaining = [g for m, g in zip(others, rest) if m not in kept]
    return Term(term.coeff, tuple(remaining) + (factor(applied, _pair(shape, idx)),))


def _as_kronecker(term: Term, n: int) -> Term | None:
    """A map from matrices to matrices with a Kronecker form (the record's `kron`: vec(op(E))
    = K vec(E)) as vec pairs on each side with K between them, L_{ij,kl} = [c = (j, i)]
    K_cd [d = (l, k)], for the pair rules of recovery to read (∂vec(F)/∂vec(X), and
    Jacobians whose sides both stay open)."""
    f = term.factors[n]
    hook = lookup(f.expr.op).kron
    value, slot = f.expr.ty, f.slot.ty
    if hook is None or value.kind != "matrix" or slot.kind != "matrix":
        return None
    (i, j, k, l), taken = f.idx, set(term.indices())
    c, d = (_unused(taken, stem) for stem in ("c", "d"))
    pairs = (pair(c, j, i, value.cols, value.rows), pair(d, l, k, slot.cols, slot.rows))
    rest = term.factors[:n] + term.factors[n + 1:]
    return Term(term.coeff, rest + pairs + (Factor(hook(build, f.expr), (c, d)),))


def _unused(taken: set[str], stem: str) -> str:
    name = next(f"{stem}'v{m}" for m in count(1) if f"{stem}'v{m}" not in taken)
    taken.add(name)
    return name


def _dims(shape: Shape) -> tuple:
    return tuple(d for d in (shape.rows, shape.cols) if d)


def _pair(shape: Shape, idx: tuple[str, ...]) -> tuple[str | None, str | None]:
    """A factor's indices as (row, col) for a value of `shape` (a unit dimension: None)."""
    held = iter(idx)
    return (next(held) if shape.rows else None, next(held) if shape.cols else None)


def _side(factors: tuple[Factor, ...], candidates: list[int], start: tuple[str, ...],
          free: set[str]) -> tuple[set[int], bool]:
    """The factors joined to the indices `start` (through summed indices, not through the
    map), and whether that side reaches a free index."""
    reached: set[int] = set()
    frontier = set(start)
    seen = set(start)
    opens = bool(frontier & free)
    while frontier:
        joined = {m for m in candidates if m not in reached
                  and frontier & set(factors[m].idx)}
        reached |= joined
        new = {i for m in joined for i in factors[m].idx} - seen
        opens = opens or bool(new & free)
        seen |= new
        frontier = new
    return reached, opens


def _holds_map(term: Term, side: set[int]) -> bool:
    return any(term.factors[m].slot is not None for m in side)


def _part(term: Term, side: set[int]) -> Term:
    return Term(sympy.Integer(1), tuple(term.factors[m] for m in sorted(side)))


def _distinct_indices(term: Term) -> Term:
    """A map's factor holding one index twice (L_{ij,kk}: the direction I contracted into
    it) gets a fresh name for the second place and a copy tensor joining the two, so that
    each side of the map is a set of indices of its own."""
    fresh = count(1)
    factors: list[Factor] = []
    for f in term.factors:
        if f.slot is None or len(set(f.idx)) == len(f.idx):
            factors.append(f)
            continue
        held: list[str] = []
        for i, dim in zip(f.idx, f.dims()):
            if i in held:
                renamed = f"{i}'m{next(fresh)}"
                factors.append(copy(dim, (i, renamed)))
                i = renamed
            held.append(i)
        factors.append(Factor(f.expr, tuple(held)))
    return Term(term.coeff, tuple(factors))
