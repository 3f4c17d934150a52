"""Row-wise forms: what batch losses and attention are written with, rows as samples.

- a row-stochastic matrix (a row-wise softmax, or a matrix declared `stochastic`) has rows
  that sum to one: S ones = ones, so diag(Y ones) = I; a centred matrix has rows that sum
  to zero, (X - 1/d X ones ones^T) ones = 0; ones^T ones in a product chain is the size;
- the diagonal of a product is a row sum of a Hadamard product, diag(M F) = (M ⊙ F^T) ones,
  as a fused attention kernel computes rowsum(dP ⊙ P): it never forms the square product;
- terms that share a Hadamard factor share it once: P ⊙ A - diag(v) P = P ⊙ (A - v ones^T)
  (diag(v) P is (v ones^T) ⊙ P, P diag(w) is (ones w^T) ⊙ P), the softmax backward pass
  dS = P ⊙ (dP - rowsum(dP ⊙ P) ones^T) (Dao et al., FlashAttention, 2022, appendix B.2);
- in the vec layout, the block of a row-wise Jacobian that scales entry (r, c) by a value
  of row r is diag(vec(S)) between Kronecker products with ones.
Each rule removes a node, a factor or a term (diag(M F) trades its diag for a Hadamard
product and no rule makes a diag of a product again), so simplification ends.
"""

from __future__ import annotations

from ..language import build
from ..language.expr import Expr, Symbol
from .engine import rewrites
from .patterns import assumes, is_const, is_op, simplified
from .sums import Monomial, collect_like_terms, monomial, rebuild
from .totals import known_total


def is_stochastic(e: Expr) -> bool:
    """Whether each row of the matrix e sums to one: softmax of a matrix (row by row), or
    a symbol declared `stochastic`."""
    if e.ty.kind != "matrix":
        return False
    return (is_op(e, "softmax") and e.args[0].ty.kind == "matrix") or assumes(e, "stochastic")


def _is_ones_row(e: Expr) -> bool:
    return is_op(e, "transpose") and is_const(e.args[0], "ones")


@rewrites("matmul")
def rows_sum_to_one(e: Expr) -> Expr | None:
    """… S ones = … ones and ones^T S^T … = ones^T … for a row-stochastic S.
    Terminates: S goes."""
    if not is_op(e, "matmul") or not e.holds("ones"):
        return None
    factors = build.factors_of(e)
    for n in range(len(factors) - 1):
        left, right = factors[n], factors[n + 1]
        if is_const(right, "ones") and is_stochastic(left):
            kept = factors[:n] + [build.ones(left.ty.rows)] + factors[n + 2:]
        elif _is_ones_row(left) and is_op(right, "transpose") and is_stochastic(right.args[0]):
            kept = factors[:n] + [build.apply("transpose", build.ones(right.ty.cols))] \
                + factors[n + 2:]
        else:
            continue
        return build.chain(kept)
    return None


@rewrites("diag_vector")
def diag_of_product(e: Expr) -> Expr | None:
    """diag(M F) = (M ⊙ F^T) ones: the diagonal of a product of matrices as the row sums
    of a Hadamard product (Σ_k M_ik F_ki; no square product is formed), where F, the last
    factor, is computed rather than a weight (a symbol): an activation's derivative or a
    softmax, what backpropagation multiplies entry by entry (rowsum(dP ⊙ P)). A weight
    at the end keeps diag(M W^T), which cutting would only transpose. Terminates: the
    diag goes."""
    if not is_op(e, "diag_vector") or not is_op(e.args[0], "matmul"):
        return None
    factors = build.factors_of(e.args[0])
    if len(factors) < 2 or any(f.ty.kind != "matrix" for f in factors) \
            or _is_weight(factors[-1]):
        return None
    rest, cut = build.chain(factors[:-1]), factors[-1]
    hadamard = build.apply("hadamard", rest, build.apply("transpose", cut))
    return build.apply("matmul", hadamard, build.ones(hadamard.ty.cols))


