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
  vectors u ⊗ v, over I vec(I); two pairs joined part by part are M ⊗ N (also with a
  row or column on one side, u^T ⊗ N), joined crosswise the commutation matrix, and two
  pairs on the same two copies one pair on a copy (diag(vec(B))).
Each rule removes a factor or an index, so recovery ends. What is left must be the
result's vector or matrix, or `I`; anything else raises NoMatrixForm, never a partial form.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from itertools import count

import sympy

from .. import build
from ..errors import UnsupportedError
from ..expr import Apply, Const, Expr
from ..printing import to_text
from ..shapes import Dim, Shape
from .contract import contract_deltas
from .ir import Factor, IndexGroups, Term, copy, pair
from .scalars import SizeSymbol, from_sympy, size

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


def _is_const(e: Expr, name: str) -> bool:
    return isinstance(e, Const) and e.name == name


def _is_plain(f: Factor) -> bool:
    return not f.is_structural


def recover_term(term: Term, out: Out, shape: Shape | None = None) -> Expr:
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
    for _ in range(10 * len(graph.factors) + 10):
        graph.contract()
        if _ones_as_vectors(graph) or parallel_matrices(graph) \
                or diag_of_vector(graph, beside_matrix=True) or _chains(graph):
            continue
        if not any(rule(graph) for rule in STRUCTURAL):
            return
    raise NoMatrixForm("could not reduce the index structure")  # pragma: no cover


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
        if _is_plain(graph.factors[a]) and _is_plain(graph.factors[b]):
            joined.join((str(a), str(b)))
            links.add(i)
    groups: dict[str, list[int]] = defaultdict(list)
    for n, f in enumerate(graph.factors):
        if _is_plain(f):
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
    options = [(_walk(factors, p), (p, q))]
    if row not in (p, q) and (col is None or col not in (p, q)):
        options.append((_walk(factors, q), (q, p)))  # no free end fixes the orientation
    chain, idx = min(options, key=lambda o: to_text(build.chain(o[0])))
    return [Factor(build.chain(chain), idx)]


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
        real = [v.expr for v in vectors if not _is_const(v.expr, "ones")]
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


# -- copy tensors: Hadamard products and diag -------------------------------------------------

def _copy_of(graph: Graph, at, i: str, n: int) -> int | None:
    """The copy tensor holding summed index i besides factor n, if any."""
    if i in graph.free:
        return None
    m = graph.other(at, i, n)
    return m if m is not None and graph.factors[m].is_copy else None


def _without(f: Factor, *indices: str) -> Factor:
    held = list(f.idx)
    for i in indices:
        held.remove(i)
    return copy(f.expr.ty.rows, tuple(held))


def parallel_matrices(graph: Graph) -> bool:
    """M_ab N_cd with a, c on one copy and b, d on another: (M ⊙ N)_ab (M ⊙ N^T when
    crossed), the Hadamard product of matrices. One side may be an index the two share
    directly (then summed over): Σ_a M_ab N_ad δ_bd… = Σ_a (M ⊙ N)_ab δ_b…."""
    if not any(f.is_copy for f in graph.factors):
        return False
    at = graph.holders()
    mats = [n for n, f in enumerate(graph.factors) if _is_plain(f) and len(f.idx) == 2
            and any(_copy_of(graph, at, i, n) is not None for i in f.idx)]
    for x in mats:
        f = graph.factors[x]
        for y in mats:
            if y <= x:
                continue
            g = graph.factors[y]
            for flip in (False, True):
                joins = _parallel_joins(graph, at, f.idx, g.idx[::-1] if flip else g.idx, x, y)
                if joins is None:
                    continue
                other = build.apply("transpose", g.expr) if flip else g.expr
                edits = {}
                for i, c in zip(g.idx[::-1] if flip else g.idx, joins):
                    if c is not None:
                        edits[c] = _without(edits.get(c, graph.factors[c]), i)
                graph.factors = [Factor(_hadamard(f.expr, other), f.idx) if n == x
                                 else edits.get(n, h)
                                 for n, h in enumerate(graph.factors) if n != y]
                return True
    return False


