"""Recovery: index terms back to closed matrix forms, by reducing a graph.

Within a term, factors are nodes and indices are edges: a matrix factor has two ports
(its row and column indices; walked backwards it is transposed), a vector one, a copy or
pair tensor several; every summed index joins two ports, a free index is an open end.
Recovery rewrites the graph until only the result's own shape is left:
- chains: factors joined directly are multiplied out; a cycle is a trace, a path between
  two vectors a scalar (u^T M v, and ones^T v = sum(v)), a path from an open end a vector
  or a matrix there (matrix products, a factor walked backwards transposed);
- copy tensors (Hadamard products and diag, in index form): two matrices across the same
  two copies are one Hadamard product (A ⊙ B, or A ⊙ B^T), vectors on one copy one
  Hadamard product of vectors, a matrix with both ports on one copy its diagonal, an
  order-3 copy with a vector the matrix diag(v); order 2 is a renaming, order 1 `ones`;
- pair tensors (Kronecker products and vec): a pair over a matrix is vec(M), over two
  vectors u ⊗ v, over I vec(I), over a vector unvec(v); two pairs joined part by part
  are M ⊗ N, joined crosswise the commutation matrix, a pair with a vector on one part
  u^T ⊗ I, and two pairs on the same two copies one pair on a copy (diag(vec(B))).
Each rule removes a factor or an index, so recovery ends. Where it ends with more than
the result's vector or matrix (or `I`), two rewrites are tried in turn (a bounded
search): a matrix between two copies as diag(vec(S)) between pairs, and a pair split into
copies. Anything left then raises NoMatrixForm, never a partial form. Linear maps
(`dexpm(X, □)`) are applied first, forward or through their adjoint (`linear_maps`).
This module: the entry points, chains and the result's shape; the rules for copies are
in `recover_copies`, those for pairs in `recover_pairs`, the graph in `graph`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import sympy

from ..language import build
from ..language.expr import Apply, Expr
from ..language.printing import to_text
from ..language.shapes import Dim, Shape
from .graph import Graph, NoMatrixForm, Out, hadamard, is_const, is_matrix, is_plain, is_vector
from .ir import Factor, IndexGroups, Term
from .linear_maps import apply_linear_maps
from .recover_copies import diag_of_matrix, diag_of_vector, hadamard_of_vectors, parallel_matrices
from .recover_pairs import (
    bridges,
    broadcast_into_pairs,
    commutation,
    kron_of_pairs,
    pair_with_vector,
    parallel_pairs,
    split_pairs,
    unvec_of_vector,
    vec_of_matrix,
)
from .scalars import SizeSymbol, from_sympy, size

__all__ = ["NoMatrixForm", "recover", "recover_term"]


def recover_term(term: Term, out: Out, shape: Shape | None = None) -> Expr:
    term = apply_linear_maps(term, out, recover_term)
    graph, structure = _solve(Graph(term, out), shape, depth=2)
    return _product(graph, structure)


def _solve(graph: Graph, shape: Shape | None, depth: int) -> tuple[Graph, Expr | None]:
    """Reduce, then assemble; where that fails, try each way of bridging a copy pair
    (a search of at most `depth` levels)."""
    _reduce(graph)
    try:
        return graph, _assemble(graph, graph.out, shape)
    except NoMatrixForm:
        if depth == 0:
            raise
        for candidate in bridges(graph) + split_pairs(graph):
            try:
                return _solve(candidate, shape, depth - 1)
            except NoMatrixForm:
                continue
        raise


def _reduce(graph: Graph) -> None:
    if _irreducible(graph):
        return
    for _ in range(10 * len(graph.factors) + 10):
        graph.contract()
        if _ones_as_vectors(graph) or parallel_matrices(graph) \
                or diag_of_vector(graph, beside_matrix=True) or _chains(graph):
            continue
        if not any(rule(graph) for rule in STRUCTURAL):
            return
    raise NoMatrixForm("could not reduce the index structure")  # pragma: no cover


def _irreducible(graph: Graph) -> bool:
    """Whether no rule can apply: plain factors only (no copy or pair tensor), each index
    free and held once (a_i, A_ij B_k). Every rule needs a summed index, an index held
    twice, or a structural factor; most terms of a long sum are this simple."""
    held = [i for f in graph.factors for i in f.idx]
    return (all(not f.is_structural for f in graph.factors)
            and len(set(held)) == len(held) and graph.free.issuperset(held))


def _ones_as_vectors(graph: Graph) -> bool:
    """A copy tensor of order 1 is the vector ones; a summed index that nothing else holds
    is summed over (ones)."""
    changed = False
    at = graph.holders()
    for n, f in enumerate(graph.factors):
        if f.is_copy and len(f.idx) == 1:
            graph.factors[n] = Factor(build.ones(f.expr.ty.rows), f.idx)
            changed = True
    for i, places in at.items():
        holder = graph.factors[places[0]]
        if len(places) == 1 and i not in graph.free and not holder.is_copy:
            dim = holder.dims()[holder.idx.index(i)]
            graph.factors.append(Factor(build.ones(dim), (i,)))
            changed = True
    return changed


# -- chains: factors joined directly --------------------------------------------------------

def _chains(graph: Graph) -> bool:
    """Multiply out every group of vectors and matrices joined directly by summed indices."""
    at = graph.holders()
    joined = IndexGroups()
    links: set[str] = set()
    for i, places in at.items():
        if i in graph.free or len(places) != 2:
            continue
        a, b = places
        if is_plain(graph.factors[a]) and is_plain(graph.factors[b]):
            joined.join((str(a), str(b)))
            links.add(i)
    groups: dict[str, list[int]] = defaultdict(list)
    for n, f in enumerate(graph.factors):
        if is_plain(f):
            groups[joined.find(str(n))].append(n)
    changed = False
    drop: set[int] = set()
    add: list[Factor] = []
    for members in groups.values():
        factors = [graph.factors[n] for n in members]
        inner = {i for f in factors for i in f.idx if i in links}
        if not inner:
            continue
        replacement = _chain(graph, factors, inner)
        if replacement is None:
            continue
        drop.update(members)
        add += replacement
        changed = True
    if changed:
        graph.replace(drop, add)
    return changed


def _chain(graph: Graph, factors: list[Factor], inner: set[str]) -> list[Factor] | None:
    """One connected chain as a scalar (added to the graph's scalars) or as one factor."""
    ends = [(f, i) for f in factors for i in f.idx if i not in inner]
    vectors = [f for f in factors if len(f.idx) == 1]
    if not ends and not vectors:
        graph.scalars.append(_cycle(factors))
        return []
    if len(vectors) == 2:
        graph.scalars.append(_scalar_path(factors, vectors))
        return []
    opens = [i for _, i in ends]
    if len(vectors) == 1:
        (port,) = opens
        return [Factor(build.chain(_walk(factors, port)), (port,))]
    p, q = opens
    row, col = graph.out
    if q == row or (p == col and col is not None):
        p, q = q, p
    options = [(build.chain(_walk(factors, p)), (p, q))]
    if row not in (p, q) and (col is None or col not in (p, q)):
        options.append((build.chain(_walk(factors, q)), (q, p)))  # no end fixes the way
    chain, idx = min(options, key=lambda o: to_text(o[0]))
    return [Factor(chain, idx)]


def _walk(factors: list[Factor], start: str) -> list[Expr]:
    """The factors met walking from the port `start`: matrices (transposed when walked
    backwards) and, at the end, a vector."""
    remaining = list(factors)
    here, product = start, []
    while True:
        step = next((f for f in remaining if here in f.idx), None)
        if step is None:
            return product
        remaining.remove(step)
        if len(step.idx) == 1:
            product.append(step.expr)
            return product
        forward = step.idx[0] == here
        product.append(step.expr if forward else build.apply("transpose", step.expr))
        here = step.idx[1] if forward else step.idx[0]


def _scalar_path(factors: list[Factor], vectors: list[Factor]) -> Expr:
    """u^T M … v, the smaller of the two directions; ones^T v is sum(v)."""
    if len(factors) == 2:
        real = [v.expr for v in vectors if not is_const(v.expr, "ones")]
        if len(real) == 1:
            return build.apply("sum", real[0])
    options = []
    for u in vectors:
        path = _walk([f for f in factors if f is not u], u.idx[0])
        options.append(build.chain([build.apply("transpose", u.expr)] + path))
    return min(options, key=to_text)


def _cycle(factors: list[Factor]) -> Expr:
    options = []
    for start in sorted({i for f in factors for i in f.idx}):
        for ordered in (factors, list(reversed(factors))):
            matrices = _walk(ordered, start)
            if len(matrices) == len(factors):
                options.append(build.apply("tr", build.chain(matrices)))
    return min(options, key=to_text)


STRUCTURAL: list[Callable[[Graph], bool]] = [
    parallel_matrices, diag_of_matrix, hadamard_of_vectors, parallel_pairs, vec_of_matrix,
    kron_of_pairs, commutation, unvec_of_vector, broadcast_into_pairs, pair_with_vector,
    diag_of_vector]


# -- the result's shape ---------------------------------------------------------------------

def _assemble(graph: Graph, out: Out, shape: Shape | None) -> Expr | None:
    row, col = out
    dims = {row: shape.rows if shape else None, col: shape.cols if shape else None}
    at_free: dict[str, Expr] = {}
    between: Expr | None = None
    for f in graph.factors:
        if f.is_copy and len(f.idx) == 2 and set(f.idx) == {row, col} and row != col:
            between = build.identity(f.expr.ty.rows)
        elif is_vector(f) and f.idx[0] in graph.free:
            at_free[f.idx[0]] = f.expr
            dims[f.idx[0]] = f.expr.ty.rows
        elif is_matrix(f) and set(f.idx) == {row, col} and row != col:
            between = f.expr if f.idx == (row, col) else build.apply("transpose", f.expr)
        else:
            raise NoMatrixForm(_describe(graph))
    if row is None and col is None:
        return None
    if row is None or col is None:
        vector = at_free.get(row or col) or _ones(dims[row or col])
        return build.apply("transpose", vector) if row is None else vector
    if between is not None:
        if at_free:
            raise NoMatrixForm(_describe(graph))
        return between
    left = at_free.get(row) or _ones(dims[row])
    right = at_free.get(col) or _ones(dims[col])
    return build.product(left, build.apply("transpose", right))


def _ones(dim: Dim | None) -> Expr:
    if dim is None:
        raise NoMatrixForm("a term is constant along an index whose size is unknown")
    return build.ones(dim)


def _describe(graph: Graph) -> str:
    from .printing import term_text
    return ("its index form " + term_text(Term(sympy.Integer(1), tuple(graph.factors)))
            + " joins indices in a way no matrix product, Hadamard product, diag, vec or "
            "Kronecker product writes")


# -- the term as a product ----------------------------------------------------------------------

def _product(graph: Graph, structure: Expr | None) -> Expr:
    coeff, scalars = _means(graph.coeff, sorted(graph.scalars, key=to_text))
    factors = [from_sympy(coeff)] if coeff != 1 else []
    factors += scalars
    if structure is not None:
        factors.append(structure)
    if not factors:
        return build.num(1)
    sign = 1
    if coeff.is_number and coeff.is_negative:
        sign, factors[0] = -1, from_sympy(-coeff)
        if factors[0] == build.num(1) and len(factors) > 1:
            factors = factors[1:]
    return build.negated_chain(factors) if sign < 0 else build.chain(factors)


def _means(coeff: sympy.Expr, scalars: list[Expr]) -> tuple[sympy.Expr, list[Expr]]:
    """1/n sum(v) = mean(v) and 1/n u^T v = mean(u ⊙ v), where n, the number of entries,
    divides the coefficient's denominator."""
    if not coeff.has(SizeSymbol):
        return coeff, scalars
    out = []
    for s in scalars:
        averaged = _averaged(s)
        if averaged is not None:
            entries, mean = averaged
            denominator = sympy.fraction(sympy.cancel(coeff))[1]
            if sympy.fraction(sympy.cancel(denominator / entries))[1] == 1:
                coeff = sympy.cancel(coeff * entries)
                out.append(mean)
                continue
        out.append(s)
    return coeff, out


def _averaged(s: Expr):
    """(number of entries, the mean) for sum(M) and u^T v."""
    if isinstance(s, Apply) and s.op == "sum":
        (m,) = s.args
        return size(m.ty.rows + m.ty.cols), build.apply("mean", m)
    if isinstance(s, Apply) and s.op == "matmul" and s.ty.is_scalar:
        u, v = s.args
        if isinstance(u, Apply) and u.op == "transpose" and u.args[0].ty.kind == "vector" \
                and v.ty.kind == "vector":
            return size(v.ty.rows), build.apply("mean", hadamard(u.args[0], v))
    return None


def recover(terms: list[Term], out: Out, shape: Shape) -> Expr:
    return build.total([recover_term(t, out, shape) for t in terms], shape)

