"""Sum rules: like terms collected (a X + b X = (a + b) X) and common factors pulled out
(A x + B x = (A + B) x, 2 x - 2 s = 2 (x - s), s A + s B = s (A + B)).

A term is taken apart as a `Monomial` (coefficient · scalar factors · product chain);
each rule fires only when it reduces the number of terms or of factors.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from ..index.scalars import SizeSymbol, from_sympy, size, to_sympy
from ..language import build
from ..language.expr import Expr, memo_key
from ..language.printing import to_text
from ..language.shapes import Shape
from ..ops.spec import version
from .engine import first, rewrites
from .patterns import is_const, is_op, simplified, size_is_named
from .totals import total_dims


@dataclass(frozen=True)
class Monomial:
    """coeff · scalars · chain: a term of a sum, taken apart."""

    coeff: sympy.Expr
    scalars: tuple[Expr, ...]
    chain: tuple[Expr, ...]

    @property
    def key(self) -> tuple:
        """Keyed with sizes: ||ones^T||_1 of p entries is not that of q entries."""
        return (tuple(memo_key(x) for x in self.scalars), tuple(memo_key(x) for x in self.chain))


def monomial(e: Expr) -> Monomial:
    coeff, scalars, chain = sympy.Integer(1), [], []

    def visit(node: Expr) -> None:
        nonlocal coeff
        value = to_sympy(node)
        if value is not None:
            coeff *= value
        elif is_op(node, "neg"):
            coeff = -coeff
            visit(node.args[0])
        elif is_op(node, "mul") or (is_op(node, "matmul") and not node.ty.is_scalar):
            visit(node.args[0])
            visit(node.args[1])
        elif node.ty.is_scalar:
            scalars.append(node)
        else:
            chain.append(node)

    visit(e)
    return Monomial(coeff, tuple(sorted(scalars, key=str)), tuple(chain))


_last = threading.local()  # per thread: the last sum taken apart, and its monomials


def monomials(e: Expr) -> tuple[Monomial, ...]:
    """The terms of the sum e taken apart. The sum rules are offered the same node one
    after another, so the last answer is kept for that very node (by identity: an equal
    tree may hold ones of other sizes; the node is held, so its id is not reused) and
    operator table (scalars are read by it). A tuple: the rules share it, none may change
    it."""
    known = getattr(_last, "sum", None)
    if known is None or known[0] is not e or known[1] != version():
        known = _last.sum = (e, version(), tuple(monomial(t) for t in e.args))
    return known[2]


def rebuild(m: Monomial, shape) -> Expr:
    if m.coeff == 0:
        return build.zero(shape)
    sign = -1 if (m.coeff.is_number and m.coeff.is_negative) else 1
    coeff = -m.coeff if sign < 0 else m.coeff
    chain = list(m.chain) or ([] if shape.is_scalar else [build.filled_ones(shape)])
    factors = ([] if coeff == 1 else [from_sympy(coeff)]) + list(m.scalars) + chain
    if not factors:
        return build.num(-1 if sign < 0 else 1)
    return build.negated_chain(factors) if sign < 0 else build.chain(factors)


def _entry_sum(x: Expr) -> tuple[Expr | None, sympy.Expr] | None:
    """(sum(X), c) with x = c sum(X), for x = mean(X) (c = 1/size), ones^T v or v^T ones
    (c = 1); (None, c) for a sum that is the number c (sum(ones) = n); None for any other
    scalar."""
    if is_op(x, "mean") and not x.args[0].ty.is_scalar:
        dims = x.args[0].ty.rows + x.args[0].ty.cols
        if _sized(dims):
            return build.apply("sum", x.args[0]), 1 / size(dims)
    if is_op(x, "sum"):
        dims = total_dims(x.args[0])
        if dims is not None and _sized(dims):
            return None, size(dims)
    if is_op(x, "matmul") and x.ty.is_scalar:
        a, b = x.args
        if is_op(a, "transpose") and is_const(a.args[0], "ones") and b.ty.kind == "vector":
            return _entry_sum(build.apply("sum", b)) or (build.apply("sum", b), sympy.Integer(1))
        if is_const(b, "ones") and a.ty.kind == "row vector":
            return _entry_sum(build.apply("sum", a)) or (build.apply("sum", a), sympy.Integer(1))
    return None


def _sized(dims) -> bool:
    return all(isinstance(a, int) or not a.startswith("?") for a in dims)


def _normal(m: Monomial) -> tuple[tuple, sympy.Expr]:
    """m's key with each mean and sum-by-ones read as a sum of entries (mean(x) as
    sum(x)/n, sum(ones) as n), and the factor s with m = s · (that reading): n mean(x),
    mean(x) sum(ones) and sum(x) share a key, so sum(x) - n mean(x) cancels."""
    scale, scalars = sympy.Integer(1), []
    for x in m.scalars:
        read = _entry_sum(x)
        if read is None:
            scalars.append(x)
        else:
            if read[0] is not None:
                scalars.append(read[0])
            scale *= read[1]
    scalars.sort(key=str)
    return Monomial(m.coeff, tuple(scalars), m.chain).key, scale


def _writable(coeff: sympy.Expr) -> bool:
    """Whether every size in a coefficient may be written by name."""
    return all(size_is_named((s.name,)) for s in coeff.free_symbols
               if isinstance(s, SizeSymbol))


def _merged(members: list[tuple[Monomial, sympy.Expr]]) -> list[Monomial]:
    """Alike terms as one, written as the member that makes the coefficient simplest
    (the first on a tie): sum(x) + 2 mean(x) = (n + 2) mean(x); left apart where each
    way of writing them would name a size that nothing names."""
    if len(members) == 1:
        return [members[0][0]]
    if all(scale == members[0][1] for _, scale in members):  # the same term: add up
        first = members[0][0]
        return [Monomial(sympy.Add(*(m.coeff for m, _ in members)), first.scalars,
                         first.chain)]
    total = sum((m.coeff * scale for m, scale in members), sympy.Integer(0))
    written = [Monomial(sympy.cancel(total / scale), m.scalars, m.chain)
               for m, scale in members]
    written = [m for m in written if _writable(m.coeff)]
    if not written:
        return [m for m, _ in members]
    return [min(written, key=lambda m: sympy.count_ops(m.coeff))]


@rewrites("add")
def collect_like_terms(e: Expr) -> Expr | None:
    """a X + b X = (a + b) X: terms equal up to a scalar coefficient merge; mean(x),
    ones^T x and sum(x) are alike, as mean(x) = sum(x)/n (`_merged` says how the merged
    term is written). Terminates: it fires only when it reduces the number of terms."""
    if not is_op(e, "add"):
        return None
    groups: dict[tuple, list[tuple[Monomial, sympy.Expr]]] = {}
    for m in monomials(e):
        key, scale = _normal(m) if m.scalars else (m.key, sympy.Integer(1))
        groups.setdefault(key, []).append((m, scale))
    if len(groups) == len(e.args):
        return None
    merged = [m for members in groups.values() for m in _merged(members)]
    if len(merged) == len(e.args):
        return None
    return build.total([rebuild(m, e.ty) for m in merged], e.ty)


@rewrites("add")
def common_factor(e: Expr) -> Expr | None:
    """A x + B x = (A + B) x and X A + X B = X (A + B), for the most shared factor."""
    if not is_op(e, "add"):
        return None
    found = _pull(monomials(e), e.ty)
    if found is None:
        return None
    pulled, others = found
    return build.total([pulled] + [rebuild(m, e.ty) for m in others], e.ty)


def _pull(terms: Sequence[Monomial], shape) -> tuple[Expr, list[Monomial]] | None:
    """(the product that pulls the most shared end factor out of the terms that share
    it, the other terms); None where no two terms share an end."""
    best = None
    for side in (-1, 0):  # keyed with sizes: A ones (n) and X ones (m) share nothing
        counts = Counter(memo_key(m.chain[side]) for m in terms if len(m.chain) >= 2)
        for key, count in counts.items():
            if count >= 2 and (best is None or count > best[2]):
                best = (side, key, count)
    if best is None:
        return None
    side, key, _ = best
    shares = [len(m.chain) >= 2 and memo_key(m.chain[side]) == key for m in terms]
    shared = [m for m, share in zip(terms, shares) if share]
    others = [m for m, share in zip(terms, shares) if not share]
    left, right = _common_ends([m.chain for m in shared], side)
    chain = shared[0].chain
    rests = [Monomial(m.coeff, m.scalars, m.chain[left:len(m.chain) - right]) for m in shared]
    common = _common_coefficient([m.coeff for m in rests])
    rests = [Monomial(sympy.cancel(m.coeff / common), m.scalars, m.chain) for m in rests]
    inner = _sum_of_rests(rests, Shape(rests[0].chain[0].ty.rows, rests[0].chain[-1].ty.cols))
    pulled = build.chain([*chain[:left], inner, *chain[len(chain) - right:]])
    return rebuild(Monomial(common, (), tuple(build.factors_of(pulled))), shape), others


def _sum_of_rests(rests: list[Monomial], shape) -> Expr:
    """The sum of what the shared ends leave, simplified. Where those rests share ends
    again (the nested products of a Hessian: W1^T D1 W2^T … W2 D1 W1), they are pulled
    here, from the terms taken apart, in the order the sum would hold them: a rest is
    built once, at the level where nothing more is shared, not built anew at each of k
    levels (k^3 nodes for a network k layers deep)."""
    terms = list(rests)
    while (found := _pull(sorted(terms, key=_term_order), shape)) is not None:
        pulled, others = found
        terms = [monomial(pulled), *others]
    return simplified(build.total([rebuild(m, shape) for m in terms], shape))


def _term_order(m: Monomial) -> tuple[bool, str]:
    """Where `build.total` would put the term m (positives first, then by printed form),
    read from its factors' printed forms without building it."""
    negative = bool(m.coeff.is_number and m.coeff.is_negative)
    coeff = abs(m.coeff) if negative else m.coeff
    parts = ([] if coeff == 1 else [str(coeff)]) + [to_text(x) for x in (*m.scalars, *m.chain)]
    return negative, " ".join(parts)


