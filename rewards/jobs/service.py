"""Use case: background jobs — replays now, the bulk imports and grants later — queued by
the operator, worked on by any serving process, readable while they run.

A job is a row of ``jobs``. A worker takes the oldest waiting one with ``FOR UPDATE SKIP
LOCKED`` and holds it by a lease it renews with each report of progress; a worker that
dies stops renewing, and once the lease has run out any other worker takes the job up again
(its handler resumes from the checkpoint it last reported, or starts over). A cancelled job
is noticed at the next report of progress. The handlers are given by the composition root
(``api/wiring.py``): this package knows no kind of job.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import Any, Protocol, TypeVar

import asyncpg
import msgspec

from db.pool import acquire
from db.types import Conn
from rewards.core.bulk import Spans, add_span, next_read
from rewards.core.errors import AlreadyExists, Conflict, NotFound, RewardsError
from rewards.core.events import completed
from rewards.events import service as events
from rewards.jobs import repository as job_db
from rewards.jobs.lines import Counted, numbered_lines

_log = logging.getLogger("rewards.jobs")

Job = job_db.JobRow
LineError = job_db.LineError

#: How many times a job is taken up again after its worker died before it is failed.
MAX_ATTEMPTS = 5


class JobNotRunning(Conflict):
    type = "job_not_running"
    title = "The job is not running"


def new_job_id() -> str:
    return "job_" + secrets.token_hex(8)


async def submit(
    conn: Conn,
    tenant_id: str,
    actor: str,
    kind: str,
    params: dict[str, Any],
    *,
    job_id: str | None = None,
    total: int | None = None,
) -> Job:
    """Queue a job; any serving process (or the command line) works on it."""
    created = await job_db.insert(
        conn, tenant_id, job_id or new_job_id(), kind, params, actor, total
    )
    if created is None:
        raise AlreadyExists(f"job {job_id} exists already")
    return created


async def get(conn: Conn, tenant_id: str, job_id: str, kind: str | None = None) -> Job:
    found = await job_db.get(conn, tenant_id, job_id)
    if found is None or (kind is not None and found.kind != kind):
        raise NotFound(f"no {kind or 'job'} {job_id}")
    return found


async def list_jobs(
    conn: Conn,
    tenant_id: str,
    kind: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Job]:
    return await job_db.list_jobs(conn, tenant_id, kind, after, limit)


async def cancel(conn: Conn, tenant_id: str, job_id: str, kind: str | None = None) -> Job:
    """Cancel a queued or running job (its worker stops at its next report of progress).

    Raises:
        NotFound: no such job.
        JobNotRunning: it has finished already.
    """
    current = await get(conn, tenant_id, job_id, kind)
    cancelled = await job_db.cancel(conn, tenant_id, job_id)
    if cancelled is None:
        raise JobNotRunning(f"job {job_id} is {current.status}; only a running job is cancelled")
    await job_db.drop_lines(conn, tenant_id, job_id)
    return cancelled


async def store_lines(conn: Conn, tenant_id: str, job_id: str, chunks: AsyncIterable[bytes]) -> int:
    """Keep an uploaded body's lines for the job (in the caller's transaction, streamed:
    memory does not grow with the body); the job's total is the number of lines."""
    counted = Counted()
    await job_db.store_lines(conn, tenant_id, job_id, numbered_lines(chunks, counted))
    await job_db.set_total(conn, tenant_id, job_id, counted.lines)
    return counted.lines


async def errors(
    conn: Conn, tenant_id: str, job_id: str, after: int | None, limit: int
) -> list[LineError]:
    await get(conn, tenant_id, job_id)
    return await job_db.errors(conn, tenant_id, job_id, after, limit)


# --- working on jobs -----------------------------------------------------------------------


class Lost(Exception):
    """The job is no longer this worker's: cancelled, or taken over after a lapsed lease."""


class Stopping(Exception):
    """This worker is stopping (its process shuts down): the job goes back at once."""


