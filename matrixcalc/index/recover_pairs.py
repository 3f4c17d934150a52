"""Recovery rules for pair tensors: how vec, unvec, Kronecker products and the
commutation matrix are read back, and the two rewrites tried when nothing else applies
(a copy pair bridged into diag(vec(S)), a pair split into copies).

Each rule takes the graph, rewrites one place where it applies and says so (True), or
leaves the graph alone (False); the last-resort rewrites give the candidate graphs.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Expr
from ..language.shapes import Dim
from .graph import Graph, copy_of, hadamard, is_matrix, is_plain, is_vector, without
from .ir import Factor, copy, pair


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
    if m == n and is_matrix(f):
        return (f.expr if f.idx == (a, b) else build.apply("transpose", f.expr)), {m}
    if m != n and is_plain(f) and is_plain(g) and len(f.idx) == 1 and len(g.idx) == 1:
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
            if m is None or not (is_vector(graph.factors[m])):
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
        if is_vector(v):
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
        if not (is_matrix(n)):
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
            if not is_plain(mat):
                continue
            broadcast = mat.expr if mat.idx == (y, x) else build.apply("transpose", mat.expr)
            other = 2 if part == 1 else 1
            dims = (row_pair.dims()[other], col_pair.dims()[other])
            block = build.product(build.ones(dims[0]), build.apply("transpose",
                                                                   build.ones(dims[1])))
            spread = build.apply("kron", *((broadcast, block) if part == 1 else (block,
                                                                              broadcast)))
            graph.factors = [Factor(hadamard(spread, n.expr), n.idx) if k == z else h
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
        if not (is_matrix(s_factor)):
            continue
        r, c = s_factor.idx
        cr, cc = copy_of(graph, at, r, z), copy_of(graph, at, c, z)
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
        ends = [copy_of(graph, at, o1, x), copy_of(graph, at, n1, x)]
        if None in ends or ends[0] == ends[1]:
            continue
        for y in pairs:
            b, o2, n2 = graph.factors[y].idx
            if y == x or [copy_of(graph, at, o2, y), copy_of(graph, at, n2, y)] != ends:
                continue
            c = graph.fresh()
            f = graph.factors[x]
            edits = {ends[0]: without(graph.factors[ends[0]], o2),
                     ends[1]: without(graph.factors[ends[1]], n2)}
            joined = copy(f.dims()[0], (a, b, c))
            new_pair = pair(c, o1, n1, f.expr.ty.rows, f.expr.ty.cols)
            graph.factors = [new_pair if n == x else edits.get(n, h)
                             for n, h in enumerate(graph.factors) if n != y] + [joined]
            return True
    return False
