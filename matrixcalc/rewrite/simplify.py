"""The simplifier's rule catalog (SPEC section 4), applied bottom-up to a fixpoint.

Node rules push transposes onto symbols, apply assumptions and drop identities (here),
take Kronecker products and vec apart (`kron.py`), fold constants (`constants.py`) and
bracket literals (`brackets.py`), write traces and scalar chains in one canonical reading
(`traces.py`), take sums and means of entries apart (`totals.py`) and write row-wise
forms (`rows.py`: rows of a softmax sum to one, row sums of Hadamard products, common
Hadamard factors); the sum rules collect like terms and pull out common factors (`sums.py`). Every rule
returns None when it does not apply, and none may change a node's shape; `@rewrites`
names the operators a rule matches. Termination: transposes only move towards the
leaves, identities only disappear, and the sum rules only fire when they reduce the
number of terms or of factors.
"""

from __future__ import annotations

import threading

import sympy

from ..index.scalars import from_sympy, to_sympy
from ..language import build
from ..language.expr import Apply, Const, Expr, Number, memo_key, names_in
from ..ops.spec import lookup
from .brackets import BRACKET_RULES
from .constants import (
    elementwise_of_number,
    matrix_power_of_zero,
    vanishing_at_zero,
    vector_function_of_number,
)
from .engine import bottom_up, first, fixpoint, rewrites, shape_preserving
from .hadamard_chains import hadamard_left_associate, remembering
from .kron import (
    kron_common_factor,
    kron_mixed_product,
    kron_with_a_column,
    outer_product_as_kron,
    split_over_kron,
    sum_of_unvecs,
    transpose_of_kron,
    unvec_of_vec,
    vec_of_vector,
    vec_outward,
)
from .patterns import assumes, is_const, is_op, is_square, simplification, simplified
from .rows import (
    common_hadamard_factor,
    diag_of_ones,
    diag_of_product,
    gather_as_diag,
    ones_inner_product_in_chain,
    rows_sum_to_one,
    sums_of_centered_rows,
)
from .sums import SUM_RULES
from .totals import mean_is_linear, ones_times_known_total, sum_is_linear, sum_of_distribution
from .traces import inner_product_orientation, trace_is_linear, trace_of_product

# -- transposes -----------------------------------------------------------------------------

@rewrites("transpose")
def transpose_of_scalar(e: Expr) -> Expr | None:
    """s^T = s for a scalar s."""
    if is_op(e, "transpose") and e.args[0].ty.is_scalar:
        return e.args[0]
    return None


@rewrites("transpose")
def transpose_of_transpose(e: Expr) -> Expr | None:
    """(A^T)^T = A."""
    if is_op(e, "transpose") and is_op(e.args[0], "transpose"):
        return e.args[0].args[0]
    return None


@rewrites("transpose")
def transpose_of_symmetric(e: Expr) -> Expr | None:
    """A^T = A for a symmetric A (also I and diag(v)) (Matrix Cookbook (8))."""
    if not is_op(e, "transpose"):
        return None
    inner = e.args[0]
    if assumes(inner, "symmetric") or (isinstance(inner, Const) and inner.name == "I") \
            or is_op(inner, "diag_matrix"):
        return inner
    return None


@rewrites("transpose")
def transpose_of_product(e: Expr) -> Expr | None:
    """(A B)^T = B^T A^T, (s A)^T = s A^T, (A ⊙ B)^T = A^T ⊙ B^T (Cookbook (4))."""
    if not is_op(e, "transpose"):
        return None
    inner = e.args[0]
    if is_op(inner, "matmul"):
        a, b = inner.args
        return build.apply("matmul", build.apply("transpose", b), build.apply("transpose", a))
    if is_op(inner, "mul"):
        s, a = inner.args if inner.args[0].ty.is_scalar else inner.args[::-1]
        return build.apply("mul", s, build.apply("transpose", a))
    if is_op(inner, "hadamard") or is_op(inner, "div"):
        a, b = inner.args
        right = b if inner.op == "div" else build.apply("transpose", b)
        return build.apply(inner.op, build.apply("transpose", a), right)
    return None