def _common_ends(chains: list[tuple], side: int) -> tuple[int, int]:
    """How many factors on the left and on the right every chain shares, the ends that
    pulling one factor at a time would take (each factor then shared by all the rests),
    `side` first; each chain keeps a factor. At once: the Hessian of a network k layers
    deep shares four factors a layer (D W^T … W D), and one per step took 4k nested
    steps, each rebuilding every term (k^3 work, and Python's recursion limit at k = 24)."""
    room = min(len(c) for c in chains) - 1
    ends = {0: 0, -1: 0}
    for end in (side, -1 - side):
        while ends[end] < room - ends[-1 - end]:
            at = ends[end] if end == 0 else -1 - ends[end]
            if len({memo_key(c[at]) for c in chains}) != 1:
                break
            ends[end] += 1
    return ends[0], ends[-1]


def _common_coefficient(coeffs: list[sympy.Expr]) -> sympy.Expr:
    """The largest scalar dividing every coefficient (its sign taken when all share it)."""
    if len(coeffs) > 1 and all(c.is_Rational for c in coeffs):
        common = rational_gcd(coeffs)
    else:
        common = coeffs[0]
        for c in coeffs[1:]:
            common = sympy.gcd(common, c)
    if common == 0:
        return sympy.Integer(1)
    if all(c.could_extract_minus_sign() for c in coeffs):
        common = -abs(common) if common.is_number else -common
    return common


