"""The simplifier's rule catalog (SPEC section 4), applied bottom-up to a fixpoint.

Node rules push transposes onto symbols, apply assumptions and drop identities; the
sum rule collects like terms and pulls out common left and right factors. Every rule
returns None when it does not apply. Termination: transposes only move towards the
leaves, identities only disappear, and the sum rule only fires when it reduces the
number of terms or of factors.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sympy

from .. import build
from ..expr import Apply, Const, Expr, Number, Symbol, memo_key
from ..index.scalars import from_sympy, to_sympy
from .constants import elementwise_of_number, vanishing_at_zero, vector_function_of_number
from .engine import bottom_up, first, fixpoint, shape_preserving


def _is(e: Expr, op: str) -> bool:
    return isinstance(e, Apply) and e.op == op


def _assumes(e: Expr, word: str) -> bool:
    return isinstance(e, Symbol) and e.info is not None and word in e.info.assumptions


# -- transposes -----------------------------------------------------------------------------

def transpose_of_scalar(e: Expr) -> Expr | None:
    """s^T = s for a scalar s."""
    if _is(e, "transpose") and e.args[0].ty.is_scalar:
        return e.args[0]
    return None


def transpose_of_transpose(e: Expr) -> Expr | None:
    """(A^T)^T = A."""
    if _is(e, "transpose") and _is(e.args[0], "transpose"):
        return e.args[0].args[0]
    return None


def transpose_of_symmetric(e: Expr) -> Expr | None:
    """A^T = A for a symmetric A (also I and diag(v)) (Matrix Cookbook (8))."""
    if not _is(e, "transpose"):
        return None
    inner = e.args[0]
    if _assumes(inner, "symmetric") or (isinstance(inner, Const) and inner.name == "I") \
            or _is(inner, "diag_matrix"):
        return inner
    return None


def transpose_of_product(e: Expr) -> Expr | None:
    """(A B)^T = B^T A^T, (s A)^T = s A^T, (A ⊙ B)^T = A^T ⊙ B^T (Cookbook (4))."""
    if not _is(e, "transpose"):
        return None
    inner = e.args[0]
    if _is(inner, "matmul"):
        a, b = inner.args
        return build.apply("matmul", build.apply("transpose", b), build.apply("transpose", a))
    if _is(inner, "mul"):
        s, a = inner.args if inner.args[0].ty.is_scalar else inner.args[::-1]
        return build.apply("mul", s, build.apply("transpose", a))
    if _is(inner, "hadamard") or _is(inner, "div"):
        a, b = inner.args
        right = b if inner.op == "div" else build.apply("transpose", b)
        return build.apply(inner.op, build.apply("transpose", a), right)
    return None


def transpose_of_sum(e: Expr) -> Expr | None:
    """(A + B)^T = A^T + B^T, (-A)^T = -A^T."""
    if not _is(e, "transpose"):
        return None
    inner = e.args[0]
    if _is(inner, "add"):
        return build.total([build.apply("transpose", t) for t in inner.args],
                           inner.ty.transposed())
    if _is(inner, "neg"):
        return build.negate(build.apply("transpose", inner.args[0]))
    return None


def transpose_of_inverse(e: Expr) -> Expr | None:
    """(A^-1)^T = (A^T)^-1, written A^-T (Matrix Cookbook (4))."""
    if _is(e, "transpose") and _is(e.args[0], "inv"):
        return build.apply("inv", build.apply("transpose", e.args[0].args[0]))
    return None


# -- identities, ones, zeros ----------------------------------------------------------------

def _is_const(e: Expr, name: str) -> bool:
    return isinstance(e, Const) and e.name == name


def product_with_identity(e: Expr) -> Expr | None:
    """… I … = … …: an identity in a product chain with another matrix disappears."""
    if not _is(e, "matmul") and not _is(e, "mul"):
        return None
    factors = build.factors_of(e)
    kept = [f for f in factors if not _is_const(f, "I")]
    if len(kept) == len(factors) or all(f.ty.is_scalar for f in kept):
        return None
    result = build.chain(kept)
    # s I with s a scalar product (x^T x I) is a matrix: the identity must stay
    return result if result.ty == e.ty else None


def orthogonal_product(e: Expr) -> Expr | None:
    """Q^T Q = Q Q^T = I for an orthogonal Q."""
    if _is(e, "matmul"):
        a, b = e.args
        for x, y in ((a, b), (b, a)):
            if _is(x, "transpose") and x.args[0] == y and _assumes(y, "orthogonal"):
                return build.identity(y.ty.rows)
    return None


def scale_by_one(e: Expr) -> Expr | None:
    """1 A = A; 0 A = 0."""
    if _is(e, "mul"):
        for s, a in (e.args, e.args[::-1]):
            if isinstance(s, Number) and s.ty.is_scalar:
                if s.value == 1:
                    return a
                if s.value == 0:
                    return build.zero(e.ty)
    return None


def hadamard_with_ones(e: Expr) -> Expr | None:
    """ones ⊙ v = v."""
    if _is(e, "hadamard"):
        a, b = e.args
        if _is_const(a, "ones"):
            return b
        if _is_const(b, "ones"):
            return a
    return None


def diag_times_vector(e: Expr) -> Expr | None:
    """diag(u) v = u ⊙ v."""
    if _is(e, "matmul") and _is(e.args[0], "diag_matrix") and e.args[1].ty.kind == "vector":
        return build.apply("hadamard", e.args[0].args[0], e.args[1])
    return None


def scalar_out_of_diag(e: Expr) -> Expr | None:
    """diag(s M) = s diag(M), for diag either way."""
    if (_is(e, "diag_vector") or _is(e, "diag_matrix")) and _is(e.args[0], "mul"):
        s, m = e.args[0].args
        return build.product(s, build.apply(e.op, m))
    return None


def diag_of_transpose_or_outer(e: Expr) -> Expr | None:
    """diag(A^T) = diag(A); diag(u v^T) = u ⊙ v."""
    if not _is(e, "diag_vector"):
        return None
    inner = e.args[0]
    if _is(inner, "transpose"):
        return build.apply("diag_vector", inner.args[0])
    if _is(inner, "matmul") and inner.args[0].ty.kind == "vector" \
            and _is(inner.args[1], "transpose") and inner.args[1].args[0].ty.kind == "vector":
        return build.apply("hadamard", inner.args[0], inner.args[1].args[0])
    return None


def reciprocal_to_division(e: Expr) -> Expr | None:
    """2 s^-1 X = 2 X/s: a scalar's reciprocal in a product is written as a division."""
    if not (_is(e, "mul") or _is(e, "matmul")) or e.ty.is_scalar:
        return None
    factors = build.factors_of(e)
    for n, f in enumerate(factors):
        if _is(f, "power") and f.args[0].ty.is_scalar and to_sympy(f.args[1]) == -1:
            rest = factors[:n] + factors[n + 1:]
            return build.apply("div", build.chain(rest), f.args[0])
    return None


