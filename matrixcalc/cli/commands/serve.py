"""`matrixcalc serve`: the local web page (SPEC section 7); the web modules load only when
the command runs."""

from __future__ import annotations

import argparse

from ..registry import command


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="default 8000; 0: any free port")
    parser.add_argument("--workers", type=int, default=0,
                        help="worker processes that compute (default 2 to 4, by cores)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one request may compute (default 10)")
    parser.add_argument("--memory", type=int, default=3072,
                        help="MiB of address space of a worker (default 3072)")
    parser.add_argument("--max-input", type=int, default=2000,
                        help="characters of one input field (default 2000)")


@command("serve", "the local web page: derive, verify, explain and generate code in a browser",
         examples=("matrixcalc serve", "matrixcalc serve --port 8080 --timeout 30"),
         arguments=(serve_arguments,))
def run_serve(args: argparse.Namespace) -> int:
    from ...errors import UsageError
    try:
        from ...web.server import serve
    except ImportError as error:
        raise UsageError(f"matrixcalc serve needs the web extra ({error.name} is missing)",
                         hint="pip install 'matrixcalc-engine[web]'") from None
    from ...web.app import Options
    from ...web.pool import Limits
    return serve(Options(host=args.host, port=args.port, workers=args.workers,
                         limits=Limits(seconds=args.timeout, memory_mb=args.memory),
                         max_input=args.max_input))
