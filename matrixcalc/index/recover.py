"""Recovery: index terms back to closed matrix forms, by recognizing graphs.

Within a term, factors are nodes and indices are edges: a matrix factor joins its two
indices (walked backwards it is transposed), a vector factor ends a path, and a free
index is an open end. After merging what shares an index (pendants by ⊙, parallel
matrices by ⊙, a vector meeting two matrices becomes diag(v)), every index joins at
most two things, so each connected part is a path or a cycle: a cycle is a trace, a
path between vectors a scalar (u^T M v), a path from a free index a vector, a path
between the two free indices a matrix, and separate parts multiply (outer products
for vectors at two free indices). Anything else raises NoMatrixForm.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .. import build
from ..errors import UnsupportedError
from ..expr import Apply, Expr, walk
from ..printing import to_text
from .ir import Factor, IndexGroups, Term
from .scalars import from_sympy


class NoMatrixForm(UnsupportedError):
    """The term's index structure has no matrix form we can write."""


@dataclass
class Graph:
    pendants: dict[str, Expr] = field(default_factory=dict)   # index -> column vector
    edges: list[Factor] = field(default_factory=list)          # two distinct indices
    scalars: list[Expr] = field(default_factory=list)
    copies: dict[str, str] = field(default_factory=dict)      # split free index -> original
    counter: int = 0

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}'{self.counter}"

    def slots(self) -> dict[str, int]:
        count: dict[str, int] = defaultdict(int)
        for i in self.pendants:
            count[i] += 1
        for e in self.edges:
            for i in e.idx:
                count[i] += 1
        return count


def _is_avg(e: Expr) -> bool:
    from ..expr import Const
    return isinstance(e, Const) and e.name == "avg"


def _average_in(e: Expr) -> tuple[bool, Expr | None]:
    """(whether a pendant holds avg, the rest of its ⊙ factors or None)."""
    if _is_avg(e):
        return True, None
    if isinstance(e, Apply) and e.op == "hadamard":
        for k in (0, 1):
            if _is_avg(e.args[k]):
                return True, e.args[1 - k]
    return False, e


def _move_averages(term: Term, free: set[str]) -> Term:
    """avg_p Σ_a u_a … = ones_p Σ_a avg_a u_a …, when p is free, a is summed over vectors
    only and both have one size: the 1/n moves onto the sum, where it becomes a mean."""
    factors = list(term.factors)
    for n, f in enumerate(factors):
        if not (len(f.idx) == 1 and _is_avg(f.expr) and f.idx[0] in free):
            continue
        for a in _summed_over_vectors(factors, free, f.expr.ty.rows):
            factors[n] = Factor(build.ones(f.expr.ty.rows), f.idx)
            factors.append(Factor(f.expr, (a,)))
            break
    return Term(term.coeff, tuple(factors))


def _summed_over_vectors(factors: list[Factor], free: set[str], dim) -> list[str]:
    """Summed indices of size `dim` met only by vectors (sums and inner products)."""
    found = []
    for a in dict.fromkeys(i for f in factors for i in f.idx):
        touching = [f for f in factors if a in f.idx]
        if a not in free and all(len(f.idx) == 1 for f in touching) \
                and not any(_is_avg(f.expr) for f in touching) \
                and touching[0].expr.ty.rows == dim:
            found.append(a)
    return found


def recover_term(term: Term, out: tuple[str | None, str | None]) -> Expr:
    free = {i for i in out if i is not None}
    graph = _graph(_move_averages(term, free), free)
    _resolve_degrees(graph, free)
    structure = _assemble(graph, out)
    factors = [from_sympy(term.coeff)] if term.coeff != 1 else []
    factors += sorted(graph.scalars, key=to_text)
    if structure is not None:
        factors.append(structure)
    if not factors:
        return build.num(1)
    sign = 1
    if term.coeff.is_number and term.coeff.is_negative:
        sign, factors[0] = -1, from_sympy(-term.coeff)
        if factors[0] == build.num(1) and len(factors) > 1:
            factors = factors[1:]
    result = build.chain(factors)
    if any(_is_avg(n) for n in walk(result)):
        raise NoMatrixForm("a derivative of mean(…) that is not itself a mean has no matrix "
                           "form (it needs ones/n)")
    return build.negate(result) if sign < 0 else result


