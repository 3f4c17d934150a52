"""Shared helpers for the benchmarks: timing, tables, the machine's description."""

from __future__ import annotations

import os
import platform
import signal
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def median_time(action: Callable[[], object], repeats: int, before=None) -> float:
    """The median wall time of `repeats` runs of `action` (`before` runs untimed first)."""
    times = []
    for _ in range(max(1, repeats)):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best_time(action: Callable[[], object], repeats: int, budget: float = 0.5) -> float:
    """The best (minimum) of at least `repeats` runs, and of more while they fit in
    `budget` seconds: damps the scheduler's noise on this 2-core VM, where sub-millisecond
    calls were seen rounded up to 4, 8 or 16 ms slices (5 runs of 0.2 ms were not enough)."""
    times: list[float] = []
    began = time.perf_counter()
    while len(times) < max(1, repeats) or (time.perf_counter() - began < budget
                                           and len(times) < 1000):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def paired_best(ours: Callable[[], object], theirs: Callable[[], object], repeats: int,
                budget: float = 0.5, rounds: int = 4) -> tuple[float, float]:
    """The best times of two actions timed in alternating rounds, so that neither gains
    from when it ran (after a peer's threads, or the allocator's state it left): a ratio
    of sub-millisecond calls timed one after the other moved by 15% between runs."""
    mine = other = float("inf")
    each = max(1, -(-repeats // rounds))
    for _ in range(rounds):
        mine = min(mine, best_time(ours, each, budget / rounds))
        other = min(other, best_time(theirs, each, budget / rounds))
    return mine, other


class Timeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise Timeout in the main thread after `seconds` (SIGALRM; a no-op where absent)."""
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        yield
        return

    def handler(signum, frame):
        raise Timeout(f"over {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def table(header: tuple[str, ...], rows: list[tuple], right: set[int] | None = None) -> str:
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    right = right if right is not None else set(range(1, len(header)))

    def line(row):
        return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                         for k, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths))]
                     + [line(r) for r in rows])


def md_table(header: tuple[str, ...], rows: list[tuple]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """CPU, cores, versions; threadpoolctl's view of the BLAS if it is installed."""
    import numpy
    import sympy
    info = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "sympy": sympy.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "gpu": "none (no GPU in this session; all timings are CPU)",
    }
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda_available"] = torch.cuda.is_available()
    except ImportError:
        info["torch"] = None
    try:
        import jax
        info["jax"] = jax.__version__
    except ImportError:
        info["jax"] = None
    try:
        import matrixcalc
        info["matrixcalc"] = matrixcalc.__version__
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version",
                                                      "num_threads", "architecture")}
                               for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info
