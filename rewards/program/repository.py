"""Program settings, earn rules and draw campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.campaigns import DrawCampaign
from rewards.core.earning import EarnRule
from rewards.core.program import Program
from rewards.core.replay_config import Version

sql = queries_beside(__file__)


async def put_program(conn: Conn, tenant_id: str, document: dict[str, Any]) -> int:
    """Store the program; the program version this change made."""
    version: int = await conn.fetchval(sql("program_put"), tenant_id, document)
    return version


async def bump_rules_version(conn: Conn, tenant_id: str, default: dict[str, Any]) -> int:
    """Make every worker rebuild its compiled rules of this tenant; the new version."""
    version: int = await conn.fetchval(sql("program_bump_rules_version"), tenant_id, default)
    return version


async def record_version(
    conn: Conn,
    tenant_id: str,
    kind: str,
    object_id: str,
    version: int,
    document: dict[str, Any] | None,
) -> None:
    """Keep a version of the program, a rule or a campaign (None: deleted)."""
    await conn.execute(sql("config_history_insert"), tenant_id, kind, object_id, version, document)


async def version_as_of(
    conn: Conn, tenant_id: str, kind: str, object_id: str, moment: datetime
) -> tuple[dict[str, Any] | None, datetime] | None:
    """The version of an object in force at a moment (its document, None if deleted then,
    and since when), or None when it did not exist yet."""
    row = await conn.fetchrow(sql("config_history_as_of"), tenant_id, kind, object_id, moment)
    return None if row is None else (row["document"], row["valid_from"])


async def versions_upto(conn: Conn, tenant_id: str, version: int) -> list[Version]:
    """Every version of the program, rules and campaigns up to a program version."""
    rows = await conn.fetch(sql("config_history_programmed"), tenant_id, version)
    return [Version(*r) for r in rows]


async def insert_rule(
    conn: Conn, tenant_id: str, rule_id: str, document: dict[str, Any], active: bool
) -> bool:
    return (
        await conn.fetchval(sql("earn_rule_insert"), tenant_id, rule_id, document, active)
        is not None
    )


async def get_rule(conn: Conn, tenant_id: str, rule_id: str) -> tuple[EarnRule, int] | None:
    row = await conn.fetchrow(sql("earn_rule_get"), tenant_id, rule_id)
    if row is None:
        return None
    return msgspec.convert(row["definition"], EarnRule), row["budget_used"]


async def list_rules(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[tuple[EarnRule, int]]:
    rows = await conn.fetch(sql("earn_rule_list"), tenant_id, after, limit)
    return [(msgspec.convert(r["definition"], EarnRule), r["budget_used"]) for r in rows]


async def update_rule(
    conn: Conn, tenant_id: str, rule_id: str, document: dict[str, Any], active: bool
) -> None:
    await conn.execute(sql("earn_rule_update"), tenant_id, rule_id, document, active)


async def delete_rule(conn: Conn, tenant_id: str, rule_id: str) -> None:
    await conn.execute(sql("earn_rule_delete"), tenant_id, rule_id)


async def insert_campaign(
    conn: Conn,
    tenant_id: str,
    campaign: DrawCampaign,
    document: dict[str, Any],
    secret: bytes,
    commitment: str,
) -> bool:
    created = await conn.fetchval(
        sql("campaign_insert"),
        tenant_id,
        campaign.id,
        document,
        secret,
        commitment,
        campaign.starts_at,
        campaign.ends_at,
    )
    return created is not None


async def get_campaign(conn: Conn, tenant_id: str, campaign_id: str) -> CampaignRow | None:
    row = await conn.fetchrow(sql("campaign_get"), tenant_id, campaign_id)
    return None if row is None else campaign_row(row)


async def list_campaigns(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[CampaignRow]:
    return [
        campaign_row(r) for r in await conn.fetch(sql("campaign_list"), tenant_id, after, limit)
    ]


async def campaign_stats(
    conn: Conn, tenant_id: str, campaign_id: str
) -> tuple[int, int, dict[str, int]]:
    """Draws made, bonus points paid, and how often each multiplier was paid."""
    row = await conn.fetchrow(sql("campaign_stats"), tenant_id, campaign_id)
    assert row is not None
    return row["draws"], row["bonus_paid"], {str(k): int(v) for k, v in row["prize_counts"].items()}


class DrawRow(msgspec.Struct, frozen=True):
    transaction_id: str
    drawn: int
    paid: int
    points: int
    proof: str


async def campaign_draws(conn: Conn, tenant_id: str, campaign_id: str, limit: int) -> list[DrawRow]:
    rows = await conn.fetch(sql("campaign_draws"), tenant_id, campaign_id, limit)
    return [
        DrawRow(r["transaction_id"], r["drawn"], r["paid"], r["points"], r["proof"]) for r in rows
    ]


class CampaignRow(msgspec.Struct, frozen=True):
    campaign: DrawCampaign
    secret: bytes
    commitment: str
    total_used: int
    created_at: datetime


async def load_program(conn: Conn, tenant_id: str) -> tuple[Program | None, int]:
    row = await conn.fetchrow(sql("program_get"), tenant_id)
    if row is None:
        return None, 0
    return msgspec.convert(row["config"], Program), row["rules_version"]


async def load_rules(conn: Conn, tenant_id: str) -> list[EarnRule]:
    rows = await conn.fetch(sql("earn_rules_all"), tenant_id)
    return [msgspec.convert(row["definition"], EarnRule) for row in rows]


def campaign_row(row: Any) -> CampaignRow:
    return CampaignRow(
        msgspec.convert(row["definition"], DrawCampaign),
        bytes(row["secret"]),
        row["commitment"],
        row["total_used"],
        row["created_at"],
    )


async def load_campaigns(conn: Conn, tenant_id: str) -> list[CampaignRow]:
    return [campaign_row(row) for row in await conn.fetch(sql("campaigns_all"), tenant_id)]


async def program_version(conn: Conn, tenant_id: str) -> int:
    """The program's version (0: none yet), which moves with every change of its rules."""
    version: int = await conn.fetchval(sql("program_version"), tenant_id)
    return version