def _graph(term: Term, free: set[str]) -> Graph:
    graph = Graph()
    pendant_lists: dict[str, list[Expr]] = defaultdict(list)
    loops: list[Factor] = []
    for f in term.factors:
        if not f.idx:
            graph.scalars.append(f.expr)
        elif len(f.idx) == 1:
            pendant_lists[f.idx[0]].append(f.expr)
        elif f.idx[0] == f.idx[1]:
            loops.append(f)
        else:
            graph.edges.append(f)
    graph.edges = _inner_products(graph, graph.edges, free)
    graph.edges = _merge_parallel(graph.edges)
    for loop in loops:
        i = loop.idx[0]
        others = sum(1 for f in term.factors if i in f.idx) - 1
        if others == 0 and i not in free:
            graph.scalars.append(build.apply("tr", loop.expr))
        else:
            pendant_lists[i].append(build.apply("diag_vector", loop.expr))
    for i, vectors in pendant_lists.items():
        averages = [v for v in vectors if _is_avg(v)]
        if averages:  # avg stays the outermost factor, where _average_in finds it
            others = [v for v in vectors if not _is_avg(v)]
            graph.pendants[i] = averages[0] if not others else build.apply(
                "hadamard", averages[0], _hadamard_all(others))
            if len(averages) > 1:
                raise NoMatrixForm("a product of two means over one index")
            continue
        real = [v for v in vectors if not _is_ones(v)]
        alone = i not in free and not any(i in e.idx for e in graph.edges)
        if alone and len(real) == 2 and len(vectors) == 2 \
                and not any(_is_avg(v) for v in real):  # u_a v_a = u^T v
            u, v = sorted(real, key=to_text)
            graph.scalars.append(build.product(build.apply("transpose", u), v))
        else:
            graph.pendants[i] = _hadamard_all(vectors)
    _drop_idle_ones(graph, free)
    return graph


def _inner_products(graph: Graph, edges: list[Factor], free: set[str]) -> list[Factor]:
    """M_ab N_ab over two summed indices met nowhere else is tr(M^T N) (tr(M N) when the
    second is walked backwards): a trace, not ones^T (M ⊙ N) ones."""
    count: dict[str, int] = defaultdict(int)
    for e in edges:
        for i in e.idx:
            count[i] += 1
    by_pair: dict[frozenset, list[Factor]] = defaultdict(list)
    for e in edges:
        by_pair[frozenset(e.idx)].append(e)
    kept = []
    for pair, group in by_pair.items():
        closed = all(count[i] == 2 and i not in free for i in pair)
        if len(group) == 2 and closed:
            m, n = group
            left = build.apply("transpose", m.expr) if m.idx == n.idx else m.expr
            graph.scalars.append(build.apply("tr", build.product(left, n.expr)))
        else:
            kept += group
    return kept


def _drop_idle_ones(graph: Graph, free: set[str]) -> None:
    """ones_i changes nothing where i is free (broadcast by 1) and met elsewhere, or where
    i is summed and met twice elsewhere (⊙ ones); alone with one other it is a sum."""
    slots = graph.slots()
    for i, vector in list(graph.pendants.items()):
        others = slots[i] - 1
        if _is_ones(vector) and ((i in free and others >= 1) or others >= 2):
            del graph.pendants[i]


def _merge_parallel(edges: list[Factor]) -> list[Factor]:
    merged: dict[frozenset, Factor] = {}
    for e in edges:
        key = frozenset(e.idx)
        if key not in merged:
            merged[key] = e
            continue
        first = merged[key]
        other = e.expr if e.idx == first.idx else build.apply("transpose", e.expr)
        merged[key] = Factor(build.apply("hadamard", first.expr, other), first.idx)
    return list(merged.values())