def _is_weight(e: Expr) -> bool:
    return isinstance(e, Symbol) or (is_op(e, "transpose") and isinstance(e.args[0], Symbol))


@rewrites("diag_matrix")
def diag_of_ones(e: Expr) -> Expr | None:
    """diag(ones) = I (the rows of a stochastic Y sum to one: diag(Y ones) = I).
    Terminates: the diag goes."""
    if is_op(e, "diag_matrix") and is_const(e.args[0], "ones"):
        return build.identity(e.ty.rows)
    return None


def _hadamard_parts(e: Expr) -> list[Expr]:
    if is_op(e, "hadamard"):
        return _hadamard_parts(e.args[0]) + _hadamard_parts(e.args[1])
    return [e]


def _as_hadamard(chain: tuple[Expr, ...]) -> list[Expr] | None:
    """A term's matrix part as Hadamard factors: A ⊙ B, diag(v) P as [v ones^T, P],
    P diag(w) as [ones w^T, P]; None for anything else."""
    if len(chain) == 1 and is_op(chain[0], "hadamard") and chain[0].ty.kind == "matrix":
        return _hadamard_parts(chain[0])
    if len(chain) == 2 and all(f.ty.kind == "matrix" for f in chain):
        left, right = chain
        if is_op(left, "diag_matrix"):
            v = left.args[0]
            return [build.apply("matmul", v, build.apply("transpose", build.ones(right.ty.cols))),
                    right]
        if is_op(right, "diag_matrix"):
            w = right.args[0]
            return [build.apply("matmul", build.ones(left.ty.rows), build.apply("transpose", w)),
                    left]
    return None


@rewrites("add")
def common_hadamard_factor(e: Expr) -> Expr | None:
    """P ⊙ A + c diag(v) P + … = P ⊙ (A + c v ones^T + …) for a matrix P that is a
    Hadamard factor of two or more terms, one of them a Hadamard product (diag(u) P +
    diag(v) P is the matrix product's common factor). Terminates: the terms that share P
    become one."""
    if not is_op(e, "add") or e.ty.kind != "matrix":
        return None
    terms = [monomial(t) for t in e.args]
    parts = [_as_hadamard(m.chain) for m in terms]
    candidates = {f for n, p in enumerate(parts) if p and is_op(terms[n].chain[0], "hadamard")
                  for f in p}
    for shared in sorted(candidates, key=lambda f: (len(str(f)), str(f))):
        members = [n for n, p in enumerate(parts) if p and shared in p]
        if len(members) < 2:
            continue
        rests = []
        for n in members:
            others = list(parts[n])
            others.remove(shared)
            inner = others[0]
            for f in others[1:]:
                inner = build.apply("hadamard", inner, f)
            rests.append(rebuild(Monomial(terms[n].coeff, terms[n].scalars, (inner,)), e.ty))
        pulled = build.apply("hadamard", shared, simplified(build.total(rests, e.ty)))
        others = [e.args[n] for n in range(len(terms)) if n not in members]
        return build.total([pulled] + others, e.ty)
    return None


def _ones_kron(e: Expr, row: bool) -> Expr | None:
    """A for ones ⊗ A (or ones^T ⊗ A for a row); None otherwise."""
    if not is_op(e, "kron"):
        return None
    left = e.args[0]
    return e.args[1] if (_is_ones_row(left) if row else is_const(left, "ones")) else None


def _is_identity_kron_ones(e: Expr, row: bool) -> bool:
    """I ⊗ ones (or I ⊗ ones^T)."""
    if not is_op(e, "kron") or not is_const(e.args[0], "I"):
        return False
    right = e.args[1]
    return _is_ones_row(right) if row else is_const(right, "ones")


