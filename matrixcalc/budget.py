"""What one call may cost (SPEC section 8): the limits, how to read and set them, and the
budget of the call under way.

`mc.limits()` returns the limits in effect; `mc.limits(power=5000)` sets them for the
calling thread (a thread's settings shadow the process-wide ones field by field), and
`mc.limits(power=5000, scope="process")` sets the process-wide ones that every thread
uses where it set nothing itself. Either form, used as a context manager, puts back at
the end of the block what was in effect before the call.

A public call (`guard.public`) takes a snapshot of the limits when it starts, so that it
runs under one set of limits even if another thread changes them meanwhile, and starts
its clock: `tick()` raises LimitError once the call has run longer than `seconds`. Each
other limit is checked where its cost arises (a matrix power where it is differentiated,
digits where a number is made, ...) with `exceeded`, whose error names the limit and how
to raise it.

Invariants: reading the limits never blocks; the process-wide limits change under a lock;
one thread's settings and budget are never seen by another thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction

from .errors import LimitError, UsageError


@dataclass(frozen=True)
class Limits:
    """The limits of one call. Defaults are far above what any textbook expression
    needs; each guards against an input that would hang or exhaust memory."""

    seconds: float | None = 60.0  # wall-clock time of one call (None: no limit)
    nodes: int = 100_000  # nodes of an input; nodes one call builds (each once)
    power: int = 1000  # terms a matrix power X^k gives when differentiated (|k|)
    digits: int = 1000  # decimal digits of a number (numerator or denominator)
    depth: int = 200  # nesting depth of an expression
    terms: int = 10_000  # terms of one sum, entries of one bracket literal, as written
    trials: int = 10_000  # random trials of one check or verify
    chars: int = 200_000  # characters of an input text
    _restore: object = field(default=None, compare=False, repr=False)

    def __enter__(self) -> Limits:
        return self

    def __exit__(self, *exc) -> None:
        if self._restore is not None:
            self._restore()

    def __str__(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                         if not f.name.startswith("_"))


MAX_DIGITS = 4000  # below Python's own limit on converting integers to and from text
NAMES = tuple(f.name for f in fields(Limits) if not f.name.startswith("_"))
SCOPES = ("thread", "process")

_process = Limits()  # the process-wide limits
_process_lock = threading.Lock()
_thread = threading.local()  # .settings: this thread's own {name: value}; .call: budget


def limits(scope: str = "thread", **changes) -> Limits:
    """The limits in effect in this thread, after setting `changes` (SPEC section 8).
    scope="thread" (the default) sets them for this thread only; scope="process" for every
    thread that has not set them itself. As a context manager, the block's end puts
    back what was in effect before."""
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}: use \"thread\" or \"process\"")
    unknown = sorted(set(changes) - set(NAMES))
    if unknown:
        raise UsageError(f"unknown limit `{unknown[0]}`", hint=f"the limits are: "
                         f"{', '.join(NAMES)}")
    for name, value in changes.items():
        _validate(name, value)
    restore = _set_process(changes) if scope == "process" else _set_thread(changes)
    return replace(current(), _restore=restore)


def _validate(name: str, value) -> None:
    if name == "seconds":
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                               and value > 0)
        if not ok:
            raise UsageError(f"`seconds` is a positive number of seconds or None, not "
                             f"{value!r}")
    elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"`{name}` is a positive integer, not {value!r}")
    elif name == "digits" and value > MAX_DIGITS:
        raise UsageError(f"`digits` is at most {MAX_DIGITS:,}: Python converts no longer "
                         "integer to or from text (sys.get_int_max_str_digits)")


def _set_thread(changes: dict):
    before = dict(getattr(_thread, "settings", None) or {})
    _thread.settings = {**before, **changes}

    def restore() -> None:
        _thread.settings = before
    return restore


def _set_process(changes: dict):
    global _process
    with _process_lock:
        before = _process
        _process = replace(_process, **changes)

    def restore() -> None:
        global _process
        with _process_lock:
            _process = replace(_process, **{n: getattr(before, n) for n in changes})
    return restore


def current() -> Limits:
    """The limits of the call under way, or else those in effect in this thread."""
    call = getattr(_thread, "call", None)
    if call is not None:
        return call.limits
    own = getattr(_thread, "settings", None)
    return replace(_process, **own) if own else _process


# -- the budget of the call under way ---------------------------------------------------------

@dataclass
class _Call:
    limits: Limits
    deadline: float | None
    built: int = 0  # nodes built so far (see `count_built`)


@contextmanager
def budget() -> Iterator[None]:
    """The outermost public call in this thread fixes its limits and starts its clock;
    calls made inside it share both."""
    if getattr(_thread, "call", None) is not None:
        yield
        return
    settled = current()
    deadline = None if settled.seconds is None else time.monotonic() + settled.seconds
    _thread.call = _Call(settled, deadline)
    try:
        yield
    finally:
        _thread.call = None


def tick() -> None:
    """Raise LimitError once the call under way has run past its `seconds`."""
    call = getattr(_thread, "call", None)
    if call is not None and call.deadline is not None and time.monotonic() > call.deadline:
        # raised at every tick from now on: code that catches it and tries another way
        # cannot run on past the limit
        raise error("seconds", f"the computation ran longer than the limit "
                                f"seconds={call.limits.seconds:g}")


def count_built(tree_size: int) -> None:
    """One more node built. Within a call, the nodes the call built (each once: a part
    shared by many trees is built once) are held to the `nodes` limit: what bounds the
    call's memory and work, while a result may print far larger than it is built (the
    chain rule shares an inner function between its value and its derivative). Outside
    a call, the node's tree (`tree_size` nodes as printed) is held to it."""
    call = getattr(_thread, "call", None)
    if call is None:
        check("nodes", tree_size, "the number of nodes of an expression the computation "
                                  "built")
        return
    call.built += 1
    if call.built > call.limits.nodes:
        raise exceeded("nodes", "the number of nodes the computation built", call.built)