def _hadamard_all(vectors: list[Expr]) -> Expr:
    """v1 ⊙ v2 ⊙ …, simplest first, leaving out ones (unless nothing else is there)."""
    if not vectors:
        return build.ones(("?",))
    real = sorted((v for v in vectors if not _is_ones(v)), key=lambda v: (len(to_text(v)),
                                                                          to_text(v)))
    real = real or vectors[:1]
    result = real[0]
    for v in real[1:]:
        result = build.apply("hadamard", result, v)
    return result


def _is_ones(e: Expr) -> bool:
    from ..expr import Const
    return isinstance(e, Const) and e.name == "ones"


def _resolve_degrees(graph: Graph, free: set[str]) -> None:
    """Make every index join at most two things (a free index counts as one)."""
    for _ in range(10 * (len(graph.edges) + len(graph.pendants) + 2)):
        slots = graph.slots()
        for i in free:
            slots[i] += 1
        crowded = [i for i, n in slots.items() if n > 2]
        if not crowded:
            _close_open_sums(graph, slots, free)
            return
        i = sorted(crowded)[0]
        touching = [e for e in graph.edges if i in e.idx]
        if i in graph.pendants and touching:
            _pendant_to_diag(graph, i, touching[0])
        elif i in free or graph.copies.get(i):
            _split_free(graph, i, touching)
        else:
            raise NoMatrixForm(f"index {i} joins {slots[i]} factors")
    raise NoMatrixForm("could not untangle the index structure")  # pragma: no cover


def _pendant_to_diag(graph: Graph, i: str, edge: Factor) -> None:
    """u_i A_i… = (diag(u) A)_i…: the vector becomes a diagonal matrix on a new index."""
    u = graph.pendants.pop(i)
    j = graph.fresh(i)
    slot = edge.idx.index(i)
    renamed = Factor(edge.expr, tuple(j if n == slot else k for n, k in enumerate(edge.idx)))
    graph.edges[graph.edges.index(edge)] = renamed
    graph.edges.append(Factor(build.apply("diag_matrix", u), (i, j)))


def _split_free(graph: Graph, i: str, touching: list[Factor]) -> None:
    """A free index shared by parts: each part gets its own copy, joined by ⊙ later."""
    original = graph.copies.get(i, i)
    for edge in touching[1:]:
        j = graph.fresh(original)
        graph.copies[j] = original
        graph.edges[graph.edges.index(edge)] = Factor(
            edge.expr, tuple(j if k == i else k for k in edge.idx))


def _close_open_sums(graph: Graph, slots: dict[str, int], free: set[str]) -> None:
    """A summed index met once is summed over: it gets a ones vector."""
    for e in graph.edges:
        for slot, i in enumerate(e.idx):
            if slots[i] == 1 and i not in free and i not in graph.copies:
                dim = e.expr.ty.rows if slot == 0 else e.expr.ty.cols
                graph.pendants[i] = build.ones(dim)


# -- walking paths and cycles ------------------------------------------------------------

def _components(graph: Graph, free: set[str]) -> list[tuple[list[Factor], set[str]]]:
    joined = IndexGroups()
    for e in graph.edges:
        joined.join(e.idx)
    indices = set(graph.pendants) | {i for e in graph.edges for i in e.idx}
    groups: dict[str, set[str]] = defaultdict(set)
    for i in indices:
        groups[joined.find(i)].add(i)
    return [([e for e in graph.edges if e.idx[0] in members], members)
            for _, members in sorted(groups.items())]


def _walk(graph: Graph, edges: list[Factor], start: str) -> tuple[list[Expr], str]:
    """Matrices met walking from `start` along the path, and the index it ends at."""
    remaining = list(edges)
    here, product = start, []
    while True:
        step = next((e for e in remaining if here in e.idx), None)
        if step is None:
            return product, here
        remaining.remove(step)
        forward = step.idx[0] == here
        product.append(step.expr if forward else build.apply("transpose", step.expr))
        here = step.idx[1] if forward else step.idx[0]


