"""Small predicates that the rewrite rules match nodes with."""

from __future__ import annotations

from ..expr import Apply, Const, Expr, Symbol


def is_op(e: Expr, op: str) -> bool:
    return isinstance(e, Apply) and e.op == op


def is_const(e: Expr, name: str) -> bool:
    return isinstance(e, Const) and e.name == name


def assumes(e: Expr, word: str) -> bool:
    """Whether `e` is a symbol declared with the assumption `word` (symmetric, …)."""
    return isinstance(e, Symbol) and e.info is not None and word in e.info.assumptions


def flags(op: str) -> frozenset:
    from ..ops import lookup
    return lookup(op).flags
