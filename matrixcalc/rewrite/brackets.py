"""Arithmetic of bracket literals: products, sums, scalar multiples, transposes, integer
powers and inverses of literals fold into one literal, entry by entry, the entries
simplified by SymPy (`index.scalars`): [m, 0; 0, m]^2 = [m^2, 0; 0, m^2],
[1, 2; 3, 4] [x; y] = [x + 2 y; 3 x + 4 y], 2 [a, b] + [c, d] = [2 a + c, 2 b + d].

A fold never blows a tree up: it is refused where its result would be much larger than
what it replaces (`_small_enough`), and powers and products are bounded before any work
is done. Termination: each rule removes an operator node above a literal.
"""

from __future__ import annotations

import sympy

from ..index.scalars import from_sympy, to_sympy
from ..language import build
from ..language.expr import Apply, Expr, Symbol, walk
from ..language.shapes import SCALAR
from .engine import rewrites
from .patterns import is_op

MAX_PRODUCTS = 4096  # entry products one matrix product of literals may take
MAX_POWER = 32  # the largest |k| of a literal's power folded
MAX_INVERSE = 3  # the largest literal inverted
MIN_BUDGET = 128  # a fold may always give a result of this many nodes


def _is_literal(e: Expr) -> bool:
    return is_op(e, "bracket")


def _grid(e: Apply) -> list[list[Expr]]:
    rows, cols = e.attrs
    return [list(e.args[r * cols:(r + 1) * cols]) for r in range(rows)]


def _names(*trees: Expr) -> dict[str, Symbol]:
    return {n.name: n for t in trees for n in walk(t) if isinstance(n, Symbol)}


def _entries(trees: list[Expr], names: dict[str, Symbol]) -> list[Expr]:
    """Entries computed as trees, folded by SymPy where they are made of scalars SymPy
    knows (otherwise left for the simplifier); expanded, all of them, where that makes
    them no larger in all, so that a literal is written one way throughout."""
    values = [to_sympy(t) for t in trees]
    known = [v for v in values if v is not None]
    expanded = [sympy.expand(v) for v in known]
    if sum(map(sympy.count_ops, expanded)) <= sum(map(sympy.count_ops, known)):
        it = iter(expanded)
        values = [None if v is None else next(it) for v in values]
    return [t if v is None else from_sympy(v, names) for t, v in zip(trees, values)]


def _entry(tree: Expr, names: dict[str, Symbol]) -> Expr:
    return _entries([tree], names)[0]


def _literal(grid: list[list[Expr]], names: dict[str, Symbol]) -> Expr:
    cells = _entries([c for row in grid for c in row], names)
    if len(cells) == 1:
        return cells[0]  # a 1×1 literal is its entry, a scalar
    if all(build.is_zero(c) for c in cells):
        shape = build.apply("bracket", *cells, attrs=(len(grid), len(grid[0]))).ty
        return build.zero(shape)
    return build.apply("bracket", *cells, attrs=(len(grid), len(grid[0])))


def _size(e: Expr) -> int:
    return sum(1 for _ in walk(e))


def _small_enough(result: Expr, before: Expr) -> Expr | None:
    """result, unless it is much larger than the tree it replaces."""
    return result if _size(result) <= max(MIN_BUDGET, 4 * _size(before)) else None


def _times(a: list[list[Expr]], b: list[list[Expr]]) -> list[list[Expr]]:
    return [[build.total([build.product(a[i][k], b[k][j]) for k in range(len(b))], SCALAR)
             for j in range(len(b[0]))] for i in range(len(a))]


def _scalar_value(s: Expr) -> sympy.Expr | None:
    return to_sympy(s) if s.ty.is_scalar else None


@rewrites("matmul")
def product_of_literals(e: Expr) -> Expr | None:
    """[a_ik] [b_kj] = [Σ_k a_ik b_kj]: two adjacent literals of a product chain are one."""
    if not is_op(e, "matmul") or not e.holds("bracket"):
        return None
    factors = build.factors_of(e)
    for n in range(len(factors) - 1):
        a, b = factors[n], factors[n + 1]
        if _is_literal(a) and _is_literal(b):
            ga, gb = _grid(a), _grid(b)
            if len(ga) * len(gb) * len(gb[0]) > MAX_PRODUCTS:
                return None
            folded = _literal(_times(ga, gb), _names(a, b))
            if _small_enough(folded, build.apply("matmul", a, b)) is None:
                return None
            return build.chain(factors[:n] + [folded] + factors[n + 2:])
    return None


@rewrites("mul", "div", "neg")
def scaled_literal(e: Expr) -> Expr | None:
    """s [a, b] = [s a, s b], [a, b]/s = [a/s, b/s], -[a, b] = [-a, -b], for a scalar s
    made of numbers and scalar symbols."""
    if is_op(e, "neg") and _is_literal(e.args[0]):
        lit, value = e.args[0], sympy.Integer(-1)
    elif is_op(e, "mul") and any(_is_literal(a) for a in e.args):
        s, lit = e.args if _is_literal(e.args[1]) else e.args[::-1]
        value = _scalar_value(s)
    elif is_op(e, "div") and _is_literal(e.args[0]):
        lit, value = e.args[0], _scalar_value(e.args[1])
        value = None if value is None or value == 0 else 1 / value
    else:
        return None
    if value is None or not lit.ty or lit.ty.is_scalar:
        return None
    names = _names(e)
    factor = from_sympy(value, names)
    grid = [[build.product(factor, c) for c in row] for row in _grid(lit)]
    return _small_enough(_literal(grid, names), e)


