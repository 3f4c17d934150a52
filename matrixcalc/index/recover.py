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
    graph = Graph(term, out)
    _reduce(graph)
    structure = _assemble(graph, out, shape)
    return _product(graph, structure)


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
    crossed), the Hadamard product of matrices."""
    at = graph.holders()
    mats = [n for n, f in enumerate(graph.factors) if _is_plain(f) and len(f.idx) == 2]
    for x in mats:
        f = graph.factors[x]
        ends = [_copy_of(graph, at, i, x) for i in f.idx]
        if None in ends or ends[0] == ends[1]:
            continue
        for y in mats:
            g = graph.factors[y]
            if y == x:
                continue
            other = [_copy_of(graph, at, i, y) for i in g.idx]
            if other == ends:
                merged = _hadamard(f.expr, g.expr)
            elif other == ends[::-1]:
                merged = _hadamard(f.expr, build.apply("transpose", g.expr))
            else:
                continue
            edits = {}
            for i, c in zip(g.idx, other):
                edits[c] = _without(edits.get(c, graph.factors[c]), i)
            graph.factors = [Factor(merged, f.idx) if n == x else edits.get(n, h)
                             for n, h in enumerate(graph.factors) if n != y]
            return True
    return False


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
    """[a = (o1, n1)] [b = (o2, n2)] M_o1o2 N_n1n2 = (M ⊗ N)_ab (Matrix Cookbook (506));
    with one side a plain index, u^T ⊗ N, M ⊗ v^T, u ⊗ N or M ⊗ v."""
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
    for x in pairs:
        if _kron_with_plain_side(graph, at, x):
            return True
    return False


def _matrix(found, dim: Dim) -> Expr:
    return build.identity(dim) if found[0] == "same" else found[0]


def _kron_with_plain_side(graph: Graph, at, x: int) -> bool:
    """A pair [b = (o, n)] for the result's column with a vector u on o, and N joining n
    to the result's row a: (u^T ⊗ N)_ab; a vector on n gives M ⊗ v^T; for the result's
    row, u ⊗ N and M ⊗ v (Matrix Cookbook (506) with a unit dimension)."""
    f = graph.factors[x]
    b, o, n = f.idx
    row, col = graph.out
    if row is None or col is None or b not in (row, col):
        return False
    column_side = b == col
    a = row if column_side else col
    for near, far, far_dim in ((o, n, f.expr.ty.cols), (n, o, f.expr.ty.rows)):
        m = graph.other_any(at, near, {x})
        if m is None or not (_is_plain(graph.factors[m]) and len(graph.factors[m].idx) == 1):
            continue
        if far == a:
            matrix, used = build.identity(far_dim), set()
        else:
            k = graph.other_any(at, far, {x, m})
            g = graph.factors[k] if k is not None else None
            if g is None or not (_is_plain(g) and set(g.idx) == {far, a} and far != a):
                continue
            start = a if column_side else far  # the matrix runs from the result's row
            matrix = g.expr if g.idx[0] == start else build.apply("transpose", g.expr)
            used = {k}
        vector = graph.factors[m].expr
        edge = build.apply("transpose", vector) if column_side else vector
        parts = (edge, matrix) if near == o else (matrix, edge)
        idx = (a, b) if column_side else (b, a)
        graph.replace({x, m} | used, [Factor(build.apply("kron", *parts), idx)])
        return True
    return False


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
    kron_of_pairs, commutation, diag_of_vector]


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