def rational_gcd(coeffs: list[sympy.Rational]) -> sympy.Rational:
    """SymPy's gcd folded over two or more rationals, in machine integers (a sum of
    thousands of terms would call SymPy's polynomial gcd once per term): the gcd of the
    numerators over the lcm of the denominators, never negative (0 where all are 0)."""
    numerators = math.gcd(*(int(c.p) for c in coeffs))
    denominators = math.lcm(*(int(c.q) for c in coeffs))
    return sympy.Rational(numerators, denominators)


@rewrites("add")
def common_coefficient(e: Expr) -> Expr | None:
    """2 x - 2 s = 2 (x - s): a whole number dividing every coefficient comes out."""
    if not is_op(e, "add"):
        return None
    terms = monomials(e)
    coeffs = [m.coeff for m in terms]
    if not all(c.is_Rational for c in coeffs):
        return None
    common = _common_coefficient(coeffs)
    if not common.is_Integer or abs(common) < 2:
        return None  # only whole numbers: 1/2 (A + A^T) x - b stays as it is
    inner = build.total([rebuild(Monomial(m.coeff / common, m.scalars, m.chain), e.ty)
                         for m in terms], e.ty)
    return rebuild(Monomial(common, (), (inner,)), e.ty)


@rewrites("add")
def common_scalar(e: Expr) -> Expr | None:
    """s A + s B = s (A + B) for a scalar factor s that every term has (det(X), ||x||^-1)."""
    if not is_op(e, "add"):
        return None
    terms = monomials(e)
    by_key = {memo_key(x): x for m in terms for x in m.scalars}  # keyed with sizes
    shared = Counter(memo_key(x) for x in terms[0].scalars)
    for m in terms[1:]:
        shared &= Counter(memo_key(x) for x in m.scalars)  # exp(u) exp(u) shares it once
    if not shared:
        return None
    pulled = sorted((by_key[k] for k in shared.elements()), key=str)
    rests = [Monomial(m.coeff, tuple(by_key[k] for k in (Counter(memo_key(x) for x in
                                                                 m.scalars) - shared).elements()),
                      m.chain) for m in terms]
    inner = build.total([rebuild(m, e.ty) for m in rests], e.ty)
    return build.chain(pulled + [simplified(inner)])


SUM_RULES = first(collect_like_terms, common_coefficient, common_scalar, common_factor)