def inverse_of_inverse(e: Expr) -> Expr | None:
    """(A^-1)^-1 = A."""
    if _is(e, "inv") and _is(e.args[0], "inv"):
        return e.args[0].args[0]
    return None


def left_associate(e: Expr) -> Expr | None:
    """A (B C) = A B C: products are left-nested chains, as juxtaposition parses."""
    if (_is(e, "mul") or _is(e, "matmul")) and (_is(e.args[1], "mul")
                                                or _is(e.args[1], "matmul")):
        return build.chain([e.args[0], e.args[1]])
    if _is(e, "mul") and not e.args[0].ty.is_scalar:
        return build.chain([e.args[1], e.args[0]])  # the scalar goes first: 2 x
    return None


def ones_in_sum(e: Expr) -> Expr | None:
    """ones + v = 1 + v: in a sum, the all-ones vector is the broadcast number 1 (while
    some vector term still gives the sum its shape: ones + ones stays 2 ones)."""
    if not _is(e, "add"):
        return None
    numbers = [_ones_multiple(t) for t in e.args]
    if all(n is None for n in numbers) or not any(
            n is None and not t.ty.is_scalar for n, t in zip(numbers, e.args)):
        return None
    return build.total([t if n is None else n for n, t in zip(numbers, e.args)], e.ty)


