"""Errors a user can cause, each carrying the source text and the span it points at.

Invariant: every error raised for user input is a `MatrixCalcError`; its `str()` is a
complete message (what is wrong, where, and a caret under the spot when the source is
known), so the CLI prints it verbatim and never a traceback.
"""

from __future__ import annotations

Span = tuple[int, int]
CONTEXT = 40  # characters shown on each side of the caret in long lines


class MatrixCalcError(Exception):
    """Base class of every error matrixcalc reports to a user."""

    kind = "error"

    def __init__(self, message: str, text: str | None = None, span: Span | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.text = text
        self.span = span
        self.hint = hint
        super().__init__(self._render())

    @property
    def line(self) -> int | None:
        if self.text is None or self.span is None:
            return None
        return self.text.count("\n", 0, self.span[0]) + 1

    @property
    def column(self) -> int | None:
        if self.text is None or self.span is None:
            return None
        return self.span[0] - (self.text.rfind("\n", 0, self.span[0]) + 1) + 1

    def with_source(self, text: str) -> MatrixCalcError:
        """The same error, re-rendered against `text` (used when a span is known first)."""
        if self.text is None:
            self.text = text
            self.args = (self._render(),)
        return self

    def with_hint(self, hint: str) -> MatrixCalcError:
        """The same error with `hint` added after any hint it has (used where more is
        known about the cause than the operator that failed knew)."""
        self.hint = f"{self.hint}; {hint}" if self.hint else hint
        self.args = (self._render(),)
        return self

    def _render(self) -> str:
        parts = [visible(self.message)]
        if self.text is not None and self.span is not None:
            parts += self._source_lines()
        if self.hint:
            parts.append(f"hint: {visible(self.hint)}")
        return "\n".join(parts)

    def _source_lines(self) -> list[str]:
        """The line of the span (a window of it when long) and a caret under the span,
        aligned in the line as shown (a hidden character is shown escaped)."""
        start, end = self.span
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", start)
        line_end = len(self.text) if line_end == -1 else line_end
        line = self.text[line_start:line_end]
        offset = start - line_start
        width = max(1, min(end, line_end) - start)
        left, right, prefix, suffix = 0, len(line), "", ""
        if len(line) > 2 * CONTEXT:  # show a window around the spot
            left, right = max(0, offset - CONTEXT), offset + CONTEXT
            prefix, suffix = ("…" if left else ""), "…"
            width = min(width, CONTEXT)
        marked = line[offset:offset + width]
        before = prefix + visible(line[left:offset])
        shown = before + visible(line[offset:right]) + suffix
        carets = len(visible(marked)) + width - len(marked)
        return [f"at line {self.line}, column {self.column}:", "  " + shown,
                "  " + " " * len(before) + "^" * max(1, carets)]


def visible(text: str) -> str:
    """`text` with every character a reader would not see as itself written as an escape
    (`\\u202e`): controls, format characters (bidirectional marks, zero widths), lone
    surrogates, unassigned code points; newlines stay. A message never hides or reorders
    what the user typed."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


class TableWarning(UserWarning):
    """A table loaded with something the user should know: a function whose rule is
    unchecked (no `definition`)."""


class ParseError(MatrixCalcError):
    """The text does not parse, or names an unknown function."""

    kind = "parse error"


class ShapeError(MatrixCalcError):
    """Operands whose kinds or dimensions do not fit the operator."""

    kind = "shape error"


class UsageError(MatrixCalcError):
    """A bad argument to the API or the CLI."""

    kind = "usage error"


class UnsupportedError(MatrixCalcError):
    """Something the language can say that matrixcalc cannot (yet) do."""

    kind = "unsupported"


class TableError(MatrixCalcError):
    """A malformed identity table: names the file, line, entry id and field."""

    kind = "table error"


class LimitError(MatrixCalcError):
    """The input would cost more than a limit allows: names the limit and how to raise it."""

    kind = "limit"


class KindWarning(UserWarning):
    """A kind the naming convention chose that makes the whole expression a vector or a
    matrix only because a name stands as the coefficient of a scalar (`k/2 ||w||^2`):
    the message names the declaration that makes it a scalar (SPEC section 2)."""
