"""The derivative engine on the index IR.

A handful of generic cases: the variable becomes Kronecker deltas, sums are linear,
products obey Leibniz (each factor differentiated in turn), scalar coefficients are
differentiated by SymPy, and each opaque operator looks up its rule in `RULES` — one
short function per operator, citing its source. A factor with no rule raises
UnsupportedError naming the operator: never a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from . import build
from .errors import UnsupportedError
from .expr import Apply, Expr, Symbol, walk
from .index.contract import contract
from .index.ir import Factor, IndexSupply, Term, copy, multiply
from .index.lower import OPAQUE, Idx, entrywise, factor, lower
from .index.scalars import from_sympy, symbol, to_sympy

ONE = sympy.Integer(1)


def depends_on(e: Expr, name: str) -> bool:
    return any(isinstance(n, Symbol) and n.name == name for n in walk(e))


def index_pair(e: Expr, idx: tuple[str, ...]) -> Idx:
    """A factor's index tuple as (row, col) for its expression's kind."""
    if not idx:
        return (None, None)
    return (idx[0], idx[1] if len(idx) > 1 else None)


class Differentiator:
    """d/d(wrt) of index terms; `wrt_idx` are the derivative's own free indices."""

    def __init__(self, wrt: Symbol, wrt_idx: tuple[str, ...], supply: IndexSupply) -> None:
        self.wrt = wrt
        self.wrt_idx = wrt_idx
        self.supply = supply

    def terms(self, terms: list[Term]) -> list[Term]:
        out: list[Term] = []
        for term in terms:
            if self.wrt.ty.is_scalar:
                dcoeff = sympy.diff(term.coeff, symbol(self.wrt.name))
                if dcoeff != 0:
                    out.append(Term(dcoeff, term.factors))
            for k, f in enumerate(term.factors):
                if f.is_structural or not depends_on(f.expr, self.wrt.name):
                    continue
                rest = Term(term.coeff, term.factors[:k] + term.factors[k + 1:])
                out += [rest.times(d) for d in self.factor(f)]
        return out

    def expr(self, e: Expr, idx: Idx) -> list[Term]:
        """d of `e` carrying indices `idx`, through its index form."""
        if not depends_on(e, self.wrt.name):
            return []
        return self.terms(lower(e, idx, self.supply))

    def of(self, e: Expr, idx: Idx) -> list[Term]:
        """d of `e` at `idx`: an opaque operator by its rule, anything else through its
        index form."""
        if isinstance(e, Symbol):
            return self.variable(e, idx)
        if isinstance(e, Apply) and e.op in RULES:
            return RULES[e.op](self, e, idx)
        if isinstance(e, Apply) and e.op in OPAQUE:
            raise UnsupportedError(f"no derivative rule for `{e.op}`: add one to a table's "
                                   "`functions:`")
        return self.expr(e, idx)

    def variable(self, e: Symbol, idx: Idx) -> list[Term]:
        """dX_ab/dX_kl = δ_ak δ_bl: one Kronecker delta per index."""
        if e.name != self.wrt.name:
            return []
        dims = [d for d in (self.wrt.ty.rows, self.wrt.ty.cols) if d]
        own = [i for i in idx if i is not None]
        return [Term(ONE, tuple(copy(dim, (a, p))
                                for a, p, dim in zip(own, self.wrt_idx, dims)))]

    def factor(self, f: Factor) -> list[Term]:
        return self.of(f.expr, index_pair(f.expr, f.idx))

    def fresh(self) -> str:
        return self.supply.fresh()


Rule = Callable[[Differentiator, Apply, Idx], list[Term]]
RULES: dict[str, Rule] = {}


def rule(*ops: str):
    def register(fn: Rule) -> Rule:
        for op in ops:
            RULES[op] = fn
        return fn
    return register


def single(*factors: Factor, coeff=ONE) -> list[Term]:
    return [Term(sympy.sympify(coeff), tuple(factors))]


