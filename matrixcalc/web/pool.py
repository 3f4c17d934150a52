"""A small pool of worker processes that compute requests, each with a time limit and a
memory limit, so that a runaway derivation neither blocks the server's event loop nor
takes the server down.

Workers are spawned (not forked: the server's threads and event loop stay behind), load
the engine once (`warm_up`), cap their address space with RLIMIT_AS and then answer jobs
one at a time over a pipe. The server waits for an answer in a thread; a worker that
passes the time limit is killed and replaced, one that runs out of memory answers so and
is replaced too, so the next request always meets a fresh or a healthy worker.

Invariant: `Pool.run` returns the handler's value or raises LimitError (time, memory,
the pool busy) or WorkerError (a bug: the handler raised, or a worker died); a worker is
back in the idle queue only when it is known to be waiting for its next job.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from ..budget import limits as engine_limits
from ..errors import LimitError

START_SECONDS = 120.0  # a worker that is not ready by then is broken
ENGINE_SHARE = 0.8  # of a request's time, what the engine may compute (the rest: rendering)
READY = "ready"


@dataclass(frozen=True)
class Limits:
    """What one request may cost: seconds of computation and MiB of address space for the
    worker (which holds the engine, about 0.7 GiB with torch), and how long a request may
    wait for a free worker."""

    seconds: float = 10.0
    memory_mb: int = 3072
    queue_seconds: float = 60.0


class WorkerError(Exception):
    """A bug, not bad input: the handler raised an unexpected exception, or a worker died."""


class Worker:
    """One spawned process and the pipe to it; its methods block (call them in a thread)."""

    def __init__(self, handler: Callable[[Any], Any], limits: Limits,
                 warm_up: Callable[[], None] | None) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=work, daemon=True, name="matrixcalc-worker",
                                       args=(child, handler, limits, warm_up))
        self.process.start()
        child.close()

    @classmethod
    def start(cls, handler, limits: Limits, warm_up) -> Worker:
        worker = cls(handler, limits, warm_up)
        if not worker.conn.poll(START_SECONDS) or _receive(worker.conn) != READY:
            worker.kill()
            raise WorkerError("a worker process did not start (see the messages above)")
        return worker

    def call(self, job: Any, seconds: float) -> tuple[str, Any]:
        """("ok", value), ("memory", None) or ("internal", words); TimeoutError."""
        self.conn.send(job)
        if not self.conn.poll(seconds):
            raise TimeoutError
        outcome = _receive(self.conn)
        if outcome is None:
            raise WorkerError("a worker process ended while computing (killed from outside?)")
        return outcome

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


def _receive(conn: Connection):
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def work(conn: Connection, handler: Callable[[Any], Any], limits: Limits,
         warm_up: Callable[[], None] | None) -> None:
    """The worker's loop: answer jobs until the pipe closes (the server is gone). The
    engine's own time limit is set a little below the pool's, so that a long request
    ends with the engine's LimitError (an answer) before the worker would be killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    if warm_up is not None:
        warm_up()
    engine_limits(seconds=ENGINE_SHARE * limits.seconds, scope="process")
    _limit_memory(limits.memory_mb)
    conn.send(READY)
    while (job := _receive(conn)) is not None:
        outcome = _answer(handler, job)
        try:
            conn.send(outcome)
        except MemoryError:  # pickling a huge answer
            conn.send(("memory", None))
        if outcome[0] == "memory":
            return  # a process that ran out of memory may be in a bad state: replaced


def _answer(handler: Callable[[Any], Any], job: Any) -> tuple[str, Any]:
    try:
        return "ok", handler(job)
    except MemoryError:
        return "memory", None
    except RuntimeError as error:  # torch reports a failed allocation as a RuntimeError
        if "alloc" in str(error):
            return "memory", None
        return "internal", f"{type(error).__name__}: {error}"
    except Exception as error:  # a bug: one line for the server's answer, no traceback
        return "internal", f"{type(error).__name__}: {error}"


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform (Windows): only the time limit holds
        return
    cap = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


class Pool:
    """`size` workers running `handler(job)`; `await pool.run(job)` from the event loop."""

    def __init__(self, handler: Callable[[Any], Any], size: int, limits: Limits,
                 warm_up: Callable[[], None] | None = None) -> None:
        self.handler, self.size, self.limits, self.warm_up = handler, size, limits, warm_up
        self.idle: asyncio.Queue[Worker] = asyncio.Queue()
        self.starting: set[asyncio.Task] = set()
        self.busy: set[Worker] = set()
        self.closed = False
        self.failure: str | None = None  # why the last worker failed to start

    def start(self) -> None:
        for _ in range(self.size):
            self._replace()

    def _replace(self) -> None:
        """Start a worker in the background; it joins the idle queue when ready."""
        task = asyncio.get_running_loop().create_task(self._start_one())
        self.starting.add(task)
        task.add_done_callback(self.starting.discard)

    async def _start_one(self) -> None:
        try:
            worker = await asyncio.to_thread(Worker.start, self.handler, self.limits,
                                             self.warm_up)
        except Exception as error:  # a broken install: say so where the server logs
            self.failure = str(error)
            print(f"matrixcalc serve: {error}", file=sys.stderr)
            return
        if self.closed:
            worker.kill()
        else:
            self.idle.put_nowait(worker)

    async def run(self, job: Any) -> Any:
        if self.failure and not (self.starting or self.busy or self.idle.qsize()):
            raise WorkerError(f"no worker is running: {self.failure}")
        try:
            worker = await asyncio.wait_for(self.idle.get(), self.limits.queue_seconds)
        except asyncio.TimeoutError:  # (an alias of TimeoutError from Python 3.11 on)
            error = LimitError(f"the server is busy: no worker was free within "
                               f"{self.limits.queue_seconds:g} s; try again")
            error.http_status = 503  # the web API's status for it
            raise error from None
        # Shielded: a request whose client went away still finishes with its worker, so
        # that the worker goes back to the queue (or is replaced) only when it is done.
        task = asyncio.ensure_future(self._call(worker, job))
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _call(self, worker: Worker, job: Any) -> Any:
        self.busy.add(worker)
        try:
            status, value = await asyncio.to_thread(worker.call, job, self.limits.seconds)
        except TimeoutError:
            await self._discard(worker)
            raise LimitError(f"the computation took longer than the time limit of "
                             f"{self.limits.seconds:g} s and was stopped",
                             hint="matrixcalc serve --timeout SECONDS raises it") from None
        except WorkerError:
            await self._discard(worker)
            raise
        finally:
            self.busy.discard(worker)
        if status == "memory":
            await self._discard(worker)
            raise LimitError(f"the computation needed more memory than the limit of "
                             f"{self.limits.memory_mb:,} MiB and was stopped",
                             hint="matrixcalc serve --memory MIB raises it")
        self.idle.put_nowait(worker)
        if status == "internal":
            raise WorkerError(value)
        return value

    async def _discard(self, worker: Worker) -> None:
        await asyncio.to_thread(worker.kill)
        if not self.closed:
            self._replace()

    async def close(self) -> None:
        self.closed = True
        for task in list(self.starting):
            task.cancel()
        workers = list(self.busy)
        while not self.idle.empty():
            workers.append(self.idle.get_nowait())
        for worker in workers:
            await asyncio.to_thread(worker.kill)


def _retrieve(task: asyncio.Task) -> None:
    """Mark the outcome of a call whose request was cancelled as seen (no log noise)."""
    if not task.cancelled():
        task.exception()


def default_size() -> int:
    """Two workers, or more on a machine with more cores (at most four)."""
    return max(2, min(4, (os.cpu_count() or 2)))