def _parallel_joins(graph: Graph, at, fi, gi, x: int, y: int) -> list | None:
    """Per port: the copy both sit on, or None where they share the index; None overall
    unless at least one port goes through a copy (two shared indices are a trace)."""
    joins = []
    for i, j in zip(fi, gi):
        if i == j and i not in graph.free:
            joins.append(None)
            continue
        ci, cj = _copy_of(graph, at, i, x), _copy_of(graph, at, j, y)
        if ci is None or ci != cj:
            return None
        joins.append(ci)
    if all(c is None for c in joins) or (joins[0] is not None and joins[0] == joins[1]):
        return None
    return joins


def _hadamard(a: Expr, b: Expr) -> Expr:
    first, second = sorted((a, b), key=lambda e: (len(to_text(e)), to_text(e)))
    return build.apply("hadamard", first, second)


def diag_of_matrix(graph: Graph) -> bool:
    """M_ab with a and b on one copy: diag(M)_a."""
    at = graph.holders()
    for n, f in enumerate(graph.factors):
        if _is_plain(f) and len(f.idx) == 2:
            ends = [_copy_of(graph, at, i, n) for i in f.idx]
            if ends[0] is not None and ends[0] == ends[1] and f.expr.ty.rows == f.expr.ty.cols:
                c = ends[0]
                vector = Factor(build.apply("diag_vector", f.expr), (f.idx[0],))
                graph.factors = [vector if m == n else _without(h, f.idx[1]) if m == c else h
                                 for m, h in enumerate(graph.factors)]
                return True
    return False


def hadamard_of_vectors(graph: Graph) -> bool:
    """u_a v_b on one copy: (u ⊙ v)_a (ones ⊙ v = v)."""
    at = graph.holders()
    for c, f in enumerate(graph.factors):
        if not f.is_copy:
            continue
        vectors = [m for i in f.idx for m in [graph.other(at, i, c)]
                   if i not in graph.free and m is not None and m != c
                   and _is_plain(graph.factors[m]) and len(graph.factors[m].idx) == 1]
        if len(vectors) < 2:
            continue
        exprs = [graph.factors[m].expr for m in vectors]
        keep = graph.factors[vectors[0]].idx
        merged = Factor(_hadamard_all(exprs), keep)
        gone = [graph.factors[m].idx[0] for m in vectors[1:]]
        graph.factors = [merged if m == vectors[0] else _without(h, *gone) if m == c else h
                         for m, h in enumerate(graph.factors) if m not in vectors[1:]]
        return True
    return False


def _hadamard_all(vectors: list[Expr]) -> Expr:
    """v1 ⊙ v2 ⊙ …, simplest first, leaving out ones (unless nothing else is there)."""
    real = sorted((v for v in vectors if not _is_const(v, "ones")),
                  key=lambda v: (len(to_text(v)), to_text(v))) or vectors[:1]
    result = real[0]
    for v in real[1:]:
        result = build.apply("hadamard", result, v)
    return result


def diag_of_vector(graph: Graph, beside_matrix: bool = False) -> bool:
    """δ_xya v_a: diag(v)_xy. `beside_matrix`: only where a matrix holds x or y, before
    chains are multiplied out, so that backpropagation reads diag(1 - t.^2) W^T …"""
    if not any(f.is_copy and len(f.idx) == 3 for f in graph.factors):
        return False
    at = graph.holders()
    for c, f in enumerate(graph.factors):
        if not (f.is_copy and len(f.idx) == 3):
            continue
        if beside_matrix:
            held = [graph.factors[m] for i in f.idx for m in [graph.other(at, i, c)]
                    if i not in graph.free and m is not None]
            if sum(1 for h in held if _is_plain(h) and len(h.idx) == 1) != 1 or not any(
                    _is_plain(h) and len(h.idx) == 2 for h in held):
                continue
        for i in f.idx:
            m = None if i in graph.free else graph.other(at, i, c)
            if m is not None and _is_plain(graph.factors[m]) and len(graph.factors[m].idx) == 1:
                x, y = [j for j in f.idx if j != i]
                diag = Factor(build.apply("diag_matrix", graph.factors[m].expr), (x, y))
                graph.replace({c, m}, [diag])
                return True
    return False