@rule("transpose")
def d_transpose(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d(M^T) = (dM)^T: the indices swap (a row vector is stored as such a transpose)."""
    return d.of(e.args[0], (idx[1], idx[0]))


# -- linear algebra ------------------------------------------------------------------------

@rule("inv")
def d_inverse(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d(M^-1) = -M^-1 dM M^-1 (Matrix Cookbook (59))."""
    (m,) = e.args
    i, j = idx
    k, l = d.fresh(), d.fresh()
    return multiply(multiply(single(Factor(e, (i, k)), coeff=-1), d.expr(m, (k, l))),
                    single(Factor(e, (l, j))))


@rule("det")
def d_determinant(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d det(M) = det(M) tr(M^-1 dM) (Matrix Cookbook (41))."""
    (m,) = e.args
    k, l = d.fresh(), d.fresh()
    return multiply(single(Factor(e, ()), Factor(build.apply("inv", m), (l, k))),
                    d.expr(m, (k, l)))


@rule("logdet")
def d_log_determinant(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d log|det M| = tr(M^-1 dM) (Matrix Cookbook (43)); d log|s| = ds / s."""
    (m,) = e.args
    if m.ty.is_scalar:
        return multiply(single(Factor(reciprocal(m), ())), d.expr(m, (None, None)))
    k, l = d.fresh(), d.fresh()
    return multiply(single(Factor(build.apply("inv", m), (l, k))), d.expr(m, (k, l)))


# -- powers and norms ------------------------------------------------------------------------

def reciprocal(e: Expr) -> Expr:
    op = "power" if e.ty.is_scalar else "epow"
    return build.apply(op, e, build.num(-1))


def constant_exponent(d: Differentiator, exponent: Expr) -> sympy.Expr:
    value = to_sympy(exponent)
    if value is None or depends_on(exponent, d.wrt.name):
        raise UnsupportedError("derivatives of powers with a variable exponent are not "
                               "supported yet")
    return value


def scalar_names(*exprs: Expr) -> dict[str, Symbol]:
    return {n.name: n for e in exprs for n in walk(e) if isinstance(n, Symbol)}


@rule("power", "epow")
def d_power(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d(s^p) = p s^(p-1) ds, elementwise for .^ (p constant)."""
    base, exponent = e.args
    p = constant_exponent(d, exponent)
    trees = [] if p == 1 else [base if p == 2 else
                               build.apply(e.op, base, from_sympy(p - 1, scalar_names(exponent)))]
    return [t.scaled(p) for t in times_differential(d, trees, base, idx)]


def times_differential(d: Differentiator, trees: list[Expr], m: Expr, idx: Idx) -> list[Term]:
    """t1 ⊙ t2 ⊙ … ⊙ dM at `idx`, the trees shaped like M: copy tensors join their
    indices (a scalar M needs none)."""
    parts = [lambda i, t=t: single(factor(t, i)) for t in trees]
    parts.append(lambda i: d.expr(m, i))
    return entrywise(parts, m.ty, idx, d.supply)


@rule("norm2", "normF")
def d_euclidean_norm(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d||v|| = v^T dv / ||v|| (Matrix Cookbook (129)); the same for ||X||_F (130)."""
    (v,) = e.args
    inner = (d.fresh() if v.ty.rows else None, d.fresh() if v.ty.cols else None)
    if not contract(lower(v, inner, d.supply), tuple(i for i in inner if i)):
        raise UnsupportedError(f"`{e}` is the norm of something identically zero: it has "
                               "no derivative there (0/0), so the derivative is not defined")
    scale = Factor(build.apply("power", e, build.num(-1)), ())
    return multiply(single(scale, factor(v, inner)), d.expr(v, inner))


@rule("norm1")
def d_one_norm(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d||v||_1 = sign(v)^T dv, away from zero entries."""
    (v,) = e.args
    inner = (d.fresh() if v.ty.rows else None, d.fresh() if v.ty.cols else None)
    return multiply(single(factor(build.apply("sign", v), inner)), d.expr(v, inner))


# -- elementwise functions -----------------------------------------------------------------

def _one_minus(e: Expr) -> Expr:
    return build.total([build.num(1), build.negate(e)], e.ty)


def _square(e: Expr) -> Expr:
    return build.apply("power" if e.ty.is_scalar else "epow", e, build.num(2))


# f'(M) for each elementwise f: a coefficient and factors multiplied elementwise (kept
# apart so that contraction can cancel s ⊙ s.^-1); None where f' is 0 away from 0.
Derivative = tuple[int | sympy.Expr, list[Expr]] | None
ELEMENTWISE_DERIVATIVES: dict[str, Callable[[Expr], Derivative]] = {
    "exp": lambda m: (1, [build.apply("exp", m)]),
    "log": lambda m: (1, [reciprocal(m)]),
    "sin": lambda m: (1, [build.apply("cos", m)]),
    "cos": lambda m: (-1, [build.apply("sin", m)]),
    "tanh": lambda m: (1, [_one_minus(_square(build.apply("tanh", m)))]),
    "sigmoid": lambda m: (1, [build.apply("sigmoid", m), _one_minus(build.apply("sigmoid", m))]),
    "softplus": lambda m: (1, [build.apply("sigmoid", m)]),
    "sqrt": lambda m: (sympy.Rational(1, 2), [reciprocal(build.apply("sqrt", m))]),
    "abs": lambda m: (1, [build.apply("sign", m)]),
    "relu": lambda m: (1, [build.apply("step", m)]),
    "sign": lambda m: None,
    "step": lambda m: None,
}


def elementwise_rule(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d f(M) = f'(M) ⊙ dM: copy tensors join the derivative's factors to M's indices."""
    (m,) = e.args
    derivative = ELEMENTWISE_DERIVATIVES[e.op](m)
    if derivative is None:
        return []
    coeff, trees = derivative
    return [t.scaled(coeff) for t in times_differential(d, trees, m, idx)]


for _name in ELEMENTWISE_DERIVATIVES:
    RULES[_name] = elementwise_rule


# -- vector functions ----------------------------------------------------------------------

@rule("softmax")
def d_softmax(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d softmax(z)_i = s_i dz_i - s_i s_k dz_k (the Jacobian diag(s) - s s^T)."""
    (z,) = e.args
    i, k = idx[0], d.fresh()
    own = times_differential(d, [e], z, idx)
    cross = multiply(single(Factor(e, (i,)), Factor(e, (k,)), coeff=-1), d.expr(z, (k, None)))
    return own + cross


@rule("logsumexp")
def d_logsumexp(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """d logsumexp(z) = softmax(z)^T dz."""
    (z,) = e.args
    k = d.fresh()
    return multiply(single(Factor(build.apply("softmax", z), (k,))), d.expr(z, (k, None)))


@rule("bracket")
def d_bracket(d: Differentiator, e: Apply, idx: Idx) -> list[Term]:
    """A literal of scalar entries, by a scalar: the literal of the entries' derivatives."""
    if not d.wrt.ty.is_scalar:
        raise UnsupportedError("a bracket literal can be differentiated by a scalar only; "
                               "use a list of scalars as `wrt` for its Jacobian")
    from .calculus import derivative_of_scalar
    entries = [derivative_of_scalar(entry, d.wrt) for entry in e.args]
    literal = build.apply("bracket", *entries, attrs=e.attrs)
    return single(factor(literal, idx))
