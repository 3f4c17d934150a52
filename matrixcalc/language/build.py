"""Typed constructors for trees the engine builds.

Each constructor computes the node's shape with the operator's own shape rule, and
builds exactly the tree the parser would build for the printed text, so results
round-trip (`parse(str(r)) == r`): a negative leading factor is `neg` on the leftmost
factor (`-2 x`, `-X^T r`), a negative later term of a sum is `neg` of the term.
"""

from __future__ import annotations

from fractions import Fraction

from .. import budget
from ..errors import ShapeError
from ..ops.spec import lookup
from .expr import SLOT, Apply, Const, Dimension, Expr, Number, names_in
from .infer import InferContext
from .shapes import ONE, SCALAR, Shape

PRODUCT_OPS = frozenset({"mul", "matmul", "div", "hadamard", "ediv", "kron"})


def apply(op: str, *args: Expr, attrs: tuple = ()) -> Apply:
    """`op(args)` with its shape; a shape failure here is a bug in the caller. Every node
    the engine builds passes here: the call's clock and its `nodes` limit (the nodes
    the call built) are checked."""
    node = Apply(op, tuple(args), attrs)
    budget.tick()
    budget.count_built(node.size())
    ctx = InferContext(None)
    try:
        ty = lookup(op).shape(ctx, node, [a.ty for a in args])
    except ShapeError as error:  # pragma: no cover - an engine bug, reported loudly
        raise AssertionError(f"engine built an ill-shaped {op}: {error.message}") from None
    object.__setattr__(node, "ty", ctx.resolve(ty))  # the node is new: nothing has seen it
    return node


def reciprocal(e: Expr) -> Expr:
    """1/e, entry by entry for a vector or matrix (`e^-1`, `e.^-1`)."""
    return apply("power" if e.ty.is_scalar else "epow", e, num(-1))


def num(value: int | Fraction, shape: Shape = SCALAR) -> Expr:
    """The number `value`; one with more digits than the `digits` limit is refused (a
    LimitError), as in the input."""
    value = Fraction(value)
    budget.check_number(value, "a number the computation made")
    if value < 0:
        return apply("neg", Number(-value, ty=shape))
    return Number(value, ty=shape)


def zero(shape: Shape) -> Expr:
    return Number(Fraction(0), ty=shape)


def identity(dim) -> Expr:
    return Const("I", ty=Shape(dim, dim))


def ones(dim) -> Expr:
    return Const("ones", ty=Shape(dim, ONE))


def slot(shape: Shape) -> Expr:
    """The direction's place in a linear map's factor (`expr.SLOT`), of `shape`."""
    return Const(SLOT, ty=shape)


def dimension(dim) -> Expr:
    """The size of `dim` as a scalar tree: a number, a name, or their product."""
    factors = [Number(Fraction(a), ty=SCALAR) if isinstance(a, int)
               else Dimension(a, ty=SCALAR) for a in dim]
    if not factors:
        return num(1)
    result = factors[0]
    for f in factors[1:]:
        result = apply("mul", result, f)
    return result


def commutation(m, n) -> Expr:
    """K_{m,n}: the permutation with K vec(A) = vec(A^T) for A of m×n."""
    return apply("commutation", dimension(m), dimension(n))


def filled_ones(shape: Shape) -> Expr:
    """The all-ones value of `shape`: ones, ones^T, or ones ones^T for a matrix."""
    if shape.is_scalar:
        return num(1)
    if not shape.cols:
        return ones(shape.rows)
    row = apply("transpose", ones(shape.cols))
    return row if not shape.rows else apply("matmul", ones(shape.rows), row)


def is_zero(e: Expr) -> bool:
    return isinstance(e, Number) and e.value == 0


def is_negated(e: Expr) -> bool:
    """Whether e's printed form starts with a minus sign."""
    while isinstance(e, Apply) and e.op in PRODUCT_OPS:
        e = e.args[0]
    return isinstance(e, Apply) and e.op == "neg"


def negate(e: Expr) -> Expr:
    """-e, with the minus on the leftmost factor of a product (as `-X^T r` parses)."""
    if isinstance(e, Apply) and e.op == "neg":
        return e.args[0]
    if isinstance(e, Apply) and e.op in PRODUCT_OPS:
        if e._negated is None:  # kept one way only: no cycle for the collector
            object.__setattr__(e, "_negated", apply(e.op, negate(e.args[0]), *e.args[1:],
                                                    attrs=e.attrs))
        return e._negated
    return apply("neg", e)


def negated_chain(factors: list[Expr]) -> Expr:
    """-(the chain of factors), scalars first (as `chain` would order them): the minus
    goes straight onto the leftmost factor, where `negate` would put it, so a chain k
    long is built once, not built and then rebuilt along its left spine."""
    first = factors[0]
    if isinstance(first, Apply) and (first.op == "neg" or first.op in PRODUCT_OPS):
        return negate(chain(factors))
    return chain([negate(first)] + factors[1:])


def strip_sign(e: Expr) -> tuple[int, Expr]:
    """(sign, e without its leading minus)."""
    if is_negated(e):
        return -1, negate(e)
    return 1, e


