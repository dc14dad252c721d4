"""The benefit catalog: redemptions that never oversell, exact under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from db.pool import connect
from rewards.catalog import repository as catalog_db
from rewards.catalog import service as catalog
from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_points_hook import setup

ITEM = {
    "sku": "video-month",
    "title": "Video VIP, 1 month",
    "category": "video",
    "points_price": 30,
    "cash_price_minor": 0,
    "cancel_window_hours": 24,
}


async def item(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    response = await tenant.client.post(
        "/v1/admin/catalog/items", json=ITEM | fields, headers=tenant.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fund(tenant: Tenant, members: list[str], points: int) -> None:
    """Give each member ``points`` through the hook (a dining purchase at 1 point a yuan)."""
    txs = [purchase(f"fund-{m}", m, mcc="5812", amount_minor=points * 100) for m in members]
    for start in range(0, len(txs), 1000):
        response = await tenant.hook_batch(txs[start : start + 1000])
        assert response.status_code == 200


async def redeem(
    tenant: Tenant, member: str, sku: str = "video-month", quantity: int = 1, key: str | None = None
) -> Any:
    headers = tenant.member(member) | ({"Idempotency-Key": key} if key else {})
    return await tenant.client.post(
        "/v1/me/redemptions", json={"sku": sku, "quantity": quantity}, headers=headers
    )


async def stock_check(conn, sku: str, initial: int) -> None:  # type: ignore[no-untyped-def]
    row = await conn.fetchrow("SELECT stock_left, redeemed FROM catalog_items WHERE sku = $1", sku)
    assert row["stock_left"] + row["redeemed"] == initial
    completed = await conn.fetchval(
        "SELECT coalesce(sum(quantity), 0) FROM redemptions"
        " WHERE sku = $1 AND status = 'completed'",
        sku,
    )
    assert completed == row["redeemed"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"points_price": -1}, "points_price"),
        ({"cash_price_minor": -800}, "cash_price_minor"),
        ({"points_price": 0, "cash_price_minor": 0}, "points_price"),
        ({"fulfilment": "pool"}, "codes"),
        ({"fulfilment": "pool", "codes": []}, "codes"),
        ({"starts_at": iso(days_ago(-365)), "ends_at": iso(days_ago(0))}, "ends_at"),
        ({"per_member_limit": {"count": 0, "per": "day"}}, "per_member_limit.count"),
        ({"per_member_limit": {"count": 1, "per": "week"}}, "per_member_limit.per"),
        ({"stock": -1}, "stock"),
        ({"codes": ["A"]}, "codes"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_nonsense_items_are_refused_with_a_clear_422(
    tenant: Tenant, fields: dict[str, Any], field: str
) -> None:
    response = await tenant.client.post(
        "/v1/admin/catalog/items", json=ITEM | fields, headers=tenant.admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_the_member_catalog_says_who_may_redeem_and_why_not(tenant: Tenant) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, sku="ok")
    await item(tenant, sku="dear", points_price=1000)
    await item(tenant, sku="gone", stock=0)
    await item(tenant, sku="gold-only", eligibility={"tier_in": ["gold"]})
    await item(tenant, sku="later", starts_at=iso(days_ago(-365)))
    await item(tenant, sku="once", per_member_limit={"count": 1, "per": "month"})
    assert (await redeem(tenant, "m-1", "once")).status_code == 201
    body = (await tenant.client.get("/v1/me/catalog", headers=tenant.member("m-1"))).json()
    reasons = {i["sku"]: (i["redeemable"], i["reason"]) for i in body["items"]}
    assert reasons == {
        "ok": (True, None),
        "dear": (False, "insufficient_points"),
        "gone": (False, "out_of_stock"),
        "gold-only": (False, "not_eligible"),
        "later": (False, "not_active"),
        "once": (False, "limit_reached"),
    }
    stock = {i["sku"]: i["stock"] for i in body["items"]}
    assert stock["gone"] == "out_of_stock"
    assert stock["ok"] == "unlimited"


@pytest.mark.parametrize(
    ("fields", "type_", "status"),
    [
        ({"stock": 0}, "out_of_stock", 409),
        ({"points_price": 1000}, "insufficient_points", 409),
        ({"eligibility": {"card_product_in": ["platinum"]}}, "not_eligible", 422),
        ({"active": False}, "not_active", 422),
        ({"ends_at": iso(days_ago(365))}, "not_active", 422),
    ],
)
async def test_refusals_are_problems_with_the_reason_as_type(
    tenant: Tenant, conn, fields: dict[str, Any], type_: str, status: int
) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, **fields)
    response = await redeem(tenant, "m-1")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == type_
    assert await conn.fetchval("SELECT count(*) FROM redemptions") == 0
    await check_ledger(conn)


async def test_a_redemption_spends_points_and_hands_out_codes(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, cash_price_minor=800)
    response = await redeem(tenant, "m-1", quantity=2)
    assert response.status_code == 201
    body = response.json()
    assert body["points_spent"] == 60
    assert body["cash_due_minor"] == 1600
    assert body["status"] == "completed"
    assert len(set(body["codes"])) == 2
    balance = (await tenant.client.get("/v1/me/balance", headers=tenant.member("m-1"))).json()
    assert balance["available"] == 40
    listed = (await tenant.client.get("/v1/me/redemptions", headers=tenant.member("m-1"))).json()
    assert [r["id"] for r in listed["items"]] == [body["id"]]
    await check_ledger(conn)


async def test_the_same_idempotency_key_answers_the_first_answer(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant)
    responses = await asyncio.gather(*(redeem(tenant, "m-1", key="k-1") for _ in range(10)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert await conn.fetchval("SELECT count(*) FROM redemptions") == 1
    other = await tenant.client.post(
        "/v1/me/redemptions",
        json={"sku": "video-month", "quantity": 2},
        headers=tenant.member("m-1") | {"Idempotency-Key": "k-1"},
    )
    assert other.status_code == 409
    assert other.json()["type"] == "idempotency_conflict"
    # A refusal is an answer too: replayed with its status, even after the cause is gone.
    await item(tenant, sku="dear", points_price=1000)
    first = await redeem(tenant, "m-1", "dear", key="k-2")
    assert first.status_code == 409
    await fund(tenant, ["m-1-more"], 1)
    again = await redeem(tenant, "m-1", "dear", key="k-2")
    assert (again.status_code, again.json()) == (409, first.json())
    await check_ledger(conn)


async def test_stock_of_17_and_200_members_at_once_gives_exactly_17(tenant: Tenant, conn) -> None:
    await setup(tenant)
    members = [f"m-{n}" for n in range(200)]
    await fund(tenant, members, 100)
    await item(tenant, stock=17)
    responses = await asyncio.gather(*(redeem(tenant, m) for m in members))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 17
    assert statuses.count(409) == 183
    assert {r.json()["type"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    await stock_check(conn, "video-month", 17)
    await check_ledger(conn)


async def test_stock_is_taken_at_commit_or_the_commit_is_refused_whole(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, stock=1)
    claim = (
        "INSERT INTO budget_reservations (tenant_id, budget, key, amount, amount2) "
        "VALUES ($1, 'stock', 'video-month', 1, 1)"
    )
    late = conn.transaction()
    await late.start()
    await conn.execute(claim, tenant.id)
    # Deferred: the item's row is untouched (and not locked) until COMMIT ...
    row = await conn.fetchrow("SELECT stock_left, redeemed FROM catalog_items")
    assert (row["stock_left"], row["redeemed"]) == (1, 0)
    # ... so a redemption can take the last one meanwhile,
    assert (await redeem(tenant, "m-1")).status_code == 201
    # and this COMMIT, which finds no stock left, is refused and rolled back whole.
    with pytest.raises(asyncpg.SerializationError, match="stock budget video-month"):
        await late.commit()
    row = await conn.fetchrow("SELECT stock_left, redeemed FROM catalog_items")
    assert (row["stock_left"], row["redeemed"]) == (0, 1)
    assert await conn.fetchval("SELECT count(*) FROM budget_reservations") == 0
    await stock_check(conn, "video-month", 1)
    await check_ledger(conn)


async def test_a_redemption_refused_at_commit_is_made_again_with_the_item_locked(
    tenant: Tenant, conn, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1", "m-2"], 100)
    await item(tenant, stock=1)
    # m-2 took the last one after m-1's redemption read the stock: m-1's first attempt sees
    # a stale 1, is refused at COMMIT, and is made again with the item locked, which reads
    # 0 and answers out of stock. Nothing of the first attempt stays.
    real = catalog_db.start_redemption
    attempts: list[str] = []

    async def stale(conn_: Any, tenant_id: str, member_id: str, sku: str) -> Any:
        started = await real(conn_, tenant_id, member_id, sku)
        attempts.append(member_id)
        if member_id == "m-1" and len(attempts) == 1:
            other = await connect(database)
            try:
                async with other.transaction():
                    await catalog.redeem(other, tenant_id, "m-2", None, sku, 1)
            finally:
                await other.close()
        return started

    monkeypatch.setattr(catalog_db, "start_redemption", stale)
    response = await redeem(tenant, "m-1", key="k-1")
    assert attempts == ["m-1", "m-2", "m-1"]
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "out_of_stock"
    again = await redeem(tenant, "m-1", key="k-1")
    assert (again.status_code, again.json()) == (409, response.json())
    assert await conn.fetchval("SELECT count(*) FROM redemptions WHERE member_id = 'm-1'") == 0
    assert await conn.fetchval("SELECT points_balance FROM members WHERE member_id = 'm-1'") == 100
    await stock_check(conn, "video-month", 1)
    await check_ledger(conn)


async def test_one_member_with_100_points_firing_50_redemptions_gets_3(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant)
    responses = await asyncio.gather(*(redeem(tenant, "m-1") for _ in range(50)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 3
    assert {r.json()["type"] for r in responses if r.status_code != 201} == {"insufficient_points"}
    assert await conn.fetchval("SELECT points_balance FROM members WHERE member_id = 'm-1'") == 10
    await check_ledger(conn)


async def test_a_limit_of_2_under_20_simultaneous_tries_gives_2(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 1000)
    await item(tenant, per_member_limit={"count": 2, "per": "day"})
    responses = await asyncio.gather(*(redeem(tenant, "m-1") for _ in range(20)))
    assert [r.status_code for r in responses].count(201) == 2
    assert {r.json()["type"] for r in responses if r.status_code != 201} == {"limit_reached"}
    await check_ledger(conn)


async def test_a_pool_of_5_codes_never_hands_out_a_code_twice(tenant: Tenant, conn) -> None:
    await setup(tenant)
    members = [f"m-{n}" for n in range(30)]
    await fund(tenant, members, 100)
    codes = [f"CODE-{n}" for n in range(5)]
    created = await item(tenant, fulfilment="pool", codes=codes)
    assert created["stock_left"] == 5
    responses = await asyncio.gather(*(redeem(tenant, m) for m in members))
    handed = [c for r in responses if r.status_code == 201 for c in r.json()["codes"]]
    assert sorted(handed) == codes
    assert [r.status_code for r in responses].count(409) == 25
    await stock_check(conn, "video-month", 5)
    more = await tenant.client.post(
        "/v1/admin/catalog/items/video-month/codes",
        json={"codes": ["CODE-9", "CODE-0"]},
        headers=tenant.admin,
    )
    assert more.json() == {"sku": "video-month", "added": 1, "stock_left": 1}
    await check_ledger(conn)


async def test_cancel_within_the_window_gives_everything_back_once(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, stock=5)
    made = (await redeem(tenant, "m-1", quantity=2)).json()
    expiry_before = await conn.fetch("SELECT expires_at FROM lots")
    cancel = await tenant.client.post(
        f"/v1/me/redemptions/{made['id']}/cancel", headers=tenant.member("m-1")
    )
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "cancelled"
    assert await conn.fetchval("SELECT points_balance FROM members") == 100
    assert await conn.fetch("SELECT expires_at FROM lots") == expiry_before
    assert await conn.fetchval("SELECT stock_left FROM catalog_items") == 5
    twice = await tenant.client.post(
        f"/v1/me/redemptions/{made['id']}/cancel", headers=tenant.member("m-1")
    )
    assert twice.status_code == 409
    other = await tenant.client.post(
        f"/v1/me/redemptions/{made['id']}/cancel", headers=tenant.member("m-2")
    )
    assert other.status_code == 404
    await stock_check(conn, "video-month", 5)
    await check_ledger(conn)


async def test_cancel_after_the_window_is_refused(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant, cancel_window_hours=0, fulfilment="pool", codes=["A", "B"])
    made = (await redeem(tenant, "m-1")).json()
    response = await tenant.client.post(
        f"/v1/me/redemptions/{made['id']}/cancel", headers=tenant.member("m-1")
    )
    assert response.status_code == 409
    assert response.json()["type"] == "cancel_refused"
    await check_ledger(conn)


async def test_a_cancel_with_an_idempotency_key_answers_the_same_twice(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    await fund(tenant, ["m-1"], 100)
    await item(tenant)
    made = (await redeem(tenant, "m-1", key="buy-1")).json()
    headers = tenant.member("m-1") | {"Idempotency-Key": "cancel-1"}
    path = f"/v1/me/redemptions/{made['id']}/cancel"
    first = await tenant.client.post(path, headers=headers)
    again = await tenant.client.post(path, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    # Without the key a second cancel is refused; a key reused on another write conflicts.
    assert (await tenant.client.post(path, headers=tenant.member("m-1"))).status_code == 409
    reused = await redeem(tenant, "m-1", key="cancel-1")
    assert reused.status_code == 409
    assert reused.json()["type"] == "idempotency_conflict"
    assert await conn.fetchval("SELECT points_balance FROM members") == 100
    await check_ledger(conn)


async def test_the_member_catalog_pages_and_leaves_inactive_items_out(tenant: Tenant) -> None:
    await setup(tenant)
    for sku in ("a", "b", "c"):
        await item(tenant, sku=sku)
    await item(tenant, sku="b2", active=False)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await tenant.client.get("/v1/me/catalog", params=params, headers=tenant.member("m-1"))
        ).json()
        seen += [i["sku"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a", "b", "c"]
