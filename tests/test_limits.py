# mc.limits (SPEC section 8): read, set per thread or per process, restored by `with`.
"""The limits of one call: each is met by an input that would cost more, with a
LimitError that names it and how to raise it; raising it lets that input through. A
thread's settings are its own; scope="process" sets what every other thread uses; a
`with` block puts back what was in effect; a call runs under the limits it started
with."""

from __future__ import annotations

import threading

import pytest

import matrixcalc as mc
from matrixcalc import budget

DEFAULTS = mc.Limits()


def in_thread(function):
    """function() run in a new thread; its value, or the exception it raised."""
    out = {}

    def run():
        try:
            out["value"] = function()
        except Exception as error:  # noqa: BLE001 - handed back to the test
            out["value"] = error
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out["value"]


def test_the_limits_read_back_with_their_defaults():
    # every limit has a default far above a textbook expression's needs
    now = mc.limits()
    assert now == DEFAULTS
    assert (now.power, now.digits, now.depth) == (1000, 1000, 200)
    assert "seconds=60.0" in str(now) and "_restore" not in str(now)


def test_a_with_block_puts_the_limits_back():
    with mc.limits(power=5) as inside:
        assert inside.power == 5 and mc.limits().power == 5
        with mc.limits(digits=20, power=7):
            assert (mc.limits().power, mc.limits().digits) == (7, 20)
        assert (mc.limits().power, mc.limits().digits) == (5, DEFAULTS.digits)
    assert mc.limits() == DEFAULTS


def test_a_threads_limits_are_its_own():
    # set in one thread: that thread only; the main thread and a third see the defaults
    def set_and_read():
        mc.limits(power=5)
        return mc.limits().power
    assert in_thread(set_and_read) == 5
    assert mc.limits().power == DEFAULTS.power
    assert in_thread(lambda: mc.limits().power) == DEFAULTS.power


def test_process_limits_reach_every_thread_that_set_nothing():
    with mc.limits(power=9, scope="process"):
        assert in_thread(lambda: mc.limits().power) == 9
        with mc.limits(power=3):  # this thread's own setting wins
            assert mc.limits().power == 3
            assert in_thread(lambda: mc.limits().power) == 9
    assert in_thread(lambda: mc.limits().power) == DEFAULTS.power


def test_a_call_keeps_the_limits_it_started_with():
    # another thread's change reaches later calls, not the one under way
    with budget.budget():
        in_thread(lambda: mc.limits(depth=5, scope="process"))
        try:
            assert budget.current().depth == DEFAULTS.depth
        finally:
            mc.limits(depth=DEFAULTS.depth, scope="process")
    assert mc.limits().depth == DEFAULTS.depth


@pytest.mark.parametrize("limit, low, call", [
    ("power", 3, lambda: mc.derive("a^T X^7 b", "X")),
    ("digits", 10, lambda: mc.parse("1e20 x")),
    ("digits", 10, lambda: mc.derive("3^{40} a^T x", "x")),
    ("depth", 5, lambda: mc.parse("exp(exp(exp(exp(exp(x)))))")),
    ("nodes", 10, lambda: mc.parse("x + y + z + w + v + u + t + s + r + q + p")),
    ("terms", 3, lambda: mc.parse("x + y + z + w")),
    ("terms", 3, lambda: mc.parse("[a; b; c; d]")),
    ("trials", 2, lambda: mc.check("x^T x", "x", trials=5)),
    ("chars", 5, lambda: mc.parse("x + y + z")),
    ("seconds", 1e-6, lambda: mc.check("sum(tanh(W tanh(W x)))", "W", trials=50)),
])
def test_each_limit_is_met_by_an_input_past_it_and_named(limit, low, call):
    # past the limit: a LimitError naming it and how to raise it
    with mc.limits(**{limit: low}):
        with pytest.raises(mc.LimitError) as info:
            call()
    assert info.value.limit == limit
    assert f"mc.limits({limit}=...)" in str(info.value)
    call()  # under the defaults the same input is answered


@pytest.mark.parametrize("limit, high, text", [
    ("depth", 300, "exp(" * 250 + "x" + ")" * 250),
    ("digits", 4000, "1" + "0" * 3000 + " x"),
    ("terms", 20_000, " + ".join(["x"] * 15_000)),
])
def test_raising_a_limit_lets_the_input_through(limit, high, text):
    with pytest.raises(mc.LimitError):
        mc.parse(text)
    with mc.limits(**{limit: high}):
        assert mc.parse(text).kind == "vector"


def test_threads_with_different_limits_run_side_by_side():
    # the same input at the same time: refused where the limit is low, answered elsewhere
    barrier = threading.Barrier(2)

    def low():
        with mc.limits(depth=3):
            barrier.wait()
            return mc.parse("exp(exp(exp(exp(x))))")

    def default():
        barrier.wait()
        return mc.parse("exp(exp(exp(exp(x))))")

    outcomes = {}
    threads = [threading.Thread(target=lambda f=f: outcomes.__setitem__(
        f.__name__, _outcome(f))) for f in (low, default)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(outcomes["low"], mc.LimitError)
    assert str(outcomes["default"]) == "exp(exp(exp(exp(x))))"


def _outcome(function):
    try:
        return function()
    except mc.MatrixCalcError as error:
        return error


@pytest.mark.parametrize("arguments", [{"speed": 3}, {"power": -1}, {"power": 2.5},
                                       {"digits": 5000},
                                       {"seconds": 0}, {"depth": True},
                                       {"power": 10, "scope": "galaxy"}])
def test_a_bad_limit_is_a_usage_error(arguments):
    with pytest.raises(mc.UsageError):
        mc.limits(**arguments)
    assert mc.limits() == DEFAULTS


def test_seconds_none_means_no_time_limit():
    with mc.limits(seconds=None):
        assert str(mc.derive("x^T A x", "x")) == "(A + A^T) x"
