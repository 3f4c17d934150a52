"""Rule combinators. A rule takes a node and returns a new node, or None when it does
not apply; combinators build strategies from rules without knowing what they do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .. import budget
from ..language.expr import Apply, Expr, memo_key

Rule = Callable[[Expr], Expr | None]
MAX_STEPS = 1000  # a safety net: every rule in the catalog shrinks or orders its node


def rewrites(*ops: str) -> Callable[[Rule], Rule]:
    """Mark a rule as matching only nodes of these operators (`first` then offers it no
    others); an unmarked rule is offered every operator node."""
    def mark(rule: Rule) -> Rule:
        rule.ops = frozenset(ops)  # type: ignore[attr-defined]
        return rule
    return mark


def first(*rules: Rule) -> Rule:
    """The result of the first rule that applies, in order. Rules rewrite operator
    nodes: a leaf (symbol, number, I, ones) is final, and is not offered to them."""
    by_op: dict[str, tuple[Rule, ...]] = {}

    def candidates(op: str) -> tuple[Rule, ...]:
        if op not in by_op:
            by_op[op] = tuple(r for r in rules if op in getattr(r, "ops", (op,)))
        return by_op[op]

    def apply(e: Expr) -> Expr | None:
        if not isinstance(e, Apply):
            return None
        budget.tick()  # rules may work long on one deep node without building any
        for rule in candidates(e.op):
            result = rule(e)
            if result is not None:
                return result
        return None
    return apply


def shape_preserving(rule: Rule) -> Rule:
    """`rule`, except where its result would change the node's shape (`ones + ones` is
    not the number 2): such a rewrite is wrong whatever the rule meant."""
    def apply(e: Expr) -> Expr | None:
        result = rule(e)
        if result is None or e.ty is None or result.ty == e.ty:
            return result
        return None
    return apply


def fixpoint(rule: Rule) -> Callable[[Expr], Expr]:
    """Apply `rule` until it no longer applies (or returns an equal node)."""
    def apply(e: Expr) -> Expr:
        for _ in range(MAX_STEPS):
            result = rule(e)
            if result is None or result == e:
                return e
            e = result
        return e
    return apply


def bottom_up(transform: Callable[[Expr], Expr], rebuild: Callable[[Apply, tuple], Expr]
              ) -> Callable[..., Expr]:
    """Transform children first, rebuild the node with `rebuild`, then transform it.
    `memo` (optional) remembers each subtree's result: rules are deterministic and look
    at a node and its subtrees only, so a subtree met again needs no second visit."""
    def apply(e: Expr, memo: dict | None = None) -> Expr:
        key = memo_key(e) if memo is not None else None
        if memo is not None and key in memo:
            return memo[key]
        result = e
        if isinstance(e, Apply):
            args = tuple(apply(a, memo) for a in e.args)
            if args != e.args:
                result = rebuild(e, args)
        result = transform(result)
        if memo is not None:
            memo[key] = result
        return result
    return apply


def same_node(e: Apply, args: tuple) -> Expr:
    return replace(e, args=args)
