"""A term of a vector function's differential brought to J dx: the forward moves.

A term is read as L vec(P), with P the part that holds dx (vec of a column is the
column, vec of a row its transpose, vec of a matrix its columns stacked) and L what has
been taken off so far. Each move is a small named rule that takes the outermost operator
off P: a left factor stays (U (J dx) = (U J) dx), a Hadamard product is a diag
(u ⊙ dv = diag(u) dv), vec of a product is a Kronecker product times vec
(vec(U dQ V) = (V^T ⊗ U) vec(dQ), Magnus & Neudecker ch. 2), a transpose a commutation
matrix, and a scalar that holds dx is g^T dx by the reverse moves (`canonical.reverse`).
When P is dx, L is the Jacobian J.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Apply, Expr, Symbol
from .canonical import OUTER, Move, holds, move, one_move, other, outer_move, reverse, tidy

FORWARD: dict[str, list[Move]] = {}


def _times(left: Expr | None, factor: Expr) -> Expr:
    return factor if left is None else build.product(left, factor)


def _kron_eye(dim: tuple, factor: Expr, eye_first: bool) -> Expr:
    """I ⊗ factor (eye_first) or factor ⊗ I, with I of size dim; factor alone for size 1."""
    if not dim:
        return factor
    eye = build.identity(dim)
    return build.apply("kron", eye, factor) if eye_first else build.apply("kron", factor, eye)


def _vec(e: Expr) -> Expr:
    """vec(e) as a column: e itself for a column, e^T for a row, vec(e) for a matrix."""
    if e.ty.kind == "row vector":
        return build.apply("transpose", e)
    return build.apply("vec", e) if e.ty.kind == "matrix" else e


@move(FORWARD, "matmul", title="diag and Hadamard product",
      rule="diag(du) v = diag(du)^T v = v ⊙ du")
def _diag_times(left, p, k, dx):
    u, v = p.args
    if isinstance(u, Apply) and u.op == "transpose":
        u = u.args[0]  # a diagonal matrix is its transpose
    if k != 0 or not (isinstance(u, Apply) and u.op == "diag_matrix") or v.ty.kind != "vector":
        return None
    return left, build.apply("hadamard", v, u.args[0])


@move(FORWARD, "matmul", title="associativity", rule="(U V) w = U (V w)")
def _reassociate(left, p, k, dx):
    u, w = p.args
    if k != 0 or not (isinstance(u, Apply) and u.op == "matmul") or u.ty.kind != "matrix" \
            or holds(w, dx) or not holds(u.args[1], dx):
        return None
    inner_u, inner_v = u.args
    return left, build.apply("matmul", inner_u, build.apply("matmul", inner_v, w))


@move(FORWARD, "matmul", "mul", "hadamard", "kron", title="scalars commute",
      rule="(J dx) s = s J dx")
def _scaled(left, p, k, dx):
    s, v = other(p, k), p.args[k]
    if not s.ty.is_scalar or v.ty.is_scalar:
        return None
    return _times(left, s), v


@move(FORWARD, "matmul", title="a left factor stays",
      rule="U (J dx) = (U J) dx; vec(U dV) = (I ⊗ U) vec(dV)")
def _left(left, p, k, dx):
    u, v = p.args
    if k != 1 or u.ty.is_scalar:
        return None
    return _times(left, _kron_eye(v.ty.cols, u, eye_first=True)), v


@move(FORWARD, "matmul", title="vec of a product", rule="vec(dU V) = (V^T ⊗ I) vec(dU)")
def _right(left, p, k, dx):
    u, v = p.args
    if k != 0 or v.ty.is_scalar or u.ty.is_scalar:
        return None
    return _times(left, _kron_eye(u.ty.rows, build.apply("transpose", v), eye_first=False)), u


@move(FORWARD, "hadamard", title="Hadamard product as diag",
      rule="u ⊙ dv = diag(u) dv; vec(U ⊙ dV) = diag(vec(U)) vec(dV)")
def _hadamard_as_diag(left, p, k, dx):
    u, v = other(p, k), p.args[k]
    if u.ty.is_scalar or v.ty.is_scalar:
        return None
    return _times(left, build.apply("diag_matrix", _vec(u))), v


@move(FORWARD, "ediv", title="Hadamard product as diag", rule="du ./ v = diag(v.^-1) du")
def _ediv_as_diag(left, p, k, dx):
    u, v = p.args
    if k != 0 or u.ty.is_scalar:
        return None
    scale = build.apply("div", build.num(1), v) if v.ty.is_scalar else \
        build.apply("diag_matrix", _vec(build.reciprocal(v)))
    return _times(left, scale), u


@move(FORWARD, "div", title="scalars commute", rule="(J dx)/s = (J/s) dx")
def _divided(left, p, k, dx):
    if k != 0:
        return None
    return _times(left, build.apply("div", build.num(1), p.args[1])), p.args[0]


@move(FORWARD, "transpose", title="transpose and vec",
      rule="vec(du^T) = du for a vector; vec(dQ^T) = K vec(dQ) (the commutation matrix)")
def _transposed(left, p, k, dx):
    (q,) = p.args
    if q.ty.kind != "matrix":
        return left, q
    return _times(left, build.commutation(q.ty.rows, q.ty.cols)), q


@move(FORWARD, "vec", "unvec", title="vec and unvec", rule="vec(dQ) is dQ's vec; "
      "vec(unvec(dv)) = dv")
def _vec_of(left, p, k, dx):
    return left, p.args[0]


@move(FORWARD, "diag_vector", title="diag of a diag", rule="diag(diag(du)) = du")
def _diag_of_diag(left, p, k, dx):
    (q,) = p.args
    if not (isinstance(q, Apply) and q.op == "diag_matrix"):
        return None
    return left, q.args[0]


@move(FORWARD, "diag_vector", title="diag and vec",
      rule="diag(dQ) = (ones^T ⊗ I) diag(vec(I)) vec(dQ)")
def _diag_of_matrix(left, p, k, dx):
    (q,) = p.args
    eye = build.identity(q.ty.rows)
    pick = build.apply("matmul", build.apply("kron", build.apply("transpose", build.ones(
        q.ty.rows)), eye), build.apply("diag_matrix", build.apply("vec", eye)))
    return _times(left, pick), q


@move(FORWARD, "diag_matrix", title="diag and vec",
      rule="vec(diag(du)) = diag(vec(I)) (ones ⊗ I) du")
def _diag_matrix(left, p, k, dx):
    (u,) = p.args
    eye = build.identity(u.ty.rows)
    spread = build.apply("matmul", build.apply("diag_matrix", build.apply("vec", eye)),
                         build.apply("kron", build.ones(u.ty.rows), eye))
    return _times(left, spread), u


@move(FORWARD, "kron", title="Kronecker product with a column",
      rule="u ⊗ dv = (u ⊗ I) dv; du ⊗ v = (I ⊗ v) du")
def _kron_column(left, p, k, dx):
    u, v = p.args
    if u.ty.kind != "vector" or v.ty.kind != "vector":
        return None
    const, varying = other(p, k), p.args[k]
    eye = build.identity(varying.ty.rows)
    factor = build.apply("kron", const, eye) if k == 1 else build.apply("kron", eye, const)
    return _times(left, factor), varying


move(FORWARD, "kron", **OUTER)(outer_move)


@move(FORWARD, "kron", title="vec of a Kronecker product",
      rule="vec(U ⊗ V) = (I ⊗ K ⊗ I) (vec(U) ⊗ vec(V)) (Magnus & Neudecker, ch. 2)")
def _kron_vec(left, p, k, dx):
    u, v = p.args
    if u.ty.is_scalar or v.ty.is_scalar:
        return None
    (rows_u, cols_u), (rows_v, cols_v) = (u.ty.rows, u.ty.cols), (v.ty.rows, v.ty.cols)
    swap = build.commutation(cols_v, rows_u) if cols_v and rows_u else \
        build.identity(cols_v or rows_u)
    middle = _kron_eye(cols_u, _kron_eye(rows_v, swap, eye_first=False), eye_first=True)
    const = _vec(other(p, k))
    eye = build.identity(p.args[k].ty.rows + p.args[k].ty.cols)
    spread = build.apply("kron", const, eye) if k == 1 else build.apply("kron", eye, const)
    return _times(left, build.apply("matmul", middle, spread)), p.args[k]


SCALAR_DIFFERENTIAL = Move("a scalar differential", "v (g^T dx) = (v g^T) dx", None)


def forward(term: Expr, dx: str) -> tuple[Expr, list[tuple[Expr, Expr, Move]]]:
    """J with term = J dx (dx a vector), and the path of states (L, P)."""
    left, p, path = None, term, []
    while not (isinstance(p, Symbol) and p.name == dx):
        scalar = _scalar_part(p, dx)
        if scalar is not None:  # vec(W) (g^T dx): g by the reverse moves
            w, ds = scalar
            g, _ = reverse(ds, dx)
            row = build.apply("transpose", g)
            factor = row if w is None else build.apply("matmul", _vec(w), row)
            left = tidy(_times(left, factor))
            path.append((left, ds, SCALAR_DIFFERENTIAL))
            return left, path
        left, p, used = one_move(FORWARD, left, p, dx)
        left = None if left is None else tidy(left)
        path.append((left, p, used))
    if left is None or left.ty.is_scalar:  # s dx = (s I) dx
        eye = build.identity(p.ty.rows)
        left = eye if left is None else build.product(left, eye)
    return left, path


def _scalar_part(p: Expr, dx: str) -> tuple[Expr | None, Expr] | None:
    """(W, ds) where the term is W ds with ds a scalar holding dx (W None: it is ds)."""
    if p.ty.is_scalar:
        return None, p
    if isinstance(p, Apply) and p.op in ("mul", "matmul", "hadamard", "kron"):
        k = next(k for k, arg in enumerate(p.args) if holds(arg, dx))
        if p.args[k].ty.is_scalar and not other(p, k).ty.is_scalar:
            return other(p, k), p.args[k]
    return None


def jacobian_form(j: Expr, dx: Symbol) -> Expr:
    """J dx."""
    return build.apply("matmul", j, dx)
