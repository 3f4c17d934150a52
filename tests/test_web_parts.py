"""The parts of `matrixcalc serve` on their own: the MathML sanitizer, request checks, the
worker pool's time and memory limits, every example of the page, and what `import
matrixcalc` does not load."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("latex2mathml", reason="the web extra is missing: pip install -e '.[web]'")

from matrixcalc.errors import LimitError, UsageError  # noqa: E402
from matrixcalc.web.compute import run  # noqa: E402
from matrixcalc.web.examples import examples  # noqa: E402
from matrixcalc.web.mathml import to_mathml  # noqa: E402
from matrixcalc.web.pool import Limits, Pool, WorkerError  # noqa: E402
from matrixcalc.web.request import Request  # noqa: E402


# -- MathML ---------------------------------------------------------------------------------

@pytest.mark.parametrize("latex", [
    r"x_{\text{<img src=x onerror=alert(1)>}}",
    r"\text{</mtext><script>alert(1)</script>}",
    r"\text{&lt;script&gt;}",
])
def test_text_in_latex_comes_out_as_text_never_as_markup(latex):
    mathml = to_mathml(latex)
    assert "<img" not in mathml and "<script" not in mathml
    assert "&lt;" in mathml  # the angle brackets are there, escaped


@pytest.mark.parametrize("latex, banned", [
    (r"\href{javascript:alert(1)}{x}", "href"),
    (r"\style{background:url(x)}{x}", "style"),
])
def test_attributes_outside_the_allow_list_are_dropped(latex, banned):
    mathml = to_mathml(latex)
    assert banned not in mathml and "<mi>x</mi>" in mathml


def test_mathml_of_a_derivative():
    assert to_mathml(r"A^{\top} x") == ('<math xmlns="http://www.w3.org/1998/Math/MathML" '
                                        'display="inline"><mrow><msup><mi>A</mi><mrow>'
                                        '<mo>⊤</mo></mrow></msup><mi>x</mi></mrow></math>')


# -- requests ----------------------------------------------------------------------------------

def test_a_request_reads_names_lists_and_flags():
    request = Request.from_json({"expression": "x^T A x", "wrt": " x , y", "check": True})
    assert request.wrt == ("x", "y") and request.check and request.command == "derive"
    assert Request.from_json({"wrt": ["W1", "b"]}).wrt == ("W1", "b")


@pytest.mark.parametrize("body, error", [
    ({"expression": "x" * 51}, LimitError), ({"check": "yes"}, UsageError),
    ({"trials": 10_000}, UsageError), ({"wrt": "x,,y"}, UsageError), ([1, 2], UsageError),
    ({"values": [1]}, UsageError), ({"command": "integrate"}, UsageError),
])
def test_bad_requests_are_refused_before_any_work(body, error):
    with pytest.raises(error):
        Request.from_json(body, max_input=50)


# -- the worker pool ------------------------------------------------------------------------------
# Handlers from the standard library: time.sleep runs long, bytearray allocates.

LIMITS = Limits(seconds=1.5, memory_mb=1024)


def in_pool(handler, jobs, limits=LIMITS):
    async def go():
        pool = Pool(handler, 1, limits)
        pool.start()
        try:
            return [await _outcome(pool, job) for job in jobs]
        finally:
            await pool.close()
    return asyncio.run(go())


async def _outcome(pool, job):
    try:
        return await pool.run(job)
    except (LimitError, WorkerError) as error:
        return error


def test_a_job_past_the_time_limit_is_stopped_and_its_worker_replaced():
    started = time.monotonic()
    slow, fast = in_pool(time.sleep, [60, 0])
    assert isinstance(slow, LimitError) and "time limit of 1.5 s" in str(slow)
    assert fast is None  # the replacement worker answered
    assert time.monotonic() - started < 30


def test_a_job_past_the_memory_limit_is_stopped_and_its_worker_replaced():
    huge, small = in_pool(bytearray, [4 * 1024**3, 10])
    assert isinstance(huge, LimitError) and "memory than the limit of 1,024 MiB" in str(huge)
    assert small == bytearray(10)


def test_a_request_past_the_engines_time_ends_with_its_limit_error():
    # a worker gives the engine part of the request's time (pool.ENGINE_SHARE); the
    # engine's calls for one request share one clock, and running past it is an answer
    # (the LimitError the page shows, said as the request's time limit: the page's user
    # has no mc.limits to raise), not a killed worker
    import matrixcalc as mc
    job = ("derive", Request(expression="sum(tanh(W tanh(W tanh(W x))))", wrt=("W",),
                             check=True, trials=200))
    with mc.limits(seconds=0.05):
        answer = run(job)
    assert answer["error"]["type"] == "LimitError"
    assert "time limit of 0.0625 s" in answer["error"]["message"]  # 0.05 / ENGINE_SHARE
    assert "--timeout" in answer["error"]["hint"]
    assert "error" not in run(job)  # under the worker's usual time, answered


def test_an_unexpected_exception_is_an_internal_error_in_one_line():
    (error,) = in_pool(int, ["not a number"])
    assert isinstance(error, WorkerError)
    assert str(error) == "ValueError: invalid literal for int() with base 10: 'not a number'"


# -- the jobs ---------------------------------------------------------------------------------

def example_request(item: dict) -> tuple[str, Request]:
    where = item["where"] or None
    if item["operation"] == "verify":
        return "verify", Request(statement=item["expression"], where=where, render=True)
    wrt = tuple(w.strip() for w in item["wrt"].split(","))
    if item["operation"] == "explain":
        return "explain", Request(expression=item["expression"], wrt=wrt, where=where,
                                  render=True)
    return "derive", Request(expression=item["expression"], wrt=wrt, where=where,
                             command=item["operation"], render=True)


@pytest.mark.parametrize("item", examples(), ids=lambda item: item["title"])
def test_every_example_of_the_page_computes(item):
    answer = run(example_request(item))
    assert answer["schema"] != "matrixcalc.error/1", answer
    if item["title"].startswith("a false claim"):
        assert answer["holds"] is False and answer["counterexample"] is not None


def test_json_never_carries_nan():
    answer = run(("evaluate", Request(expression="log(a)", where="a: scalar",
                                      values={"a": -1.0})))
    assert answer["value"] is None


# -- the command --------------------------------------------------------------------------

def test_import_matrixcalc_loads_no_web_module():
    code = ("import sys, matrixcalc, matrixcalc.cli; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'latex2mathml', "
            "'matrixcalc.web') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_serve_on_a_port_in_use_says_so_and_exits_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "matrixcalc", "serve", "--port",
                                 str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_that_cannot_start_is_reported_not_waited_for():
    # a warm-up that fails (a broken install) makes requests fail at once, in one line
    async def go():
        pool = Pool(int, 1, LIMITS, warm_up=sys.exit)
        pool.start()
        while pool.starting:
            await asyncio.sleep(0.1)
        try:
            return await _outcome(pool, "1")
        finally:
            await pool.close()
    error = asyncio.run(go())
    assert isinstance(error, WorkerError) and "did not start" in str(error)