@rewrites("transpose")
def transpose_of_sum(e: Expr) -> Expr | None:
    """(A + B)^T = A^T + B^T, (-A)^T = -A^T; a sum of column vectors stays whole under
    its transpose ((x - m)^T reads better than x^T - m^T: `row_sum_as_transpose`)."""
    if not is_op(e, "transpose"):
        return None
    inner = e.args[0]
    if is_op(inner, "add") and inner.ty.kind != "vector":
        return build.total([build.apply("transpose", t) for t in inner.args],
                           inner.ty.transposed())
    if is_op(inner, "neg"):
        return build.negate(build.apply("transpose", inner.args[0]))
    return None


@rewrites("add")
def row_sum_as_transpose(e: Expr) -> Expr | None:
    """x^T - m^T = (x - m)^T: a sum of transposed columns is the transpose of their sum.
    Terminates: the sum loses its transposes, and transpose_of_sum leaves column sums."""
    if not (is_op(e, "add") and e.ty.kind == "row vector"):
        return None
    columns = []
    for term in e.args:
        sign, inner = (-1, term.args[0]) if is_op(term, "neg") else (1, term)
        if not is_op(inner, "transpose"):
            return None
        columns.append(inner.args[0] if sign > 0 else build.negate(inner.args[0]))
    return build.apply("transpose", build.total(columns, e.ty.transposed()))


@rewrites("transpose")
def transpose_of_inverse(e: Expr) -> Expr | None:
    """(A^-1)^T = (A^T)^-1, written A^-T (Matrix Cookbook (4))."""
    if is_op(e, "transpose") and is_op(e.args[0], "inv"):
        return build.apply("inv", build.apply("transpose", e.args[0].args[0]))
    return None


@rewrites("transpose")
def transpose_of_power(e: Expr) -> Expr | None:
    """(X^k)^T = (X^T)^k: the transpose goes onto the symbol."""
    if is_op(e, "transpose") and is_op(e.args[0], "matpow"):
        power = e.args[0]
        return build.apply("matpow", build.apply("transpose", power.args[0]),
                           attrs=power.attrs)
    return None


def operator_rules(e: Expr) -> Expr | None:
    """An operator's own identities, from its record: `rules` (dexpm(X, I) = expm(X)), and
    `transpose`, its value's transpose written through its arguments (expm(X)^T =
    expm(X^T)), so that transposes move towards the symbols here too."""
    if not isinstance(e, Apply):
        return None
    if e.op == "transpose" and isinstance(e.args[0], Apply):
        through = lookup(e.args[0].op).transpose
        if through is not None:
            return through(build, e.args[0])
    for rule in lookup(e.op).rules:
        result = rule(build, e)
        if result is not None:
            return result
    return None


# -- identities, ones, zeros ----------------------------------------------------------------

@rewrites("div", "ediv", "power", "epow")
def division_by_zero(e: Expr) -> Expr | None:
    """s/0, M ./ 0 and 0^p for p < 0 have no value: an error, never rewritten (0/0 must
    not become 0 because its numerator is 0). Applies no rewrite otherwise."""
    if not isinstance(e, Apply):
        return None
    divisor = e.args[1] if e.op in ("div", "ediv") else e.args[0]
    if e.op in ("power", "epow"):
        exponent = to_sympy(e.args[1])
        if exponent is None or not exponent.is_negative:
            return None
    elif build.is_zero(e.args[0]):  # 0/s is about to vanish: first make sure s is not 0
        divisor = simplified(divisor)
    if build.is_zero(divisor):
        from ..errors import UnsupportedError
        raise UnsupportedError(f"this divides by zero (`{e}`, the divisor identically 0): "
                               "it has no value")
    return None


@rewrites("matmul", "mul")
def product_with_identity(e: Expr) -> Expr | None:
    """… I … = … …: an identity in a product chain with another matrix disappears."""
    if not is_op(e, "matmul") and not is_op(e, "mul") or not e.holds("I"):
        return None
    factors = build.factors_of(e)
    kept = [f for f in factors if not is_const(f, "I")]
    if len(kept) == len(factors) or all(f.ty.is_scalar for f in kept):
        return None
    result = build.chain(kept)
    # s I with s a scalar product (x^T x I) is a matrix: the identity must stay
    return result if result.ty == e.ty else None