def _ones_multiple(e: Expr) -> Expr | None:
    """c for `c ones` (and 1 for `ones`), c a number; else None."""
    if _is(e, "neg"):
        inner = _ones_multiple(e.args[0])
        return None if inner is None else build.negate(inner)
    if _is_const(e, "ones"):
        return build.num(1)
    if _is(e, "mul") and isinstance(e.args[0], Number) and _is_const(e.args[1], "ones"):
        return e.args[0]
    return None


def mean_is_linear(e: Expr) -> Expr | None:
    """mean(a - b ones) = mean(a) - b, mean(s v) = s mean(v): so mean(x - mean(x) ones)
    is 0."""
    if not _is(e, "mean"):
        return None
    inner = e.args[0]
    if _is_const(inner, "ones"):
        return build.num(1)
    if _is(inner, "add"):
        return build.total([build.apply("mean", t) for t in inner.args], e.ty)
    if _is(inner, "neg"):
        return build.negate(build.apply("mean", inner.args[0]))
    if _is(inner, "mul"):
        s, v = inner.args if inner.args[0].ty.is_scalar else inner.args[::-1]
        return build.product(s, build.apply("mean", v))
    if inner.ty.is_scalar:
        return inner
    return None


def sum_of_distribution(e: Expr) -> Expr | None:
    """sum(y) = 1 for a vector y declared a distribution."""
    if _is(e, "sum") and _assumes(e.args[0], "distribution"):
        return build.num(1)
    return None


def _square(e: Expr) -> bool:
    return e.ty.kind == "matrix" and e.ty.rows == e.ty.cols


def inverse_of_product(e: Expr) -> Expr | None:
    """(A B)^-1 = B^-1 A^-1 when A and B are square (Matrix Cookbook (18)); and
    (X^k)^-1 = (X^-1)^k, so that inverses can cancel against their matrices."""
    if not _is(e, "inv"):
        return None
    inner = e.args[0]
    if _is(inner, "matmul") and _square(inner.args[0]) and _square(inner.args[1]):
        return build.apply("matmul", build.apply("inv", inner.args[1]),
                           build.apply("inv", inner.args[0]))
    if _is(inner, "matpow") and inner.attrs[0] > 0:
        return build.chain([build.apply("inv", inner.args[0])] * inner.attrs[0])
    if _is(inner, "transpose") and _is(inner.args[0], "matpow") and inner.args[0].attrs[0] > 0:
        base = inner.args[0].args[0]
        return build.chain([build.apply("inv", build.apply("transpose", base))]
                           * inner.args[0].attrs[0])
    return None


def _inverse_of(a: Expr, b: Expr) -> bool:
    return (_is(a, "inv") and a.args[0] == b) or (_is(b, "inv") and b.args[0] == a)


def cancel_inverse(e: Expr) -> Expr | None:
    """… A A^-1 … = … …: a matrix next to its inverse in a product chain cancels."""
    if not _is(e, "matmul"):
        return None
    factors = build.factors_of(e)
    for n in range(len(factors) - 1):
        if _inverse_of(factors[n], factors[n + 1]):
            rest = factors[:n] + factors[n + 2:]
            if all(f.ty.is_scalar for f in rest):
                rest.append(build.identity(factors[n].ty.rows))
            return build.chain(rest)
    return None


# -- Kronecker products and vec (Matrix Cookbook section 10.2) ------------------------------

def trace_of_kron(e: Expr) -> Expr | None:
    """tr(A ⊗ B) = tr(A) tr(B) (Matrix Cookbook (525))."""
    if _is(e, "tr") and _is(e.args[0], "kron"):
        a, b = e.args[0].args
        return build.product(build.apply("tr", a), build.apply("tr", b))
    return None