# -- pair tensors: vec and Kronecker products ---------------------------------------------------

def _between(graph: Graph, at, a: str, b: str, skip: set[int]):
    """The matrix joining ports a and b: I where a is b, a matrix factor holding both
    (transposed when it runs from b to a), or two vectors' outer product. Returns
    (matrix, factors used) or None."""
    if a == b:
        return "same", set()
    m, n = graph.other_any(at, a, skip), graph.other_any(at, b, skip)
    if m is None or n is None:
        return None
    f, g = graph.factors[m], graph.factors[n]
    if m == n and _is_plain(f) and len(f.idx) == 2:
        return (f.expr if f.idx == (a, b) else build.apply("transpose", f.expr)), {m}
    if m != n and _is_plain(f) and _is_plain(g) and len(f.idx) == 1 and len(g.idx) == 1:
        return build.product(f.expr, build.apply("transpose", g.expr)), {m, n}
    return None


def vec_of_matrix(graph: Graph) -> bool:
    """[c = (o, n)] M_no = vec(M)_c; over u_o v_n it is (u ⊗ v)_c; over δ_on, vec(I)_c."""
    at = graph.holders()
    for p, f in enumerate(graph.factors):
        if not f.is_pair:
            continue
        c, o, n = f.idx
        if o == n and o not in graph.free:
            result = build.apply("vec", build.identity(f.expr.ty.rows))
            graph.replace({p}, [Factor(result, (c,))])
            return True
        found = _between(graph, at, n, o, {p})
        if found is None or found[0] == "same":
            continue
        matrix, used = found
        if len(used) == 2:  # u_o v_n: the outer product v u^T, whose vec is u ⊗ v
            u, v = graph.factors[graph.other_any(at, o, {p})], \
                graph.factors[graph.other_any(at, n, {p})]
            result = build.apply("kron", u.expr, v.expr)
        else:
            result = build.apply("vec", matrix)
        graph.replace({p} | used, [Factor(result, (c,))])
        return True
    return False


def kron_of_pairs(graph: Graph) -> bool:
    """[a = (o1, n1)] [b = (o2, n2)] M_o1o2 N_n1n2 = (M ⊗ N)_ab (Matrix Cookbook (506))."""
    at = graph.holders()
    pairs = [n for n, f in enumerate(graph.factors) if f.is_pair]
    for x in pairs:
        a, o1, n1 = graph.factors[x].idx
        for y in pairs:
            if y == x:
                continue
            b, o2, n2 = graph.factors[y].idx
            skip = {x, y}
            outer = _between(graph, at, o1, o2, skip)
            inner = _between(graph, at, n1, n2, skip)
            if outer is None or inner is None:
                continue
            m = _matrix(outer, graph.factors[x].expr.ty.rows)
            n = _matrix(inner, graph.factors[x].expr.ty.cols)
            graph.replace(skip | outer[1] | inner[1], [Factor(build.apply("kron", m, n), (a, b))])
            return True
    return False


def _matrix(found, dim: Dim) -> Expr:
    return build.identity(dim) if found[0] == "same" else found[0]


def pair_with_vector(graph: Graph) -> bool:
    """[c = (o, n)] u_o: the matrix (u^T ⊗ I)_nc; [c = (o, n)] v_n: (I ⊗ v^T)_oc (Matrix
    Cookbook (506) with a unit dimension), which products then take up."""
    at = graph.holders()
    for x, f in enumerate(graph.factors):
        if not f.is_pair:
            continue
        c, o, n = f.idx
        for near, far, far_dim in ((o, n, f.expr.ty.cols), (n, o, f.expr.ty.rows)):
            m = graph.other_any(at, near, {x})
            if m is None or not (_is_plain(graph.factors[m]) and len(graph.factors[m].idx) == 1):
                continue
            row = build.apply("transpose", graph.factors[m].expr)
            identity = build.identity(far_dim)
            parts = (row, identity) if near == o else (identity, row)
            graph.replace({x, m}, [Factor(build.apply("kron", *parts), (far, c))])
            return True
    return False


