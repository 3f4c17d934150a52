"""Text to typed expression trees: Lark (LALR) with a table-driven transformer.

The transformer builds raw nodes whose operator names come from the grammar's aliases
and, for calls, from the operator table's function spellings; `infer` then types and
elaborates them. Invariants: no Lark exception escapes (every failure is a ParseError
with position and caret, or a ShapeError), and no tree deeper than the `depth` limit,
with more than `nodes` nodes or with a number of more than `digits` digits is built (a
LimitError, SPEC section 8), so no later pass can hit Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache

import lark
from lark import Lark, Token, Transformer

from .. import budget
from ..errors import MatrixCalcError, ParseError, UsageError
from ..guard import public
from ..ops import FUNCTIONS
from ..resources import grammar_text
from .conventions import kind_warning, warn_kinds
from .declarations import dimension_names, parse_where
from .expr import Apply, Const, Dimension, Expr, Number, Symbol, walk
from .infer import infer
from .notations import function_hint, pasted_hint
from .shapes import Shape, name_dims

CONSTANTS = {"I": "I", "ones": "ones"}
NUMBER_NAMES = {"pi": "pi", "π": "pi"}  # named numbers: operators of no argument
# Tokens after which an operand has ended: a bar there may close a |…| or ||…||.
OPERAND_END = {"NAME", "NUMBER", "RPAR", "RSQB", "RBRACE", "RBAR", "RNORM", "TRANSPOSE",
               "INVERSE_TRANSPOSE", "QUOTE", "SUPERSCRIPT"}
SUPERSCRIPT_DIGITS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "FUNC": "a function name", "STRING": "a string",
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}",
    "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "COMMA": ",", "SEMICOLON": ";",
    "EQUAL": "=", "CIRCUMFLEX": "^", "QUOTE": "'", "AT": "@", "HADAMARD": "⊙",
    "TRANSPOSE": "^T", "INVERSE_TRANSPOSE": "^-T", "LBAR": "|", "RBAR": "closing |",
    "LNORM": "||", "RNORM": "closing ||", "DERIV": "d/dX", "$END": "the end of the input",
    "UNDERSCORE": "_", "SUPERSCRIPT": "a superscript",
}


OPENERS = {"LPAR": "(", "LSQB": "[", "LBRACE": "{"}
CLOSERS = {"RPAR": "(", "RSQB": "[", "RBRACE": "{"}


class BarClassifier:
    """Post-lexer: tells opening bars from closing ones. A bar closes the innermost open
    bar of its kind when an operand has just ended and no parenthesis, bracket or brace
    opened inside that bar is still open; otherwise it opens a new one. So in
    `||(a ||x||)||` the inner pair is a norm inside the parentheses."""

    always_accept = ("BAR", "DOUBLE_BAR")

    def process(self, stream):
        open_bars: list[str] = []  # bars and the brackets opened inside them
        previous = None
        for token in stream:
            if token.type in OPENERS:
                open_bars.append(OPENERS[token.type])
            elif token.type in CLOSERS and CLOSERS[token.type] in open_bars:
                while open_bars.pop() != CLOSERS[token.type]:
                    pass  # bars left open inside the parenthesis: the parser reports it
            for out in self._classify(token, previous, open_bars):
                previous = out.type
                yield out

    @staticmethod
    def _classify(token, previous, open_bars):
        if token.type not in ("BAR", "DOUBLE_BAR"):
            return [token]
        operand_ended = previous in OPERAND_END
        if token.type == "DOUBLE_BAR" and operand_ended and open_bars[-1:] == ["|"]:
            # `|A||B|`: the first bar closes, the second is read again
            open_bars.pop()
            first = Token.new_borrow_pos("RBAR", "|", token)
            rest = Token("BAR", "|", token.start_pos + 1, token.line, token.column + 1,
                         token.end_line, token.end_column, token.end_pos)
            return [first] + BarClassifier._classify(rest, "RBAR", open_bars)
        kind = "|" if token.type == "BAR" else "||"
        if operand_ended and open_bars and open_bars[-1] == kind:
            open_bars.pop()
            return [Token.new_borrow_pos("RBAR" if kind == "|" else "RNORM", kind, token)]
        open_bars.append(kind)
        return [Token.new_borrow_pos("LBAR" if kind == "|" else "LNORM", kind, token)]


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


@lru_cache(maxsize=None)
def _parser(start: str) -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="basic", start=start,
                postlex=BarClassifier(), keep_all_tokens=True, maybe_placeholders=False,
                transformer=TreeBuilder())


def _run(text: str, start: str):
    # The transformer runs inside the LALR parser, so building the tree never recurses.
    try:
        return _parser(start).parse(text)
    except MatrixCalcError as error:
        raise error.with_source(text) from None
    except lark.exceptions.UnexpectedInput as error:
        raise _translate(error, text) from None


def _translate(error: lark.exceptions.UnexpectedInput, text: str) -> ParseError:
    """A Lark error in words: what was found, where, and what was expected."""
    position = getattr(error, "pos_in_stream", None) or 0
    expected = _expected_words(error)
    hint = None
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        char = text[position] if position < len(text) else ""
        message = f"unexpected character `{char}`"
        span = (position, position + 1)
        hint = pasted_hint(text, position)
    elif isinstance(error, lark.exceptions.UnexpectedEOF) or (
            isinstance(error, lark.exceptions.UnexpectedToken)
            and error.token.type == "$END"):
        message = "the input ends too early"
        span = (len(text), len(text) + 1)
    else:
        token = error.token
        shown = {"RBAR": "|", "RNORM": "||", "LBAR": "|", "LNORM": "||"}.get(
            token.type, str(token))
        message = f"unexpected `{shown}`"
        span = (token.start_pos, max(token.end_pos, token.start_pos + 1))
    if expected and hint is None:
        message += f"; expected {expected}"
    return ParseError(message, text, span, hint=hint)


def _expected_words(error) -> str:
    names = sorted(getattr(error, "expected", None) or getattr(error, "allowed", None) or [])
    words = []
    for name in names:
        word = TOKEN_WORDS.get(name)
        if word is None:
            continue
        if word not in words:
            words.append(word)
    if not words:
        return ""
    operand_words = {"a name", "a number", "a function name", "(", "[", "|", "||", "-"}
    if operand_words & set(words) and len(words) > 6:
        return "an operand (a name, a number, a function call or a parenthesis)"
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _check_size(root: Expr, text: str) -> None:
    """The depth and node limits (iteratively: the tree may be too deep to recurse)."""
    depth_limit = budget.current().depth
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > depth_limit:
            raise budget.error("depth", f"the expression is nested more than {depth_limit} "
                                        f"levels deep (the limit depth={depth_limit})",
                               text, node.span)
        stack.extend((child, depth + 1) for child in node.children())
    budget.check("nodes", count, "the number of nodes of the expression")


def parse_raw(text: str) -> Expr:
    """The untyped tree (operators as written); used by `parse` and by tests."""
    root = _run_checked(text, "start")
    _check_size(root, text)
    return root


def _run_checked(text: str, start: str):
    if not isinstance(text, str):
        from ..errors import UsageError
        raise UsageError(f"expected the expression as a string, not {type(text).__name__}")
    budget.check("chars", len(text), "the length of the input in characters")
    if not text.strip():
        raise ParseError("the input is empty: write an expression such as `x^T A x`",
                         text, (0, max(1, len(text))))
    return _run(text, start)


@public
def parse(text: str, where=None) -> Expr:
    """Parse, infer kinds and dimensions, and return the typed tree (SPEC section 5).
    Warns (KindWarning) where the naming convention makes the function a vector or a
    matrix only through a coefficient (`k/2 ||w||^2`); `parse_quietly` does not."""
    root = parse_raw(text)
    declared = parse_where(where)
    (typed,) = infer([root], declared, text)
    warn_kinds(kind_warning([typed], [root], declared, text))
    return typed


def parse_quietly(text: str, where=None) -> Expr:
    """`parse` without the KindWarning: for text the engine reads on its own account (a
    table's entries, a claimed result), never the user's expression itself."""
    (typed,) = infer([parse_raw(text)], parse_where(where), text)
    return typed


def as_expr(expr, where=None, tensors: bool = False) -> Expr:
    """What every API function takes as an expression: text (parsed with `where`) or a
    typed tree (an `mc.parse` result or any result of the engine). `tensors`: whether the
    caller takes an order-3/4 derivative too (evaluate, lambdify, check, to_sympy)."""
    if isinstance(expr, str):
        return parse(expr, where)
    if isinstance(expr, Expr) and expr.is_tensor:
        if tensors:
            return expr
        raise UsageError("this takes an expression in matrix form, not a derivative of "
                         "order 3 or 4 (index form)",
                         hint="differentiate the expression itself, or use vec=True for "
                              "the matrix ∂vec(F)/∂vec(X)")
    if isinstance(expr, Expr):
        if expr.ty is None:
            raise UsageError("this expression has no inferred shape: build it with mc.parse")
        return expr
    raise UsageError(f"expected an expression (text or mc.parse result), not "
                     f"{type(expr).__name__}")


def wrt_symbol(e: Expr, wrt, where=None, taken: set[str] = frozenset()) -> Symbol:
    """The variable named by `wrt` (a name or a Symbol) as a typed symbol: e's own, or,
    for a symbol that does not occur (the derivative is then 0), one with dimensions of
    its own unless declared: the y of d(x^T x)/dy is no more x's size than any other.
    `taken`: dimension names it must not use (another absent variable's)."""
    name = wrt.name if isinstance(wrt, Symbol) else wrt
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"`wrt` names a symbol, not {wrt!r}")
    name = name.strip()
    for s in e.symbols():
        if s.name == name:
            return s
    try:
        parsed = parse(name, where)
    except MatrixCalcError:
        parsed = None
    if not isinstance(parsed, Symbol):
        raise UsageError(f"`wrt` must be a symbol, not `{name}`",
                         hint="differentiate with respect to one name, e.g. wrt=\"x\"")
    declared = parse_where(where).get(name) if where is not None else None
    if declared is not None and declared.dims is not None:
        return parsed
    used = {a for s in e.shapes.values() for a in s.rows + s.cols} | set(e.shapes) | {name}
    used |= {a for node in walk(e) if node.ty is not None  # sizes of I and ones too
             for a in node.ty.rows + node.ty.cols if isinstance(a, str)}
    atoms = [a for a in dict.fromkeys(parsed.info.rows + parsed.info.cols)
             if isinstance(a, str)]
    names = name_dims(atoms, used | set(taken))
    rows, cols = (tuple(names.get(a, a) for a in d)
                  for d in (parsed.info.rows, parsed.info.cols))
    info = replace(parsed.info, rows=rows, cols=cols)
    return replace(parsed, info=info, ty=Shape(rows, cols))


@dataclass(frozen=True)
class Statement:
    """`LHS = RHS` or `d/dX EXPR = RHS`, both sides typed in one context."""

    kind: str
    lhs: Expr
    rhs: Expr
    wrt: Symbol | None
    text: str


@public
def parse_statement(text: str, where=None, warn: bool = True) -> Statement:
    """`LHS = RHS` or `d/dX EXPR = RHS`, typed; warns as `parse` does about the function
    (both sides of an equality, the left of a derivative claim) unless `warn` is False."""
    raw = _run_checked(text, "statement")
    for side in (raw.lhs, raw.rhs):
        _check_size(side, text)
    roots = [raw.lhs, raw.rhs]
    if raw.wrt is not None:
        roots.append(Symbol(raw.wrt, span=raw.wrt_span))
    declared = parse_where(where)
    typed = infer(roots, declared, text)
    if warn:
        functions = 1 if raw.wrt is not None else 2
        warn_kinds(kind_warning(typed, roots, declared, text, functions))
    wrt = typed[2] if raw.wrt is not None else None
    lhs, rhs = _one_free_size(typed[:2], declared)
    return Statement(raw.kind, lhs, rhs, wrt, text)


def _one_free_size(sides: list[Expr], declared) -> list[Expr]:
    """The sides with every size that nothing fixes (of an I or ones no symbol sizes)
    made one size, so that a claim means one identity throughout: `tr(I) = tr(I)` and
    `tr(I) + tr(I) = 2 tr(I)` hold, as a reader means them."""
    fixed = set(dimension_names(declared))
    free: dict[str, None] = {}
    for side in sides:
        for node in walk(side):
            if isinstance(node, Symbol) and node.info is not None:
                fixed.update(node.info.rows + node.info.cols)
            elif isinstance(node, Dimension):
                fixed.add(node.name)
    for side in sides:
        for node in walk(side):
            for atom in node.ty.rows + node.ty.cols:
                if isinstance(atom, str):
                    free.setdefault(atom)
    names = [a for a in free if a not in fixed]
    if len(names) < 2:
        return sides
    one = {a: names[0] for a in names}

    def rename(dim):
        return tuple(sorted((one.get(a, a) for a in dim),
                            key=lambda a: (isinstance(a, str), str(a))))

    def renamed(node: Expr) -> Expr:
        if isinstance(node, Apply):
            node = replace(node, args=tuple(renamed(a) for a in node.args))
        return replace(node, ty=Shape(rename(node.ty.rows), rename(node.ty.cols)))
    return [renamed(side) for side in sides]
