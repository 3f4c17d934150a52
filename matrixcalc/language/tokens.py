"""Tokens: how bars are told apart, and a Lark error in words.

`BarClassifier` is the parser's post-lexer: it tells an opening `|` or `||` from a closing
one, so that `|X|`, `||x||_2` and juxtaposition with them stay LALR. `translate` turns
Lark's errors into a ParseError with what was found, where, what was expected and, for a
notation pasted from elsewhere, a hint naming ours (language/notations.py).
"""

from __future__ import annotations

import lark
from lark import Token

from ..errors import ParseError
from .notations import pasted_hint

# Tokens after which an operand has ended: a bar there may close a |…| or ||…||.
OPERAND_END = {"NAME", "NUMBER", "RPAR", "RSQB", "RBRACE", "RBAR", "RNORM", "TRANSPOSE",
               "INVERSE_TRANSPOSE", "QUOTE", "SUPERSCRIPT"}
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


def translate(error: lark.exceptions.UnexpectedInput, text: str) -> ParseError:
    """A Lark error in words: what was found, where, and what was expected."""
    position = getattr(error, "pos_in_stream", None) or 0
    expected = expected_words(error)
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


def expected_words(error) -> str:
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
