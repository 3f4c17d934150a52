"""`matrixcalc serve`: bind the socket, say where the page is, run uvicorn until Ctrl-C.

The socket is bound here rather than by uvicorn so that a port in use is a UsageError
(exit status 2, one line) and `--port 0` picks a free port whose URL is printed: the
first line on stdout is always `serving on http://HOST:PORT/` (the tests read it).
"""

from __future__ import annotations

import socket
import sys

from ..errors import UsageError
from .app import Options, create_app


def serve(options: Options) -> int:
    import uvicorn

    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"serving on http://{shown}:{port}/  (Ctrl-C stops)", flush=True)
    if options.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"matrixcalc serve: listening on {options.host}: anyone who can reach this "
              f"machine can use the page", file=sys.stderr)
    config = uvicorn.Config(create_app(options), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host, port), family=family, reuse_port=False)
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}",
                         hint="pick another port with --port N (0: any free port)") from None
    sock.set_inheritable(True)
    return sock
