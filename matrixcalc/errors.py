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
        parts = [self.message]
        if self.text is not None and self.span is not None:
            start, end = self.span
            line_start = self.text.rfind("\n", 0, start) + 1
            line_end = self.text.find("\n", start)
            line_end = len(self.text) if line_end == -1 else line_end
            source_line = self.text[line_start:line_end]
            width = max(1, min(end, line_end) - start)
            if len(source_line) > 2 * CONTEXT:  # show a window around the spot
                left = max(0, start - line_start - CONTEXT)
                prefix = "…" if left else ""
                source_line = prefix + source_line[left:start - line_start + CONTEXT] + "…"
                line_start += left - len(prefix)
                width = min(width, CONTEXT)
            parts.append(f"at line {self.line}, column {self.column}:")
            parts.append("  " + source_line)
            parts.append("  " + " " * (start - line_start) + "^" * width)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


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
