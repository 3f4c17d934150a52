"""Forward and reverse modes in closed form: jvp, vjp and hvp (SPEC section 5).

jvp(F, x, v) is the directional derivative d/dt F(x + t v) at t = 0; vjp(F, x, u) is
uᵀ J (shaped like x; for a scalar F, u times the gradient); hvp(f, x, v) is the jvp of
the gradient. Each is built in index form and never as a full Jacobian or Hessian: F is
lowered, differentiated (the derivative carries x's indices), the direction is attached
as one more factor on the indices it contracts (x's for jvp, F's for vjp), and only the
result's own indices stay free when the matrix form is recovered. So for softmax the
jvp is `softmax(z) ⊙ v - softmax(z) softmax(z)^T v`, with no diag(…) or outer product.
"""

from __future__ import annotations

from ..errors import ShapeError, UsageError
from ..guard import public
from ..index.ir import IndexSupply, multiply
from ..index.lower import lower
from ..language import build
from ..language.declarations import Declaration, parse_where
from ..language.expr import Apply, Expr, Symbol, SymbolInfo, untyped
from ..language.infer import infer
from ..language.parse import as_expr, parse_raw, wrt_symbol
from ..language.shapes import Shape
from ..rewrite.simplify import canonical_input
from .derive import (
    ACROSS_FOLDS,
    HESSIAN_FOLD_TERMS,
    _derivative,
    _known,
    closed_form,
    differentiator,
    remembered,
    restructured,
    retype,
    unfolded,
    unstructured,
)
from .diff import FOLD_TERMS, depends_on
from .layers import layered_hvp

F_ROW, F_COL, X_ROW, X_COL = "i", "j", "k", "l"


def _pair(shape: Shape, row: str, col: str) -> tuple[str | None, str | None]:
    return (row if shape.rows else None, col if shape.cols else None)


def direction(text_or_expr, like: Expr, e: Expr, where, what: str) -> Expr:
    """The direction (`v` or `u`) typed so that it has `like`'s shape: a symbol name, a
    text, or an Expr. A new name gets its kind from `where` or the convention, and its
    dimensions from `like`; a shape that does not fit raises ShapeError."""
    if isinstance(text_or_expr, Expr):
        raw, text = untyped(text_or_expr), str(text_or_expr)
        kinds = dict(text_or_expr.shapes) if text_or_expr.ty is not None else {}
    elif isinstance(text_or_expr, str):
        text = text_or_expr
        raw, kinds = parse_raw(text), {}
    else:
        raise UsageError(f"`{what}` is a symbol name, a text or an Expr, not "
                         f"{type(text_or_expr).__name__}")
    known = dict(e.shapes)
    if isinstance(like, Symbol) and like.info is not None:
        known.setdefault(like.name, like.info)
    declared = parse_where(where)
    for name, info in kinds.items():  # an Expr's own symbols keep their kinds, not sizes
        declared.setdefault(name, Declaration(info.kind, info.assumptions))
    if like.ty.is_scalar and isinstance(raw, Symbol) and raw.name not in known \
            and raw.name not in declared:  # as rule 3: a new name in a scalar's place
        declared[raw.name] = Declaration("scalar", frozenset())
    # type `like - direction` in one context: the direction's dimensions become like's
    check = Apply("add", (untyped(like), Apply("neg", (raw,))))
    try:
        _, typed = infer([untyped(e), check], declared, text, known)
    except ShapeError as error:
        raise ShapeError(f"`{what}` = `{text}` does not fit {like.ty.describe()}: "
                         f"{error.message}") from None
    result = typed.args[1].args[0]
    if result.ty != like.ty:
        raise ShapeError(f"`{what}` = `{text}` is {result.ty.describe()}, but must be "
                         f"{like.ty.describe()} (shaped like `{like}`)")
    return result


def _setup(expr, wrt, where):
    e = as_expr(expr, where)
    x = wrt_symbol(e, wrt, where)
    return e, x


def _known_all(e: Expr, x: Symbol, d: Expr) -> dict[str, SymbolInfo]:
    known = _known(e, x)
    for name, info in d.shapes.items():
        known.setdefault(name, info)
    return known


def _differentiated(e: Expr, x: Symbol, fold_terms: int = FOLD_TERMS):
    """dF/dX in index form: (terms, supply, F's index pair, X's index pair, X's indices,
    the differentiator, which unfolds the matrix form made of the terms)."""
    f_idx = _pair(e.ty, F_ROW, F_COL)
    x_pair = _pair(x.ty, X_ROW, X_COL)
    x_idx = tuple(i for i in x_pair if i)
    supply = IndexSupply(reserved={F_ROW, F_COL, X_ROW, X_COL})
    d = differentiator(x, x_idx, supply, fold_terms)
    terms = d.terms(lower(canonical_input(e), f_idx, supply))
    return terms, supply, f_idx, x_pair, x_idx, d


def _jvp(e: Expr, x: Symbol, v: Expr, fold_terms: int = FOLD_TERMS) -> Expr:
    if not depends_on(e, x.name):
        return build.zero(e.ty)
    terms, supply, f_idx, x_pair, _, d = _differentiated(e, x, fold_terms)
    terms = multiply(terms, lower(v, x_pair, supply))
    result = unfolded(d, closed_form(terms, f_idx, e.ty, supply))
    return retype(result, _known_all(e, x, v), e.ty)


def _vjp(e: Expr, x: Symbol, u: Expr) -> Expr:
    if not depends_on(e, x.name):
        return build.zero(x.ty)
    terms, supply, f_idx, x_pair, _, d = _differentiated(e, x)
    terms = multiply(terms, lower(u, f_idx, supply))
    result = unfolded(d, closed_form(terms, x_pair, x.ty, supply))
    return retype(result, _known_all(e, x, u), x.ty)


@public
def jvp(expr, wrt, v, where=None) -> Expr:
    """J v = d/dt F(x + t v) at t = 0, shaped like F; `v` is shaped like x."""
    e, x = _setup(expr, wrt, where)
    return _jvp(e, x, direction(v, x, e, where, "v"))


@public
def vjp(expr, wrt, u, where=None) -> Expr:
    """uᵀ J (the pullback of u), shaped like x; `u` is shaped like F."""
    e, x = _setup(expr, wrt, where)
    return _vjp(e, x, direction(u, e, e, where, "u"))


@public
def hvp(expr, wrt, v, where=None) -> Expr:
    """H v for a scalar f: the jvp of the gradient, shaped like x."""
    e, x = _setup(expr, wrt, where)
    if not e.ty.is_scalar:
        raise UsageError(f"the Hessian is defined for a scalar function, not "
                         f"{e.ty.describe()}")
    direction_v = direction(v, x, e, where, "v")
    plain, px = unstructured(e, x)  # the unstructured gradient (SPEC section 3)
    hv = layered_hvp(plain, px, direction_v, _derivative, HESSIAN_FOLD_TERMS, ACROSS_FOLDS)
    if hv is None:  # not a composition of dense levels: the jvp of the gradient
        gradient = _derivative(plain, px)
        if not depends_on(gradient, x.name):
            return remembered(build.zero(x.ty), e, x)
        hv = _jvp(gradient, px, direction_v, HESSIAN_FOLD_TERMS)  # folded as the Hessian
    return remembered(restructured(hv, e, x), e, x)


__all__ = ["hvp", "jvp", "vjp"]
