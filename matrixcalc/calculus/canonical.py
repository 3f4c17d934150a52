"""A differential brought to the canonical form that the identification theorems read.

For a scalar f of a matrix X the canonical form is df = tr(G^T dX) (g^T dx for a vector x),
and Magnus and Neudecker's first identification theorem gives ∂f/∂X = G; for a vector
F of a vector x it is dF = J dx, and J is the Jacobian; for a scalar x, dF = G dx.

The differential is first split into terms, each holding dX once with no sum on the way
to it (`split`). A term of a scalar function is then rewritten by moves, each a small
named rule (`REVERSE`): with A the matrix that the rest of the term pairs with the part
holding dX, ⟨A, P⟩ = tr(A^T P), a move takes one operator off P and onto A
(cyclicity of the trace, transposes of scalars, Hadamard and diag moves, vec), until P is
dX and A is the term's G. A term of a vector function is rewritten by the
moves of `jacobians.FORWARD` until it is J dx. A term no move applies to raises
NoCanonicalForm, naming the operator: the derivation then ends with the differential
itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import UnsupportedError
from ..language import build
from ..language.expr import Apply, Const, Expr, Number, Symbol, walk
from ..language.shapes import SCALAR
from ..rewrite.kron import outer_product_as_kron
from ..rewrite.simplify import simplify_tree
from .differential import Differentials

ONE = Number(1, ty=SCALAR)


class NoCanonicalForm(UnsupportedError):
    """No move brings a term of the differential to the canonical form."""


def holds(e: Expr, name: str) -> bool:
    return any(isinstance(n, Symbol) and n.name == name for n in walk(e))


# -- terms ------------------------------------------------------------------------------------

def split(e: Expr, dx: str) -> list[tuple[int, Expr]]:
    """The terms of a differential, each (sign, term) with dX once and no sum or negation
    on the way from the term's root to dX (products are distributed over sums that hold
    dX; linearity in dX leaves at most one argument of any other operator holding it)."""
    if isinstance(e, Symbol):
        return [(1, e)] if e.name == dx else []
    if not isinstance(e, Apply):
        return []
    if e.op == "add":
        return [t for a in e.args for t in split(a, dx)]
    if e.op == "neg":
        return [(-sign, t) for sign, t in split(e.args[0], dx)]
    holding = [k for k, a in enumerate(e.args) if holds(a, dx)]
    if not holding:
        return []
    if len(holding) > 1:
        raise NoCanonicalForm(f"`{e.op}` holds {dx} in more than one argument")
    (k,) = holding
    return [(sign, replace(e, args=e.args[:k] + (t,) + e.args[k + 1:]))
            for sign, t in split(e.args[k], dx)]


def signed(terms: list[tuple[int, Expr]]) -> Expr | None:
    """Σ sign · term, in order, as `a - b` parses."""
    return Differentials.total([t if sign > 0 else build.negate(t) for sign, t in terms])


# -- moves ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    title: str
    rule: str
    apply: Callable  # (A, P, k, dx) -> (A', P'), or None where it does not apply


REVERSE: dict[str, list[Move]] = {}


def move(table: dict, *ops: str, title: str, rule: str):
    def register(fn):
        for op in ops:
            table.setdefault(op, []).append(Move(title, rule, fn))
        return fn
    return register


def other(p: Apply, k: int) -> Expr:
    return p.args[1 - k]


def tidy(e: Expr) -> Expr:
    return simplify_tree(e)


# Reverse moves, for a scalar function: ⟨A, P⟩ = tr(A^T P), P holding dX in argument k (the
# statements call A `C`, so as not to read as a symbol of the user's).

@move(REVERSE, "transpose", title="a transpose moves across",
      rule="tr(C^T dU^T) = tr(C dU); for scalars s^T = s")
def _transpose(a, p, k, dx):
    return build.apply("transpose", a), p.args[0]


@move(REVERSE, "matmul", title="cyclicity of the trace", rule="tr(C^T dU V) = tr(V C^T dU)")
def _cyclic(a, p, k, dx):
    u, v = p.args
    if k != 0 or u.ty.is_scalar or v.ty.is_scalar:
        return None
    return build.product(a, build.apply("transpose", v)), u


@move(REVERSE, "matmul", title="transpose of a product", rule="tr(C^T U dV) = tr((U^T C)^T dV)")
def _left_factor(a, p, k, dx):
    u, v = p.args
    if k != 1 or u.ty.is_scalar or v.ty.is_scalar:
        return None
    return build.product(build.apply("transpose", u), a), v


@move(REVERSE, "mul", "matmul", "hadamard", "kron", title="scalars commute",
      rule="tr(C^T (s dU)) = tr((s C)^T dU)")
def _scalar_factor(a, p, k, dx):
    s, m = other(p, k), p.args[k]
    if not s.ty.is_scalar:
        return None
    return build.product(s, a), m


@move(REVERSE, "mul", "matmul", "hadamard", "kron", title="a scalar differential factors out",
      rule="tr(C^T U ds) = tr(C^T U) ds")
def _scalar_differential(a, p, k, dx):
    u, ds = other(p, k), p.args[k]
    if not ds.ty.is_scalar or u.ty.is_scalar:
        return None
    return Differentials.inner(a, u), ds


@move(REVERSE, "div", title="scalars commute", rule="tr(C^T dU/s) = tr((C/s)^T dU)")
def _divided(a, p, k, dx):
    return (build.apply("div", a, p.args[1]), p.args[0]) if k == 0 else None


@move(REVERSE, "tr", title="a scalar is its own trace", rule="c tr(dU) = tr((c I)^T dU)")
def _trace(a, p, k, dx):
    (u,) = p.args
    if u.ty.is_scalar:
        return a, u
    if isinstance(u, Apply) and u.op == "kron" and all(f.ty.kind == "matrix" for f in u.args):
        return None  # the trace of a Kronecker product, below
    return build.product(a, build.identity(u.ty.rows)), u


@move(REVERSE, "tr", title="the trace of a Kronecker product", rule="tr(U ⊗ dV) = tr(U) tr(dV)")
def _trace_of_kron(a, p, k, dx):
    (u,) = p.args
    if not (isinstance(u, Apply) and u.op == "kron") or any(
            f.ty.kind != "matrix" for f in u.args):
        return None
    j = 0 if holds(u.args[0], dx) else 1
    const, varying = u.args[1 - j], u.args[j]
    return build.product(a, build.apply("tr", const)), build.apply("tr", varying)


OUTER = dict(title="Kronecker product of a column and a row",
             rule="u ⊗ v^T = u v^T = v^T ⊗ u")


@move(REVERSE, "kron", **OUTER)
def outer_move(a, p, k, dx):
    """u ⊗ v^T and v^T ⊗ u as the matrix product u v^T (the simplifier's rule, Matrix
    Cookbook (510)), the factor `a` unchanged: a move both ways (jacobians.py); None for
    other Kronecker products."""
    product = outer_product_as_kron(p)
    return None if product is None else (a, product)


@move(REVERSE, "kron", title="Kronecker product and trace",
      rule="tr(C^T (U ⊗ dV)) = tr(((ones^T ⊗ I) (C ⊙ (U ⊗ ones ones^T)) (ones ⊗ I))^T dV): "
           "the blocks of C weighted by the entries of U, summed")
def _kron(a, p, k, dx):
    u, v = p.args
    if u.ty.is_scalar or v.ty.is_scalar:
        return None
    rows, cols = (u.ty.rows, v.ty.rows), (u.ty.cols, v.ty.cols)
    if k == 1:  # Σ_ij U_ij C_(ij): ones pick every block of rows and of columns
        weights = build.apply("kron", u, build.filled_ones(v.ty))
        left, right = _block_sum(rows, pick=1), _block_sum(cols, pick=1)
    else:  # (Σ_kl C_(ij),kl V_kl)_ij
        weights = build.apply("kron", build.filled_ones(u.ty), v)
        left, right = _block_sum(rows, pick=0), _block_sum(cols, pick=0)
    weighted = build.apply("hadamard", a, weights)
    result = weighted
    if left is not None:
        result = build.apply("matmul", build.apply("transpose", left), result)
    if right is not None:
        result = build.apply("matmul", result, right)
    return result, p.args[k]


def _block_sum(dims: tuple, pick: int) -> Expr | None:
    """ones ⊗ I (pick 1: sum over the first factor's index) or I ⊗ ones (pick 0), for the
    (first, second) dimensions of a Kronecker product; None where the summed one is 1."""
    summed, kept = dims[1 - pick], dims[pick]
    if not summed:
        return None
    ones = build.ones(summed)
    eye = build.identity(kept) if kept else build.num(1)
    return build.apply("kron", ones, eye) if pick == 1 else build.apply("kron", eye, ones)


@move(REVERSE, "hadamard", title="Hadamard product and trace",
      rule="tr(C^T (U ⊙ dV)) = tr((C ⊙ U)^T dV)")
def _hadamard(a, p, k, dx):
    u, v = other(p, k), p.args[k]
    if u.ty.is_scalar or v.ty.is_scalar:
        return None
    return build.apply("hadamard", a, u), v


@move(REVERSE, "ediv", title="Hadamard product and trace",
      rule="tr(C^T (dU ./ V)) = tr((C ./ V)^T dU)")
def _ediv(a, p, k, dx):
    if k != 0:
        return None
    u, v = p.args
    if u.ty.is_scalar and not v.ty.is_scalar:
        return None
    return (build.apply("div", a, v) if v.ty.is_scalar else build.apply("ediv", a, v)), u


@move(REVERSE, "diag_vector", title="diag and trace", rule="c^T diag(dU) = tr(diag(c) dU)")
def _diag_of_matrix(a, p, k, dx):
    return build.apply("diag_matrix", a), p.args[0]


@move(REVERSE, "diag_matrix", title="diag and trace", rule="tr(C^T diag(du)) = diag(C)^T du")
def _diag_of_vector(a, p, k, dx):
    return build.apply("diag_vector", a), p.args[0]


@move(REVERSE, "sum", "mean", title="sum of entries",
      rule="c sum(dU) = tr((c ones ones^T)^T dU); a mean divides by the number of entries")
def _total(a, p, k, dx):
    (u,) = p.args
    scale = a if p.op == "sum" else build.apply("div", a, build.dimension(u.ty.rows + u.ty.cols))
    return (scale if u.ty.is_scalar else build.product(scale, build.filled_ones(u.ty))), u


@move(REVERSE, "vec", title="vec and trace", rule="c^T vec(dU) = tr(unvec(c)^T dU)")
def _vec(a, p, k, dx):
    (u,) = p.args
    if u.ty.kind != "matrix":
        return a if u.ty.kind != "row vector" else build.apply("transpose", a), u
    sizes = (build.dimension(u.ty.rows), build.dimension(u.ty.cols))
    return build.apply("unvec", a, *sizes), u


@move(REVERSE, "unvec", title="vec and trace", rule="tr(C^T unvec(du)) = vec(C)^T du")
def _unvec(a, p, k, dx):
    return build.apply("vec", a), p.args[0]


def reverse(term: Expr, dx: str) -> tuple[Expr, list[tuple[Expr, Expr, Move]]]:
    """G with term = ⟨G, dX⟩, and the path: each state (A, P) with the move that made it."""
    a, p, path = ONE, term, []
    while not (isinstance(p, Symbol) and p.name == dx):
        a, p, used = one_move(REVERSE, a, p, dx)
        a = tidy(a)
        path.append((a, p, used))
    return a, path


def one_move(table, a, p, dx):
    if not isinstance(p, Apply):
        raise NoCanonicalForm(f"no move takes {dx} out of `{p}`")
    k = next(k for k, arg in enumerate(p.args) if holds(arg, dx))
    for candidate in table.get(p.op, ()):
        moved = candidate.apply(a, p, k, dx)
        if moved is not None:
            return (*moved, candidate)
    raise NoCanonicalForm(f"no move takes {dx} out of `{p.op}` (in `{p}`)")


# -- the identification form ----------------------------------------------------------

def canonical(g: Expr, dx: Symbol) -> Expr:
    """The identification form: g dx for a scalar, g^T dx for a vector (g shown whole:
    `((A + A^T) x)^T dx`), tr(M dX) for a matrix, M = G^T simplified (`tr(A^-1 dA)`)."""
    if dx.ty.is_scalar:
        return build.apply("mul", g, dx)
    if dx.ty.kind == "vector":
        return build.apply("matmul", build.apply("transpose", g), dx)
    sign, g = build.strip_sign(g)
    gt = tidy(build.apply("transpose", g))
    if isinstance(gt, Const) and gt.name == "I":  # tr(dX), -tr(dX)
        form = build.apply("tr", dx)
        return form if sign > 0 else build.negate(form)
    return build.apply("tr", build.apply("matmul", gt if sign > 0 else build.negate(gt), dx))