def _scalar_path(graph: Graph, edges: list[Factor], ends: list[str]) -> Expr:
    options = []
    for a, b in (ends, ends[::-1]):
        matrices, _ = _walk(graph, edges, a)
        averaged, rest = _average_in(graph.pendants[a])
        if averaged:  # avg ⊙ r at one end: the path is mean(r ⊙ (M … v))
            end_avg, end_rest = _average_in(graph.pendants[b])
            if end_avg and end_rest is None and matrices:
                body = build.chain(matrices)  # avg^T M avg = mean(M)
            else:
                body = build.chain(matrices + [graph.pendants[b]])
            if rest is not None:
                body = build.apply("hadamard", rest, body)
            options.append(build.apply("mean", body))
            continue
        u = build.apply("transpose", graph.pendants[a])
        options.append(build.chain([u] + matrices + [graph.pendants[b]]))
    return min(options, key=to_text)


def _cycle(edges: list[Factor]) -> Expr:
    options = []
    for start in sorted({i for e in edges for i in e.idx}):
        for direction in (0, 1):
            ordered = edges if direction == 0 else list(reversed(edges))
            matrices, _ = _walk(Graph(), ordered, start)
            if len(matrices) == len(edges):
                options.append(build.apply("tr", build.chain(matrices)))
    return min(options, key=to_text)


def _assemble(graph: Graph, out: tuple[str | None, str | None]) -> Expr | None:
    free = {i for i in out if i is not None} | set(graph.copies)
    at_free: dict[str, list[Expr]] = defaultdict(list)   # vectors ending at a free index
    between: list[Expr] = []                               # matrices from row to col index
    for edges, members in _components(graph, free):
        ends = [i for i in members if i in graph.pendants or i in free]
        opens = [i for i in ends if i in free]
        if not ends:
            graph.scalars.append(_cycle(edges))
        elif not opens:
            if len(ends) == 1:  # a lone vector summed over (averaged, with avg)
                averaged, rest = _average_in(graph.pendants[ends[0]])
                if averaged and rest is not None:
                    graph.scalars.append(build.apply("mean", rest))
                elif not averaged:
                    graph.scalars.append(build.apply("sum", graph.pendants[ends[0]]))
            else:
                graph.scalars.append(_scalar_path(graph, edges, sorted(ends)))
        elif len(opens) == 1:
            start = opens[0]
            matrices, end = _walk(graph, edges, start)
            tail = [graph.pendants[end]] if end in graph.pendants else []
            if start in graph.pendants and not edges:
                tail = [graph.pendants[start]]
            at_free[graph.copies.get(start, start)].append(build.chain(matrices + tail))
        else:
            row = next(i for i in opens if graph.copies.get(i, i) == out[0])
            matrices, _ = _walk(graph, edges, row)
            between.append(build.chain(matrices))
    return _combine(out, at_free, between)


def _combine(out, at_free, between) -> Expr | None:
    row, col = out
    if row is None and col is None:
        return None
    if row is None or col is None:
        vector = _hadamard_all(at_free[row or col])
        return build.apply("transpose", vector) if row is None else vector
    if between:
        matrix = between[0]
        for other in between[1:]:
            matrix = build.apply("hadamard", matrix, other)
        if at_free.get(row):
            matrix = build.product(build.apply("diag_matrix", _hadamard_all(at_free[row])),
                                   matrix)
        if at_free.get(col):
            matrix = build.product(matrix, build.apply("diag_matrix",
                                                       _hadamard_all(at_free[col])))
        return matrix
    left = _hadamard_all(at_free[row]) if at_free.get(row) else build.ones(("?",))
    right = _hadamard_all(at_free[col]) if at_free.get(col) else build.ones(("?",))
    return build.product(left, build.apply("transpose", right))


def recover(terms: list[Term], out: tuple[str | None, str | None], shape) -> Expr:
    return build.total([recover_term(t, out) for t in terms], shape)

