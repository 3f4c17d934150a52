"""The boundary of every public call (SPEC sections 5 and 8): `@public`.

A public function runs inside the call's budget (`budget.budget`: the limits fixed when
the outermost call starts, and its clock). What a user can get wrong about the call
itself is a UsageError naming the function and its parameters (an unknown keyword, a
missing argument), not a TypeError; running past Python's own recursion or memory limits
is a LimitError, raised by the outermost call once the stack has unwound.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import threading
from collections.abc import Callable
from typing import TypeVar

from . import budget
from .errors import LimitError, UsageError

F = TypeVar("F", bound=Callable)
_calls = threading.local()  # .depth: public calls under way in this thread


def public(function: F) -> F:
    """`function` as a public entry point (see the module's docstring)."""
    signature = inspect.signature(function)
    name = function.__qualname__.replace(".<locals>", "")

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            signature.bind(*args, **kwargs)
        except TypeError as error:
            raise _usage(name, signature, error) from None
        depth = getattr(_calls, "depth", 0)
        _calls.depth = depth + 1
        try:
            with budget.budget(), fewer_collections(depth == 0):
                return function(*args, **kwargs)
        except RecursionError:
            if depth:
                raise
            raise _too_deep() from None
        except MemoryError:
            if depth:
                raise
            raise _out_of_memory() from None
        finally:
            _calls.depth = depth
    return call  # type: ignore[return-value]


YOUNG_OBJECTS = 50_000  # new objects between the collector's runs during a call
_collector = {"calls": 0, "threshold": None}  # outermost calls under way, in all threads
_collector_lock = threading.Lock()


@contextlib.contextmanager
def fewer_collections(outermost: bool):
    """While any outermost public call runs, Python's cyclic garbage collector runs once
    per YOUNG_OBJECTS new objects instead of 700 (its other settings kept): a derivation
    builds many short-lived trees that hold no cycles, and the collector's frequent passes
    over them and over the live trees cost about a fifth of a large derivation (a
    10,000-term sum). The setting is the process's: the first call in saves it, the last
    one out restores it."""
    if not outermost:
        yield
        return
    with _collector_lock:
        if _collector["calls"] == 0:
            saved = _collector["threshold"] = gc.get_threshold()
            gc.set_threshold(max(saved[0], YOUNG_OBJECTS), *saved[1:])
        _collector["calls"] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector["calls"] -= 1
            if _collector["calls"] == 0:
                gc.set_threshold(*_collector["threshold"])


def _usage(name: str, signature: inspect.Signature, error: TypeError) -> UsageError:
    parameters = ", ".join(p for p in signature.parameters if p != "self")
    message = str(error).replace("call()", f"{name}()")
    return UsageError(f"{name}: {message}", hint=f"its parameters are: {parameters}")


def _too_deep() -> LimitError:
    error = LimitError("the expression is nested too deeply for this computation (Python's "
                       "recursion limit)",
                       hint="lower the nesting, or the limit that lets it in: "
                            "mc.limits(depth=...)")
    error.limit = "depth"
    return error


def _out_of_memory() -> LimitError:
    error = LimitError("the computation ran out of memory",
                       hint="a smaller input, or a lower mc.limits(nodes=...), makes it stop "
                            "sooner and cleanly")
    error.limit = "nodes"
    return error
