"""The API's jobs, each run in a worker process (web/pool.py): a Request in, one JSON
object out.

Each answer is the CLI's `--json` object (outputs/json_objects.py) for the same input; with
`render` it also carries what the page shows: MathML beside every LaTeX (`mathml`,
`input_mathml`), the verdict in words, the generated code of every backend (`code`) and
the warnings the engine gave. Jobs the CLI has no `--json` for get schemas of their own:
`matrixcalc.explain/1`, `matrixcalc.evaluate/1`, `matrixcalc.info/1`.

Invariant: `run` never raises for bad input: a MatrixCalcError becomes the error object
(`matrixcalc.error/1`); numbers that JSON cannot carry (inf, nan) become null; an answer
larger than MAX_RESPONSE is a LimitError.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any

from .. import budget
from ..errors import LimitError, MatrixCalcError, UsageError
from ..outputs.json_objects import (
    ERROR_SCHEMA,
    codegen_json,
    derive_json,
    error_json,
    parse_json,
    value_json,
    verify_json,
)
from .mathml import to_mathml
from .pool import ENGINE_SHARE
from .request import Request

MAX_RESPONSE = 4_000_000  # characters of JSON in one answer
EXPLAIN_SCHEMA = "matrixcalc.explain/1"
EVALUATE_SCHEMA = "matrixcalc.evaluate/1"
INFO_SCHEMA = "matrixcalc.info/1"
BACKENDS = ("numpy", "torch", "jax")  # offered where mc.lambdify accepts them
METHODS = ("index", "differential")  # offered where mc.explain accepts them


def run(job: tuple[str, Request]) -> dict:
    """The answer to one request (the worker's handler)."""
    name, request = job
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with budget.budget():  # one clock for every engine call of the request
                body = JOBS[name](request)
        except MatrixCalcError as error:
            return error_json(_as_request_limit(error))
    if request.render and caught:
        body["warnings"] = [str(w.message) for w in caught]
    return _bounded(_finite(body))


def _as_request_limit(error: MatrixCalcError) -> MatrixCalcError:
    """The engine's time limit, met inside a worker, said as the request's: the page's user
    cannot call mc.limits, the server's operator sets --timeout (the pool gives the engine
    ENGINE_SHARE of it). Another limit is said as the server's, raised in Python."""
    engine_seconds = budget.current().seconds
    if isinstance(error, LimitError) and getattr(error, "limit", None) not in (None, "seconds"):
        said = LimitError(error.message, error.text, error.span,
                          hint=f"a limit of this server; in Python, mc.limits({error.limit}=...) "
                               f"raises it")
        said.limit = error.limit
        return said
    if not (isinstance(error, LimitError) and error.limit == "seconds" and engine_seconds):
        return error
    request_seconds = engine_seconds / ENGINE_SHARE
    return LimitError(f"the computation took longer than the time limit of "
                      f"{request_seconds:g} s and was stopped",
                      hint="matrixcalc serve --timeout SECONDS raises it")


def is_error(body: dict) -> bool:
    return body.get("schema") == ERROR_SCHEMA


def warm_up() -> None:
    """Load the engine, torch and the renderer before the first request (in each worker),
    so that requests are timed on their own work; one thread, as each worker is one.
    Without torch (the `torch` extra) the page still derives; its checks say what to
    install."""
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
    run(("derive", Request(expression="x^T A x", wrt=("x",), check=torch is not None,
                           render=True)))


# -- the jobs -------------------------------------------------------------------------------

def parse_job(request: Request) -> dict:
    import matrixcalc as mc

    expr = mc.parse(request.need("expression"), where=request.where)
    body = parse_json(expr, request.expression, request.where)
    if request.render:
        body["mathml"] = to_mathml(body["latex"], display=True)
    return body


def derive_job(request: Request) -> dict:
    import matrixcalc as mc

    expr = mc.parse(request.need("expression"), where=request.where)
    results = derivatives(expr, request)
    body = derive_json(request.command, request.expression, request.where, list(request.wrt),
                       request.layout, expr, results, _check(expr, request, results))
    if request.render:
        body["input_mathml"] = to_mathml(expr.latex(), display=True)
        for item in body["results"]:
            item["mathml"] = to_mathml(item["latex"], display=True)
        body["code"] = {b: _code_or_error(expr, request, results, b) for b in backends()}
    return body


def derivatives(expr, request: Request) -> list[tuple[list[str], Any]]:
    """(wrt names, result) pairs: derive gives one per variable; jacobian and hessian
    stack the variables into one (as the CLI does)."""
    import matrixcalc as mc

    names = list(_need_wrt(request))
    wrt = names if len(names) > 1 else names[0]
    if request.command == "derive":
        out = mc.derive(expr, wrt, where=request.where, layout=request.layout)
        return list(zip([[n] for n in names], out if len(names) > 1 else [out]))
    function = mc.jacobian if request.command == "jacobian" else mc.hessian
    return [(names, function(expr, wrt, where=request.where))]


def _check(expr, request: Request, results):
    """The numeric check against autograd where one applies (the CLI's --check): not for
    stacked variables, and only in numerator layout; None otherwise."""
    import matrixcalc as mc

    names = list(request.wrt)
    stacked = len(names) > 1 and request.command != "derive"
    layout_ok = request.layout == "numerator" or expr.ty.is_scalar
    if not request.check or stacked or not layout_ok:
        return None
    claimed = [r for _, r in results]
    return mc.check(expr, names if len(names) > 1 else names[0],
                    result=claimed if len(names) > 1 else claimed[0], where=request.where,
                    trials=request.trials, order=2 if request.command == "hessian" else 1,
                    seed=request.seed)


def verify_job(request: Request) -> dict:
    import matrixcalc as mc

    from ..numbers.reports import format_verdict

    statement = request.need("statement")
    verdict = mc.verify(statement, where=request.where, trials=request.trials,
                        seed=request.seed)
    body = verify_json(verdict, statement, request.where)
    if request.render:
        body["text"] = format_verdict(verdict)
        body["diagnosis"] = verdict.diagnosis
        body["statement_mathml"] = to_mathml(_statement_latex(statement, request.where),
                                             display=True)
    return body


def _statement_latex(statement: str, where) -> str:
    import matrixcalc as mc

    stmt = mc.parse_statement(statement, where=where)
    lhs = stmt.lhs.latex()
    if stmt.wrt is not None:
        lhs = f"\\frac{{\\partial}}{{\\partial {stmt.wrt.name}}} \\left({lhs}\\right)"
    return f"{lhs} = {stmt.rhs.latex()}"


def codegen_job(request: Request) -> dict:
    import matrixcalc as mc

    expr = mc.parse(request.need("expression"), where=request.where)
    if request.backend not in backends():
        raise UsageError(f"this installation generates no {request.backend} code; it "
                         f"offers {', '.join(backends())}")
    results = derivatives(expr, request) if _needs_derivative(expr, request) else []
    return code_json(expr, request, results, request.backend)


def _needs_derivative(expr, request: Request) -> bool:
    return bool(request.wrt) and (request.command != "derive" or not expr.ty.is_scalar)


def code_json(expr, request: Request, results, backend: str) -> dict:
    """The CLI's codegen object: the value, or value and gradient of a scalar function
    (mc.value_and_grad). A Jacobian, a Hessian or the derivative of a non-scalar function
    is generated beside the value (`"returns": "[value, jacobian]"`)."""
    import matrixcalc as mc

    names = list(request.wrt) or None
    if not _needs_derivative(expr, request):
        wrt = None if names is None else (names if len(names) > 1 else names[0])
        function = mc.lambdify(expr, backend=backend, wrt=wrt, where=request.where)
        return codegen_json(function, request.expression, request.where, names, backend)
    results = results or derivatives(expr, request)
    function = mc.lambdify([expr] + [r for _, r in results], backend=backend)
    body = codegen_json(function, request.expression, request.where, names, backend)
    word = {"derive": "derivative"}.get(request.command, request.command)
    parts = [word] if len(results) == 1 else [f"{word} by {w[0]}" for w, _ in results]
    body["returns"] = f"[value, {', '.join(parts)}]"
    return body


def _code_or_error(expr, request: Request, results, backend: str) -> dict:
    try:
        return code_json(expr, request, results, backend)
    except MatrixCalcError as error:
        return error_json(error)


def explain_job(request: Request) -> dict:
    explanation = _explanation(request)
    latex = getattr(explanation, "latex_steps", None) or []
    steps = []
    for k, (title, text) in enumerate(explanation.steps):
        step = {"title": title, "text": text, "latex": latex[k][1] if k < len(latex) else None}
        if request.render and step["latex"] is not None:
            step["mathml"] = [to_mathml(line.replace("&", ""))
                              for line in step["latex"].splitlines() if line.strip()]
        steps.append(step)
    result = getattr(explanation, "result", None)
    return {"schema": EXPLAIN_SCHEMA, "input": request.expression, "where": request.where,
            "wrt": list(request.wrt), "method": request.method, "steps": steps,
            "text": str(explanation), "result": None if result is None else str(result)}


def _explanation(request: Request):
    """mc.explain with the method asked for, among those this version accepts."""
    import matrixcalc as mc

    expression, (name,) = request.need("expression"), _one_wrt(request)
    accepted = explain_methods()
    if request.method not in accepted:
        raise UsageError(f"unknown explain method `{request.method}`: this version offers "
                         f"{', '.join(accepted)}")
    if accepted == ["index"]:  # an mc.explain without the `method` argument
        return mc.explain(expression, name, where=request.where)
    return mc.explain(expression, name, where=request.where, method=request.method)


def evaluate_job(request: Request) -> dict:
    """The value of the expression at the given values, and with `wrt` the value of its
    derivative(s) (`command` says which): what generated code can be compared with."""
    import matrixcalc as mc

    expr = mc.parse(request.need("expression"), where=request.where)
    values = {name: _array(name, v) for name, v in request.values.items()}
    body = {"schema": EVALUATE_SCHEMA, "input": request.expression, "where": request.where,
            "wrt": list(request.wrt) or None, "command": request.command,
            "value": value_json(expr.evaluate(values)), "results": []}
    if request.wrt:
        body["results"] = [{"wrt": w, "text": str(r), "value": value_json(r.evaluate(values))}
                           for w, r in derivatives(expr, request)]
    return body


def _array(name: str, value: Any):
    import numpy as np

    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise UsageError(f"`values.{name}` must be a number or nested lists of numbers "
                         f"(rows of a matrix)") from None
    if array.ndim > 2:
        raise UsageError(f"`values.{name}` has {array.ndim} axes; a value has at most 2")
    return float(array) if array.ndim == 0 else array


def info_job(request: Request) -> dict:
    from .. import __version__

    return {"schema": INFO_SCHEMA, "version": __version__,
            "explain_methods": explain_methods(), "backends": backends()}


JOBS: dict[str, Callable[[Request], dict]] = {
    "parse": parse_job, "derive": derive_job, "verify": verify_job, "codegen": codegen_job,
    "explain": explain_job, "evaluate": evaluate_job, "info": info_job,
}


# -- what this installation offers, found by asking it ----------------------------------------

_OFFERED: dict[str, list[str]] = {}


def backends() -> list[str]:
    """The code backends mc.lambdify accepts here (JAX once the engine has it)."""
    return _offered("backends", BACKENDS, _lambdify_probe)


def explain_methods() -> list[str]:
    """The methods mc.explain accepts here (`differential` once the engine has it)."""
    return _offered("methods", METHODS, _explain_probe) or ["index"]


def _offered(key: str, candidates, probe: Callable[[str], object]) -> list[str]:
    if key not in _OFFERED:
        accepted = []
        for name in candidates:
            try:
                probe(name)
            except (MatrixCalcError, TypeError, ImportError):
                continue
            accepted.append(name)
        _OFFERED[key] = accepted
    return _OFFERED[key]


def _lambdify_probe(backend: str) -> None:
    import matrixcalc as mc
    mc.lambdify("x^T x", backend=backend)


def _explain_probe(method: str) -> None:
    import matrixcalc as mc
    mc.explain("x^T x", "x", method=method)


# -- answers JSON can carry ----------------------------------------------------------------------

def _need_wrt(request: Request) -> tuple[str, ...]:
    if not request.wrt:
        raise UsageError("this request needs `wrt`: the variable(s) to differentiate by")
    return request.wrt


def _one_wrt(request: Request) -> tuple[str]:
    names = _need_wrt(request)
    if len(names) != 1:
        raise UsageError(f"explain takes one variable, not {len(names)}")
    return names  # type: ignore[return-value]


def _finite(value: Any) -> Any:
    """inf and nan (which JSON cannot carry) as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _bounded(body: dict) -> dict:
    size = len(json.dumps(body, ensure_ascii=False))
    if size > MAX_RESPONSE:
        return error_json(LimitError(f"the answer would be {size:,} characters of JSON; the "
                                     f"limit is {MAX_RESPONSE:,}",
                                     hint="ask for less: a smaller expression, or one "
                                          "variable at a time"))
    return body
