"""The checker's reports: `CheckReport` (from check), `Verdict` (from verify), the
`Counterexample` they carry, and how they read (`format_verdict`: the CLI's words).

Errors are measured as max|L - R| / max(1, max|L|, max|R|) (`relative_error`): relative
for values above 1, absolute below (so a derivative that is zero compares sensibly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .sampling import describe_sizes


@dataclass(frozen=True)
class Counterexample:
    """A point where a claim fails: the inputs (user forms), both values, how to replay."""

    inputs: dict[str, Any]
    left: Any
    right: Any
    sizes: dict[str, int]
    seed: int
    error: float
    left_label: str = "LHS"
    right_label: str = "RHS"

    def __str__(self) -> str:
        lines = [f"counterexample (sizes {describe_sizes(self.sizes)}; seed {self.seed}; "
                 f"error {self.error:.3g}):"]
        for name, value in self.inputs.items():
            lines.append(f"  {name} = {_show(value)}")
        lines.append(f"  {self.left_label}: {_show(self.left)}")
        lines.append(f"  {self.right_label}: {_show(self.right)}")
        worst = _worst_entry(self.left, self.right)
        if worst:
            lines.append(f"  {worst}")
        return "\n".join(lines)


@dataclass(frozen=True)
class CheckReport:
    """The outcome of `check`: ok, the largest error seen, the per-trial sizes, the seed
    of the first trial (trial t used seed + t; replay one with `seed=..., trials=1`)."""

    ok: bool
    max_error: float
    trials: int
    sizes: list[dict[str, int]]
    seed: int
    counterexample: Counterexample | None = None
    wrt: tuple[str, ...] = ()
    order: int = 1

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "```\n" + str(self) + "\n```"

    def __str__(self) -> str:
        head = "ok" if self.ok else "FAILED"
        text = (f"check {head}: max error {self.max_error:.3g} over {self.trials} trial"
                f"{'s' if self.trials != 1 else ''} (seed {self.seed})")
        return text + (f"\n{self.counterexample}" if self.counterexample else "")


@dataclass(frozen=True)
class Verdict:
    """The outcome of `verify`: holds, how ("numeric", "symbolic" or "two derivations"), a
    counterexample when it does not hold, and the evidence (trials, max error, sizes,
    seed).

    diagnosis: for a false claim that is off in a standard way, how, in a sentence ("holds
    for the transpose of the right side"); None otherwise. Where the right side has the
    transposed shape, there is no counterexample (no point compares the two sides) and
    the evidence is that of the transposed claim."""

    holds: bool
    how: str
    counterexample: Counterexample | None = None
    statement: str = ""
    trials: int = 0
    max_error: float = 0.0
    sizes: list[dict[str, int]] = field(default_factory=list)
    seed: int = 0
    shapes: dict[str, str] = field(default_factory=dict)
    diagnosis: str | None = None

    def __bool__(self) -> bool:
        return self.holds

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"`{self.statement}`: " + "```\n" + str(self) + "\n```"

    def __str__(self) -> str:
        return format_verdict(self)


def format_verdict(verdict: Verdict) -> str:
    """The CLI's words for a verdict."""
    kinds = "; ".join(verdict.shapes.values())
    used = f"\n  with {kinds}" if kinds else ""
    if verdict.holds:
        if verdict.how == "symbolic":
            return f"true (symbolic: identical canonical forms){used}"
        if verdict.how == "two derivations":
            return (f"true (two derivations: by index notation and by differentials, the "
                    f"same canonical form){used}")
        sizes = " | ".join(describe_sizes(s) for s in verdict.sizes)
        return (f"true (numeric: holds at {verdict.trials} random points, max error "
                f"{verdict.max_error:.2g}; sizes {sizes}){used}")
    head = f"false: {verdict.diagnosis}" if verdict.diagnosis else "false"
    example = f"\n{verdict.counterexample}" if verdict.counterexample else ""
    return f"{head}{used}{example}"


SHOWN_ENTRIES = 36  # a value with more entries is summarized, not printed


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    array = np.asarray(value)
    if array.ndim == 0:
        return f"{float(array):.6g}"
    if array.size > SHOWN_ENTRIES:  # a 5^4 tensor: its shape and range, not 625 numbers
        return (f"an array of shape {array.shape}, entries from {array.min():.4g} to "
                f"{array.max():.4g}")
    text = np.array2string(array, precision=4, suppress_small=True, max_line_width=88)
    return text.replace("\n", "\n      ")


def _worst_entry(left: Any, right: Any) -> str:
    """Where two summarized arrays differ most, and their values there."""
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    if left.shape != right.shape or left.size <= SHOWN_ENTRIES:
        return ""
    at = np.unravel_index(int(np.argmax(np.abs(left - right))), left.shape)
    return (f"largest difference at {list(map(int, at))}: {left[at]:.6g} against "
            f"{right[at]:.6g}")


def relative_error(left: Any, right: Any) -> float:
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape:
        return float("inf")
    if left.size == 0:
        return 0.0
    scale = max(1.0, float(np.max(np.abs(left))), float(np.max(np.abs(right))))
    return float(np.max(np.abs(left - right))) / scale


__all__ = ["CheckReport", "Counterexample", "Verdict", "format_verdict", "relative_error"]