def product(left: Expr, right: Expr) -> Expr:
    """left · right: a scalar factor scales, otherwise a matrix product."""
    if left.ty.is_scalar and not right.ty.is_scalar:
        return apply("mul", left, right)
    if right.ty.is_scalar and not left.ty.is_scalar:
        return apply("mul", right, left)  # scalars go first: 2 x, not x 2
    if left.ty.is_scalar and right.ty.is_scalar:
        return apply("mul", left, right)
    return apply("matmul", left, right)


def chain(factors: list[Expr]) -> Expr:
    """A left-nested product of factors (as `A B C` parses); factors that are themselves
    products are spliced in, so no product is parenthesized inside another."""
    result: Expr | None = None
    for factor in factors:
        # after a vector or matrix, an inner product is a scalar factor, not x^T then x;
        # so is a scalar holding one (α ones^T A ones: its ones^T would follow the matrix)
        whole = result is not None and not result.ty.is_scalar and factor.ty.is_scalar \
            and _has_chain(factor)
        for piece in [factor] if whole else factors_of(factor):
            result = piece if result is None else product(result, piece)
    return result


def factors_of(e: Expr) -> list[Expr]:
    """The factors of a product chain of `mul` and `matmul`, left to right. A scalar
    holding an inner product that scales something (`(x^T x) v`, `(x^T x α) v`) stays one
    factor: its x^T and x are not part of the chain, and after a matrix would not fit."""
    if not isinstance(e, Apply) or e.op not in ("matmul", "mul"):
        return [e]
    if e._factors is None:
        if e.op == "matmul":
            found = tuple(factors_of(e.args[0]) + factors_of(e.args[1]))
        else:
            found = tuple(f for a in e.args
                          for f in ([a] if a.ty.is_scalar and not e.ty.is_scalar
                                    and _has_chain(a) else factors_of(a)))
        object.__setattr__(e, "_factors", found)
    return list(e._factors)


def constant_factors(e: Expr) -> int:
    """How many factors of the chain (`factors_of`) hold no symbol and no size (numbers,
    π): from the counts of the chain's parts, so that a rule asking at every node of a
    chain k long costs k, not k^2 (a Hessian's chains are as long as the network)."""
    if not isinstance(e, Apply) or e.op not in ("matmul", "mul"):
        return 0 if names_in(e) else 1
    if e._constants is None:
        if e.op == "matmul":
            count = constant_factors(e.args[0]) + constant_factors(e.args[1])
        else:
            count = sum((0 if names_in(a) else 1) if a.ty.is_scalar and not e.ty.is_scalar
                        and _has_chain(a) else constant_factors(a) for a in e.args)
        object.__setattr__(e, "_constants", count)
    return e._constants


def _has_chain(e: Expr) -> bool:
    """Whether a scalar holds a matrix product (x^T x, 2 x^T A x) that, spliced into a
    chain after a vector or matrix, would multiply the wrong things."""
    return isinstance(e, Apply) and (_is_inner_product(e) or (
        e.op == "mul" and any(_has_chain(a) for a in e.args)))


def _is_inner_product(e: Expr) -> bool:
    return isinstance(e, Apply) and e.op == "matmul" and e.ty.is_scalar


def total(terms: list[Expr], shape: Shape) -> Expr:
    """The sum of terms as the parser builds `a - b + c`; zero of `shape` if empty."""
    terms = [t for t in terms if not is_zero(t)]
    if not terms:
        return zero(shape)
    if not shape.is_scalar and all(t.ty.is_scalar for t in terms):
        # only broadcast numbers are left (2 - (X - X)): they fill the shape
        return product(total(terms, SCALAR), filled_ones(shape))
    if len(terms) == 1:
        return terms[0]
    from .printing import to_text  # canonical order: by printed form, positives first
    positive = sorted((t for t in terms if not is_negated(t)), key=to_text)
    negative = sorted((t for t in terms if is_negated(t)), key=lambda t: to_text(negate(t)))
    ordered = positive + negative
    args = [ordered[0]] + [apply("neg", negate(t)) if is_negated(t) else t
                           for t in ordered[1:]]
    flat: list[Expr] = []
    for arg in args:
        flat.extend(arg.args if isinstance(arg, Apply) and arg.op == "add" else (arg,))
    return apply("add", *flat)


def transposed(e: Expr) -> Expr:
    """e^T with the transpose taken through sums, signs and scalings and cancelled against
    another ((x^T - s^T)^T = x - s): the structural rewrite lowering needs to store a row
    vector as a column, without calling the simplifier."""
    if isinstance(e, Apply):
        if e.op == "transpose":
            return e.args[0]
        if e.op == "neg":
            return apply("neg", transposed(e.args[0]))
        if e.op == "add":
            return apply("add", *(transposed(a) for a in e.args))
        if e.op == "mul" and (e.args[0].ty.is_scalar or e.args[1].ty.is_scalar):
            return apply("mul", *(a if a.ty.is_scalar else transposed(a) for a in e.args))
    if e.ty.is_scalar:
        return e
    return apply("transpose", e)