def exceeded(name: str, what: str, amount: int | None = None, text: str | None = None,
             span: tuple[int, int] | None = None) -> LimitError:
    """The LimitError for `what` (of size `amount`) going past the limit `name`; with
    the source `text` and a `span`, its message points at the spot."""
    shown = f" ({amount:,})" if amount is not None else ""
    return error(name, f"{what}{shown} is more than the limit "
                        f"{name}={getattr(current(), name):,}", text, span)


def error(name: str, message: str, text: str | None = None,
          span: tuple[int, int] | None = None) -> LimitError:
    """A LimitError saying `message` about the limit `name`, and how to raise it."""
    made = LimitError(message, text, span,
                      hint=f"raise it with mc.limits({name}=...) (for every thread: "
                           f"mc.limits({name}=..., scope=\"process\"))")
    made.limit = name
    return made


def check(name: str, amount: int, what: str, text: str | None = None,
          span: tuple[int, int] | None = None) -> None:
    """Raise LimitError if `amount` is over the limit `name`."""
    if amount > getattr(current(), name):
        raise exceeded(name, what, amount, text, span)


def digits_of(value: int | Fraction) -> int:
    """Decimal digits of the larger of a rational's numerator and denominator (an
    estimate from the bit length, off by at most one: no conversion to text)."""
    value = Fraction(value)
    bits = max(abs(value.numerator).bit_length(), value.denominator.bit_length())
    return int(bits * 0.30103) + 1


def check_number(value: int | Fraction, what: str = "a number") -> None:
    check("digits", digits_of(value), f"the number of digits of {what}")


def check_power_digits(base: Fraction, exponent: Fraction) -> None:
    """Refuse base^exponent for numbers whose value would have too many digits, before
    anything computes it (2^{2^{2^{2^{2^2}}}}, 9^{9^9})."""
    base, exponent = Fraction(base), Fraction(exponent)
    if base in (0, 1, -1) or exponent == 0:
        return
    size = max(abs(base.numerator), base.denominator)
    if digits_of(exponent) > 15:  # beyond any float's exact range: no limit is that high
        raise exceeded("digits", "a power of a number with more than 10^15 digits")
    estimate = int(abs(float(exponent)) * math.log10(size)) + 1
    check("digits", estimate, "the number of digits of a power of numbers")