@rewrites("matmul")
def orthogonal_product(e: Expr) -> Expr | None:
    """Q^T Q = Q Q^T = I for an orthogonal Q."""
    if is_op(e, "matmul"):
        a, b = e.args
        for x, y in ((a, b), (b, a)):
            if is_op(x, "transpose") and x.args[0] == y and assumes(y, "orthogonal"):
                return build.identity(y.ty.rows)
    return None


@rewrites("mul")
def scale_by_one(e: Expr) -> Expr | None:
    """1 A = A; 0 A = 0."""
    if is_op(e, "mul"):
        for s, a in (e.args, e.args[::-1]):
            if isinstance(s, Number) and s.ty.is_scalar:
                if s.value == 1:
                    return a
                if s.value == 0:
                    return build.zero(e.ty)
    return None


@rewrites("hadamard")
def hadamard_with_ones(e: Expr) -> Expr | None:
    """ones ⊙ v = v."""
    if is_op(e, "hadamard"):
        a, b = e.args
        if is_const(a, "ones"):
            return b
        if is_const(b, "ones"):
            return a
    return None


@rewrites("matmul")
def diag_times_vector(e: Expr) -> Expr | None:
    """diag(u) v = u ⊙ v."""
    if is_op(e, "matmul") and is_op(e.args[0], "diag_matrix") and e.args[1].ty.kind == "vector":
        return build.apply("hadamard", e.args[0].args[0], e.args[1])
    return None


@rewrites("diag_vector", "diag_matrix")
def scalar_out_of_diag(e: Expr) -> Expr | None:
    """diag(s M) = s diag(M), for diag either way."""
    if (is_op(e, "diag_vector") or is_op(e, "diag_matrix")) and is_op(e.args[0], "mul"):
        s, m = e.args[0].args
        return build.product(s, build.apply(e.op, m))
    return None


@rewrites("diag_vector")
def diag_of_transpose_or_outer(e: Expr) -> Expr | None:
    """diag(A^T) = diag(A); diag(u v^T) = u ⊙ v."""
    if not is_op(e, "diag_vector"):
        return None
    inner = e.args[0]
    if is_op(inner, "transpose"):
        return build.apply("diag_vector", inner.args[0])
    if is_op(inner, "matmul") and inner.args[0].ty.kind == "vector" \
            and is_op(inner.args[1], "transpose") and inner.args[1].args[0].ty.kind == "vector":
        return build.apply("hadamard", inner.args[0], inner.args[1].args[0])
    return None


@rewrites("mul", "matmul")
def numbers_multiplied(e: Expr) -> Expr | None:
    """1/2 (2 X) = X, 3 (2 X) = 6 X: the numbers of a product chain are one coefficient,
    in front."""
    if not (is_op(e, "mul") or is_op(e, "matmul")) or build.constant_factors(e) < 2:
        return None
    factors = build.factors_of(e)
    values = [to_sympy(f) if _constant(f) else None for f in factors]
    numbers = [n for n, v in enumerate(values) if v is not None and v.is_number]
    if len(numbers) < 2:
        return None
    coeff = sympy.Mul(*(values[n] for n in numbers))
    rest = [f for n, f in enumerate(factors) if n not in numbers]
    if not rest:
        return from_sympy(coeff)
    chain = build.chain(rest)
    if coeff == 1:
        return chain
    return build.chain([from_sympy(coeff), chain]) if coeff.is_positive else \
        build.negate(build.chain([from_sympy(-coeff), chain]) if coeff != -1 else chain)


def _constant(e: Expr) -> bool:
    """Whether e holds no symbol and no size (a number, π, exp(1), …): only such factors
    are worth asking SymPy about (a deep factor of a symbol would be converted whole)."""
    return not names_in(e)