@rewrites("add")
def sum_of_literals(e: Expr) -> Expr | None:
    """[a, b] + [c, d] = [a + c, b + d], and a broadcast scalar s: [a, b] + s = [a + s,
    b + s]: the literals of a sum (and its scalars made of numbers and symbols) are one."""
    if not is_op(e, "add") or e.ty.is_scalar:
        return None
    literals: list[tuple[int, Apply]] = []
    scalars: list[Expr] = []
    rest: list[Expr] = []
    for term in e.args:
        sign, inner = (-1, term.args[0]) if is_op(term, "neg") else (1, term)
        if _is_literal(inner) and inner.ty == e.ty:
            literals.append((sign, inner))
        elif term.ty.is_scalar and to_sympy(term) is not None:
            scalars.append(term)
        else:
            rest.append(term)
    if not literals or len(literals) + len(scalars) < 2:
        return None
    rows, cols = literals[0][1].attrs
    grids = [(sign, _grid(lit)) for sign, lit in literals]
    grid = [[build.total([g[r][k] if sign > 0 else build.negate(g[r][k])
                          for sign, g in grids] + scalars, SCALAR)
             for k in range(cols)] for r in range(rows)]
    folded = _literal(grid, _names(e))
    if _small_enough(folded, e) is None:
        return None
    return build.total(rest + [folded], e.ty)


@rewrites("transpose", "hadamard", "tr", "sum")
def literal_entrywise(e: Expr) -> Expr | None:
    """[a, b; c, d]^T = [a, c; b, d], [a, b] ⊙ [c, d] = [a c, b d], tr([a, b; c, d]) =
    a + d, sum([a, b; c, d]) = a + b + c + d."""
    if not (isinstance(e, Apply) and e.args and all(_is_literal(a) for a in e.args)):
        return None
    names = _names(e)
    grids = [_grid(a) for a in e.args]
    if e.op == "transpose":
        return _literal([list(col) for col in zip(*grids[0])], names)
    if e.op == "hadamard":
        if e.args[0].attrs != e.args[1].attrs:
            return None
        return _small_enough(_literal([[build.product(x, y) for x, y in zip(ra, rb)]
                                       for ra, rb in zip(*grids)], names), e)
    g = grids[0]
    cells = [g[n][n] for n in range(len(g))] if e.op == "tr" else [c for r in g for c in r]
    if e.op == "tr" and len(g) != len(g[0]):
        return None
    return _entry(build.total(cells, SCALAR), names)


@rewrites("matpow", "inv")
def power_of_literal(e: Expr) -> Expr | None:
    """[a_ij]^k for an integer k: the literal multiplied out (by squaring); for k < 0
    (and inv) the inverse, by SymPy, of a literal of at most 3×3 scalars it knows."""
    if not (isinstance(e, Apply) and e.op in ("matpow", "inv") and _is_literal(e.args[0])):
        return None
    lit = e.args[0]
    k = e.attrs[0] if e.op == "matpow" else -1
    if k == 0 or abs(k) > MAX_POWER or lit.attrs[0] != lit.attrs[1]:
        return None
    names = _names(lit)
    grid = _grid(lit)
    if k < 0:
        grid = _inverse(grid, names)
        if grid is None:
            return None
        k = -k
    budget = max(MIN_BUDGET, 4 * _size(e))
    result, base = None, grid
    while True:  # by squaring; given up as soon as a factor outgrows the budget
        if k & 1:
            result = base if result is None else _folded(_times(result, base), names)
            if _cells_size(result) > budget:
                return None
        k >>= 1
        if not k:
            break
        base = _folded(_times(base, base), names)
        if _cells_size(base) > budget:
            return None
    return _small_enough(_literal(result, names), e)


def _cells_size(grid: list[list[Expr]]) -> int:
    return sum(_size(c) for row in grid for c in row)


def _folded(grid: list[list[Expr]], names) -> list[list[Expr]]:
    cells = iter(_entries([c for row in grid for c in row], names))
    return [[next(cells) for _ in row] for row in grid]


def _inverse(grid: list[list[Expr]], names) -> list[list[Expr]] | None:
    if len(grid) > MAX_INVERSE:
        return None
    values = [[to_sympy(c) for c in row] for row in grid]
    if any(v is None for row in values for v in row):
        return None
    matrix = sympy.Matrix(values)
    if sympy.expand(matrix.det()) == 0:
        return None
    inverse = matrix.inv()
    return [[from_sympy(sympy.cancel(inverse[i, j]), names) for j in range(len(grid))]
            for i in range(len(grid))]


BRACKET_RULES = (product_of_literals, scaled_literal, sum_of_literals, literal_entrywise,
                 power_of_literal)
