"""Member imports: the members a chunk names, the lines they were last imported from, and
what the lines said of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from msgspec import UNSET

from db.queries import queries_beside
from db.types import Conn
from rewards.core.imports import Parsed, Prior

sql = queries_beside(__file__)


async def lock_existing(conn: Conn, tenant_id: str, member_ids: Sequence[str]) -> set[str]:
    rows = await conn.fetch(sql("import_members_lock"), tenant_id, sorted(member_ids))
    return {r["member_id"] for r in rows}


async def priors(conn: Conn, tenant_id: str, member_ids: Sequence[str]) -> dict[str, Prior]:
    rows = await conn.fetch(sql("import_priors"), tenant_id, list(member_ids))
    return {
        r["member_id"]: Prior(r["job_id"], r["line"], r["digest"], r["lots_digest"]) for r in rows
    }


async def referrers(conn: Conn, tenant_id: str, member_ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(sql("import_referrers"), tenant_id, list(member_ids))
    return {r["referee_id"]: r["referrer_id"] for r in rows}


async def save_members(
    conn: Conn,
    tenant_id: str,
    lines: Sequence[Parsed],
    existing: set[str],
    month: date,
    opening: Mapping[str, int],
) -> None:
    """The members the lines name: made with what they say when new (with their opening
    balance), else updated."""
    rows = _rows(lines)
    made = [r for r in rows if r["member_id"] not in existing]
    changed = [r for r in rows if r["member_id"] in existing]
    if made:
        await conn.execute(
            sql("import_members_create"),
            tenant_id,
            made,
            month,
            list(opening),
            list(opening.values()),
        )
    if changed:
        await conn.execute(
            sql("import_members_update"),
            tenant_id,
            changed,
            month,
            [r["member_id"] for r in changed],
        )


def _rows(lines: Sequence[Parsed]) -> list[dict[str, object]]:
    rows = []
    for p in lines:
        m = p.member
        rows.append(
            {
                "member_id": m.member_id,
                "has_tier": m.tier is not UNSET,
                "tier": None if m.tier is UNSET else m.tier,
                "card_products": None if m.card_products is UNSET else sorted(set(m.card_products)),
                "status": None if m.status is UNSET else m.status,
                "spend": None if m.spend_12m_minor is UNSET else m.spend_12m_minor,
            }
        )
    return rows


async def save_records(conn: Conn, tenant_id: str, job_id: str, lines: Sequence[Parsed]) -> None:
    if lines:
        await conn.execute(
            sql("import_records_save"),
            tenant_id,
            job_id,
            [
                {
                    "member_id": p.member.member_id,
                    "line": p.line,
                    "digest": p.digest.hex(),
                    "lots_digest": p.lots_digest.hex(),
                }
                for p in lines
            ],
        )


async def save_referrals(conn: Conn, tenant_id: str, links: Sequence[tuple[str, str]]) -> None:
    if links:
        await conn.execute(
            sql("import_referrals_save"),
            tenant_id,
            [referee for referee, _ in links],
            [referrer for _, referrer in links],
        )