def sum_of_kron(e: Expr) -> Expr | None:
    """sum(A ⊗ B) = sum(A) sum(B)."""
    if _is(e, "sum") and _is(e.args[0], "kron"):
        a, b = e.args[0].args
        return build.product(build.apply("sum", a), build.apply("sum", b))
    return None


def transpose_of_kron(e: Expr) -> Expr | None:
    """(A ⊗ B)^T = A^T ⊗ B^T (Matrix Cookbook (507))."""
    if _is(e, "transpose") and _is(e.args[0], "kron"):
        a, b = e.args[0].args
        return build.apply("kron", build.apply("transpose", a), build.apply("transpose", b))
    return None


def norm_of_kron(e: Expr) -> Expr | None:
    """||A ⊗ B||_F = ||A||_F ||B||_F."""
    if _is(e, "normF") and _is(e.args[0], "kron"):
        a, b = e.args[0].args
        return build.product(build.apply("normF", a), build.apply("normF", b))
    return None


def vec_of_vector(e: Expr) -> Expr | None:
    """vec(x) = x for a column; vec(x^T) = x."""
    if _is(e, "vec") and e.args[0].ty.kind in ("vector", "scalar"):
        return e.args[0]
    if _is(e, "vec") and e.args[0].ty.kind == "row vector":
        return build.apply("transpose", e.args[0])
    return None


def vec_outward(e: Expr) -> Expr | None:
    """sum(vec X) = sum(X), ||vec X|| = ||X||_F, f(vec X) = vec(f(X)) elementwise,
    vec(X) ⊙ vec(Y) = vec(X ⊙ Y), vec(X)^T vec(Y) = tr(X^T Y) (Cookbook (521))."""
    if not isinstance(e, Apply) or not e.args:
        return None
    inner = e.args[0]
    if _is(inner, "vec") and inner.args[0].ty.kind == "matrix":
        x = inner.args[0]
        if e.op in ("sum", "mean", "normF"):
            return build.apply(e.op, x)
        if e.op == "norm2":
            return build.apply("normF", x)
        if e.op == "norm1":
            return build.apply("sum", build.apply("abs", x))
        if len(e.args) == 1 and "elementwise" in _flags(e.op):
            return build.apply("vec", build.apply(e.op, x, attrs=e.attrs))
        if e.op == "hadamard" and _is(e.args[1], "vec") and e.args[1].args[0].ty == x.ty:
            return build.apply("vec", build.apply("hadamard", x, e.args[1].args[0]))
    if _is(e, "matmul") and _is(inner, "transpose") and _is(inner.args[0], "vec") \
            and _is(e.args[1], "vec") and inner.args[0].args[0].ty.kind == "matrix":
        x, y = inner.args[0].args[0], e.args[1].args[0]
        return build.apply("tr", build.apply("matmul", build.apply("transpose", x), y))
    return None


def _flags(op: str) -> frozenset:
    from ..ops import lookup
    return lookup(op).flags


NODE_RULES = first(
    trace_of_kron, sum_of_kron, transpose_of_kron, norm_of_kron, vec_of_vector, vec_outward,
    mean_is_linear, sum_of_distribution, inverse_of_product, cancel_inverse,
    left_associate, ones_in_sum,
    transpose_of_scalar, transpose_of_transpose, transpose_of_symmetric,
    transpose_of_product, transpose_of_sum, transpose_of_inverse, product_with_identity,
    orthogonal_product, scale_by_one, hadamard_with_ones, diag_times_vector,
    vanishing_at_zero, elementwise_of_number, vector_function_of_number,
    diag_of_transpose_or_outer, scalar_out_of_diag,
    inverse_of_inverse)


# -- sums: like terms and common factors ------------------------------------------------------