def unvec_of_vector(graph: Graph) -> bool:
    """[c = (o, n)] v_c: unvec(v)_no, the matrix whose columns, stacked, are v (a gradient
    through vec: ∂ vec(X)^T a / ∂X = unvec(a))."""
    at = graph.holders()
    for x, f in enumerate(graph.factors):
        if not f.is_pair:
            continue
        c, o, n = f.idx
        m = graph.other_any(at, c, {x})
        if m is None or o == n:
            continue
        v = graph.factors[m]
        if _is_plain(v) and len(v.idx) == 1:
            rows, cols = f.expr.ty.cols, f.expr.ty.rows
            matrix = build.apply("unvec", v.expr, build.dimension(rows), build.dimension(cols))
            graph.replace({x, m}, [Factor(matrix, (n, o))])
            return True
    return False


def broadcast_into_pairs(graph: Graph) -> bool:
    """M_xy with x a part of N's column pair and y the same part of N's row pair:
    ((M^T ⊗ ones ones^T) ⊙ N), or (ones ones^T ⊗ M^T) ⊙ N for the inner parts, so that M
    joins N entry by entry (then the parts are summed over)."""
    at = graph.holders()
    for z, n in enumerate(graph.factors):
        if not (_is_plain(n) and len(n.idx) == 2):
            continue
        pairs = [graph.other(at, i, z) for i in n.idx]
        if None in pairs or not all(graph.factors[p].is_pair for p in pairs):
            continue
        row_pair, col_pair = (graph.factors[p] for p in pairs)
        for part in (1, 2):  # outer parts, inner parts
            y, x = row_pair.idx[part], col_pair.idx[part]
            m = graph.other_any(at, x, set(pairs))
            if m is None or m == z or graph.factors[m].idx not in ((x, y), (y, x)):
                continue
            mat = graph.factors[m]
            if not _is_plain(mat):
                continue
            broadcast = mat.expr if mat.idx == (y, x) else build.apply("transpose", mat.expr)
            other = 2 if part == 1 else 1
            dims = (row_pair.dims()[other], col_pair.dims()[other])
            block = build.product(build.ones(dims[0]), build.apply("transpose",
                                                                   build.ones(dims[1])))
            spread = build.apply("kron", *((broadcast, block) if part == 1 else (block,
                                                                              broadcast)))
            graph.factors = [Factor(_hadamard(spread, n.expr), n.idx) if k == z else h
                             for k, h in enumerate(graph.factors) if k != m]
            return True
    return False


def split_pairs(graph: Graph) -> list[Graph]:
    """Each pair tensor written with a copy tensor: [c = (o, n)] = δ_cc'c''
    (I ⊗ ones)_c'o (ones ⊗ I)_c''n, so that Hadamard products can be read where no
    Kronecker product can (the Khatri–Rao product (I ⊗ ones) ⊙ (ones ⊗ M))."""
    out = []
    for x, f in enumerate(graph.factors):
        if not f.is_pair:
            continue
        c, o, n = f.idx
        outer_dim, inner_dim = f.expr.ty.rows, f.expr.ty.cols
        new = graph.copy()
        c1, c2 = new.fresh(), new.fresh()
        outer = build.apply("kron", build.identity(outer_dim), build.ones(inner_dim))
        inner = build.apply("kron", build.ones(outer_dim), build.identity(inner_dim))
        new.replace({x}, [copy(f.dims()[0], (c, c1, c2)), Factor(outer, (c1, o)),
                          Factor(inner, (c2, n))])
        out.append(new)
    return out


