"""The Lark transformer: grammar aliases to raw (untyped) expression nodes.

Operator names come from the grammar's aliases and, for calls, from the operator table's
function spellings; spans point at the operator token, for carets. Number literals are
exact and their digits counted before anything is computed (the `digits` limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from lark import Token, Transformer

from .. import budget
from ..errors import ParseError
from ..ops import FUNCTIONS
from .expr import Apply, Const, Expr, Number, Symbol
from .notations import function_hint

CONSTANTS = {"I": "I", "ones": "ones"}
NUMBER_NAMES = {"pi": "pi", "π": "pi"}  # named numbers: operators of no argument
SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")

NUMBER_PARTS = re.compile(r"(\d*)\.?(\d*)(?:[eE]([-+]?)(\d+))?\Z")


def number_value(text: str, span: tuple[int, int] | None = None) -> Fraction:
    """The exact value of a number literal (`2`, `0.5`, `1e-3`), its digits counted
    before anything is computed: `1e999999999` is a LimitError, not a hang."""
    whole, fraction, sign, exponent = NUMBER_PARTS.match(text).groups()
    mantissa = (whole + fraction).lstrip("0")
    if not mantissa:
        return Fraction(0)
    if len(exponent or "") > 15:
        raise budget.exceeded("digits", "the exponent of a number literal (more than 15 digits)", None, span=span)
    shift = (-1 if sign == "-" else 1) * int(exponent or 0) - len(fraction)
    digits = len(mantissa) + shift if shift >= 0 else max(len(mantissa), -shift)
    budget.check("digits", digits, "the number of digits of a number literal", span=span)
    return Fraction(int(mantissa)) * Fraction(10) ** shift


def _span(token: Token) -> tuple[int, int]:
    return (token.start_pos, token.end_pos)


@dataclass(frozen=True)
class StringArgument:
    value: str
    span: tuple[int, int]


@dataclass(frozen=True)
class RawStatement:
    kind: str  # "equality" or "derivative"
    lhs: Expr
    rhs: Expr
    wrt: str | None
    wrt_span: tuple[int, int] | None


class TreeBuilder(Transformer):
    """Grammar aliases to raw nodes; operator spans point at the operator token."""

    # -- atoms ---------------------------------------------------------------------------
    def number(self, children):
        token = children[-1]
        return Number(number_value(str(token), _span(token)), span=_span(token))

    def negative_number(self, children):
        minus, token = children
        return Apply("neg", (self.number([token]),), span=_span(minus))

    def name(self, children):
        (token,) = children
        name = str(token)
        if name in CONSTANTS:
            return Const(CONSTANTS[name], span=_span(token))
        if name in NUMBER_NAMES:  # π is a number, not a symbol
            return Apply(NUMBER_NAMES[name], (), span=_span(token))
        return Symbol(name, span=_span(token))

    def atom(self, children):  # ( sum )
        return children[1]

    def exponent(self, children):  # { sum }
        return children[1]

    def start(self, children):
        return children[0]

    # -- operators -----------------------------------------------------------------------
    def add(self, children):  # term (+|- term)+
        terms = [children[0]]
        for sign, term in zip(children[1::2], children[2::2]):
            terms.append(term if sign.type == "PLUS" else
                         Apply("neg", (term,), span=_span(sign)))
        budget.check("terms", len(terms), "the number of terms of a sum",
                     span=(children[0].span or (0, 0))[:1] + _span(children[-2])[1:])
        return _flat_sum(terms, _span(children[-2]))

    def neg(self, children):
        minus, operand = children
        return Apply("neg", (operand,), span=_span(minus))

    def product(self, children):
        if len(children) == 2:  # juxtaposition: point at the right operand's start
            left, right = children
            return Apply("product", (left, right), span=right.span)
        left, star, right = children
        return Apply("product", (left, right), span=_span(star))

    def _binary(op):  # noqa: N805
        def build(self, children):
            left, token, right = children
            return Apply(op, (left, right), span=_span(token))
        return build

    div = _binary("div")
    hadamard = _binary("hadamard")
    ediv = _binary("ediv")
    kron = _binary("kron")

    def _postfix(op):  # noqa: N805
        def build(self, children):
            operand, token = children
            return Apply(op, (operand,), span=_span(token))
        return build

    def transpose(self, children):
        operand, token = children
        if isinstance(operand, Number):  # `1^T x`: the all-ones vector is meant
            span = (operand.span[0], token.end_pos)
            raise ParseError("cannot transpose a number", span=span,
                             hint=_ones_hint(operand.value))
        return Apply("transpose", (operand,), span=_span(token))

    inverse_transpose = _postfix("inverse_transpose")

    def caret(self, children):
        base, hat, exponent = children
        return Apply("caret", (base, exponent), span=_span(hat))

    def starpow(self, children):  # `**`, as numpy and Python write a power
        base, stars, exponent = children
        return Apply("starpow", (base, exponent), span=_span(stars))

    def superscript(self, children):  # `A⁻¹`, `x²`: the power they stand for
        base, token = children
        text = str(token).translate(SUPERSCRIPT_DIGITS)
        value = Number(Fraction(int(text.lstrip("-"))), span=_span(token))
        exponent = Apply("neg", (value,), span=_span(token)) if text[0] == "-" else value
        return Apply("caret", (base, exponent), span=_span(token))

    def epow(self, children):
        base, hat, exponent = children
        return Apply("epow", (base, exponent), span=_span(hat))

    # -- delimiters ----------------------------------------------------------------------
    def bars(self, children):
        left, inner, _ = children
        return Apply("bars", (inner,), span=_span(left))

    def normbars(self, children):
        left, inner = children[0], children[1]
        order = children[3] if len(children) > 3 else ""  # "": no order written
        return Apply("normbars", (inner,), (order,), span=_span(left))

    def norm_order(self, children):
        tokens = [c for c in children if c.type in ("NUMBER", "NAME")]
        if not tokens:
            return "*"  # `_*`: the nuclear norm
        order = str(tokens[0])
        if order in ("2", "1", "F"):
            return order
        raise ParseError(f"unknown norm `_{order}`: write ||x||, ||x||_2, ||x||_1, "
                         "||X||_F or ||X||_*", span=_span(tokens[0]))

    def bracket(self, children):
        rows = [c for c in children if isinstance(c, list)]
        width = len(rows[0])
        for row in rows:
            if len(row) != width:
                raise ParseError(f"every row of a bracket literal needs {width} entries; "
                                 f"this one has {len(row)}", span=row[0].span)
        entries = tuple(entry for row in rows for entry in row)
        budget.check("terms", len(entries), "the number of entries of a bracket literal",
                     span=_span(children[0]))
        return Apply("bracket", entries, (len(rows), width), span=_span(children[0]))

    def row(self, children):
        return [c for c in children if not isinstance(c, Token)]

    # -- calls ---------------------------------------------------------------------------
    def call(self, children):
        func, _, arguments, _ = children
        name, span = str(func), _span(func)
        exprs = tuple(a for a in arguments if not isinstance(a, StringArgument))
        strings = tuple(a for a in arguments if isinstance(a, StringArgument))
        spec = FUNCTIONS.get(name)
        if spec is None:
            if len(name) == 1 and len(exprs) == 1 and not strings:
                return Apply("product", (Symbol(name, span=span), exprs[0]), span=span)
            raise ParseError(f"unknown function `{name}`", span=span,
                             hint=function_hint(name))
        if strings and "string_args" not in spec.flags:
            raise ParseError(f"`{name}` takes no string argument", span=strings[0].span)
        if spec.arity is not None and len(exprs) != spec.arity:
            raise ParseError(f"`{name}` takes {spec.arity} argument"
                             f"{'s' if spec.arity != 1 else ''}, got {len(exprs)}",
                             span=span)
        return Apply(spec.name, exprs, tuple(s.value for s in strings), span=span)

    def arguments(self, children):
        return [c for c in children if not (isinstance(c, Token) and c.type == "COMMA")]

    def argument(self, children):
        (token,) = children
        return StringArgument(str(token)[1:-1], _span(token))

    # -- statements ----------------------------------------------------------------------
    def equality(self, children):
        lhs, _, rhs = children
        return RawStatement("equality", lhs, rhs, None, None)

    def derivative_claim(self, children):
        deriv, expr, _, rhs = children
        text = str(deriv)
        wrt = text[3:]
        span = (deriv.start_pos + 3, deriv.end_pos)
        return RawStatement("derivative", expr, rhs, wrt, span)


def _flat_sum(parts: list[Expr], span) -> Apply:
    """Sums are n-ary: `a + b - c` is add(a, b, neg(c)); a parenthesized sum among the
    terms is spliced in. The span is the last sign's."""
    terms: list[Expr] = []
    for part in parts:
        if isinstance(part, Apply) and part.op == "add":
            terms.extend(part.args)
        else:
            terms.append(part)
    return Apply("add", tuple(terms), span=span)


def _ones_hint(value: Fraction) -> str:
    if value == 1:
        return "the all-ones vector is `ones`: write `ones^T x`"
    shown = str(value.numerator) if value.denominator == 1 else format(float(value), "g")
    return (f"a number is its own transpose: drop the `^T`; for a row of {shown}s write "
            f"`{shown} ones^T` (`ones` is the all-ones vector)")
