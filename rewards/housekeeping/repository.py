"""The periodic job's advisory lock: one process at a time runs it."""

from __future__ import annotations

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


async def try_job_lock(conn: Conn, key: int) -> bool:
    return bool(await conn.fetchval(sql("job_try_lock"), key))


async def job_unlock(conn: Conn, key: int) -> None:
    await conn.execute(sql("job_unlock"), key)
