"""What the breakage report reads of the ledger: points in and out by cohort."""

from __future__ import annotations

from datetime import date, datetime

from db.queries import queries_beside
from db.types import Conn
from rewards.core.breakage import Flow

sql = queries_beside(__file__)


async def issued(conn: Conn, tenant_id: str, before: datetime, zone: str) -> dict[date, int]:
    rows = await conn.fetch(sql("breakage_issued"), tenant_id, before, zone)
    return {r["cohort"]: r["points"] for r in rows}


async def flows(conn: Conn, tenant_id: str, before: datetime, zone: str) -> list[Flow]:
    rows = await conn.fetch(sql("breakage_flows"), tenant_id, before, zone)
    return [Flow(r["cohort"], r["month"], r["kind"], r["points"]) for r in rows]
