"""The code of one value in generated source (`Operand`), and when that code needs no
parentheses as an operand (`is_atomic`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...language.shapes import Shape


@dataclass(frozen=True)
class Operand:
    """Generated code for one value: `raw` as written, `code` safe as an operand."""

    raw: str
    shape: Shape
    pyfloat: bool  # a plain Python number (a subtree of numbers only)
    diagonal: str | None = None  # for diag(v) in a product: v's code (never built n×n)
    inverse_of: str | None = None  # for M^-1 in a product: M's code (solved, not inverted)
    tensor_order: int = 0  # an order-3/4 derivative (einsum code), returned as it is
    ones: bool = False  # the all-ones vector: an outer product with it is a broadcast

    @property
    def code(self) -> str:
        return self.raw if is_atomic(self.raw) else f"({self.raw})"

    @property
    def kind(self) -> str:
        return self.shape.kind


NAME = re.compile(r"[^\W\d][\w.]*$")
_NUMBER = re.compile(r"\d[\w.]*$")
_CALL = re.compile(r"([^\W\d][\w.]*)?\(")


def is_atomic(code: str) -> bool:
    """A name, a plain number, or a call / parenthesized group spanning the whole text."""
    if NAME.match(code) or _NUMBER.match(code):
        return True
    start = _CALL.match(code)
    if not start or not code.endswith(")"):
        return False
    depth = 0
    for position in range(start.end() - 1, len(code)):
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(code[position], 0)
        if depth == 0:
            return position == len(code) - 1
    return False
