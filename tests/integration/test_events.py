"""Outbound events: written with the change they report, delivered at least once to a real
receiving server, signed as hooks are, retried, operable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from rewards.core.credentials import verify_hook_signature
from rewards.core.errors import Unauthenticated
from rewards.housekeeping import service as housekeeping
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.receiver import Receiver, receiving
from tests.integration.test_catalog import item, redeem
from tests.integration.test_offers import FUEL_12, fuel_purchase, shell
from tests.integration.test_points_hook import setup


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(
            database_url=database,
            pool_max_size=40,
            access_log=False,
            webhook_allow_private=True,
            webhook_retry_base_seconds=0.2,
            webhook_timeout_seconds=1.5,
        )
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


async def webhook(tenant: Tenant, url: str, **program: Any) -> None:
    await setup(tenant, {"webhook_url": url, **program})


async def outbox(conn, tenant: Tenant) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = await conn.fetch(
        "SELECT type, member_id FROM outbox_events WHERE tenant_id = $1 ORDER BY sequence",
        tenant.id,
    )
    return [(r["type"], r["member_id"]) for r in rows]


async def until(check: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not reached in time")


async def test_each_change_writes_its_events_in_its_transaction(
    tenant: Tenant, conn, receiver: Receiver
) -> None:
    await webhook(
        tenant,
        receiver.url + "/ok",
        tiers=[{"name": "silver", "min_spend_minor_12m": 30000}],
        referral={"referrer_points": 50, "referee_points": 30},
    )
    await item(tenant, points_price=100)
    code = (await tenant.client.get("/v1/me/referral", headers=tenant.member("m-9"))).json()["code"]
    await tenant.client.post(
        "/v1/me/referral/apply", json={"code": code}, headers=tenant.member("m-1")
    )
    await tenant.hook(purchase("p-1", "m-1"))
    await tenant.hook(purchase("r-1", "m-1", amount_minor=1000, kind="refund", original_id="p-1"))
    made = await redeem(tenant, "m-1")
    assert made.status_code == 201, made.text
    cancelled = await tenant.client.post(
        f"/v1/me/redemptions/{made.json()['id']}/cancel", headers=tenant.member("m-1")
    )
    assert cancelled.status_code == 200
    assert await outbox(conn, tenant) == [
        ("points.awarded", "m-1"),
        ("referral.rewarded", "m-1"),
        ("tier.changed", "m-1"),
        ("points.clawed_back", "m-1"),
        ("redemption.created", "m-1"),
        ("redemption.cancelled", "m-1"),
    ]
    # What rolled back leaves no event: a refused batch item, a refused redemption, a
    # simulation.
    before = await outbox(conn, tenant)
    batch = await tenant.hook_batch([purchase("p-bad", "m-1", currency="USD")])
    assert batch.json()["results"][0]["status"] == 422
    assert (await redeem(tenant, "m-1", quantity=1000)).status_code in (409, 422)
    simulated = await tenant.client.post(
        "/v1/admin/transactions/simulate", json=purchase("p-sim", "m-1"), headers=tenant.admin
    )
    assert simulated.status_code == 200
    assert await outbox(conn, tenant) == before
    await check_ledger(conn)


async def test_no_webhook_no_events(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await tenant.hook(purchase("p-1", "m-1"))
    assert await outbox(conn, tenant) == []


async def test_events_arrive_signed_with_the_event_secret_and_marked_delivered(
    tenant: Tenant, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/ok")
    answer = (await tenant.hook(purchase("p-1", "m-1"))).json()
    await tenant.hook(purchase("p-2", "m-2"))

    async def arrived() -> bool:
        return len(receiver.received) >= 2

    await until(arrived)
    first = next(r for r in receiver.received if r.event["data"]["transaction_id"] == "p-1")
    verify_hook_signature(
        first.headers["X-Rewards-Signature"],
        first.body,
        [tenant.event_secret],
        now=time.time(),
        tolerance=300,
    )
    # Never with the hook secret: a receiver of events could forge card transactions.
    with pytest.raises(Unauthenticated):
        verify_hook_signature(
            first.headers["X-Rewards-Signature"],
            first.body,
            [tenant.hook_secret],
            now=time.time(),
            tolerance=300,
        )
    event = first.event
    assert set(event) == {"id", "type", "tenant_id", "sequence", "occurred_at", "data"}
    assert first.headers["X-Rewards-Event-Id"] == event["id"]
    assert event["type"] == "points.awarded"
    assert event["tenant_id"] == tenant.id
    assert event["data"] == answer  # the answer the processor got
    datetime.fromisoformat(event["occurred_at"])
    sequences = [r.event["sequence"] for r in receiver.received]
    assert len(set(sequences)) == 2

    async def delivered() -> bool:
        page = await tenant.client.get("/v1/admin/events?status=delivered", headers=tenant.admin)
        return len(page.json()["items"]) == 2

    await until(delivered)
    listed = (
        await tenant.client.get("/v1/admin/events?type=points.awarded", headers=tenant.admin)
    ).json()["items"]
    assert [e["sequence"] for e in listed] == sorted(sequences, reverse=True)
    assert all(e["attempts"] == 1 and e["last_error"] is None for e in listed)


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth(
    tenant: Tenant, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/flaky")
    await tenant.hook(purchase("p-1", "m-1"))

    async def failing() -> bool:
        page = await tenant.client.get("/v1/admin/events?status=pending", headers=tenant.admin)
        items = page.json()["items"]
        return bool(items) and items[0]["last_error"] is not None

    await until(failing)
    pending = (await tenant.client.get("/v1/admin/events", headers=tenant.admin)).json()
    assert "HTTP 503" in pending["items"][0]["last_error"]

    async def delivered() -> bool:
        return len(receiver.ids("/flaky")) == 1

    await until(delivered)
    (event_id,) = receiver.ids("/flaky")
    assert receiver.attempts[event_id] == 4

    async def recorded() -> bool:
        page = await tenant.client.get("/v1/admin/events", headers=tenant.admin)
        found = page.json()["items"][0]
        return bool(found["status"] == "delivered" and found["attempts"] == 4)

    await until(recorded)


async def test_a_hanging_receiver_does_not_stall_another_tenants_deliveries(
    tenant: Tenant, other_tenant: Tenant, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/hang")
    await webhook(other_tenant, receiver.url + "/ok")
    await tenant.hook_batch([purchase(f"h-{n}", f"m-{n}") for n in range(40)])
    started = time.monotonic()
    await other_tenant.hook_batch([purchase(f"o-{n}", f"m-{n}") for n in range(10)])

    async def others_arrived() -> bool:
        return len(receiver.ids("/ok")) == 10

    await until(others_arrived, seconds=10)
    assert time.monotonic() - started < 5
    receiver.hang_seconds = 0  # let the hanging requests end with the test


async def test_an_event_that_keeps_failing_is_failed_and_can_be_redelivered(
    tenant: Tenant, conn, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/missing-path-is-still-200")
    await conn.execute(
        "UPDATE programs SET config = jsonb_set(config, '{webhook_url}', to_jsonb($2::text))"
        " WHERE tenant_id = $1",
        tenant.id,
        "http://127.0.0.1:9/nothing-listens",
    )
    await tenant.hook(purchase("p-1", "m-1"))
    # The 72 hours are over at the first failure.
    await conn.execute(
        "UPDATE outbox_events SET give_up_at = now() WHERE tenant_id = $1", tenant.id
    )

    async def failed() -> bool:
        page = await tenant.client.get("/v1/admin/events?status=failed", headers=tenant.admin)
        return len(page.json()["items"]) == 1

    await until(failed)
    event = (
        await tenant.client.get("/v1/admin/events?status=failed", headers=tenant.admin)
    ).json()["items"][0]
    assert event["last_error"]
    await conn.execute(
        "UPDATE programs SET config = jsonb_set(config, '{webhook_url}', to_jsonb($2::text))"
        " WHERE tenant_id = $1",
        tenant.id,
        receiver.url + "/ok",
    )
    again = await tenant.client.post(
        f"/v1/admin/events/{event['id']}/redeliver", headers=tenant.admin
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending"

    async def arrived() -> bool:
        return receiver.ids("/ok") == [event["id"]]

    await until(arrived)
    missing = await tenant.client.post("/v1/admin/events/evt_nope/redeliver", headers=tenant.admin)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://user:secret@example.com/hook",
    ],
)
async def test_webhook_urls_that_could_reach_inside_are_refused(
    url: str, database: str, conn
) -> None:
    from rewards.tenants.service import create_tenant
    from tests.integration.http import AppClient

    strict = create_app(Settings(database_url=database, access_log=False, deliver_events=False))
    async with AppClient(strict) as client:
        async with conn.transaction():
            created = await create_tenant(conn, "Strict Bank")
        headers = {"Authorization": f"Bearer {created.admin_api_key}"}
        for method in ("put", "patch"):
            response = await getattr(client, method)(
                "/v1/admin/program", json={"webhook_url": url}, headers=headers
            )
            assert response.status_code == 422, response.text
        program = (await client.get("/v1/admin/program", headers=headers)).json()
        assert program["webhook_url"] is None


async def test_points_expiring_is_announced_once_30_days_ahead_and_delivered_events_pruned(
    tenant: Tenant, conn, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/ok", expiry_months=1)
    await tenant.hook(purchase("p-1", "m-1"))
    expires_at = await conn.fetchval(
        "SELECT expires_at FROM lots WHERE tenant_id = $1 AND member_id = 'm-1'", tenant.id
    )
    early = expires_at - timedelta(days=31)
    assert await housekeeping.run(conn, early) is not None
    assert ("points.expiring", "m-1") not in await outbox(conn, tenant)
    ahead = expires_at - timedelta(days=29)
    await housekeeping.run(conn, ahead)
    await housekeeping.run(conn, ahead + timedelta(hours=1))
    expiring = [e for e in await outbox(conn, tenant) if e[0] == "points.expiring"]
    assert expiring == [("points.expiring", "m-1")]

    async def both_delivered() -> bool:
        return len(receiver.received) == 2

    await until(both_delivered)
    data = next(e["data"] for e in receiver.events() if e["type"] == "points.expiring")
    assert data["points"] == 175
    assert data["member_id"] == "m-1"
    assert datetime.fromisoformat(data["expires_at"]) == expires_at

    async def recorded() -> bool:
        count = await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE status = 'delivered' AND tenant_id = $1",
            tenant.id,
        )
        return bool(count == 2)

    await until(recorded)
    now = datetime.now(UTC)
    await housekeeping.run(conn, now, timedelta(days=7))
    assert len(await outbox(conn, tenant)) == 2  # kept for the retention
    await housekeeping.run(conn, now + timedelta(days=8), timedelta(days=7))
    assert await outbox(conn, tenant) == []


async def test_metrics_show_the_outbox_and_deliveries(tenant: Tenant, receiver: Receiver) -> None:
    await webhook(tenant, receiver.url + "/ok")
    await tenant.hook(purchase("p-1", "m-1"))

    async def arrived() -> bool:
        return len(receiver.received) == 1

    await until(arrived)
    text = (await tenant.client.get("/metrics")).text
    assert 'rewards_event_deliveries_total{outcome="delivered"}' in text
    assert "rewards_outbox_pending " in text
    assert "rewards_outbox_oldest_pending_seconds " in text


async def test_offers_applied_and_abuse_caps_are_announced(
    tenant: Tenant, conn, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/ok", abuse={"max_points_per_member_per_day": 100})
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"targeting": {}}, approve=tenant)
    claimed = await tenant.client.post("/v1/me/offers/fuel-12/claim", headers=tenant.member("m-1"))
    assert claimed.status_code == 200, claimed.text
    await tenant.hook(fuel_purchase("p-1", "m-1"))
    types = [t for t, _ in await outbox(conn, tenant)]
    assert types == ["points.awarded", "offer.redeemed", "risk.flagged"]

    async def arrived() -> bool:
        return len(receiver.received) == 3

    await until(arrived)
    by_type = {e["type"]: e["data"] for e in receiver.events()}
    assert by_type["offer.redeemed"]["offer_id"] == "fuel-12"
    assert by_type["offer.redeemed"]["reward_minor"] == 4200
    assert by_type["risk.flagged"]["reason"] == "daily_points_cap"
    assert by_type["risk.flagged"]["detail"]["capped"] == 75
