"""Background jobs: queued, taken by a worker under a lease, progress, the lines they could
not apply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


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


class LineError(msgspec.Struct, frozen=True):
    """A line (or item) a job could not apply, and why."""

    line: int
    item_id: str | None
    problem: str


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
