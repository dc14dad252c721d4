"""Background jobs: queued, taken by a worker under a lease, progress, the lines they could
not apply."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.bulk import LineProblem

sql = queries_beside(__file__)

#: The longest an upload may take (a day: gigabytes over a slow link).
UPLOAD_SECONDS = 86_400.0


class JobRow(msgspec.Struct, frozen=True):
    tenant_id: str
    job_id: str
    kind: str
    status: str
    params: dict[str, Any]
    progress_done: int
    progress_total: int | None
    counts: dict[str, Any]
    result: bytes | None
    error: str | None
    checkpoint: dict[str, Any] | None
    attempts: int
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


LineError = LineProblem


def _job(row: Any) -> JobRow:
    return JobRow(
        row["tenant_id"],
        row["job_id"],
        row["kind"],
        row["status"],
        row["params"],
        row["progress_done"],
        row["progress_total"],
        row["counts"],
        row["result"],
        row["error"],
        row["checkpoint"],
        row["attempts"],
        row["created_by"],
        row["created_at"],
        row["started_at"],
        row["finished_at"],
    )


async def insert(
    conn: Conn,
    tenant_id: str,
    job_id: str,
    kind: str,
    params: dict[str, Any],
    actor: str,
    total: int | None,
) -> JobRow | None:
    row = await conn.fetchrow(sql("job_insert"), tenant_id, job_id, kind, params, actor, total)
    return None if row is None else _job(row)


async def get(conn: Conn, tenant_id: str, job_id: str) -> JobRow | None:
    row = await conn.fetchrow(sql("job_get"), tenant_id, job_id)
    return None if row is None else _job(row)


async def list_jobs(
    conn: Conn,
    tenant_id: str,
    kind: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[JobRow]:
    at, job_id = after if after else (None, None)
    rows = await conn.fetch(sql("job_list"), tenant_id, kind, at, job_id, limit)
    return [_job(r) for r in rows]


async def cancel(conn: Conn, tenant_id: str, job_id: str) -> JobRow | None:
    row = await conn.fetchrow(sql("job_cancel"), tenant_id, job_id)
    return None if row is None else _job(row)


async def take(
    conn: Conn,
    kinds: Sequence[str],
    lease_seconds: float,
    worker: str,
    only: tuple[str, str] | None = None,
) -> JobRow | None:
    tenant_id, job_id = only if only else (None, None)
    row = await conn.fetchrow(
        sql("job_take"), list(kinds), lease_seconds, worker, job_id, tenant_id
    )
    return None if row is None else _job(row)


async def progress(
    conn: Conn,
    job: JobRow,
    worker: str,
    lease_seconds: float,
    done: int,
    total: int | None,
    counts: dict[str, Any] | None,
    checkpoint: dict[str, Any] | None,
) -> bool:
    """Renew the lease with the progress; False when the job is no longer this worker's."""
    row = await conn.fetchval(
        sql("job_progress"),
        job.tenant_id,
        job.job_id,
        worker,
        lease_seconds,
        done,
        total,
        counts,
        checkpoint,
    )
    return row is not None


async def finish(
    conn: Conn,
    job: JobRow,
    worker: str,
    status: str,
    result: bytes | None,
    counts: dict[str, Any] | None,
    error: str | None,
    done: int | None,
) -> bool:
    row = await conn.fetchval(
        sql("job_finish"),
        job.tenant_id,
        job.job_id,
        worker,
        status,
        result,
        counts,
        error,
        done,
    )
    return row is not None


async def release(conn: Conn, job: JobRow, worker: str) -> None:
    await conn.execute(sql("job_release"), job.tenant_id, job.job_id, worker)


async def add_errors(conn: Conn, job: JobRow, errors: Sequence[LineError]) -> None:
    if errors:
        await conn.execute(
            sql("job_error_insert"),
            job.tenant_id,
            job.job_id,
            [e.line for e in errors],
            [e.item_id for e in errors],
            [e.problem for e in errors],
        )


async def errors(
    conn: Conn, tenant_id: str, job_id: str, after: int | None, limit: int
) -> list[LineError]:
    rows = await conn.fetch(sql("job_errors_list"), tenant_id, job_id, after, limit)
    return [LineError(r["line"], r["item_id"], r["problem"]) for r in rows]


async def step_joins(conn: Conn) -> None:
    await conn.execute(sql("job_step_joins"))


async def claim_report(
    conn: Conn, job: JobRow, worker: str
) -> tuple[int, dict[str, Any], dict[str, Any] | None] | None:
    """The job's progress, counts and checkpoint, locked (None: no longer this worker's)."""
    row = await conn.fetchrow(sql("job_claim_report"), job.tenant_id, job.job_id, worker)
    return None if row is None else (row["progress_done"], row["counts"], row["checkpoint"])


async def fence(conn: Conn, job: JobRow, worker: str) -> bool:
    """Lock the job for one step (planned with hash joins: ``job_step_joins``); False when
    it is no longer this worker's."""
    if await conn.fetchval(sql("job_fence"), job.tenant_id, job.job_id, worker) is None:
        return False
    await conn.execute(sql("job_step_joins"))
    return True


async def store_lines(
    conn: Conn, tenant_id: str, job_id: str, lines: AsyncIterable[tuple[int, bytes | None]]
) -> None:
    """Copy an uploaded body's lines (number, bytes; None: too long) into ``job_lines``."""

    async def records() -> AsyncIterator[tuple[str, str, int, bytes | None]]:
        async for number, body in lines:
            yield (tenant_id, job_id, number, body)

    # As long as the body takes to arrive (each part of it is due within the request body
    # timeout of the one before), not the pool's command timeout.
    await conn.copy_records_to_table(
        "job_lines",
        records=records(),
        columns=["tenant_id", "job_id", "line", "body"],
        timeout=UPLOAD_SECONDS,
    )


async def read_lines(
    conn: Conn, tenant_id: str, job_id: str, after: int, limit: int, upto: int | None = None
) -> list[tuple[int, bytes | None]]:
    rows = await conn.fetch(sql("job_lines_read"), tenant_id, job_id, after, limit, upto)
    return [(r["line"], r["body"]) for r in rows]


async def drop_lines(conn: Conn, tenant_id: str, job_id: str) -> None:
    await conn.execute(sql("job_lines_drop"), tenant_id, job_id)


async def set_total(conn: Conn, tenant_id: str, job_id: str, total: int) -> None:
    await conn.execute(sql("job_total"), tenant_id, job_id, total)


async def analyze_bulk(conn: Conn) -> None:
    await conn.execute(sql("job_analyze_bulk"))
