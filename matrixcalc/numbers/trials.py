"""The sampling loop: a claim's evaluator run at several independent random draws.

Trial t uses seed + t (sizes differ between draws); a draw outside an operator's domain
is redrawn. The first pair of values further apart than the tolerance (`relative_error`)
ends the run with that point as a Counterexample; otherwise the claim held at every draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import budget
from ..errors import UnsupportedError, UsageError
from .claims import _user_inputs
from .reports import Counterexample, relative_error
from .sampling import MAX_REDRAWS, Draw, OutOfDomain, Problem


@dataclass
class _Outcome:
    ok: bool
    max_error: float
    sizes: list[dict[str, int]]
    seed: int
    counterexample: Counterexample | None


def _run_trials(problem: Problem, evaluate: Callable[[Draw], list[tuple[Any, Any]]],
                trials: int, seed: int | None, tolerance: float,
                labels: tuple[str, str]) -> _Outcome:
    _check_options(trials, seed, tolerance)
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    worst, sizes = 0.0, []
    for trial in range(trials):
        budget.tick()
        trial_seed = seed + trial
        rng, draw = problem.draw(trial_seed)
        why = ""
        for _ in range(MAX_REDRAWS):
            budget.tick()
            try:
                with np.errstate(all="ignore"):  # non-finite values are redrawn below
                    pairs = evaluate(draw)
                break
            except (OutOfDomain, np.linalg.LinAlgError, FloatingPointError) as reason:
                why = str(reason)
                draw = problem.redraw(rng, trial_seed)
        else:
            raise UnsupportedError(f"could not draw a point inside every operator's domain "
                                   f"in {MAX_REDRAWS} attempts (seed {trial_seed})"
                                   + (f"; the last gave {why}" if why else ""))
        sizes.append(draw.named_sizes)
        for index, (left, right) in enumerate(pairs):
            error = relative_error(left, right)
            worst = max(worst, error)
            if not error <= tolerance:
                left_label, right_label = labels
                if len(pairs) > 1:
                    left_label, right_label = (f"{left_label} [{index}]",
                                               f"{right_label} [{index}]")
                example = Counterexample(_user_inputs(problem, draw), _plain(left),
                                         _plain(right), draw.named_sizes, trial_seed, error,
                                         left_label, right_label)
                return _Outcome(False, worst, sizes, seed, example)
    return _Outcome(True, worst, sizes, seed, None)


def _check_options(trials, seed, tolerance) -> None:
    """The sampling options: a positive number of trials within the limit, a seed that
    numpy takes (None or a non-negative integer), a positive tolerance."""
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise UsageError(f"`trials` must be a positive integer, not {trials!r}")
    budget.check("trials", trials, "the number of trials")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not 0 <= seed < 2**63):
        raise UsageError(f"`seed` is None or an integer from 0 to 2^63 - 1, not {seed!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
            or not tolerance > 0:
        raise UsageError(f"`tolerance` is a positive number, not {tolerance!r}")


def _plain(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array
