"""Kronecker products and vec (Matrix Cookbook section 10.2): the identities that take
them apart, so that derivatives through them reduce to ordinary products."""

from __future__ import annotations

from ..language import build
from ..language.expr import Apply, Const, Expr, memo_key
from .engine import rewrites
from .patterns import flags, is_op, is_square

# f(A ⊗ B) = f(A) f(B): tr (Matrix Cookbook (525)), sum, and the Frobenius norm
MULTIPLICATIVE_OVER_KRON = ("tr", "sum", "normF")


@rewrites(*MULTIPLICATIVE_OVER_KRON)
def split_over_kron(e: Expr) -> Expr | None:
    """tr(A ⊗ B) = tr(A) tr(B), sum(A ⊗ B) = sum(A) sum(B), ||A ⊗ B||_F = ||A||_F ||B||_F."""
    if e.op in MULTIPLICATIVE_OVER_KRON and is_op(e.args[0], "kron"):
        a, b = e.args[0].args
        if e.op == "tr" and not (_square(a) and _square(b)):
            return None  # x ⊗ y^T is square, x and y^T are not
        return build.product(build.apply(e.op, a), build.apply(e.op, b))
    return None


@rewrites("kron")
def outer_product_as_kron(e: Expr) -> Expr | None:
    """x ⊗ y^T = y^T ⊗ x = x y^T (Matrix Cookbook (510)): a Kronecker product of a column
    and a row is their outer product."""
    if is_op(e, "kron"):
        a, b = e.args
        kinds = (a.ty.kind, b.ty.kind)
        if kinds == ("vector", "row vector"):
            return build.apply("matmul", a, b)
        if kinds == ("row vector", "vector"):
            return build.apply("matmul", b, a)
    return None


def _square(e: Expr) -> bool:
    return e.ty.is_scalar or is_square(e)


@rewrites("transpose")
def transpose_of_kron(e: Expr) -> Expr | None:
    """(A ⊗ B)^T = A^T ⊗ B^T (Matrix Cookbook (507))."""
    if is_op(e, "transpose") and is_op(e.args[0], "kron"):
        a, b = e.args[0].args
        return build.apply("kron", build.apply("transpose", a), build.apply("transpose", b))
    return None


@rewrites("vec")
def vec_of_vector(e: Expr) -> Expr | None:
    """vec(x) = x for a column; vec(x^T) = x."""
    if is_op(e, "vec") and e.args[0].ty.kind in ("vector", "scalar"):
        return e.args[0]
    if is_op(e, "vec") and e.args[0].ty.kind == "row vector":
        return build.apply("transpose", e.args[0])
    return None


def vec_outward(e: Expr) -> Expr | None:
    """sum(vec X) = sum(X), ||vec X|| = ||X||_F, f(vec X) = vec(f(X)) elementwise,
    vec(X) ⊙ vec(Y) = vec(X ⊙ Y), vec(X)^T vec(Y) = tr(X^T Y) (Cookbook (521))."""
    if not isinstance(e, Apply) or not e.args:
        return None
    inner = e.args[0]
    if is_op(inner, "vec") and inner.args[0].ty.kind == "matrix":
        x = inner.args[0]
        if e.op in ("sum", "mean", "normF"):
            return build.apply(e.op, x)
        if e.op == "norm2":
            return build.apply("normF", x)
        if e.op == "norm1":
            return build.apply("sum", build.apply("abs", x))
        if len(e.args) == 1 and "elementwise" in flags(e.op):
            return build.apply("vec", build.apply(e.op, x, attrs=e.attrs))
        if e.op == "hadamard" and is_op(e.args[1], "vec") and e.args[1].args[0].ty == x.ty:
            return build.apply("vec", build.apply("hadamard", x, e.args[1].args[0]))
    if is_op(e, "matmul") and is_op(inner, "transpose") and is_op(inner.args[0], "vec") \
            and is_op(e.args[1], "vec") and inner.args[0].args[0].ty.kind == "matrix":
        x, y = inner.args[0].args[0], e.args[1].args[0]
        return build.apply("tr", build.apply("matmul", build.apply("transpose", x), y))
    return None


@rewrites("add")
def sum_of_unvecs(e: Expr) -> Expr | None:
    """unvec(a, m, n) + unvec(b, m, n) = unvec(a + b, m, n): unvec is linear, and the
    inner sum can then be factored ((A + A^T) vec(X))."""
    if not is_op(e, "add"):
        return None
    groups: dict[tuple, list[Expr]] = {}
    for term in e.args:
        sign, inner = build.strip_sign(term)
        if is_op(inner, "unvec"):
            groups.setdefault(inner.args[1:], []).append(
                inner.args[0] if sign > 0 else build.negate(inner.args[0]))
    key = next((k for k, parts in groups.items() if len(parts) > 1), None)
    if key is None:
        return None
    rest = [t for t in e.args if not (is_op(build.strip_sign(t)[1], "unvec")
                                      and build.strip_sign(t)[1].args[1:] == key)]
    vectors = groups[key]
    merged = build.apply("unvec", build.total(vectors, vectors[0].ty), *key)
    return build.total(rest + [merged], e.ty)


