"""How a false claim is off, in a sentence (`_diagnose`).

Each standard alternative right side (its transpose, a constant multiple, a product's
factors in the other order) is judged by the same trials, on the same draws (same seed)
as the claim, never by a lookup of known answers.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import MatrixCalcError
from ..language.expr import Apply, Expr
from .claims import Evaluate, _is_zero_literal, _NotApplicable
from .sampling import Draw, Problem
from .trials import _run_trials


def _diagnose(problem: Problem, evaluator: Callable[..., Evaluate], rhs: Expr, trials: int,
              seed: int, tolerance: float) -> str | None:
    """The first standard alternative right side that holds on the claim's own draws (the
    same seed), as a sentence; None when none does."""
    if _is_zero_literal(rhs):
        return None  # every alternative to zero is zero

    def holds(evaluate: Evaluate) -> bool:
        return _holds(problem, evaluate, trials, seed, tolerance)

    if holds(evaluator(_transposed(rhs))):
        return "holds for the transpose of the right side"
    factor = _factor(problem, evaluator(), trials, seed, tolerance)
    if factor == "-1":
        return "holds for the negated right side"
    if factor is not None:
        return f"holds for {factor} times the right side"
    other = _reversed_product(rhs)
    if other is not None and holds(evaluator(other)):
        return f"holds with the product's factors in the other order: {other}"
    return None


def _holds(problem: Problem, evaluate: Evaluate, trials: int, seed: int,
           tolerance: float) -> bool:
    try:
        return _run_trials(problem, evaluate, trials, seed, tolerance, ("", "")).ok
    except (_NotApplicable, MatrixCalcError, ValueError):
        return False  # ValueError: numpy refuses a product whose inner sizes differ


def _transposed(e: Expr) -> Expr:
    return Apply("transpose", (e,), ty=e.ty.transposed())


def _factor(problem: Problem, evaluate: Evaluate, trials: int, seed: int,
            tolerance: float) -> str | None:
    """The constant c (as text) such that c times the right side holds at every draw: per
    draw the least-squares ratio, the same at every draw; None if there is none, or the
    draws are too few to tell (one scalar value; a zero right side says nothing of c)."""
    ratios: list[float] = []
    entries = 0

    def scaled(draw: Draw) -> list[tuple[Any, Any]]:
        nonlocal entries
        pairs = []
        for truth, claimed in evaluate(draw):
            ratio = _ratio(truth, claimed)
            if ratio is not None:
                ratios.append(ratio)
                entries += np.size(claimed)
                claimed = ratio * claimed
            pairs.append((truth, claimed))
        return pairs

    if not _holds(problem, scaled, trials, seed, tolerance) or entries < 2:
        return None
    c = ratios[0]
    scale = max(1.0, abs(c))
    if any(abs(r - c) > tolerance * scale for r in ratios) or abs(c) <= tolerance \
            or abs(c - 1) <= tolerance * scale:
        return None  # not constant; zero (an unrelated claim); or one (a near miss)
    return _simple_number(c, tolerance)


def _ratio(truth: Any, claimed: Any) -> float | None:
    """The least-squares c in truth ≈ c claimed; None where claimed is zero."""
    truth, claimed = (np.ravel(np.asarray(v, dtype=np.float64)) for v in (truth, claimed))
    norm = float(claimed @ claimed)
    return float(truth @ claimed) / norm if norm > 0 else None


def _simple_number(c: float, tolerance: float) -> str:
    """c as a simple fraction (2, 1/2, -3/2) when it is one to tolerance, else 4 digits."""
    fraction = Fraction(c).limit_denominator(12)
    if abs(fraction - Fraction(c)) <= tolerance * max(1.0, abs(c)):
        return str(fraction)
    return f"{c:.4g}"


PRODUCTS = ("matmul", "kron")


def _reversed_product(rhs: Expr) -> Expr | None:
    """The right side with its chain of matrix (or Kronecker) factors in the other order,
    its scalar coefficients kept in front; None unless it is such a chain of two or more
    factors that reads differently backwards."""
    coefficients: list[Expr | None] = []  # None: a negation
    top = _peel(rhs, coefficients)
    if not (isinstance(top, Apply) and top.op in PRODUCTS):
        return None
    factors: list[Expr] = []
    _flatten(top, top.op, coefficients, factors)
    if factors == factors[::-1]:
        return None
    first, *rest = factors[::-1]
    for coefficient in reversed(coefficients):
        first = Apply("neg", (first,)) if coefficient is None \
            else Apply("mul", (coefficient, first))
    product = first
    for factor in rest:
        product = Apply(top.op, (product, factor))
    return product


def _flatten(node: Expr, op: str, coefficients: list, factors: list[Expr]) -> None:
    node = _peel(node, coefficients)
    if isinstance(node, Apply) and node.op == op:
        for arg in node.args:
            _flatten(arg, op, coefficients, factors)
    else:
        factors.append(node)


def _peel(node: Expr, coefficients: list) -> Expr:
    """node without its negations and scalar coefficients, which go to `coefficients`
    (they commute with every factor of a product)."""
    while isinstance(node, Apply):
        if node.op == "neg":
            coefficients.append(None)
            node = node.args[0]
        elif node.op == "mul" and [a.ty.is_scalar for a in node.args].count(True) == 1:
            scalar, node = sorted(node.args, key=lambda a: not a.ty.is_scalar)
            coefficients.append(scalar)
        else:
            break
    return node
