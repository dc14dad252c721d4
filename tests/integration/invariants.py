"""Ledger invariants, checked after every test that moves points."""

from __future__ import annotations

import asyncpg


async def check_ledger(conn: asyncpg.Connection) -> None:
    """Postings sum to zero; every member balance equals its postings; lots hold exactly the
    positive balance; no budget is over-spent, and no budget reservation is left unapplied."""
    assert await conn.fetchval("SELECT coalesce(sum(amount), 0) FROM postings") == 0
    wrong = await conn.fetch(
        """
        SELECT m.tenant_id, m.member_id, m.points_balance, coalesce(p.total, 0) AS postings
        FROM members m
        LEFT JOIN (
            SELECT tenant_id, substr(account_id, 8) AS member_id, sum(amount) AS total
            FROM postings WHERE account_id LIKE 'member:%' GROUP BY 1, 2
        ) p USING (tenant_id, member_id)
        WHERE m.points_balance <> coalesce(p.total, 0)
        """
    )
    assert wrong == [], wrong
    lots = await conn.fetch(
        """
        SELECT m.member_id, m.points_balance, coalesce(sum(l.remaining), 0) AS held
        FROM members m LEFT JOIN lots l USING (tenant_id, member_id)
        GROUP BY m.tenant_id, m.member_id, m.points_balance
        HAVING coalesce(sum(l.remaining), 0) <> greatest(m.points_balance, 0)
        """
    )
    assert lots == [], lots
    assert await conn.fetchval("SELECT count(*) FROM lots WHERE remaining < 0") == 0
    over = await conn.fetch(
        """
        SELECT campaign_id FROM draw_campaigns
        WHERE (definition #>> '{budget,total_points}')::bigint < total_used
        UNION ALL
        SELECT d.campaign_id
        FROM draw_daily_usage d JOIN draw_campaigns c USING (tenant_id, campaign_id)
        WHERE (c.definition #>> '{budget,daily_points}')::bigint < d.used
        UNION ALL
        SELECT rule_id FROM earn_rules
        WHERE (definition #>> '{caps,budget_points}')::bigint < budget_used
        """
    )
    assert over == [], over
    assert await conn.fetchval("SELECT count(*) FROM budget_reservations") == 0