@dataclass(frozen=True)
class Monomial:
    """coeff · scalars · chain: a term of a sum, taken apart."""

    coeff: sympy.Expr
    scalars: tuple[Expr, ...]
    chain: tuple[Expr, ...]

    @property
    def key(self) -> tuple:
        return (self.scalars, self.chain)


def monomial(e: Expr) -> Monomial:
    coeff, scalars, chain = sympy.Integer(1), [], []

    def visit(node: Expr) -> None:
        nonlocal coeff
        value = to_sympy(node)
        if value is not None:
            coeff *= value
        elif _is(node, "neg"):
            coeff = -coeff
            visit(node.args[0])
        elif _is(node, "mul") or (_is(node, "matmul") and not node.ty.is_scalar):
            visit(node.args[0])
            visit(node.args[1])
        elif node.ty.is_scalar:
            scalars.append(node)
        else:
            chain.append(node)

    visit(e)
    return Monomial(coeff, tuple(sorted(scalars, key=str)), tuple(chain))


def rebuild(m: Monomial, shape) -> Expr:
    if m.coeff == 0:
        return build.zero(shape)
    sign = -1 if (m.coeff.is_number and m.coeff < 0) else 1
    coeff = -m.coeff if sign < 0 else m.coeff
    chain = list(m.chain) or ([] if shape.is_scalar else [build.filled_ones(shape)])
    factors = ([] if coeff == 1 else [from_sympy(coeff)]) + list(m.scalars) + chain
    result = build.chain(factors) if factors else build.num(1)
    return build.negate(result) if sign < 0 else result


def collect_like_terms(e: Expr) -> Expr | None:
    """a X + b X = (a + b) X: terms equal up to a scalar coefficient merge."""
    if not _is(e, "add"):
        return None
    groups: dict[tuple, Monomial] = {}
    for term in e.args:
        m = monomial(term)
        if m.key in groups:
            old = groups[m.key]
            groups[m.key] = Monomial(old.coeff + m.coeff, m.scalars, m.chain)
        else:
            groups[m.key] = m
    if len(groups) == len(e.args):
        return None
    return build.total([rebuild(m, e.ty) for m in groups.values()], e.ty)


def common_factor(e: Expr) -> Expr | None:
    """A x + B x = (A + B) x and X A + X B = X (A + B), for the most shared factor."""
    if not _is(e, "add"):
        return None
    terms = [monomial(t) for t in e.args]
    best = None
    for side in (-1, 0):
        counts = Counter(m.chain[side] for m in terms if len(m.chain) >= 2)
        for factor, count in counts.items():
            if count >= 2 and (best is None or count > best[2]):
                best = (side, factor, count)
    if best is None:
        return None
    side, factor, _ = best
    shared = [m for m in terms if len(m.chain) >= 2 and m.chain[side] == factor]
    others = [m for m in terms if m not in shared]
    rests = [Monomial(m.coeff, m.scalars, m.chain[:-1] if side == -1 else m.chain[1:])
             for m in shared]
    common = _common_coefficient([m.coeff for m in rests])
    rests = [Monomial(sympy.cancel(m.coeff / common), m.scalars, m.chain) for m in rests]
    inner_shape = build.chain(list(rests[0].chain)).ty
    inner = simplify_tree(build.total([rebuild(m, inner_shape) for m in rests], inner_shape))
    pulled = build.product(inner, factor) if side == -1 else build.product(factor, inner)
    pulled = rebuild(Monomial(common, (), tuple(build.factors_of(pulled))), e.ty)
    return build.total([pulled] + [rebuild(m, e.ty) for m in others], e.ty)


def _common_coefficient(coeffs: list[sympy.Expr]) -> sympy.Expr:
    """The largest scalar dividing every coefficient (its sign taken when all share it)."""
    common = coeffs[0]
    for c in coeffs[1:]:
        common = sympy.gcd(common, c)
    if common == 0:
        return sympy.Integer(1)
    if all(c.could_extract_minus_sign() for c in coeffs):
        common = -abs(common) if common.is_number else -common
    return common


