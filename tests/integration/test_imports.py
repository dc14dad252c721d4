"""Moving a running program in: members with their opening lots, tiers, segments, spend and
referral links, from NDJSON or CSV; a re-import changes nothing, a changed line updates, a
changed lot is refused; bad lines are reported and do not stop the others."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from tests.dates import NOW, days_ago, month_start
from tests.integration.bulk import CSV, import_members, job_errors, ndjson
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger

EARNED = days_ago(400)
SOON = month_start(2)
LATER = month_start(14)


def lines() -> list[dict[str, Any]]:
    return [
        {
            "member_id": "imp-1",
            "tier": "gold",
            "segments": ["vip", "car"],
            "card_products": ["car-owner"],
            "status": "active",
            "spend_12m_minor": 1_200_000,
            "opening_lots": [
                {"points": 500, "earned_at": EARNED.isoformat(), "expires_at": SOON.isoformat()},
                {"points": 700, "earned_at": days_ago(30).isoformat(), "expires_at": None},
            ],
        },
        {
            "member_id": "imp-2",
            "referred_by": "imp-1",
            "opening_lots": [
                {
                    "points": 90,
                    "earned_at": days_ago(10).isoformat(),
                    "expires_at": LATER.isoformat(),
                }
            ],
        },
        {"member_id": "imp-3", "tier": "silver", "status": "suspended"},
    ]


async def balance(tenant: Tenant, member_id: str) -> int:
    found = await tenant.client.get(f"/v1/admin/members/{member_id}", headers=tenant.admin)
    assert found.status_code == 200, found.text
    points: int = found.json()["balance"]["available"]
    return points


async def test_an_import_carries_members_over_and_a_second_one_changes_nothing(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    job = await import_members(tenant, ndjson(lines()))
    assert job["status"] == "done", job
    assert job["counts"] == {"created": 3, "updated": 0, "unchanged": 0, "failed": 0}
    assert job["progress"] == {"done": 3, "total": 3}
    assert await balance(tenant, "imp-1") == 1200
    assert await balance(tenant, "imp-2") == 90
    member = (await tenant.client.get("/v1/admin/members/imp-1", headers=tenant.admin)).json()
    assert (member["tier"], member["segments"], member["card_products"]) == (
        "gold",
        ["car", "vip"],
        ["car-owner"],
    )
    assert (await tenant.client.get("/v1/admin/members/imp-3", headers=tenant.admin)).json()[
        "status"
    ] == "suspended"
    # Each lot kept its expiry; the earning dates are in the opening transfer.
    lots = await conn.fetch(
        "SELECT amount, earned_at, expires_at FROM lots WHERE tenant_id = $1 AND member_id = $2"
        " ORDER BY expires_at NULLS LAST",
        tenant.id,
        "imp-1",
    )
    assert [(r["amount"], r["expires_at"]) for r in lots] == [(500, SOON), (700, None)]
    assert lots[0]["earned_at"] == EARNED
    opening = await conn.fetch(
        "SELECT debit_account, amount, kind, detail FROM transfers WHERE tenant_id = $1",
        tenant.id,
    )
    assert {(r["debit_account"], r["kind"]) for r in opening} == {("opening_balances", "opening")}
    assert sum(r["amount"] for r in opening) == 1290
    referral = await conn.fetchrow(
        "SELECT referrer_id, status, attached_by FROM referrals WHERE tenant_id = $1",
        tenant.id,
    )
    assert tuple(referral) == ("imp-1", "imported", "import")
    assert (
        await conn.fetchval(
            "SELECT opening_spend_minor FROM members WHERE tenant_id = $1 AND member_id = 'imp-1'",
            tenant.id,
        )
        == 1_200_000
    )

    again = await import_members(tenant, ndjson(lines()))
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "failed": 0}
    assert await conn.fetchval(
        "SELECT count(*) FROM transfers WHERE tenant_id = $1", tenant.id
    ) == len(opening)
    await check_ledger(conn)


async def test_a_changed_line_updates_and_a_changed_lot_is_refused(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await import_members(tenant, ndjson(lines()))
    changed = lines()
    changed[0]["tier"] = "platinum"  # updated
    changed[1]["opening_lots"][0]["points"] = 9000  # a second posting: refused
    job = await import_members(tenant, ndjson(changed))
    assert job["counts"] == {"created": 0, "updated": 1, "unchanged": 1, "failed": 1}
    errors = await job_errors(tenant, job["id"])
    assert list(errors) == [2], errors
    assert errors[2].startswith("409"), errors
    assert (await tenant.client.get("/v1/admin/members/imp-1", headers=tenant.admin)).json()[
        "tier"
    ] == "platinum"
    assert await balance(tenant, "imp-2") == 90
    await check_ledger(conn)


async def test_csv_says_the_same_as_ndjson(tenant: Tenant, other_tenant: Tenant) -> None:
    header = "member_id,tier,segments,card_products,status,spend_12m_minor,referred_by,opening_lots"
    body = "\n".join(
        [
            header,
            f"imp-1,gold,vip;car,car-owner,active,1200000,,"
            f"500/{EARNED.isoformat()}/{SOON.isoformat()};700/{days_ago(30).isoformat()}/",
            f"imp-2,,,,,,imp-1,90/{days_ago(10).isoformat()}/{LATER.isoformat()}",
            "imp-3,silver,,,suspended,,,",
        ]
    ).encode()
    by_csv = await import_members(tenant, body, CSV)
    by_ndjson = await import_members(other_tenant, ndjson(lines()))
    assert by_csv["counts"] == by_ndjson["counts"], await job_errors(tenant, by_csv["id"])
    for who in ("imp-1", "imp-2", "imp-3"):
        a = (await tenant.client.get(f"/v1/admin/members/{who}", headers=tenant.admin)).json()
        b = (
            await other_tenant.client.get(f"/v1/admin/members/{who}", headers=other_tenant.admin)
        ).json()
        assert {k: v for k, v in a.items() if k != "created_at"} == {
            k: v for k, v in b.items() if k != "created_at"
        }


async def test_bad_lines_are_reported_and_do_not_stop_the_others(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    good = ndjson(
        [
            {
                "member_id": f"ok-{n}",
                "opening_lots": [{"points": 10, "earned_at": days_ago(5).isoformat()}],
            }
            for n in range(3)
        ]
    )
    bad = [
        b'{"member_id": "nul-\x00"}',
        b'{"member_id": "latin-\xff"}',
        b'{"member_id": "huge", "tier": "' + b"x" * (10 << 20) + b'"}',
        b'{"member_id": "ok-0"}',  # ok-0 is on line 1 already
        b'{"member_id": "late", "opening_lots": [{"points": 5, "earned_at": "'
        + days_ago(1).isoformat().encode()
        + b'", "expires_at": "'
        + days_ago(2).isoformat().encode()
        + b'"}]}',
        b'{"member_id": "who", "colour": "red"}',
        b"not json at all",
        b'{"member_id": "bad id with spaces"}',
        b'{"member_id": "neg", "opening_lots": [{"points": -5, "earned_at": "'
        + days_ago(1).isoformat().encode()
        + b'"}]}',
        b'{"member_id": "self", "referred_by": "self"}',
    ]
    body = good + b"\n".join(bad) + b"\n" + ndjson([{"member_id": "after-the-bad"}])
    job = await import_members(tenant, body)
    assert job["status"] == "done", job
    errors = await job_errors(tenant, job["id"])
    assert sorted(errors) == list(range(4, 4 + len(bad))), errors
    assert "NUL" in errors[4]
    assert "UTF-8" in errors[5]
    assert "1 MiB" in errors[6]
    assert "line 1" in errors[7]
    assert "before it was earned" in errors[8]
    assert job["counts"] == {"created": 4, "updated": 0, "unchanged": 0, "failed": len(bad)}
    # Nothing of a bad line was written: only the good lines' members exist.
    names = {
        r["member_id"]
        for r in await conn.fetch("SELECT member_id FROM members WHERE tenant_id = $1", tenant.id)
    }
    assert names == {"ok-0", "ok-1", "ok-2", "after-the-bad"}
    assert await balance(tenant, "ok-0") == 10
    await check_ledger(conn)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", b'{"member_id": "x"}'), ("text/csv", b"name,tier\nx,gold\n")],
)
async def test_a_body_that_is_not_an_import_is_refused(
    tenant: Tenant, conn: asyncpg.Connection, content_type: str, body: bytes
) -> None:
    response = await tenant.client.post(
        "/v1/admin/imports/members",
        content=body,
        headers=tenant.admin | {"Content-Type": content_type},
    )
    if content_type == "application/json":
        assert response.status_code == 415, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert await conn.fetchval("SELECT count(*) FROM jobs WHERE tenant_id = $1", tenant.id) == 0
    else:  # a CSV without member_id: the job fails, saying why, and writes nothing
        assert response.status_code == 202
        from tests.integration.bulk import wait_job

        job = await wait_job(tenant, response.json()["job_id"])
        assert job["status"] == "failed"
        assert "member_id" in job["error"]
    assert await conn.fetchval("SELECT count(*) FROM members WHERE tenant_id = $1", tenant.id) == 0


async def test_imported_lots_expire_and_are_spent_as_before(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    from api.wiring import UPKEEP
    from rewards.housekeeping import service as housekeeping

    await import_members(tenant, ndjson(lines()))
    assert (await tenant.hook(purchase("after-import", "imp-1"))).status_code == 200
    ran = await housekeeping.run(conn, SOON + timedelta(seconds=1), also=UPKEEP)
    assert ran is not None
    assert ran.get(tenant.id) == 500
    expired = await conn.fetchval(
        "SELECT sum(amount) FROM transfers WHERE tenant_id = $1 AND kind = 'expiry'", tenant.id
    )
    assert expired == 500
    await check_ledger(conn)
    assert NOW  # the dates above are from the run's start


async def test_an_empty_file_imports_nothing_and_says_so(tenant: Tenant) -> None:
    job = await import_members(tenant, b"\n\n")
    assert job["status"] == "done", job
    assert job["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}


async def test_a_finished_import_is_announced_once_to_the_bank(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "INSERT INTO programs (tenant_id, config) VALUES ($1, $2)"
        " ON CONFLICT (tenant_id) DO UPDATE SET config = EXCLUDED.config",
        tenant.id,
        {"webhook_url": "https://hooks.bank.invalid/events"},
    )
    job = await import_members(tenant, ndjson(lines()))
    assert job["status"] == "done", job
    announced = await conn.fetch(
        "SELECT member_id, data FROM outbox_events WHERE tenant_id = $1"
        " AND type = 'import.completed'",
        tenant.id,
    )
    assert [(e["member_id"], e["data"]) for e in announced] == [
        (None, {"job_id": job["id"], "format": "ndjson", "counts": job["counts"]})
    ]
