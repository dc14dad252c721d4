"""Segments: their generations, their members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class Segment(msgspec.Struct, frozen=True):
    segment_id: str
    name: str
    description: str
    generation: int
    members: int
    created_at: datetime
    updated_at: datetime
    created: bool = False


def _segment(row: object) -> Segment:
    return msgspec.convert(dict(row.items()), Segment)  # type: ignore[attr-defined]


async def put(conn: Conn, tenant_id: str, segment_id: str, name: str, description: str) -> Segment:
    row = await conn.fetchrow(sql("segment_put"), tenant_id, segment_id, name, description)
    return _segment(row)


async def ensure(conn: Conn, tenant_id: str, segment_ids: Sequence[str]) -> None:
    if segment_ids:
        await conn.execute(sql("segment_ensure"), tenant_id, sorted(set(segment_ids)))


async def get(conn: Conn, tenant_id: str, segment_id: str) -> Segment | None:
    row = await conn.fetchrow(sql("segment_get"), tenant_id, segment_id)
    return None if row is None else _segment(row)


async def lock(conn: Conn, tenant_id: str, segment_id: str) -> int | None:
    """Lock the segment; its current generation (None: no such segment)."""
    found: int | None = await conn.fetchval(sql("segment_lock"), tenant_id, segment_id)
    return found


async def list_segments(conn: Conn, tenant_id: str, after: str | None, limit: int) -> list[Segment]:
    rows = await conn.fetch(sql("segment_list"), tenant_id, after, limit)
    return [_segment(r) for r in rows]


async def delete(conn: Conn, tenant_id: str, segment_id: str) -> bool:
    return await conn.fetchval(sql("segment_delete"), tenant_id, segment_id) is not None


async def busy(conn: Conn, tenant_id: str, segment_id: str) -> str | None:
    """The membership job of the segment that has not ended, if any."""
    found: str | None = await conn.fetchval(sql("segment_busy"), tenant_id, segment_id)
    return found


async def set_members(
    conn: Conn, tenant_id: str, member_ids: Sequence[str], pairs: Sequence[tuple[str, str]]
) -> None:
    await conn.execute(
        sql("segment_members_set"),
        tenant_id,
        list(member_ids),
        [m for m, _ in pairs],
        [s for _, s in pairs],
    )


async def new_generation(conn: Conn, tenant_id: str, segment_id: str) -> int:
    return int(await conn.fetchval(sql("segment_generation_new"), tenant_id, segment_id))


async def add(
    conn: Conn, tenant_id: str, segment_id: str, generation: int, member_ids: Sequence[str]
) -> int:
    return int(
        await conn.fetchval(
            sql("segment_members_add"), tenant_id, segment_id, generation, list(member_ids)
        )
    )


async def remove(
    conn: Conn, tenant_id: str, segment_id: str, generation: int, member_ids: Sequence[str]
) -> int:
    return int(
        await conn.fetchval(
            sql("segment_members_remove"), tenant_id, segment_id, generation, list(member_ids)
        )
    )


async def switch(conn: Conn, tenant_id: str, segment_id: str, current: int, loaded: int) -> bool:
    found = await conn.fetchval(sql("segment_switch"), tenant_id, segment_id, current, loaded)
    return found is not None


async def member_ids(
    conn: Conn,
    tenant_id: str,
    segment_id: str,
    generation: int,
    as_of: datetime,
    after: str | None,
    limit: int,
) -> list[str]:
    rows = await conn.fetch(
        sql("segment_member_ids"), tenant_id, segment_id, generation, as_of, after, limit
    )
    return [r["member_id"] for r in rows]


async def prune(conn: Conn, before: datetime) -> None:
    await conn.execute(sql("job_segment_prune_generations"), before)
    await conn.execute(sql("job_segment_prune_removed"), before)