@rewrites("mul", "matmul")
def reciprocal_to_division(e: Expr) -> Expr | None:
    """2 s^-1 X = 2 X/s: a scalar's reciprocal in a product is written as a division."""
    if not (is_op(e, "mul") or is_op(e, "matmul")) or e.ty.is_scalar or not e.holds("power"):
        return None
    factors = build.factors_of(e)
    for n, f in enumerate(factors):
        if is_op(f, "power") and f.args[0].ty.is_scalar and to_sympy(f.args[1]) == -1:
            rest = factors[:n] + factors[n + 1:]
            return build.apply("div", build.chain(rest), f.args[0])
    return None


@rewrites("inv")
def inverse_of_inverse(e: Expr) -> Expr | None:
    """(A^-1)^-1 = A."""
    if is_op(e, "inv") and is_op(e.args[0], "inv"):
        return e.args[0].args[0]
    return None


@rewrites("mul", "matmul")
def left_associate(e: Expr) -> Expr | None:
    """A (B C) = A B C: products are left-nested chains, as juxtaposition parses."""
    if (is_op(e, "mul") or is_op(e, "matmul")) and (is_op(e.args[1], "mul")
                                                or is_op(e.args[1], "matmul")):
        return build.chain([e.args[0], e.args[1]])
    if is_op(e, "mul") and not e.args[0].ty.is_scalar:
        return build.chain([e.args[1], e.args[0]])  # the scalar goes first: 2 x
    return None


@rewrites("add")
def ones_in_sum(e: Expr) -> Expr | None:
    """ones + v = 1 + v: in a sum, the all-ones vector is the broadcast number 1 (while
    some vector term still gives the sum its shape: ones + ones stays 2 ones)."""
    if not is_op(e, "add"):
        return None
    numbers = [_ones_multiple(t) for t in e.args]
    if all(n is None for n in numbers) or not any(
            n is None and not t.ty.is_scalar for n, t in zip(numbers, e.args)):
        return None
    return build.total([t if n is None else n for n, t in zip(numbers, e.args)], e.ty)


def _ones_multiple(e: Expr) -> Expr | None:
    """c for `c ones` (and 1 for `ones`), c a number; else None."""
    if is_op(e, "neg"):
        inner = _ones_multiple(e.args[0])
        return None if inner is None else build.negate(inner)
    if is_const(e, "ones"):
        return build.num(1)
    if is_op(e, "mul") and isinstance(e.args[0], Number) and is_const(e.args[1], "ones"):
        return e.args[0]
    return None


@rewrites("inv")
def inverse_of_product(e: Expr) -> Expr | None:
    """(A B)^-1 = B^-1 A^-1 when A and B are square (Matrix Cookbook (18)); and
    (X^k)^-1 = (X^-1)^k, so that inverses can cancel against their matrices."""
    if not is_op(e, "inv"):
        return None
    inner = e.args[0]
    if is_op(inner, "matmul") and is_square(inner.args[0]) and is_square(inner.args[1]):
        return build.apply("matmul", build.apply("inv", inner.args[1]),
                           build.apply("inv", inner.args[0]))
    if is_op(inner, "matpow") and inner.attrs[0] > 0:
        return build.chain([build.apply("inv", inner.args[0])] * inner.attrs[0])
    if is_op(inner, "transpose") and is_op(inner.args[0], "matpow") and inner.args[0].attrs[0] > 0:
        base = inner.args[0].args[0]
        return build.chain([build.apply("inv", build.apply("transpose", base))]
                           * inner.args[0].attrs[0])
    return None


def _inverse_of(a: Expr, b: Expr) -> bool:
    return (is_op(a, "inv") and a.args[0] == b) or (is_op(b, "inv") and b.args[0] == a)


@rewrites("matmul")
def cancel_inverse(e: Expr) -> Expr | None:
    """… A A^-1 … = … …: a matrix next to its inverse in a product chain cancels."""
    if not is_op(e, "matmul") or not e.holds("inv"):
        return None
    factors = build.factors_of(e)
    for n in range(len(factors) - 1):
        if _inverse_of(factors[n], factors[n + 1]):
            rest = factors[:n] + factors[n + 2:]
            if all(f.ty.is_scalar for f in rest):
                rest.append(build.identity(factors[n].ty.rows))
            return build.chain(rest)
    return None