class Outcome(msgspec.Struct, frozen=True):
    """What a finished job leaves: its result document and its counts."""

    result: bytes | None = None
    counts: dict[str, Any] | None = None


class Work:
    """A job as its handler sees it: its parameters, where it last got to, and the means to
    report progress (which renews the lease and notices a cancel) and lines it could not
    apply."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        job: Job,
        worker: str,
        lease_seconds: float,
        stop: asyncio.Event,
        on_progress: Callable[[int, int | None], None] | None = None,
        dsn: str | None = None,
    ) -> None:
        self.pool = pool
        self.dsn = dsn  # where a handler's child processes connect
        self.on_progress = on_progress
        self.job = job
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.stop = stop
        self.done = job.progress_done
        self.total = job.progress_total
        self.counts: dict[str, Any] = dict(job.counts)

    @property
    def tenant_id(self) -> str:
        return self.job.tenant_id

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    @property
    def checkpoint(self) -> dict[str, Any] | None:
        """Where the job got to before its last worker stopped (None: from the start)."""
        return self.job.checkpoint

    async def progress(
        self,
        done: int,
        total: int | None = None,
        *,
        counts: dict[str, Any] | None = None,
        checkpoint: dict[str, Any] | None = None,
        errors: Sequence[LineError] = (),
    ) -> None:
        """Report progress (and the lines that failed since the last report), renewing the
        lease; the checkpoint is written in the same transaction as the errors.

        Raises:
            Lost: the job was cancelled or another worker has it now.
            Stopping: this process is shutting down.
        """
        self.done, self.total = done, total if total is not None else self.total
        async with acquire(self.pool) as conn, conn.transaction():
            await job_db.add_errors(conn, self.job, errors)
            kept = await job_db.progress(
                conn, self.job, self.worker, self.lease_seconds, done, total, counts, checkpoint
            )
        if not kept:
            raise Lost(self.job.job_id)
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        if self.stop.is_set():
            raise Stopping(self.job.job_id)

    @contextlib.asynccontextmanager
    async def step(self) -> AsyncIterator[Step]:
        """One step of a job's work in one transaction with its report: the writes a step
        makes and the checkpoint it reports commit together or not at all, so a job taken
        up again after its worker died applies every line exactly once.

        Raises:
            Lost: the job was cancelled or another worker has it now (nothing is written).
            Stopping: this process is shutting down (after the step committed).
        """
        async with acquire(self.pool) as conn, conn.transaction():
            if not await job_db.fence(conn, self.job, self.worker):
                raise Lost(self.job.job_id)
            current = Step(conn)
            yield current
            if current.report is not None:
                done, total, counts, checkpoint, errors = current.report
                self.done, self.total = done, total if total is not None else self.total
                await job_db.add_errors(conn, self.job, errors)
                await job_db.progress(
                    conn,
                    self.job,
                    self.worker,
                    self.lease_seconds,
                    done,
                    total,
                    counts,
                    checkpoint,
                )
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        if self.stop.is_set():
            raise Stopping(self.job.job_id)

    async def keep_statistics(self, steps: int) -> None:
        """After a job's 1st, 16th and 256th step, bring the planner's statistics of the
        tables bulk jobs grow up to date (outside the step's transaction), so that a table
        that grew from nothing is not planned as empty; autovacuum keeps them after."""
        if steps in (1, 16, 256):
            async with acquire(self.pool) as conn:
                await job_db.analyze_bulk(conn)

    @contextlib.asynccontextmanager
    async def span_step(self, after: int, last: int, lines: int) -> AsyncIterator[SpanStep]:
        """A step over the lines (after, last] that may run beside other steps of the job:
        at its end it takes the job's report (the other steps wait there for it to commit)
        and adds its span and counts to it, so the checkpoint says exactly which lines are
        done whichever step commits first.

        Raises:
            Lost: the job was cancelled or another worker has it now (nothing is written).
            Stopping: this process is shutting down (after the step committed).
        """
        async with acquire(self.pool) as conn, conn.transaction():
            await job_db.step_joins(conn)
            current = SpanStep(conn)
            yield current
            claimed = await job_db.claim_report(conn, self.job, self.worker)
            if claimed is None:
                raise Lost(self.job.job_id)
            _, _, checkpoint = claimed
            merged = add_span(
                msgspec.convert(checkpoint or {}, Spans), after, last, lines, current.counts
            )
            await job_db.add_errors(conn, self.job, current.errors)
            await job_db.progress(
                conn,
                self.job,
                self.worker,
                self.lease_seconds,
                merged.done,
                None,
                merged.counts,
                msgspec.to_builtins(merged),
            )
            self.done, self.counts = merged.done, dict(merged.counts)
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)
        if self.stop.is_set():
            raise Stopping(self.job.job_id)

    async def lines(
        self, after: int, limit: int, upto: int | None = None
    ) -> list[tuple[int, bytes | None]]:
        """The uploaded lines after line ``after`` (up to ``upto``), as (number, bytes; None:
        too long)."""
        async with acquire(self.pool) as conn:
            return await job_db.read_lines(
                conn, self.tenant_id, self.job.job_id, after, limit, upto
            )


@contextlib.asynccontextmanager
async def connection(work: Work) -> AsyncIterator[Conn]:
    """A connection of the job's pool, for reads outside a step."""
    async with acquire(work.pool) as conn:
        yield conn


class Chunk(Protocol):
    """Lines (after, last] of an upload as a job read them, and the members they name."""

    @property
    def last(self) -> int: ...

    @property
    def members(self) -> frozenset[str]: ...


C = TypeVar("C", bound=Chunk)


async def work_beside(
    work: Work,
    read: Callable[[int], Coroutine[Any, Any, C | None]],
    apply: Callable[[C], Awaitable[None]],
    start: int,
    beside: int = 2,
) -> None:
    """Apply an upload's chunks, up to ``beside`` steps at a time (each a ``span_step`` on a
    connection of its own, run again after a deadlock), the next chunk read meanwhile. Two
    chunks that name the same member never run at once, so each line is decided as it would
    be one after the other. ``read(after)`` gives the chunk after a line (None: the end)."""
    in_flight: dict[asyncio.Task[None], frozenset[str]] = {}
    reading = asyncio.create_task(read(start))
    steps = 0

    async def one_ends() -> None:
        nonlocal steps
        ended, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        for task in ended:
            del in_flight[task]
            task.result()
            steps += 1
            await work.keep_statistics(steps)

    try:
        while (chunk := await reading) is not None:
            reading = asyncio.create_task(read(chunk.last))
            while len(in_flight) >= beside or any(chunk.members & m for m in in_flight.values()):
                await one_ends()
            step = asyncio.create_task(retrying(functools.partial(apply, chunk)))
            in_flight[step] = chunk.members
        while in_flight:
            await one_ends()
    except BaseException:
        for task in [reading, *in_flight]:
            task.cancel()
        await asyncio.gather(reading, *in_flight, return_exceptions=True)
        raise


async def read_beside(
    work: Work, spans: Spans, after: int, limit: int
) -> tuple[int, int, list[tuple[int, bytes | None]]] | None:
    """The next lines after line ``after``, skipping the spans an earlier worker did beyond
    its checkpoint: (after, last, lines) — the chunk covers (after, last] — or None at the
    end."""
    while True:
        after, upto = next_read(spans, after)
        lines = await work.lines(after, limit, upto)
        if lines or upto is None:
            break
        after = upto  # nothing left before the next span done already
    if not lines:
        return None
    last = lines[-1][0] if len(lines) == limit or upto is None else upto
    return after, last, lines


class SpanStep:
    """A step beside others: its connection (in its transaction), its counts and the lines
    it could not apply, added to the job's when it commits."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.counts: dict[str, int] = {}
        self.errors: Sequence[LineError] = ()


class Step:
    """One step's connection (in its transaction), and what it reports when it commits."""

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.report: (
            tuple[
                int, int | None, dict[str, Any] | None, dict[str, Any] | None, Sequence[LineError]
            ]
            | None
        ) = None

    def progress(
        self,
        done: int,
        total: int | None = None,
        *,
        counts: dict[str, Any] | None = None,
        checkpoint: dict[str, Any] | None = None,
        errors: Sequence[LineError] = (),
    ) -> None:
        self.report = (done, total, counts, checkpoint, errors)


Handler = Callable[[Work], Awaitable[Outcome]]
T = TypeVar("T")


async def retrying(attempt: Callable[[], Awaitable[T]], times: int = 5) -> T:
    """Run a step again when PostgreSQL rolled it back for a deadlock or a serialization
    failure (a step is one transaction: nothing of the failed try was written)."""
    for n in range(times - 1):
        try:
            return await attempt()
        except asyncpg.exceptions.TransactionRollbackError:
            await asyncio.sleep(0.05 * (n + 1))
    return await attempt()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Runner:
    """Takes waiting jobs of the kinds it has handlers for, one at a time, until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        worker: str | None = None,
        on_progress: Callable[[int, int | None], None] | None = None,
        dsn: str | None = None,
    ) -> None:
        self.pool = pool
        self.dsn = dsn
        self.on_progress = on_progress
        self.handlers = dict(handlers)
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.worker = worker or worker_name()
        self.stop = asyncio.Event()

    async def run(self) -> None:
        """Work on jobs until :attr:`stop` is set."""
        while not self.stop.is_set():
            if not await self.run_one():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), self.poll_seconds)

    async def run_one(self, only: tuple[str, str] | None = None) -> Job | None:
        """Take one waiting job (``only``: that tenant's job) and work on it to its end; the
        job as it ended, or None when none was waiting."""
        async with acquire(self.pool) as conn:
            job = await job_db.take(
                conn, sorted(self.handlers), self.lease_seconds, self.worker, only
            )
        if job is None:
            return None
        await self._work(job)
        async with acquire(self.pool) as conn:
            return await job_db.get(conn, job.tenant_id, job.job_id)

    async def _work(self, job: Job) -> None:
        work = Work(
            self.pool, job, self.worker, self.lease_seconds, self.stop, self.on_progress, self.dsn
        )
        if job.attempts > MAX_ATTEMPTS:
            await self._finish(job, "failed", error="its worker stopped too many times")
            return
        _log.info("job started", extra={"fields": {"job_id": job.job_id, "kind": job.kind}})
        try:
            outcome = await self.handlers[job.kind](work)
        except Lost:
            _log.info("job left", extra={"fields": {"job_id": job.job_id}})
            return
        except Stopping:
            async with acquire(self.pool) as conn:
                await job_db.release(conn, job, self.worker)
            return
        except RewardsError as exc:
            await self._finish(job, "failed", error=exc.detail)
            return
        except Exception:
            _log.exception("job %s failed", job.job_id)
            await self._finish(job, "failed", error="the job failed on an internal error")
            return
        await self._finish(
            job, "done", result=outcome.result, counts=outcome.counts, done=work.total
        )

    async def _finish(
        self,
        job: Job,
        status: str,
        *,
        result: bytes | None = None,
        counts: dict[str, Any] | None = None,
        error: str | None = None,
        done: int | None = None,
    ) -> None:
        async with acquire(self.pool) as conn, conn.transaction():
            if await job_db.finish(conn, job, self.worker, status, result, counts, error, done):
                await job_db.drop_lines(conn, job.tenant_id, job.job_id)
                # Announced once: in the transaction that marks it done.
                event = completed(job.kind, job.job_id, job.params, counts)
                if status == "done" and event is not None:
                    await events.emit(conn, job.tenant_id, [event])