@rewrites("unvec", "vec")
def unvec_of_vec(e: Expr) -> Expr | None:
    """unvec(vec(M), m, n) = M for M of m×n; vec(unvec(v, m, n)) = v."""
    if is_op(e, "unvec") and is_op(e.args[0], "vec") and e.args[0].args[0].ty == e.ty:
        return e.args[0].args[0]
    if is_op(e, "vec") and is_op(e.args[0], "unvec"):
        return e.args[0].args[0]
    return None


@rewrites("matmul")
def kron_with_a_column(e: Expr) -> Expr | None:
    """(u ⊗ B) M = u ⊗ (B M) and M (u^T ⊗ B) = u^T ⊗ (M B) for a column u (Matrix
    Cookbook (508) with a 1×1 factor)."""
    if not is_op(e, "matmul"):
        return None
    left, right = e.args
    if is_op(left, "kron") and left.args[0].ty.kind == "vector" and right.ty.kind != "scalar":
        u, b = left.args
        return build.apply("kron", u, build.product(b, right))
    if is_op(right, "kron") and right.args[0].ty.kind == "row vector" \
            and left.ty.kind != "scalar":
        u, b = right.args
        return build.apply("kron", u, build.product(left, b))
    return None


@rewrites("matmul")
def kron_mixed_product(e: Expr) -> Expr | None:
    """In a product chain: (A ⊗ B)(C ⊗ D) = A C ⊗ B D where the factors fit (Matrix
    Cookbook (511)); failing that, a Kronecker product with a column absorbs its
    neighbour, (u ⊗ B) M = u ⊗ (B M) and M (u^T ⊗ B) = u^T ⊗ (M B), so that two of them
    can meet: (ones ⊗ I) diag(v) (ones^T ⊗ I) = ones ones^T ⊗ diag(v).
    Terminates: a factor of the chain goes."""
    if not is_op(e, "matmul") or not e.holds("kron"):
        return None
    factors = build.factors_of(e)
    pairs = list(zip(factors, factors[1:]))
    for n, (left, right) in enumerate(pairs):
        if is_op(left, "kron") and is_op(right, "kron"):
            (a, b), (c, d) = left.args, right.args
            if a.ty.cols == c.ty.rows and b.ty.cols == d.ty.rows:
                merged = build.apply("kron", _times(a, c), _times(b, d))
                return build.chain(factors[:n] + [merged] + factors[n + 2:])
    for n, (left, right) in enumerate(pairs):
        merged = _absorbed(left, right)
        if merged is not None and any(is_op(f, "kron") for f in factors[:n] + factors[n + 2:]):
            return build.chain(factors[:n] + [merged] + factors[n + 2:])
    return None


def _absorbed(left: Expr, right: Expr) -> Expr | None:
    """(u ⊗ B) M = u ⊗ (B M), M (u^T ⊗ B) = u^T ⊗ (M B), M a matrix and no Kronecker
    product."""
    if is_op(left, "kron") and left.args[0].ty.kind == "vector" \
            and right.ty.kind == "matrix" and not is_op(right, "kron"):
        return build.apply("kron", left.args[0], _times(left.args[1], right))
    if is_op(right, "kron") and right.args[0].ty.kind == "row vector" \
            and left.ty.kind == "matrix" and not is_op(left, "kron"):
        return build.apply("kron", right.args[0], _times(left, right.args[1]))
    return None


def _times(a: Expr, b: Expr) -> Expr:
    """a b, an identity on either side left out."""
    if isinstance(a, Const) and a.name == "I":
        return b
    if isinstance(b, Const) and b.name == "I":
        return a
    return build.product(a, b)


@rewrites("add")
def kron_common_factor(e: Expr) -> Expr | None:
    """a (A ⊗ C) + b (B ⊗ C) = (a A + b B) ⊗ C, and the same for a common left factor
    (Kronecker products are bilinear): (I - 1/n ones ones^T) ⊗ D, the centring of a
    layer norm's Jacobian. Terminates: terms go."""
    from .sums import Monomial, monomial, rebuild
    if not is_op(e, "add"):
        return None
    terms = [monomial(t) for t in e.args]
    krons = [n for n, m in enumerate(terms) if len(m.chain) == 1 and is_op(m.chain[0], "kron")]
    for side in (1, 0):
        groups: dict = {}
        for n in krons:
            groups.setdefault(memo_key(terms[n].chain[0].args[side]), []).append(n)
        for members in groups.values():
            if len(members) < 2:
                continue
            shared = terms[members[0]].chain[0].args[side]
            parts = [terms[n].chain[0].args[1 - side] for n in members]
            inner_ty = parts[0].ty
            inner = build.total([rebuild(Monomial(terms[n].coeff, terms[n].scalars, (p,)),
                                         inner_ty) for n, p in zip(members, parts)], inner_ty)
            pair = (inner, shared) if side == 1 else (shared, inner)
            merged = build.apply("kron", *pair)
            rest = [t for n, t in enumerate(e.args) if n not in members]
            return build.total([merged] + rest, e.ty)
    return None
