"""Members."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from db.queries import queries_beside
from db.rows import one
from db.types import Conn
from rewards.core.records import Member

sql = queries_beside(__file__)


class ListedMember(msgspec.Struct, frozen=True):
    """A member as the operator's list shows it, with the balance."""

    member: Member
    balance: int
    pending: int


async def list_members(
    conn: Conn, tenant_id: str, tier: str | None, segment: str | None, after: str | None, limit: int
) -> list[ListedMember]:
    """Members by id, optionally of one tier and one segment, with their balances."""
    rows = await conn.fetch(sql("member_list"), tenant_id, tier, segment, after, limit)
    return [
        ListedMember(msgspec.convert(dict(r.items()), Member), r["balance"], r["pending"])
        for r in rows
    ]


async def enroll_member(conn: Conn, tenant_id: str, member_id: str) -> None:
    """Enroll the member unless enrolled already."""
    await conn.execute(sql("member_enroll"), tenant_id, member_id)


async def get_member(conn: Conn, tenant_id: str, member_id: str) -> Member | None:
    return one(await conn.fetchrow(sql("member_get"), tenant_id, member_id), Member)


async def upsert_member(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    tier: str | None,
    card_products: list[str],
    status: str | None = None,
) -> None:
    await conn.execute(sql("member_upsert"), tenant_id, member_id, tier, card_products, status)


async def set_status_many(
    conn: Conn, tenant_id: str, member_ids: Sequence[str], status: str
) -> list[str]:
    rows = await conn.fetch(sql("member_status_many"), tenant_id, list(member_ids), status)
    return sorted(r["member_id"] for r in rows)