def common_coefficient(e: Expr) -> Expr | None:
    """2 x - 2 s = 2 (x - s): a whole number dividing every coefficient comes out."""
    if not _is(e, "add"):
        return None
    terms = [monomial(t) for t in e.args]
    coeffs = [m.coeff for m in terms]
    if not all(c.is_Rational for c in coeffs):
        return None
    common = _common_coefficient(coeffs)
    if not common.is_Integer or abs(common) < 2:
        return None  # only whole numbers: 1/2 (A + A^T) x - b stays as it is
    inner = build.total([rebuild(Monomial(m.coeff / common, m.scalars, m.chain), e.ty)
                         for m in terms], e.ty)
    return rebuild(Monomial(common, (), (inner,)), e.ty)


def common_scalar(e: Expr) -> Expr | None:
    """s A + s B = s (A + B) for a scalar factor s that every term has (det(X), ||x||^-1)."""
    if not _is(e, "add"):
        return None
    terms = [monomial(t) for t in e.args]
    shared = Counter(terms[0].scalars)
    for m in terms[1:]:
        shared &= Counter(m.scalars)  # a multiset: exp(u) exp(u) shares exp(u) once
    if not shared:
        return None
    pulled = sorted(shared.elements(), key=str)
    rests = [Monomial(m.coeff, tuple((Counter(m.scalars) - shared).elements()), m.chain)
             for m in terms]
    inner = build.total([rebuild(m, e.ty) for m in rests], e.ty)
    return build.chain(pulled + [simplify_tree(inner)])


SUM_RULES = first(collect_like_terms, common_coefficient, common_scalar, common_factor)


def _rebuild(e: Apply, args: tuple) -> Expr:
    if e.op == "add":
        return build.total(list(args), e.ty)
    if e.op in ("mul", "matmul"):
        return build.product(*args)
    return build.apply(e.op, *args, attrs=e.attrs)


_node_pass = bottom_up(fixpoint(shape_preserving(NODE_RULES)), _rebuild)
_division_pass = bottom_up(fixpoint(shape_preserving(reciprocal_to_division)), _rebuild)
_full_pass = bottom_up(fixpoint(shape_preserving(first(NODE_RULES, SUM_RULES))), _rebuild)


def _to_fixpoint(one_pass, e: Expr) -> Expr:
    memo: dict = {}
    for _ in range(50):
        result = one_pass(e, memo)
        if result == e:
            return result
        e = result
    return e


_memo: dict[Expr, Expr] | None = None  # results within one top-level call (rules recurse)


def simplify_tree(e: Expr) -> Expr:
    """The simplified form of e; sum rules call back in for their inner sums, so results
    are remembered for the duration of the outermost call (trees hash by structure, and
    one call never mixes dimension namings)."""
    global _memo
    if _memo is not None:
        key = memo_key(e)
        if key not in _memo:
            _memo[key] = _simplify(e)
        return _memo[key]
    _memo = {}
    try:
        return _simplify(e)
    finally:
        _memo = None


def _simplify(e: Expr) -> Expr:
    """Bottom-up passes until nothing changes (a rule may create subtrees, such as a
    transpose pushed inwards, that the next pass simplifies): first the node rules alone,
    so that terms are cancelled and transposed before any sum is factored; last, scalar
    reciprocals in products are written as divisions."""
    simplified = _to_fixpoint(_full_pass, _to_fixpoint(_node_pass, e))
    return _to_fixpoint(_division_pass, simplified)


INPUT_RULES = first(ones_in_sum, trace_of_kron, sum_of_kron, norm_of_kron, vec_of_vector,
                    vec_outward)


def canonical_input(e: Expr) -> Expr:
    """The light canonicalization applied before differentiating: `ones - y` is `1 - y`,
    and Kronecker products and vec are taken apart where an identity allows."""
    return _to_fixpoint(bottom_up(fixpoint(shape_preserving(INPUT_RULES)), _rebuild), e)