NODE_RULES = first(
    division_by_zero,
    outer_product_as_kron, split_over_kron, sum_of_unvecs, unvec_of_vec, kron_mixed_product,
    kron_with_a_column,
    transpose_of_kron, vec_of_vector, vec_outward,
    mean_is_linear, sum_of_distribution, sum_is_linear, ones_times_known_total,
    trace_is_linear, trace_of_product, *BRACKET_RULES, inverse_of_product, cancel_inverse,
    left_associate, numbers_multiplied, hadamard_left_associate, ones_in_sum,
    transpose_of_scalar, transpose_of_transpose, transpose_of_symmetric,
    transpose_of_product, transpose_of_sum, row_sum_as_transpose, transpose_of_inverse,
    transpose_of_power,
    operator_rules,
    product_with_identity,
    orthogonal_product, scale_by_one, hadamard_with_ones, diag_times_vector,
    vanishing_at_zero, elementwise_of_number, vector_function_of_number, matrix_power_of_zero,
    diag_of_transpose_or_outer, scalar_out_of_diag, rows_sum_to_one, diag_of_product,
    diag_of_ones, gather_as_diag, sums_of_centered_rows, ones_inner_product_in_chain,
    diag_of_ones,
    inverse_of_inverse, inner_product_orientation)


def _rebuild(e: Apply, args: tuple) -> Expr:
    if e.op == "add":
        return build.total(list(args), e.ty)
    if e.op in ("mul", "matmul"):
        return build.product(*args)
    return build.apply(e.op, *args, attrs=e.attrs)


_node_pass = bottom_up(fixpoint(shape_preserving(NODE_RULES)), _rebuild)
_division_pass = bottom_up(fixpoint(shape_preserving(reciprocal_to_division)), _rebuild)
_SUMS = first(SUM_RULES, common_hadamard_factor, kron_common_factor)
_full_pass = bottom_up(fixpoint(shape_preserving(first(NODE_RULES, _SUMS))), _rebuild)


def _to_fixpoint(one_pass, e: Expr) -> Expr:
    """one_pass until nothing changes. What a pass made of each subtree is remembered
    for the whole outermost simplification (the rules look at a subtree only, and the
    sizes that may be named are the outermost call's): the inner sums that the sum rules
    simplify hold subtrees simplified already, and are not walked again below them."""
    memos = getattr(_state, "pass_memos", None)
    memo: dict = {} if memos is None else memos.setdefault(one_pass, {})
    for _ in range(50):
        result = one_pass(e, memo)
        if result == e:
            return result
        e = result
    return e


_state = threading.local()  # per thread: results within one top-level call (rules recurse)


def simplify_tree(e: Expr) -> Expr:
    """The simplified form of e; sum rules call back in for their inner sums, so results
    are remembered for the duration of the outermost call (trees hash by structure, and
    one call never mixes dimension namings). The outermost call also fixes which sizes
    may be written by name (`patterns.simplification`)."""
    memo = getattr(_state, "memo", None)
    if memo is not None:
        key = memo_key(e)
        if key not in memo:
            memo[key] = _simplify(e)
        return memo[key]
    _state.memo, _state.pass_memos = {}, {}
    try:
        with simplification(e, simplify_tree), remembering():
            return _simplify(e)
    finally:
        _state.memo, _state.pass_memos = None, None


def _simplify(e: Expr) -> Expr:
    """Bottom-up passes until nothing changes (a rule may create subtrees, such as a
    transpose pushed inwards, that the next pass simplifies): first the node rules alone,
    so that terms are cancelled and transposed before any sum is factored; last, scalar
    reciprocals in products are written as divisions."""
    simplified = _to_fixpoint(_full_pass, _to_fixpoint(_node_pass, e))
    return _to_fixpoint(_division_pass, simplified)


def canonical_input(e: Expr) -> Expr:
    """The one canonicalization applied before differentiating: `ones - y` is `1 - y`, so
    that bases that must cancel (1/(1 - s) ⊙ s ⊙ (1 - s)) are written alike. Kronecker
    products and vec are lowered to index form, not taken apart here."""
    return _to_fixpoint(bottom_up(fixpoint(shape_preserving(ones_in_sum)), _rebuild), e)
