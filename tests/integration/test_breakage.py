"""The breakage report over a ledger of two years: 24 monthly cohorts redeemed along a known
curve whose ultimate redemption rate is 72%; the same bytes on every call, and a report as of
six months ago the same as it was then."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import asyncpg
import msgspec

from tests.dates import CST, month_start
from tests.integration.conftest import Tenant
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

ULTIMATE = 0.72
MEMBERS_PER_COHORT = 60


def curve(k: int) -> float:
    """Cumulative share of a cohort redeemed by age k (months): 72% at 23 months."""
    return ULTIMATE * (1 - (1 - (k + 1) / 24) ** 2)


def ledger() -> tuple[list[tuple[str, str, str, int, str, datetime]], dict[str, int]]:
    """Transfers (debit, credit, member, points, kind, when) and each member's balance."""
    rng = random.Random(72)
    transfers = []
    balances = {}
    for age in range(24, 0, -1):  # cohorts from 24 months ago to last month
        start = month_start(-age)
        for n in range(MEMBERS_PER_COHORT):
            member = f"c{age}-{n}"
            points = rng.randint(500, 5000)
            account = f"member:{member}"
            transfers.append(
                ("program", account, member, points, "earn", start + timedelta(days=2, minutes=n))
            )
            appetite, before = rng.uniform(0.85, 1.15), 0
            for k in range(age):  # months it has been redeeming, the last complete one included
                now = min(round(points * min(curve(k) * appetite, 1.0)), points)
                if now > before:
                    when = month_start(-age + k) + timedelta(days=12, minutes=n)
                    transfers.append(
                        (account, "redeemed", member, now - before, "redemption", when)
                    )
                    before = now
            balances[member] = points - before
    return transfers, balances


async def _insert(
    conn: asyncpg.Connection, tenant: Tenant, rows: list[tuple[str, str, str, int, str, datetime]]
) -> None:
    await conn.execute(
        "INSERT INTO transfers (tenant_id, debit_account, credit_account, member_id, amount, kind,"
        " created_at) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[],"
        " $6::text[], $7::timestamptz[])",
        tenant.id,
        *[list(column) for column in zip(*rows, strict=True)],
    )


async def test_the_breakage_of_two_years_of_cohorts_is_the_curves(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"expiry_months": 24})
    transfers, balances = ledger()
    then = (month_start(-6) + timedelta(days=14)).date()
    await _insert(conn, tenant, [t for t in transfers if t[5].date() < then])

    async def report(**params: object) -> bytes:
        response = await tenant.client.get(
            "/v1/admin/reports/breakage", params=params, headers=tenant.admin
        )
        assert response.status_code == 200, response.text
        return response.content

    as_it_was = await report(as_of=then.isoformat(), value_per_point_minor=1)
    await _insert(conn, tenant, [t for t in transfers if t[5].date() >= then])
    await conn.execute(
        "INSERT INTO members (tenant_id, member_id, points_balance, lifetime_earned)"
        " SELECT $1, m, b, b FROM unnest($2::text[], $3::bigint[]) AS u(m, b)",
        tenant.id,
        list(balances),
        list(balances.values()),
    )
    far = month_start(24)
    await conn.execute(
        "INSERT INTO lots (tenant_id, member_id, amount, remaining, earned_at, available_at,"
        " expires_at) SELECT $1, m, b, b, $4, $4, $5"
        " FROM unnest($2::text[], $3::bigint[]) AS u(m, b) WHERE b > 0",
        tenant.id,
        list(balances),
        list(balances.values()),
        month_start(-1),
        far,
    )

    assert await report(as_of=then.isoformat(), value_per_point_minor=1) == as_it_was
    today = await report(value_per_point_minor=2)
    assert await report(value_per_point_minor=2) == today
    body = msgspec.json.decode(today)
    assert body["through"] == f"{month_start(-1):%Y-%m}"
    assert len(body["cohorts"]) == 24
    assert abs(body["ultimate_redemption_rate"] - ULTIMATE) <= 0.02
    assert body["backtest"]["holdout_months"] == 6
    assert body["backtest"]["mape"] <= 5
    assert body["outstanding"] == sum(balances.values())
    assert body["liability_minor"] == 2 * body["expected_redemptions"]
    assert 0 < body["expected_redemptions"] < body["outstanding"]
    past = msgspec.json.decode(as_it_was)
    assert past["through"] == f"{month_start(-7):%Y-%m}"
    assert len(past["cohorts"]) == 18
    future = await tenant.client.get(
        "/v1/admin/reports/breakage",
        params={"as_of": month_start(2).date().isoformat()},
        headers=tenant.admin,
    )
    assert future.status_code == 422
    await check_ledger(conn)


def fifo(
    transfers: list[tuple[str, str, str, int, str, datetime]],
) -> dict[str, dict[str, int]]:
    """Each cohort's points issued (net of reversals), redeemed and expired, matching every
    member's outs to its ins first in, first out: the slow way, one point at a time."""
    cohorts: dict[str, dict[str, int]] = {}
    queues: dict[str, list[str]] = {}
    for debit, credit, member, points, kind, when in sorted(transfers, key=lambda t: t[5]):
        month = f"{when.astimezone(CST):%Y-%m}"
        if credit == f"member:{member}":
            cohorts.setdefault(month, {"issued": 0, "redeemed": 0, "expired": 0})
            cohorts[month]["issued"] += points
            queues.setdefault(member, []).extend([month] * points)
        elif debit == f"member:{member}":
            queue = queues.setdefault(member, [])
            taken, queues[member] = queue[:points], queue[points:]
            for cohort in taken:
                if kind == "redemption":
                    cohorts[cohort]["redeemed"] += 1
                elif kind in ("expiry", "forfeit"):
                    cohorts[cohort]["expired"] += 1
                else:
                    cohorts[cohort]["issued"] -= 1
    return cohorts


async def test_points_out_are_matched_to_the_months_they_came_in_first_in_first_out(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"expiry_months": 12})
    rng = random.Random(5)
    transfers = []
    for n in range(40):
        member, balance = f"m-{n}", 0
        moments = sorted(
            month_start(-rng.randint(1, 14)) + timedelta(days=rng.randint(0, 27), minutes=i)
            for i in range(rng.randint(1, 25))
        )
        for when in moments:
            if balance <= 0 or rng.random() < 0.5:
                points = rng.randint(1, 400)
                transfers.append(("program", f"member:{member}", member, points, "earn", when))
                balance += points
            else:
                points = rng.randint(1, balance)
                kind = rng.choice(["redemption", "redemption", "expiry", "clawback"])
                account = {"redemption": "redeemed", "expiry": "expired"}.get(kind, "program")
                transfers.append((f"member:{member}", account, member, points, kind, when))
                balance -= points
    await _insert(conn, tenant, transfers)
    response = await tenant.client.get("/v1/admin/reports/breakage", headers=tenant.admin)
    assert response.status_code == 200, response.text
    found = {
        c["cohort"]: {k: c[k] for k in ("issued", "redeemed", "expired")}
        for c in response.json()["cohorts"]
    }
    assert found == fifo(transfers)