def bridges(graph: Graph) -> list[Graph]:
    """Copies on both ends of a matrix S, beside pair tensors: δ_xx'r S_rc δ_yy'c written
    as [γ = (x, y)] diag(vec(S))_γγ' [γ' = (x', y')] (each matching of the ports), so that
    a Kronecker product can be read on each side: (I ⊗ X^T) diag(vec(S)) (I ⊗ X)."""
    if not any(f.is_pair for f in graph.factors):
        return []
    at = graph.holders()
    out = []
    for z, s_factor in enumerate(graph.factors):
        if not (_is_plain(s_factor) and len(s_factor.idx) == 2):
            continue
        r, c = s_factor.idx
        cr, cc = _copy_of(graph, at, r, z), _copy_of(graph, at, c, z)
        if cr is None or cc is None or cr == cc:
            continue
        rows_left = [i for i in graph.factors[cr].idx if i != r]
        cols_left = [i for i in graph.factors[cc].idx if i != c]
        if len(rows_left) != 2 or len(cols_left) != 2:
            continue
        for y_first in (rows_left, rows_left[::-1]):
            new = graph.copy()
            g, g2 = new.fresh(), new.fresh()
            outer_dim, inner_dim = s_factor.expr.ty.cols, s_factor.expr.ty.rows
            d = build.apply("diag_matrix", build.apply("vec", s_factor.expr))
            new.replace({z, cr, cc}, [
                pair(g, cols_left[0], y_first[0], outer_dim, inner_dim),
                Factor(d, (g, g2)),
                pair(g2, cols_left[1], y_first[1], outer_dim, inner_dim)])
            out.append(new)
    return out


def commutation(graph: Graph) -> bool:
    """[a = (o, n)] [b = (n, o)]: the commutation matrix K (K vec(A) = vec(A^T))."""
    at = graph.holders()
    for x, f in enumerate(graph.factors):
        if not f.is_pair:
            continue
        a, o, n = f.idx
        for y, g in enumerate(graph.factors):
            if y != x and g.is_pair and g.idx[1:] == (n, o) and o != n \
                    and o not in graph.free and n not in graph.free:
                k = build.commutation(f.expr.ty.rows, f.expr.ty.cols)
                graph.replace({x, y}, [Factor(k, (a, g.idx[0]))])
                return True
    return False


def parallel_pairs(graph: Graph) -> bool:
    """[a = (o1, n1)] [b = (o2, n2)] with o1, o2 on one copy and n1, n2 on another:
    δ_abc [c = (o1, n1)], one pair on a copy (so diag(vec(B)) can be read)."""
    at = graph.holders()
    pairs = [n for n, f in enumerate(graph.factors) if f.is_pair]
    for x in pairs:
        a, o1, n1 = graph.factors[x].idx
        ends = [_copy_of(graph, at, o1, x), _copy_of(graph, at, n1, x)]
        if None in ends or ends[0] == ends[1]:
            continue
        for y in pairs:
            b, o2, n2 = graph.factors[y].idx
            if y == x or [_copy_of(graph, at, o2, y), _copy_of(graph, at, n2, y)] != ends:
                continue
            c = graph.fresh()
            f = graph.factors[x]
            edits = {ends[0]: _without(graph.factors[ends[0]], o2),
                     ends[1]: _without(graph.factors[ends[1]], n2)}
            joined = copy(f.dims()[0], (a, b, c))
            new_pair = pair(c, o1, n1, f.expr.ty.rows, f.expr.ty.cols)
            graph.factors = [new_pair if n == x else edits.get(n, h)
                             for n, h in enumerate(graph.factors) if n != y] + [joined]
            return True
    return False


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
        elif _is_plain(f) and len(f.idx) == 1 and f.idx[0] in graph.free:
            at_free[f.idx[0]] = f.expr
            dims[f.idx[0]] = f.expr.ty.rows
        elif _is_plain(f) and len(f.idx) == 2 and set(f.idx) == {row, col} and row != col:
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
    from ..index_printing import term_text
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
    result = build.chain(factors)
    return build.negate(result) if sign < 0 else result


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
            return size(v.ty.rows), build.apply("mean", _hadamard(u.args[0], v))
    return None


def recover(terms: list[Term], out: Out, shape: Shape) -> Expr:
    return build.total([recover_term(t, out, shape) for t in terms], shape)

