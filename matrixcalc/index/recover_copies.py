"""Recovery rules for copy tensors: how Hadamard products and diag are read back.

Each rule takes the graph, rewrites one place where it applies and says so (True), or
leaves the graph alone (False); each removes a factor or an index.
"""

from __future__ import annotations

from ..language import build
from .graph import Graph, copy_of, hadamard, hadamard_all, is_matrix, is_vector, without
from .ir import Factor


def parallel_matrices(graph: Graph) -> bool:
    """M_ab N_cd with a, c on one copy and b, d on another: (M ⊙ N)_ab (M ⊙ N^T when
    crossed), the Hadamard product of matrices. One side may be an index the two share
    directly (then summed over): Σ_a M_ab N_ad δ_bd… = Σ_a (M ⊙ N)_ab δ_b…."""
    if not any(f.is_copy for f in graph.factors):
        return False
    at = graph.holders()
    mats = [n for n, f in enumerate(graph.factors) if is_matrix(f)
            and any(copy_of(graph, at, i, n) is not None for i in f.idx)]
    by_port = _by_port_end(graph, at, mats)
    for x in mats:
        f = graph.factors[x]
        end = _port_end(graph, at, f.idx[0], x)
        for y in sorted(set(by_port[0].get(end, ())) | set(by_port[1].get(end, ()))):
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
                        edits[c] = without(edits.get(c, graph.factors[c]), i)
                graph.factors = [Factor(hadamard(f.expr, other), f.idx) if n == x
                                 else edits.get(n, h)
                                 for n, h in enumerate(graph.factors) if n != y]
                return True
    return False


def _port_end(graph: Graph, at, i: str, n: int) -> tuple:
    """Where factor n's index i leads: the copy it sits on, else the index itself."""
    c = copy_of(graph, at, i, n)
    return ("copy", c) if c is not None else ("index", i)


def _by_port_end(graph: Graph, at, mats: list[int]) -> tuple[dict, dict]:
    """For each port (row, column), the matrices by where that port leads. Two matrices
    are parallel only if the first's row leads where the other's row (or, crossed, its
    column) does: pairing within these groups, not every pair, keeps a long chain of
    Hadamard products linear."""
    groups: tuple[dict, dict] = ({}, {})
    for n in mats:
        for port, i in enumerate(graph.factors[n].idx):
            groups[port].setdefault(_port_end(graph, at, i, n), []).append(n)
    return groups


def _parallel_joins(graph: Graph, at, fi, gi, x: int, y: int) -> list | None:
    """Per port: the copy both sit on, or None where they share the index; None overall
    unless at least one port goes through a copy (two shared indices are a trace)."""
    joins = []
    for i, j in zip(fi, gi):
        if i == j and i not in graph.free:
            joins.append(None)
            continue
        ci, cj = copy_of(graph, at, i, x), copy_of(graph, at, j, y)
        if ci is None or ci != cj:
            return None
        joins.append(ci)
    if all(c is None for c in joins) or (joins[0] is not None and joins[0] == joins[1]):
        return None
    return joins


def diag_of_matrix(graph: Graph) -> bool:
    """M_ab with a and b on one copy: diag(M)_a."""
    at = graph.holders()
    for n, f in enumerate(graph.factors):
        if is_matrix(f):
            ends = [copy_of(graph, at, i, n) for i in f.idx]
            if ends[0] is not None and ends[0] == ends[1] and f.expr.ty.rows == f.expr.ty.cols:
                c = ends[0]
                vector = Factor(build.apply("diag_vector", f.expr), (f.idx[0],))
                graph.factors = [vector if m == n else without(h, f.idx[1]) if m == c else h
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
                   and is_vector(graph.factors[m])]
        if len(vectors) < 2:
            continue
        exprs = [graph.factors[m].expr for m in vectors]
        keep = graph.factors[vectors[0]].idx
        merged = Factor(hadamard_all(exprs), keep)
        gone = [graph.factors[m].idx[0] for m in vectors[1:]]
        graph.factors = [merged if m == vectors[0] else without(h, *gone) if m == c else h
                         for m, h in enumerate(graph.factors) if m not in vectors[1:]]
        return True
    return False


def diag_of_vector(graph: Graph, beside_matrix: bool = False) -> bool:
    """δ_xya v_a: diag(v)_xy. `beside_matrix`: only where a matrix holds x or y, before
    chains are multiplied out, so that backpropagation reads diag(1 - t.^2) W^T …
    Every such copy apart from the others is read at once (one per layer of a network),
    not one per pass over the graph."""
    if not any(f.is_copy and len(f.idx) == 3 for f in graph.factors):
        return False
    at = graph.holders()
    drop: set[int] = set()
    add: list[Factor] = []
    for c, f in enumerate(graph.factors):
        if not (f.is_copy and len(f.idx) == 3) or c in drop:
            continue
        neighbours = {m for i in f.idx for m in [graph.other(at, i, c)] if m is not None}
        if neighbours & drop:
            continue  # a neighbour was read just now: its copy waits for the next pass
        if beside_matrix:
            held = [graph.factors[m] for i in f.idx for m in [graph.other(at, i, c)]
                    if i not in graph.free and m is not None]
            if sum(1 for h in held if is_vector(h)) != 1 or not any(
                    is_matrix(h) for h in held):
                continue
        for i in f.idx:
            m = None if i in graph.free else graph.other(at, i, c)
            if m is not None and is_vector(graph.factors[m]):
                x, y = [j for j in f.idx if j != i]
                add.append(Factor(build.apply("diag_matrix", graph.factors[m].expr), (x, y)))
                drop |= {c, m}
                break
    if not add:
        return False
    graph.replace(drop, add)
    return True
