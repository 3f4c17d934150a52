"""The canonical Hadamard chain: A ⊙ (B ⊙ C) = A ⊙ B ⊙ C, the factors in one order.

⊙ commutes and associates, so a product of three or more factors is written as one
left-nested chain, its factors sorted by their printed form. The chain rule through a
deep nesting grows such a chain one factor at a time (d sin(sin(x)) = cos(sin(x)) ⊙
cos(x) ⊙ …), so the rule remembers the chains it wrote: a factor joining a known chain is
put in its place by bisection, and the chain's leading part before that place is kept as
it is. A chain k long then costs k nodes in all, not k at each of its k levels.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from contextlib import contextmanager

from ..language import build
from ..language.expr import Apply, Expr, memo_key
from .engine import rewrites
from .patterns import is_op


class _Chain:
    """A sorted chain: `spine[n]` is the chain of its first n + 1 factors."""

    __slots__ = ("keys", "spine")

    def __init__(self, spine: tuple[Expr, ...], keys: tuple[tuple, ...]) -> None:
        self.spine, self.keys = spine, keys

    def factor(self, n: int) -> Expr:
        return self.spine[0] if n == 0 else self.spine[n].args[1]


_local = threading.local()  # .known: memo_key(chain node) -> (its chain, its length)


@contextmanager
def remembering() -> Iterator[None]:
    """Remember the chains written during one simplification (the outermost call's):
    keyed by `memo_key`, so that chains alike but for the sizes of an I or ones inside
    are told apart, and forgotten at the end, so that nothing outlives the call."""
    if getattr(_local, "known", None) is not None:
        yield
        return
    _local.known = {}
    try:
        yield
    finally:
        _local.known = None


def _recall(e: Expr) -> tuple[_Chain, int] | None:
    known = getattr(_local, "known", None)
    return None if known is None else known.get(memo_key(e))


def _remember(chain: _Chain, start: int) -> None:
    """Every leading part of `chain` from `start` factors on is a sorted chain."""
    known = getattr(_local, "known", None)
    if known is None:
        return
    for n in range(max(start, 2), len(chain.spine) + 1):
        known[memo_key(chain.spine[n - 1])] = (chain, n)


def order_key(e: Expr) -> tuple:
    return (len(str(e)), str(e))


@rewrites("hadamard")
def hadamard_left_associate(e: Expr) -> Expr | None:
    """A ⊙ (B ⊙ C) = A ⊙ B ⊙ C, the factors in canonical order: a Hadamard product of
    three or more factors is one flat, sorted chain."""
    if not is_op(e, "hadamard") or e.ty.is_scalar or not any(
            is_op(a, "hadamard") and not a.ty.is_scalar for a in e.args):
        return None
    if _recall(e) is not None:
        return None  # a chain this rule wrote
    rebuilt = _joined(e) or _sorted(e)
    return None if rebuilt == e else rebuilt


def _joined(e: Apply) -> Expr | None:
    """One factor joining a known chain, put in its place by bisection (a stable sort of
    the factors in their order in e would put it before equal ones when it comes first)."""
    if not flattens(e):
        return None
    for known, single, first in ((e.args[1], e.args[0], True), (e.args[0], e.args[1], False)):
        found = _recall(known)
        if found is None or flattens(single):
            continue
        chain, length = found
        keys = chain.keys[:length]
        key = order_key(single)
        at = (bisect_left if first else bisect_right)(keys, key)
        factors = [single] + [chain.factor(n) for n in range(at, length)]
        return _build(chain.spine[:at], keys[:at], factors, [key] + list(keys[at:]))
    return None


def _sorted(e: Apply) -> Expr:
    """All the factors sorted; the longest leading part of an argument's chain that keeps
    its place is reused, not rebuilt."""
    ordered = sorted(hadamard_factors(e), key=order_key)
    kept = 0
    spine: tuple[Expr, ...] = ()
    for arg in e.args:
        leading = _left_spine(arg)
        n = 0
        while n < len(leading) and n < len(ordered) and \
                (leading[0] if n == 0 else leading[n].args[1]) == ordered[n]:
            n += 1
        if n > kept:
            kept, spine = n, tuple(leading[:n])
    keys = [order_key(f) for f in ordered]
    return _build(spine, tuple(keys[:kept]), ordered[kept:], keys[kept:])


def _build(spine: tuple, keys: tuple, factors: list[Expr], factor_keys: list) -> Expr:
    nodes = list(spine)
    for f in factors:
        nodes.append(f if not nodes else build.apply("hadamard", nodes[-1], f))
    _remember(_Chain(tuple(nodes), tuple(keys) + tuple(factor_keys)), len(spine) + 1)
    return nodes[-1]


def _left_spine(e: Expr) -> list[Expr]:
    """The leading chains of a left-nested chain, shortest first: for (f1 ⊙ f2) ⊙ f3 they
    are f1, f1 ⊙ f2 and the whole ([] when e is not such a chain)."""
    spine = [e]
    while flattens(spine[-1]) and not flattens(spine[-1].args[1]):
        spine.append(spine[-1].args[0])
    if flattens(spine[-1]):
        return []
    return spine[::-1]


def flattens(e: Expr) -> bool:
    """A Hadamard product of two non-scalars: its factors join an enclosing chain."""
    return is_op(e, "hadamard") and not e.args[0].ty.is_scalar and not e.args[1].ty.is_scalar


def hadamard_factors(e: Expr) -> list[Expr]:
    if flattens(e):
        return hadamard_factors(e.args[0]) + hadamard_factors(e.args[1])
    return [e]
