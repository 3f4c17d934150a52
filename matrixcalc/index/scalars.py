"""Scalar algebra with SymPy: coefficients of index terms, and their way back to trees.

A scalar subexpression made only of numbers, scalar symbols and scalar functions
(`1/(2n)`, `λ/2`, `sin(x1) + cos(x2)`) becomes a SymPy coefficient, so that SymPy folds
`2 · 1/(2n)` into `1/n` and differentiates with respect to scalar symbols.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from .. import build
from ..expr import Apply, Dimension, Expr, Number, Symbol
from ..shapes import SCALAR, Dim


class RealFunction(sympy.Function):
    """A function real on real arguments (so SymPy's |f|' is sign(f) f', not re/im parts)."""

    def _eval_is_real(self):
        return self.args[0].is_real


class sigmoid(RealFunction):  # noqa: N801 - named as the language names it
    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)


class softplus(RealFunction):  # noqa: N801
    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


class step(RealFunction):  # noqa: N801
    def fdiff(self, argindex=1):
        return sympy.Integer(0)


class relu(RealFunction):  # noqa: N801
    def fdiff(self, argindex=1):
        return step(self.args[0])


class sign(RealFunction):  # noqa: N801
    def fdiff(self, argindex=1):
        return sympy.Integer(0)


FUNCTIONS = {"exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos,
             "tanh": sympy.tanh, "sqrt": sympy.sqrt, "abs": sympy.Abs, "sigmoid": sigmoid,
             "softplus": softplus, "step": step, "relu": relu, "sign": sign}
BACK = {sympy.exp: "exp", sympy.log: "log", sympy.sin: "sin", sympy.cos: "cos",
        sympy.tanh: "tanh", sympy.Abs: "abs", sympy.sign: "sign", sigmoid: "sigmoid",
        softplus: "softplus", step: "step", relu: "relu", sign: "sign"}
# Scalar-to-scalar operators that are the identity on a scalar argument.
IDENTITY_ON_SCALARS = frozenset({"tr", "det", "sum", "mean", "vec", "transpose"})


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
    args = [to_sympy(a) for a in e.args]
    if any(a is None for a in args):
        return None
    op = e.op
    if op == "add":
        return sympy.Add(*args)
    if op == "neg":
        return -args[0]
    if op in ("mul", "matmul", "hadamard", "kron"):
        return args[0] * args[1]
    if op in ("div", "ediv"):
        return args[0] / args[1]
    if op in ("power", "epow"):
        return args[0] ** args[1]
    if op in IDENTITY_ON_SCALARS:
        return args[0]
    if op in FUNCTIONS:
        return FUNCTIONS[op](args[0])
    return None


def from_sympy(value: sympy.Expr, names: dict[str, Symbol] | None = None) -> Expr:
    """A SymPy scalar back to a tree, written as a person would: `1/n`, `-2`, `λ/2`."""
    value = sympy.sympify(value)
    names = names if names is not None else {}
    if value.is_Rational:
        return _rational(Fraction(int(value.p), int(value.q)))
    if isinstance(value, SizeSymbol):
        return Dimension(value.name, ty=SCALAR)
    if value.is_Symbol:
        return names.get(value.name) or Symbol(value.name, ty=SCALAR)
    if value.is_Add:
        terms = sorted(value.as_ordered_terms(), key=sympy.default_sort_key)
        return build.total([from_sympy(t, names) for t in terms], build.num(0).ty)
    if value.is_Mul:
        return _product(value, names)
    if value.is_Pow:
        base, exponent = value.as_base_exp()
        if exponent.is_Rational and exponent < 0:
            return build.apply("div", build.num(1), from_sympy(base ** -exponent, names))
        if exponent == sympy.Rational(1, 2):
            return build.apply("sqrt", from_sympy(base, names))
        return build.apply("power", from_sympy(base, names), from_sympy(exponent, names))
    if value.func is sympy.re:  # arguments are real
        return from_sympy(value.args[0], names)
    if value.func in BACK:
        return build.apply(BACK[value.func], *(from_sympy(a, names) for a in value.args))
    if value == sympy.E:
        return build.apply("exp", build.num(1))
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        from ..errors import UnsupportedError
        raise UnsupportedError(f"a coefficient came out as {value} (0/0 or 1/0): the "
                               "derivative is not defined (is a norm, root or divisor "
                               "identically zero?)")
    raise ValueError(f"no tree form for the scalar {value}")


def _rational(value: Fraction) -> Expr:
    if value.denominator == 1 or value < 0:
        if value < 0:
            return build.negate(_rational(-value))
        return build.num(value)
    return build.apply("div", build.num(value.numerator), build.num(value.denominator))


def _product(value: sympy.Mul, names) -> Expr:
    """c · a · b / (d e): numerator factors, then one division by the denominator."""
    numerator, denominator = sympy.fraction(value)
    coeff, rest = numerator.as_coeff_Mul()
    sign = -1 if coeff < 0 else 1
    coeff = abs(coeff)
    factors = [] if coeff == 1 and rest != 1 else [_rational(Fraction(int(coeff.p), int(coeff.q)))]
    if rest != 1:
        factors += [from_sympy(f, names) for f in sorted(sympy.Mul.make_args(rest),
                                                         key=sympy.default_sort_key)]
    result = build.chain(factors)
    if denominator != 1:
        result = build.apply("div", result, from_sympy(denominator, names))
    return build.negate(result) if sign < 0 else result
