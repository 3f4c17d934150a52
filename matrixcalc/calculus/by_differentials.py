"""The derivative by differentials, as Magnus and Neudecker teach it: the second derivation
engine, independent of the index form's (SPEC section 5, `method="differential"`).

1. The differential dF, one level of operators at a time, each by its record's rule
   (`differential.expand`);
2. its terms brought to the canonical form by small named moves (`canonical`):
   df = tr(Gᵀ dX) for a scalar f, dF = J dx for a vector F of a vector x, dF = G dx for
   a scalar x;
3. the identification theorem read off: ∂f/∂X = G, the Jacobian J, the derivative G;
4. G simplified to its canonical text: the simplifier, and the matrix normal form (G
   written in index form and read back, as `derive` reads its own results), so that
   products against inverses, s ⊙ s.^-1 and diag(u) v cancel. Nothing here differentiates
   in index form: two derivations that agree are two derivations.

A second differential (`second`) gives the Hessian of a scalar function of a vector or a
scalar: d²f = dxᵀ B dx, and the second identification theorem makes H = (B + Bᵀ)/2.
Where F and X make an order-3 or order-4 derivative, or a term has no canonical form by
these moves, there is no closed matrix form here: the differential itself is the answer
(`result` None, `reason` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import LimitError, MatrixCalcError
from ..index.ir import IndexSupply
from ..index.lower import lower
from ..index.recover import NoMatrixForm
from ..index.scalars import to_sympy
from ..language import build
from ..language.expr import Apply, Expr, Number, Symbol, substituted
from ..language.parse import as_expr, wrt_symbol
from ..language.shapes import SCALAR
from ..rewrite.simplify import canonical_input, simplify_tree
from .canonical import NoCanonicalForm, reverse, signed, split
from .derive import _known, _layout_indices, closed_form, restructured, retype, unstructured
from .differential import Differentials, differential_symbol, expand, has_pending, pending
from .jacobians import forward

MAX_LEVELS = 200  # a differential is taken in at most as many steps as the tree is deep

FIRST = "first identification theorem (Magnus & Neudecker, ch. 9)"
SECOND = "second identification theorem (Magnus & Neudecker, ch. 10)"


@dataclass
class Term:
    """One term of the differential: its sign, the term, what it pairs dX with (G for a
    scalar function, J for a vector one) and the moves on the way."""

    sign: int
    term: Expr
    factor: Expr
    path: list = field(default_factory=list)


@dataclass
class DifferentialDerivation:
    f: Expr  # the function as given
    x: Symbol  # the variable as given
    dx: Symbol  # its differential
    levels: list[tuple[list, Expr]] = field(default_factory=list)  # ([(rule, stmt)], dF)
    differential: Expr | None = None  # dF in full (None: f does not depend on x)
    form: str = ""  # "scalar": dF = G dx; "gradient": tr(Gᵀ dX); "jacobian": J dx
    terms: list[Term] = field(default_factory=list)
    collected: Expr | None = None  # Σ ± G_i, as the terms give it
    simplified: Expr | None = None  # the canonical text of the derivative
    result: Expr | None = None  # retyped, and simplified under the variable's assumptions
    reason: str = ""  # why there is no closed form (result None)


def take_differential(f: Expr, x: Symbol, dx: Symbol) -> tuple[list, Expr | None]:
    """dF level by level: [(the rules used, dF so far), …] and dF (None: it is 0)."""
    D = Differentials(x, dx)
    if D.of(f) is None:
        return [], None
    if isinstance(f, Symbol):
        return [([("the variable", "")], dx)], dx
    tree, levels = pending(f), []
    while has_pending(tree):
        if len(levels) >= MAX_LEVELS:
            raise LimitError(f"the differential takes more than {MAX_LEVELS} steps")
        tree, used = expand(D, tree)
        levels.append((used, tree))
    return levels, tree


def derive_by_differentials(expr, wrt, where=None) -> DifferentialDerivation:
    """The derivation by differentials of `expr` by `wrt` (see the module's docstring)."""
    e = as_expr(expr, where)
    return differentiate(e, wrt_symbol(e, wrt, where))


def differentiate(e: Expr, x: Symbol) -> DifferentialDerivation:
    """The derivation by differentials of a typed `e` by its variable x."""
    plain, px = unstructured(e, x)
    dx = differential_symbol(px, {s.name for s in e.symbols()} | {x.name})
    out = DifferentialDerivation(e, x, dx)
    out.levels, out.differential = take_differential(plain, px, dx)
    _, _, _, shape = _layout_indices(e, x)
    if out.differential is None:
        out.form = _form(e, x)
        out.simplified = build.zero(shape)
        out.result = retype(out.simplified, _known(e, x), shape)
        return out
    out.form = _form(e, x)
    if not out.form:
        out.reason = (f"the derivative of {e.ty.describe()} by {x.ty.describe()} is a tensor "
                      "of order 3 or 4, which has no matrix form here")
        return out
    try:
        out.terms = _identify(out.differential, dx, out.form, e)
    except NoCanonicalForm as error:
        out.reason = str(error.message)
        return out
    out.collected = signed([(t.sign, t.factor) for t in out.terms]) or build.zero(shape)
    out.simplified = normal_form(out.collected)
    out.result = restructured(retype(out.simplified, _known(e, x), shape), e, x)
    return out


def _form(f: Expr, x: Symbol) -> str:
    if x.ty.is_scalar:
        return "scalar"
    if f.ty.is_scalar:
        return "gradient"
    if x.ty.kind == "vector" and f.ty.kind in ("vector", "row vector"):
        return "jacobian"
    return ""


def _identify(differential: Expr, dx: Symbol, form: str, f: Expr) -> list[Term]:
    if form == "scalar":
        one = Number(1, ty=SCALAR)
        return [Term(1, differential, substituted(differential, {dx.name: one}))]
    terms = []
    for sign, term in split(differential, dx.name):
        if form == "gradient":
            factor, path = reverse(term, dx.name)
        else:
            factor, path = forward(term, dx.name)  # a row's term: vec(row) is its column
        terms.append(Term(sign, term, normal_form(factor), path))
    return terms


def normal_form(g: Expr) -> Expr:
    """g's canonical text: g written in index form and read back (what `derive` does with
    its own index terms), its powers of a scalar merged first (U/s^2 is s^-2 U, as the
    index form writes a quotient); simplified where it has no index form to read back."""
    supply = IndexSupply(reserved={"i", "j"})
    out = ("i" if g.ty.rows else None, "j" if g.ty.cols else None)
    try:
        terms = lower(canonical_input(merged_powers(g)), out, supply)
        return closed_form(terms, out, g.ty, supply)
    except NoMatrixForm:
        return simplify_tree(g)


def merged_powers(e: Expr) -> Expr:
    """U/s^p = s^-p U and (s^p)^k = s^(p k) for a whole number k: one power of each base.
    Exact for a real s ≠ 0 (k whole)."""
    if not isinstance(e, Apply):
        return e
    args = tuple(merged_powers(a) for a in e.args)
    if e.op == "div" and _power(args[1]) is not None:
        base, p = _power(args[1])
        return build.product(build.apply("power", base, build.num(-p)), args[0])
    if e.op == "power" and _power(args[0]) is not None and _whole(args[1]) is not None:
        base, p = _power(args[0])
        return build.apply("power", base, build.num(p * _whole(args[1])))
    return e if args == e.args else build.apply(e.op, *args, attrs=e.attrs)


def _power(e: Expr) -> tuple[Expr, Fraction] | None:
    """(s, p) for s^p with a numeric p."""
    if isinstance(e, Apply) and e.op == "power":
        value = to_sympy(e.args[1])
        if value is not None and value.is_Rational:
            return e.args[0], Fraction(int(value.p), int(value.q))
    return None


def _whole(e: Expr) -> int | None:
    value = to_sympy(e)
    return int(value) if value is not None and value.is_Integer else None


# -- the second differential ------------------------------------------------------------------

@dataclass
class SecondDerivation:
    first: DifferentialDerivation
    second: DifferentialDerivation | None = None  # d of the gradient g: dg = B dx
    symmetric: bool = False  # B = B^T, so that H = (B + B^T)/2 is B
    hessian: Expr | None = None  # (B + B^T)/2, simplified
    result: Expr | None = None  # retyped, simplified under the variable's assumptions
    reason: str = ""  # why there is no closed form (result None)


def second(expr, wrt, where=None) -> SecondDerivation:
    """The Hessian by the second differential: with dx held constant, d²f = d(g^T dx) =
    dx^T B^T dx where dg = B dx, and the second identification theorem gives
    H = (B + B^T)/2 (B itself where B - B^T simplifies to 0). The first differential is
    taken of f without the variable's assumptions (SPEC section 3)."""
    e = as_expr(expr, where)
    first = differentiate(e, wrt_symbol(e, wrt, where))
    out = SecondDerivation(first)
    x = first.x
    if not e.ty.is_scalar or x.ty.kind == "matrix":
        out.reason = ("the Hessian is defined for a scalar function" if not e.ty.is_scalar
                      else "the Hessian by a matrix is a tensor of order 4, which has no "
                           "matrix form here")
        return out
    if first.simplified is None:
        out.reason = first.reason
        return out
    plain, px = unstructured(e, x)
    gradient = retype(first.simplified, _known(plain, px), first.simplified.ty)
    out.second = differentiate(gradient, px)
    if out.second.simplified is None:
        out.reason = out.second.reason
        return out
    b = out.second.simplified
    out.symmetric = x.ty.is_scalar or agrees(b, build.apply("transpose", b))
    if out.symmetric:
        out.hessian = b
    else:
        half = build.apply("div", build.num(1), build.num(2))
        out.hessian = normal_form(build.apply("mul", half, build.apply(
            "add", b, build.apply("transpose", b))))
    out.result = restructured(retype(out.hessian, _known(e, x), b.ty), e, x)
    return out


def agrees(left: Expr, right: Expr) -> bool:
    """Whether two derivatives are the same: the same canonical text, or a difference
    whose normal form is 0 (`1/n (x - m) …` against `-1/n (m - x) …`)."""
    if str(simplify_tree(left)) == str(simplify_tree(right)):
        return True
    if left.ty != right.ty:
        return False
    try:
        difference = normal_form(build.apply("add", left, build.apply("neg", right)))
    except MatrixCalcError:
        return False
    return build.is_zero(difference)
