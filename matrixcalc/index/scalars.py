"""Scalar algebra with SymPy: coefficients of index terms, and their way back to trees.

A scalar subexpression made only of numbers, scalar symbols and scalar functions
(`1/(2n)`, `λ/2`, `sin(x1) + cos(x2)`) becomes a SymPy coefficient, so that SymPy folds
`2 · 1/(2n)` into `1/n` and differentiates with respect to scalar symbols. How each
operator acts on SymPy scalars is its record's `scalar`; an elementwise function's SymPy
function comes from its record too (`function`), and so does its derivative
(`derivative_parts`).
"""

from __future__ import annotations

import importlib
import threading
from fractions import Fraction

import sympy

from .. import budget
from ..language import build
from ..language.expr import Apply, Dimension, Expr, Number, Symbol
from ..language.shapes import SCALAR, Dim
from ..ops.spec import REGISTRY, lookup, version


class RealFunction(sympy.Function):
    """A function real on real arguments (so SymPy's |f|' is sign(f) f', not re/im parts).
    The elementwise functions whose record gives `fprime` or a `definition` are made from
    it (`function`): their derivative is the record's, substituted."""

    _op = ""

    def _eval_is_real(self):
        return self.args[0].is_real

    def fdiff(self, argindex=1):
        return _fprime(self._op).subs(symbol("x"), self.args[0])


class _Scalars:
    """What a record's `scalar(S, node, *args)` is given: SymPy, and `function(op)` (the
    SymPy function of an elementwise record)."""

    def __getattr__(self, name: str):
        return getattr(sympy, name)

    @staticmethod
    def function(op: str):
        return function(op)


SCALARS = _Scalars()
_functions: dict[str, tuple] = {}  # op -> (its record, its SymPy function)
_lock = threading.Lock()


def function(op: str):
    """The SymPy function of the elementwise operator `op`: SymPy's own (`OpSpec.sympy`,
    e.g. "cosh", "codegen.cfunctions.log1p"), or one made from the record's `fprime` or
    `definition`. Made once per record (a table that redefines a function makes anew)."""
    spec = lookup(op)
    with _lock:
        known = _functions.get(op)
        if known is None or known[0] is not spec:
            native = _native(spec.sympy) if spec.sympy else None
            made = native if native is not None and not (spec.fprime or spec.definition) \
                else type(op, (RealFunction,), {"_op": op})
            known = _functions[op] = (spec, made, native)
        return known[1]


