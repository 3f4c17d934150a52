"""The differential of an expression at the matrix level, rule by rule (Magnus & Neudecker).

A differential is an expression of the input language in which the variable's
differential is a symbol of its own: for x, the symbol `dx`, shaped like x (a vector
for a vector, a matrix for a matrix), with no assumptions (SPEC section 3: derivatives are
unstructured). So every full differential prints, and parses back with `dx` declared
(`differential_where`). While it is being taken, the differential of a subexpression not
yet expanded is a `d(…)` node (`PENDING`, printed by `DifferentialPrinter`); it belongs to
no operator record and never leaves this module and its printer.

Each operator's rule is its record's `differential` (`OpSpec.differential`), given this
module's `Differentials` as `D` and its arguments' differentials (None for an argument
that does not depend on the variable): linear and bilinear operators share the generic
rules `D.linear` and `D.leibniz`; an elementwise function's f' is derived by SymPy from
the same record the index engine reads (`index.scalars.derivative_parts`). A record
without a rule raises UnsupportedError naming it. `steps` expands one level of `d(…)` at a
time and reports the rules it used, so that an explanation prints the chain
df = d(f) = … = (the full differential).
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import UnsupportedError
from ..index.contract import contract
from ..index.ir import IndexSupply
from ..index.lower import lower
from ..index.scalars import derivative_parts, from_sympy, to_sympy
from ..language import build
from ..language.expr import Apply, Expr, Number, Symbol, SymbolInfo, memo_key, walk
from ..language.printing import Printer, symbol_latex
from ..ops.spec import ATOM, Differential, lookup
from .diff import depends_on, lift

PENDING = "d"  # the op of a differential not yet taken; no operator record has this name


# -- the differential symbol ------------------------------------------------------------------

def differential_symbol(x: Symbol, taken: set[str]) -> Symbol:
    """`dX` for X: shaped like X, no assumptions; `d_X`, `dX_1`, … if the name is taken."""
    candidates = [f"d{x.name}", f"d_{x.name}"] + [f"d{x.name}_{k}" for k in range(1, 100)]
    name = next(c for c in candidates if c not in taken)
    info = x.info or SymbolInfo(x.name, x.ty.kind, x.ty.rows, x.ty.cols)
    return Symbol(name, info=replace(info, name=name, assumptions=frozenset(),
                                     origin="declared"), ty=x.ty)


def differential_where(where, dx: Symbol):
    """The user's declarations plus dx's kind: what a printed differential parses with."""
    kind = dx.info.kind
    if where is None:
        return f"{dx.name}: {kind}"
    if isinstance(where, dict):
        return {**where, dx.name: kind}
    return f"{where}; {dx.name}: {kind}"


def pending(e: Expr) -> Apply:
    """d(e), not yet taken: shaped like e."""
    return Apply(PENDING, (e,), ty=e.ty)


def is_pending(e: Expr) -> bool:
    return isinstance(e, Apply) and e.op == PENDING


def rule_of(op: str) -> tuple[Differential, str, str, str]:
    """(the record's differential, its title, its rule, its source)."""
    spec = lookup(op)
    rule = spec.differential
    if rule is None:
        raise UnsupportedError(f"no differential rule for `{op}` in the operator table",
                               hint="add `differential=` to its record (ops/)")
    if rule.apply is None:
        raise UnsupportedError(f"`{op}` has no differential rule at the matrix level: "
                               f"{rule.reason}", hint="its derivative in index notation: "
                               "mc.derive, mc.explain(method=\"index\")")
    return rule, rule.title or spec.title or op, rule.rule or spec.rule, \
        rule.source or spec.source


# -- the context a record's rule is given -------------------------------------------------------

class Differentials:
    """d of expressions by one variable. A record's `differential.apply(D, node, dargs)`
    receives this object and builds its result with `build` and the helpers below."""

    build = build

    def __init__(self, wrt: Symbol, dwrt: Symbol) -> None:
        self.wrt = wrt
        self.dwrt = dwrt
        self._memo: dict = {}

    # -- the full differential -----------------------------------------------------------
    def of(self, e: Expr) -> Expr | None:
        """The differential of e (None where it is identically zero)."""
        if not depends_on(e, self.wrt.name):
            return None
        if isinstance(e, Symbol):
            return self.dwrt
        key = memo_key(e)
        if key not in self._memo:
            dargs = tuple(self.of(a) for a in e.args)
            # arguments that do not vary (A^0 is I) make a constant: no rule is asked
            constant = bool(e.args) and all(d is None for d in dargs)
            self._memo[key] = None if constant else rule_of(e.op)[0].apply(self, e, dargs)
        return self._memo[key]

    def one_level(self, e: Apply) -> tuple[Expr | None, tuple[str, str]]:
        """e's rule applied once, its arguments' differentials left as d(…) (the variable's
        is dX, a constant's None); and the rule's (title, statement)."""
        dargs = tuple(None if self.of(a) is None else self.dwrt if isinstance(a, Symbol)
                      else pending(a) for a in e.args)
        rule, title, statement, _ = rule_of(e.op)
        return rule.apply(self, e, dargs), (title, statement)

    # -- helpers for the rules -----------------------------------------------------------
    def linear(self, node: Apply, dargs: tuple) -> Expr | None:
        """f(dU, …): a constant argument's differential is 0 (a sum drops it)."""
        if node.op == "add":
            return self.total(list(dargs))
        args = [d if d is not None else build.zero(a.ty) for a, d in zip(node.args, dargs)]
        return build.apply(node.op, *args, attrs=node.attrs)

    def leibniz(self, node: Apply, dargs: tuple) -> Expr | None:
        """f(dU, V) + f(U, dV): each argument replaced by its differential in turn."""
        terms = []
        for k, darg in enumerate(dargs):
            if darg is not None:
                args = node.args[:k] + (darg,) + node.args[k + 1:]
                terms.append(build.apply(node.op, *args, attrs=node.attrs))
        return self.total(terms)

    @staticmethod
    def total(terms: list) -> Expr | None:
        """The sum of the terms given (None dropped), in the order given, as `a - b` parses."""
        kept = [t for t in terms if t is not None]
        if not kept:
            return None
        args = [kept[0]] + [build.apply("neg", build.negate(t)) if build.is_negated(t)
                            else t for t in kept[1:]]
        return args[0] if len(args) == 1 else build.apply("add", *args)

    @staticmethod
    def chain(*factors: Expr | None) -> Expr:
        """The product of the factors (None for an identity left out), as `A B C` parses."""
        return build.chain([f for f in factors if f is not None])

    @staticmethod
    def matrix_power(x: Expr, k: int) -> Expr | None:
        """X^k as written: None for k = 0 (an identity in a product), X, X^-1 or X^k."""
        if k == 0:
            return None
        if k in (1, -1):
            return x if k == 1 else build.apply("inv", x)
        return build.apply("matpow", x, attrs=(k,))

    @staticmethod
    def trace_of(m: Expr) -> Expr:
        return m if m.ty.is_scalar else build.apply("tr", m)

    @staticmethod
    def inner(a: Expr, b: Expr) -> Expr:
        """The Frobenius inner product of a and b, shaped alike: a b, a^T b, a b^T or
        tr(a^T b)."""
        kind = a.ty.kind
        if kind == "scalar":
            return build.apply("mul", a, b)
        if kind == "vector":
            return build.apply("matmul", build.apply("transpose", a), b)
        if kind == "row vector":
            return build.apply("matmul", a, build.apply("transpose", b))
        return build.apply("tr", build.apply("matmul", build.apply("transpose", a), b))

    @staticmethod
    def entrywise(coeff: Expr, trees: list[Expr], dm: Expr) -> Expr:
        """coeff t1 ⊙ t2 ⊙ … ⊙ dM (a product where dM is a scalar); coeff 1 left out."""
        op = "mul" if dm.ty.is_scalar else "hadamard"
        result = dm
        for tree in reversed(trees):
            result = build.apply(op, tree, result)
        if isinstance(coeff, Number) and coeff.value == 1:
            return result
        return build.apply("mul", coeff, result)

    def elementwise(self, node: Apply, dm: Expr) -> Expr | None:
        """d f(M) = f'(M) ⊙ dM, f' derived by SymPy from the record; None where f' is 0."""
        parts = derivative_parts(node.op)
        if parts is None:
            return None
        coeff, trees = parts
        (m,) = node.args
        return self.entrywise(from_sympy(coeff), [lift(t, m) for t in trees], dm)

    def constant_exponent(self, exponent: Expr):
        value = to_sympy(exponent)
        if value is None or depends_on(exponent, self.wrt.name):
            raise UnsupportedError("differentials of powers with a variable exponent are not "
                                   "supported yet")
        return value

    @staticmethod
    def tree(value, context: Expr) -> Expr:
        """A SymPy scalar as a tree, its symbols those of `context` (an exponent)."""
        names = {n.name: n for n in walk(context) if isinstance(n, Symbol)}
        return from_sympy(value, names)

    @staticmethod
    def vanishes(v: Expr) -> bool:
        """Whether v is identically zero (its index form contracts to nothing)."""
        supply = IndexSupply()
        idx = (supply.fresh() if v.ty.rows else None, supply.fresh() if v.ty.cols else None)
        return not contract(lower(v, idx, supply), tuple(i for i in idx if i))


# -- one level at a time ----------------------------------------------------------------------

def expand(D: Differentials, tree: Expr) -> tuple[Expr, list[tuple[str, str]]]:
    """Every d(…) in `tree` taken one level (and, in the same step, the d(…) its rule makes
    whose rule has the same title: a chain of products is one product rule); the rules
    used, (title, statement), in order."""
    used: list[tuple[str, str]] = []

    def take(e: Expr) -> Expr:
        result, rule = D.one_level(e)
        if rule not in used:
            used.append(rule)
        result = _same_rule(result, rule[0])
        return build.zero(e.ty) if result is None else result

    def _same_rule(e: Expr | None, title: str) -> Expr | None:
        if e is None:
            return None
        if is_pending(e) and rule_of(e.args[0].op)[1] == title:
            return take(e.args[0])
        if isinstance(e, Apply) and not is_pending(e):
            args = tuple(_same_rule(a, title) for a in e.args)
            return e if all(x is y for x, y in zip(args, e.args)) else replace(e, args=args)
        return e

    def visit(e: Expr) -> Expr:
        if is_pending(e):
            return take(e.args[0])
        if isinstance(e, Apply):
            args = tuple(visit(a) for a in e.args)
            return e if all(x is y for x, y in zip(args, e.args)) else replace(e, args=args)
        return e

    return tidy_products(visit(tree)), used


def tidy_products(e: Expr) -> Expr:
    """Products written as one chain (`2 ||r|| d||r||`, not `2 (||r|| d||r||)`):
    associativity only, so that a step prints as a reader would write it."""
    if not isinstance(e, Apply) or is_pending(e):
        return e
    args = tuple(tidy_products(a) for a in e.args)
    e = e if all(x is y for x, y in zip(args, e.args)) else replace(e, args=args)
    if e.op in ("mul", "matmul"):
        signs, factors = 1, []
        for factor in build.factors_of(e):  # the signs of the factors in front
            sign, factor = build.strip_sign(factor)
            signs, factors = signs * sign, factors + [factor]
        chained = build.chain(factors)
        if chained.ty == e.ty:
            return chained if signs > 0 else build.negate(chained)
    return e


def has_pending(e: Expr) -> bool:
    return any(is_pending(n) for n in walk(e))


# -- printing -----------------------------------------------------------------------------------

class DifferentialPrinter(Printer):
    """Text or LaTeX of a differential: d(…) nodes as `d(U V)` / `d tr(U)`, and the
    differential symbols as `dX` / `\\mathrm{d}X`."""

    def __init__(self, style: str, differentials: dict[str, str]) -> None:
        super().__init__(style)
        self.differentials = differentials  # dX's name -> X's name

    def prec(self, node: Expr) -> int:
        return ATOM if is_pending(node) else super().prec(node)

    def node(self, node: Expr) -> str:
        d = r"\mathrm{d}" if self.style == "latex" else "d"
        if is_pending(node):
            (inner,) = node.args
            text = self.node(inner)
            if super().prec(inner) == ATOM and not isinstance(inner, Symbol):
                return f"{d}{text}" if text[:1] in "|[\\" else f"{d} {text}"
            return f"{d}\\left({text}\\right)" if self.style == "latex" else f"d({text})"
        if isinstance(node, Symbol) and node.name in self.differentials and \
                self.style == "latex":
            return f"{{{d}{symbol_latex(self.differentials[node.name])}}}"
        return super().node(node)


def show(e: Expr, differentials: dict[str, str], latex: bool = False) -> str:
    return DifferentialPrinter("latex" if latex else "text", differentials).node(e)