@rewrites("hadamard")
def gather_as_diag(e: Expr) -> Expr | None:
    """(ones ⊗ A) ⊙ ((I ⊗ ones) B) = (I ⊗ A) diag(vec(B^T)) (ones ⊗ I) and
    (ones^T ⊗ A) ⊙ (S (I ⊗ ones^T)) = (ones^T ⊗ I) diag(vec(S)) (I ⊗ A) (I ⊗ A left out
    for A = I): the block of a row-wise Jacobian in the vec layout (columns stacked) that
    scales entry (r, c) by a value of row r. Terminates: the Hadamard product goes."""
    if not is_op(e, "hadamard") or e.ty.kind != "matrix":
        return None
    for mask, other in (e.args, e.args[::-1]):
        if not is_op(other, "matmul"):
            continue
        a = _ones_kron(mask, row=False)
        if a is not None and _is_identity_kron_ones(other.args[0], row=False):
            gather = build.apply("kron", build.ones(other.args[1].ty.rows),
                                 build.identity(a.ty.cols))
            values = _diag_vec(build.apply("transpose", other.args[1]))
            return build.chain(_unless_identity(build.apply("kron", build.identity(
                other.args[1].ty.rows), a)) + [values, gather])
        a = _ones_kron(mask, row=True)
        if a is not None and _is_identity_kron_ones(other.args[1], row=True):
            s = other.args[0]
            scatter = build.apply("kron", build.apply("transpose", build.ones(s.ty.cols)),
                                  build.identity(a.ty.rows))
            return build.chain([scatter, _diag_vec(s)] + _unless_identity(
                build.apply("kron", build.identity(s.ty.cols), a)))
    return None


def _unless_identity(k: Expr) -> list[Expr]:
    """[I ⊗ A], or [] where A is I too."""
    return [] if is_const(k.args[1], "I") else [k]


def _diag_vec(m: Expr) -> Expr:
    return build.apply("diag_matrix", build.apply("vec", m))


@rewrites("matmul")
def sums_of_centered_rows(e: Expr) -> Expr | None:
    """(A + B) ones = A ones + B ones where that cancels: the rows of a centred matrix
    sum to zero, (X - 1/d X ones ones^T) ones = 0 (and ones^T (X - 1/n ones ones^T X) = 0
    for its columns). Taken only when the distributed sum has fewer terms. Terminates:
    terms go."""
    if not is_op(e, "matmul"):
        return None
    left, right = e.args
    if is_op(left, "add") and is_const(right, "ones"):
        total, parts = left, [_signed_chain(t, [right], after=True) for t in left.args]
    elif is_op(right, "add") and _is_ones_row(left):
        total, parts = right, [_signed_chain(t, [left], after=False) for t in right.args]
    else:
        return None
    if any(t.ty.is_scalar for t in total.args):  # a broadcast number: not a product term
        return None
    parts = [simplified(p) for p in parts]  # each smaller than e: the recursion ends
    if all(build.is_zero(p) for p in parts):
        return build.zero(e.ty)
    collected = collect_like_terms(build.total(parts, e.ty))
    if collected is None:
        return None
    collected = simplified(collected)
    if build.is_zero(collected) or _count(collected) < _count(simplified(total)):
        return collected
    return None


def _count(e: Expr) -> int:
    return len(e.args) if is_op(e, "add") else 1


def _signed_chain(term: Expr, others: list[Expr], after: bool) -> Expr:
    """±(term others) or ±(others term), the sign of term kept in front."""
    sign, inner = build.strip_sign(term)
    chained = build.chain([inner] + others if after else others + [inner])
    return build.negate(chained) if sign < 0 else chained


@rewrites("matmul")
def ones_inner_product_in_chain(e: Expr) -> Expr | None:
    """… ones^T ones … = n …: inside a product chain (X ones ones^T ones = d X ones), where
    the size may be written by name. Terminates: two factors go."""
    if not is_op(e, "matmul") or not e.holds("ones"):
        return None
    factors = build.factors_of(e)
    scalars = [f for f in factors if f.ty.is_scalar]
    arrays = [f for f in factors if not f.ty.is_scalar]
    for n in range(len(arrays) - 1):
        if _is_ones_row(arrays[n]) and is_const(arrays[n + 1], "ones"):
            size = known_total(arrays[n + 1])
            if size is not None:
                return build.chain([size] + scalars + arrays[:n] + arrays[n + 2:])
    return None
