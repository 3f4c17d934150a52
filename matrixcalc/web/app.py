"""The Starlette application of `matrixcalc serve`: the page, its static files and the
JSON API under /api that the page uses and users can script.

    GET  /                      the page
    GET  /api/info              version, explain methods, code backends, limits, examples
    GET  /api/health            the workers: how many are idle, busy, starting
    POST /api/parse             {"expression", "where"}                  matrixcalc.parse/1
    POST /api/derive            {"expression", "wrt", "where", "layout", "check"}
    POST /api/jacobian, /api/hessian   the same fields                  matrixcalc.derive/1
    POST /api/verify            {"statement", "where", "trials", "seed"} matrixcalc.verify/1
    POST /api/codegen           {"expression", "wrt", "where", "backend", "command"}
    POST /api/explain           {"expression", "wrt", "where", "method"} matrixcalc.explain/1
    POST /api/evaluate          {"expression", "values", "wrt", "command"}
                                                                       matrixcalc.evaluate/1

Every answer is one JSON object: the CLI's `--json` object (web/compute.py says what
`"render": true` adds). Bad input gets `matrixcalc.error/1` with status 400 (413 for a
body over the limit, 503 when no worker is free); a bug gets status 500 and one line, never
a traceback. Work happens in worker processes (web/pool.py), never on the event loop.

Security: a strict Content-Security-Policy (scripts and styles from this server only, no
inline code, no requests elsewhere), nosniff, no framing; POST bodies must be JSON (so a
foreign page cannot post a simple form here) and Host headers must name this server (no
DNS rebinding). The page builds every node with textContent, never innerHTML.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import LimitError, MatrixCalcError, UsageError
from ..outputs.json_objects import ERROR_SCHEMA, error_json
from . import compute
from .examples import examples
from .pool import Limits, Pool, WorkerError, default_size
from .request import MAX_INPUT, Request

MAX_BODY = 1_000_000  # bytes of one request body (evaluate's values are the big ones)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


@dataclass(frozen=True)
class Options:
    """How `matrixcalc serve` runs: where it listens and what a request may cost."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 0  # 0: pool.default_size()
    limits: Limits = Limits()
    max_input: int = MAX_INPUT

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535 or self.workers < 0 or self.max_input < 1:
            raise UsageError("--port is 0 to 65535, --workers 0 or more, --max-input 1 or more")
        if self.limits.seconds <= 0 or self.limits.memory_mb < 1024:
            raise UsageError("--timeout must be positive and --memory at least 1024 MiB "
                             "(a worker holds the engine and torch)")


def create_app(options: Options = Options()) -> Starlette:
    static = resources.files("matrixcalc.web") / "static"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.pool = Pool(compute.run, options.workers or default_size(), options.limits,
                              warm_up=compute.warm_up)
        app.state.pool.start()
        app.state.info = None
        yield
        await app.state.pool.close()

    routes = [Route("/", page(static / "index.html")),
              Route("/api/info", info_endpoint(options)),
              Route("/api/health", health),
              Mount("/static", StaticFiles(directory=str(static)), name="static")]
    routes += [Route(f"/api/{name}", api_endpoint(job, options, command), methods=["POST"])
               for name, job, command in API]
    hosts = ["*"] if options.host in ("0.0.0.0", "::", "") else \
        sorted(set(LOCAL_HOSTS) | {options.host})
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(SecurityHeaders),
                                 Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


API = [("parse", "parse", None), ("derive", "derive", "derive"),
       ("jacobian", "derive", "jacobian"), ("hessian", "derive", "hessian"),
       ("verify", "verify", None), ("codegen", "codegen", None),
       ("explain", "explain", None), ("evaluate", "evaluate", None)]


def page(path):
    html = path.read_text(encoding="utf-8")

    async def endpoint(request: HttpRequest) -> Response:
        return HTMLResponse(html)
    return endpoint


def api_endpoint(job: str, options: Options, command: str | None):
    """POST /api/NAME: read and check the body here, compute in a worker."""
    async def endpoint(http: HttpRequest) -> Response:
        try:
            body = await read_json(http)
            if command is not None:
                body = {**body, "command": command} if isinstance(body, dict) else body
            request = Request.from_json(body, options.max_input)
            answer = await http.app.state.pool.run((job, request))
        except MatrixCalcError as error:
            return error_response(error)
        except WorkerError as error:
            return internal_error(str(error))
        return JSONResponse(answer, status_code=400 if compute.is_error(answer) else 200,
                            headers={"cache-control": "no-store"})
    return endpoint


def info_endpoint(options: Options):
    """GET /api/info: what this server offers (asked of a worker once) and its limits."""
    async def endpoint(http: HttpRequest) -> Response:
        if http.app.state.info is None:
            try:
                found = await http.app.state.pool.run(("info", Request()))
            except MatrixCalcError as error:
                return error_response(error)
            except WorkerError as error:
                return internal_error(str(error))
            limits = options.limits
            http.app.state.info = {
                **found, "examples": examples(),
                "limits": {"seconds": limits.seconds, "memory_mb": limits.memory_mb,
                           "max_input": options.max_input, "max_body": MAX_BODY}}
        return JSONResponse(http.app.state.info)
    return endpoint


async def health(http: HttpRequest) -> Response:
    pool = http.app.state.pool
    return JSONResponse({"schema": "matrixcalc.health/1", "workers": pool.size,
                         "idle": pool.idle.qsize(), "busy": len(pool.busy),
                         "starting": len(pool.starting)}, headers={"cache-control": "no-store"})


async def read_json(http: HttpRequest):
    """The body as JSON, read no further than MAX_BODY bytes."""
    kind = http.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise UsageError("send the request as JSON (Content-Type: application/json)")
    chunks, size = [], 0
    async for chunk in http.stream():
        size += len(chunk)
        if size > MAX_BODY:
            error = LimitError(f"the request body is larger than {MAX_BODY:,} bytes")
            error.http_status = 413
            raise error
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"the request body is not JSON: {error}") from None


def error_response(error: MatrixCalcError) -> Response:
    """400, or the status the error was raised with (413 body too large, 503 busy)."""
    return JSONResponse(error_json(error), status_code=getattr(error, "http_status", 400))


def internal_error(words: str) -> Response:
    return JSONResponse({"schema": ERROR_SCHEMA, "error": {
        "type": "InternalError", "kind": "internal error", "line": None, "column": None,
        "hint": "please report it with the request",
        "message": f"internal error (a bug in matrixcalc): {words}",
        "text": f"internal error (a bug in matrixcalc): {words}"}}, status_code=500)


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)
        await self.app(scope, receive, send_with_headers)
