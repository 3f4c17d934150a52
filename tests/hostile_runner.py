"""The child process of tests/test_hostile.py: runs hostile cases one after another
under a memory limit (RLIMIT_AS) and a time limit per case, and reports each outcome as
one JSON line on stdout (a "start" line first, so that the parent knows which case a
crash or a hang belongs to).

A case is a block of test code (static text from tests/hostile_cases.py, never user
input) that sets `result`, and an expectation: the name of a MatrixCalcError subclass
the call must raise, or a Python condition on `result` that must hold.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
import traceback
import unicodedata

MEMORY = 2 * 1024**3  # bytes of address space
SECONDS = 10.0  # per case


class CaseTimeout(BaseException):
    """A case ran past SECONDS (raised by the alarm, not an exception a case catches)."""


def _alarm(signum, frame):
    raise CaseTimeout()


def clean(text: str) -> bool:
    """Whether a message shows no raw control, format (bidirectional, zero-width) or
    surrogate character: such characters must be escaped where user text is echoed."""
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in "\n"
                   for c in text)


def _shown(result) -> str:
    try:
        return str(result)[:200]
    except RecursionError:  # the case's own result may be deeper than repr can go
        return f"<{type(result).__name__}>"


def run_case(case: dict, namespace: dict) -> dict:
    import matrixcalc as mc

    started = time.monotonic()
    scope = dict(namespace)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        exec(case["code"], scope)  # noqa: S102 - the test's own case text
        signal.setitimer(signal.ITIMER_REAL, 0)
        outcome = {"outcome": "answer", "shown": _shown(scope.get("result"))}
        expect = case["expect"]
        if expect.startswith("ok:"):
            outcome["holds"] = bool(eval(expect[3:], scope))  # noqa: S307 - the test's own
    except CaseTimeout:
        outcome = {"outcome": "timeout"}
    except mc.MatrixCalcError as error:
        signal.setitimer(signal.ITIMER_REAL, 0)
        message = str(error)
        outcome = {"outcome": "error", "type": type(error).__name__,
                   "types": [k.__name__ for k in type(error).__mro__],
                   "message": message[:300], "clean": clean(message) and bool(message)}
    except BaseException as error:  # noqa: BLE001 - what the test reports as a failure
        signal.setitimer(signal.ITIMER_REAL, 0)
        outcome = {"outcome": "raw", "type": type(error).__name__,
                   "message": str(error)[:300],
                   "where": "".join(traceback.format_tb(error.__traceback__)[-3:])[-600:]}
    outcome["seconds"] = round(time.monotonic() - started, 3)
    return outcome


def table(data: str | bytes):
    """A YAML table written to a file and loaded from there (bytes as they are)."""
    import os
    import tempfile

    import matrixcalc as mc
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.yaml")
        with open(path, "wb") as file:
            file.write(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        return mc.load_table(path)


def cli(argv: list[str]) -> tuple[int, str, str]:
    """`matrixcalc ARGV` in this process: (exit status, stdout, stderr)."""
    import contextlib
    import io

    from matrixcalc.cli import main as cli_main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli_main(argv)
        except SystemExit as exit:  # argparse's own usage errors
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    signal.signal(signal.SIGALRM, _alarm)
    cases = json.loads(sys.stdin.read())
    import numpy as np

    import matrixcalc as mc
    # the engine and torch are loaded before the first case's clock starts: on a busy
    # machine importing torch takes seconds, and an import the alarm interrupts leaves the
    # module half made for every later case of this child
    mc.check("x^T A x", "x", seed=0)
    namespace = {"mc": mc, "np": np, "table": table, "cli": cli, "clean": clean}
    for case in cases:
        print(json.dumps({"start": case["name"]}), flush=True)
        outcome = run_case(case, namespace)
        print(json.dumps({"name": case["name"], **outcome}), flush=True)


if __name__ == "__main__":
    main()