def _native(path: str):
    """A SymPy function by its path in the sympy package: "cosh", "codegen.cfunctions.log1p"."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(f"sympy.{module}") if module else sympy, name)


def _fprime(op: str) -> sympy.Expr:
    """f'(x) of a function made from its record: `fprime`, or the derivative of its
    `definition`, as a SymPy expression in the real symbol x."""
    from ..language.parse import parse
    spec = lookup(op)
    if spec.fprime:
        return to_sympy(parse(spec.fprime, {"x": "scalar"}))
    return sympy.diff(to_sympy(parse(spec.definition, {"x": "scalar"})), symbol("x"))


_names: tuple = (None, {})  # (the table's version, SymPy function -> operator name)


def function_names() -> dict:
    """SymPy function -> operator name, for every elementwise record (its own SymPy
    function, and SymPy's of the same name: abs' is SymPy's sign(x)). Rebuilt when the
    operator table changes; swapped in whole, so a reader never sees half of it."""
    global _names
    known_version, names = _names
    now = version()
    if known_version == now:
        return names
    names = {}
    for op, spec in list(REGISTRY.items()):
        if spec.sympy or spec.fprime or spec.definition:
            names[function(op)] = op
            if spec.sympy:
                names.setdefault(_native(spec.sympy), op)
    _names = (now, names)
    return names


_parts: dict = {}  # op -> (its record, f' as parts): a redefined record derives anew


def derivative_parts(op: str) -> tuple[sympy.Expr, list[Expr]] | None:
    """f' of an elementwise operator as (coefficient, factors): SymPy's derivative of its
    function at x, split into a constant and the factors that depend on x, each a tree in
    the scalar symbol x (to be lifted onto the argument); None where f' is 0. Remembered
    per record."""
    spec = lookup(op)
    known = _parts.get(op)
    if known is not None and known[0] is spec:
        return known[1]
    x = symbol("x")
    # common factors pulled out, nothing expanded: x exp(-x^2) gives (1 - 2 x^2) exp(-x^2)
    derivative = sympy.factor_terms(sympy.diff(function(op)(x), x))
    if derivative == 0:
        parts = None
    else:
        constant, factors = sympy.Integer(1), []
        for f in sympy.Mul.make_args(derivative):
            if f.has(x):
                factors.append(_factor_tree(f))
            else:
                constant *= f
        parts = (constant, factors)
    _parts[op] = (spec, parts)
    return parts


def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


class SizeSymbol(sympy.Symbol):
    """The size of a named dimension (a positive integer), never a differentiation
    variable; it goes back to a `Dimension` node."""

    def __new__(cls, name: str):
        return super().__new__(cls, name, integer=True, positive=True)


def size(dim: Dim) -> sympy.Expr:
    """The number of entries along `dim` (a product of names and sizes)."""
    return sympy.Mul(*(sympy.Integer(a) if isinstance(a, int) else SizeSymbol(a)
                       for a in dim))


def to_sympy(e: Expr) -> sympy.Expr | None:
    """The SymPy form of a scalar built from numbers and scalar symbols; None otherwise."""
    if e.ty is None or not e.ty.is_scalar:
        return None
    if isinstance(e, Number):
        return sympy.Rational(e.value.numerator, e.value.denominator)
    if isinstance(e, Symbol):
        return symbol(e.name)
    if isinstance(e, Dimension):
        return SizeSymbol(e.name)
    if not isinstance(e, Apply):
        return None
    now = version()
    known = e._scalar
    if known is not None and known[0] == now:
        return known[1]
    budget.tick()  # SymPy's own work on a deep tree builds no node of ours
    value = _apply_to_sympy(e)
    object.__setattr__(e, "_scalar", (now, value))  # remembered on the (immutable) node
    return value


def _apply_to_sympy(e: Apply) -> sympy.Expr | None:
    spec = REGISTRY.get(e.op)
    if spec is None or spec.scalar is None:
        return None
    args = [to_sympy(a) for a in e.args]
    if any(a is None for a in args):
        return None
    return spec.scalar(SCALARS, e, *args)


def from_sympy(value: sympy.Expr, names: dict[str, Symbol] | None = None) -> Expr:
    """A SymPy scalar back to a tree, written as a person would: `1/n`, `-2`, `λ/2`.
    Each distinct subexpression is converted once (SymPy shares them: the Hessian of a
    deep composition repeats its inner functions many times)."""
    return _Converter(names if names is not None else {}).tree(
        sympy.sympify(value, strict=True))


class _Converter:
    def __init__(self, names: dict[str, Symbol]) -> None:
        self.names = names
        self.memo: dict[sympy.Expr, Expr] = {}

    def tree(self, value: sympy.Expr) -> Expr:
        known = self.memo.get(value)
        if known is None:
            known = self.memo[value] = self._convert(value)
        return known

    def _convert(self, value: sympy.Expr) -> Expr:
        names = self.names
        if value.is_Rational:
            return _rational(Fraction(int(value.p), int(value.q)))
        if isinstance(value, SizeSymbol):
            return Dimension(value.name, ty=SCALAR)
        if value.is_Symbol:
            return names.get(value.name) or Symbol(value.name, ty=SCALAR)
        if value.is_Add:  # its own terms, in a fixed order (SymPy's term ordering is slow)
            terms = sorted(value.args, key=sympy.default_sort_key)
            return build.total([self.tree(t) for t in terms], build.num(0).ty)
        if value.is_Mul:
            return self._product(value)
        if value.is_Pow:
            base, exponent = value.as_base_exp()
            if exponent.is_Rational and exponent < 0:
                return build.apply("div", build.num(1), self.tree(base ** -exponent))
            if exponent == sympy.Rational(1, 2):
                return build.apply("sqrt", self.tree(base))
            return build.apply("power", self.tree(base), self.tree(exponent))
        if value.func is sympy.re:  # arguments are real
            return self.tree(value.args[0])
        back = function_names()
        if value.func in back:
            return build.apply(back[value.func], *(self.tree(a) for a in value.args))
        if value == sympy.E:
            return build.apply("exp", build.num(1))
        if value == sympy.pi:
            return build.apply("pi")
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            from ..errors import UnsupportedError
            raise UnsupportedError(f"a coefficient came out as {value} (0/0 or 1/0): the "
                                   "derivative is not defined (is a norm, root or divisor "
                                   "identically zero?)")
        raise ValueError(f"no tree form for the scalar {value}")

    def _product(self, value: sympy.Mul) -> Expr:
        """c · a · b / (d e): numerator factors, then one division by the denominator."""
        numerator, denominator = sympy.fraction(value, exact=True)  # exp(-x) stays above
        coeff, rest = numerator.as_coeff_Mul()
        sign = -1 if coeff < 0 else 1
        coeff = abs(coeff)
        factors = [] if coeff == 1 and rest != 1 else \
            [_rational(Fraction(int(coeff.p), int(coeff.q)))]
        if rest != 1:
            factors += [self.tree(f) for f in sorted(sympy.Mul.make_args(rest),
                                                     key=sympy.default_sort_key)]
        result = build.chain(factors)
        if denominator != 1:
            result = build.apply("div", result, self.tree(denominator))
        return build.negate(result) if sign < 0 else result


def _factor_tree(f: sympy.Expr) -> Expr:
    """A factor of f' as a tree in x, a reciprocal written as a power that `.^` reads well:
    (1 + |x|)^-2 as such (not 1/(1 + |x|)^2), x^(-1/2) as sqrt(x)^-1."""
    names = {"x": Symbol("x", ty=SCALAR)}
    if f.is_Pow and f.exp.is_Rational and f.exp < 0:
        if f.exp.is_Integer:
            return build.apply("power", from_sympy(f.base, names), from_sympy(f.exp))
        return build.apply("power", from_sympy(f.base ** -f.exp, names), build.num(-1))
    return from_sympy(f, names)


LONG_RATIONAL = 12  # digits of p/q past which an exact decimal reads better (0.1070322…)


def _rational(value: Fraction) -> Expr:
    """p/q as written (`1/n`, `2/3`); one number where p/q would be long and the number
    has an exact decimal (0.107032224408516, not 26758056102129/250000000000000)."""
    if value.denominator == 1 or value < 0:
        if value < 0:
            return build.negate(_rational(-value))
        return build.num(value)
    long = len(str(value.numerator)) + len(str(value.denominator)) > LONG_RATIONAL
    if long and _exact_decimal(value):
        return build.num(value)
    return build.apply("div", build.num(value.numerator), build.num(value.denominator))


def _exact_decimal(value: Fraction) -> bool:
    """Whether the denominator has no prime factor but 2 and 5."""
    q = value.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1

