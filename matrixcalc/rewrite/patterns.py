"""Small predicates that the rewrite rules match nodes with, and the one piece of context
a simplification carries: which dimensions the expression names."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..language.expr import Apply, Const, Dimension, Expr, Symbol, distinct_nodes

_context = threading.local()  # per thread: calls in other threads never see it


def is_op(e: Expr, op: str) -> bool:
    return isinstance(e, Apply) and e.op == op


def is_const(e: Expr, name: str) -> bool:
    return isinstance(e, Const) and e.name == name


def assumes(e: Expr, word: str) -> bool:
    """Whether `e` is a symbol declared with the assumption `word` (symmetric, …)."""
    return isinstance(e, Symbol) and e.info is not None and word in e.info.assumptions


def is_square(e: Expr) -> bool:
    """A matrix whose dimensions are equal as typed."""
    return e.ty.kind == "matrix" and e.ty.rows == e.ty.cols


def flags(op: str) -> frozenset:
    from ..ops import lookup
    return lookup(op).flags


def named_sizes(e: Expr) -> frozenset:
    """The dimensions of e whose sizes may be written by name: those of its declared
    symbols and of the sizes it already writes (`n` with `x: vector(n)`). Another name
    (one the engine gave a dimension nobody named, `sum(ones)` of a free size) would read
    back as a new symbol, not as that size."""
    names: set = set()
    for node in distinct_nodes(e):
        if isinstance(node, Dimension):
            names.add(node.name)
        elif isinstance(node, Symbol) and node.info is not None \
                and node.info.origin == "declared":
            names.update(node.info.rows + node.info.cols)
    return frozenset(names)


@contextmanager
def simplification(e: Expr, simplify: Callable[[Expr], Expr]) -> Iterator[None]:
    """Within the block (one top-level simplification of e): `size_is_named` answers for
    the sizes that e names, and `simplified` is `simplify`, so that a rule that builds an
    inner sum can simplify it without importing the simplifier (imports go one way)."""
    before = getattr(_context, "sizes", None), getattr(_context, "simplify", None)
    _context.sizes, _context.simplify = named_sizes(e), simplify
    try:
        yield
    finally:
        _context.sizes, _context.simplify = before


def simplified(e: Expr) -> Expr:
    """e simplified by the simplification under way (e itself outside one)."""
    simplify = getattr(_context, "simplify", None)
    return e if simplify is None else simplify(e)


def size_is_named(dim) -> bool:
    """Whether a dimension's size may be written: a number, or a name that the expression
    being simplified names (outside a simplification, any name but a placeholder `?`)."""
    sizes = getattr(_context, "sizes", None)
    return all(isinstance(a, int) or (not a.startswith("?") and (sizes is None or a in sizes))
               for a in dim)
