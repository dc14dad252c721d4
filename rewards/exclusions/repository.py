"""Exclusion lists and their entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__)


class ExclusionList(msgspec.Struct, frozen=True):
    list_id: str
    name: str
    match: str
    generation: int
    entries: int
    created_at: datetime
    updated_at: datetime
    created: bool = False


def _list(row: object) -> ExclusionList:
    return msgspec.convert(dict(row.items()), ExclusionList)  # type: ignore[attr-defined]


async def put(conn: Conn, tenant_id: str, list_id: str, name: str, match: str) -> ExclusionList:
    return _list(await conn.fetchrow(sql("exclusion_put"), tenant_id, list_id, name, match))


async def get(conn: Conn, tenant_id: str, list_id: str) -> ExclusionList | None:
    row = await conn.fetchrow(sql("exclusion_get"), tenant_id, list_id)
    return None if row is None else _list(row)


async def list_lists(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[ExclusionList]:
    return [_list(r) for r in await conn.fetch(sql("exclusion_list"), tenant_id, after, limit)]


async def lock(conn: Conn, tenant_id: str, list_id: str) -> int | None:
    """Lock the list; its current generation (None: no such list)."""
    found: int | None = await conn.fetchval(sql("exclusion_lock"), tenant_id, list_id)
    return found


async def delete(conn: Conn, tenant_id: str, list_id: str) -> None:
    await conn.execute(sql("exclusion_delete"), tenant_id, list_id)


async def busy(conn: Conn, tenant_id: str, list_id: str) -> str | None:
    found: str | None = await conn.fetchval(sql("exclusion_busy"), tenant_id, list_id)
    return found


async def new_generation(conn: Conn, tenant_id: str) -> int:
    return int(await conn.fetchval(sql("exclusion_generation_new"), tenant_id))


async def add(
    conn: Conn, tenant_id: str, list_id: str, generation: int, values: Sequence[str]
) -> int:
    return int(
        await conn.fetchval(sql("exclusion_entries_add"), tenant_id, list_id, generation, values)
    )


async def remove(
    conn: Conn, tenant_id: str, list_id: str, generation: int, values: Sequence[str]
) -> int:
    return int(
        await conn.fetchval(sql("exclusion_entries_remove"), tenant_id, list_id, generation, values)
    )


async def switch(conn: Conn, tenant_id: str, list_id: str, current: int, loaded: int) -> None:
    await conn.execute(sql("exclusion_switch"), tenant_id, list_id, current, loaded)


async def changed(conn: Conn, tenant_id: str) -> None:
    await conn.execute(sql("exclusion_changed"), tenant_id)


async def entries(conn: Conn, tenant_id: str) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(sql("exclusion_entries_current"), tenant_id)
    return [(r["list_id"], r["match"], r["value"]) for r in rows]


async def prune(conn: Conn) -> None:
    await conn.execute(sql("job_exclusion_prune_generations"))
