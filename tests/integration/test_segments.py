"""Segments: made, listed with counts, deleted; members replaced, added or removed by a job;
a replace switches all at once under concurrent purchases; any number per member."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.integration.bulk import IDS, segment_members, wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.replay_scenario import PROGRAM

VIP_RULE = {
    "id": "vip-bonus",
    "name": "VIP bonus",
    "effect": {"kind": "fixed", "value": 77},
    "conditions": {"segment_in": ["vip"]},
}


async def rule(tenant: Tenant) -> None:
    c, admin = tenant.client, tenant.admin
    assert (await c.put("/v1/admin/program", json=PROGRAM, headers=admin)).status_code == 200
    assert (await c.post("/v1/admin/earn-rules", json=VIP_RULE, headers=admin)).status_code == 201


async def test_segments_are_made_listed_counted_and_deleted(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    c, admin = tenant.client, tenant.admin
    made = await c.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=admin)
    assert made.status_code == 200, made.text
    assert (made.json()["name"], made.json()["members"]) == ("VIP", 0)
    job = await segment_members(tenant, "vip", ["a-1", "a-2", "a-2", "a-3", "not an id"])
    assert job["status"] == "done", job
    assert job["counts"] == {"members": 3, "duplicates": 1, "failed": 1}
    assert (await c.get("/v1/admin/segments/vip", headers=admin)).json()["members"] == 3
    renamed = await c.put(
        "/v1/admin/segments/vip", json={"name": "VIP 贵宾", "description": "d"}, headers=admin
    )
    assert (renamed.json()["name"], renamed.json()["members"]) == ("VIP 贵宾", 3)
    await c.put("/v1/admin/segments/car", json={"name": "Car owners"}, headers=admin)
    listed = (await c.get("/v1/admin/segments", headers=admin)).json()["items"]
    assert [(s["id"], s["members"]) for s in listed] == [("car", 0), ("vip", 3)]
    added = await segment_members(tenant, "vip", ["a-3", "a-4"], mode="add")
    assert added["counts"] == {"added": 1, "unchanged": 1, "failed": 0}
    removed = await segment_members(tenant, "vip", ["a-1", "zz"], mode="remove")
    assert removed["counts"] == {"removed": 1, "unchanged": 1, "failed": 0}
    member = await c.get("/v1/admin/members/a-4", headers=admin)
    assert member.status_code in (200, 404)
    members = await c.get("/v1/admin/members", params={"segment": "vip"}, headers=admin)
    assert members.status_code == 200
    # Another tenant sees none of it.
    assert (
        await other_tenant.client.get("/v1/admin/segments/vip", headers=other_tenant.admin)
    ).status_code == 404
    assert (await c.delete("/v1/admin/segments/vip", headers=admin)).status_code == 204
    assert (await c.get("/v1/admin/segments/vip", headers=admin)).status_code == 404
    missing = await c.put("/v1/admin/segments/nope/members", content=b"a-1\n", headers=admin | IDS)
    assert missing.status_code == 404, missing.text


async def test_a_member_in_a_segment_earns_its_rules_and_may_be_in_any_number(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await rule(tenant)
    await tenant.client.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=tenant.admin)
    await segment_members(tenant, "vip", ["in-1"])
    inside = (await tenant.hook(purchase("t-in", "in-1"))).json()
    outside = (await tenant.hook(purchase("t-out", "out-1"))).json()
    assert {r["rule_id"] for r in inside["rules_applied"]} >= {"vip-bonus"}
    assert "vip-bonus" not in {r["rule_id"] for r in outside["rules_applied"]}
    many = [f"tag-{n:03d}" for n in range(300)]
    put = await tenant.client.put(
        "/v1/admin/members/in-1", json={"segments": [*many, "vip"]}, headers=tenant.admin
    )
    assert put.status_code == 200, put.text
    assert len(put.json()["segments"]) == 301
    after = (await tenant.hook(purchase("t-in-2", "in-1"))).json()
    assert "vip-bonus" in {r["rule_id"] for r in after["rules_applied"]}
    # A PUT that leaves segments out leaves them as they are.
    tier_only = await tenant.client.put(
        "/v1/admin/members/in-1", json={"tier": "gold"}, headers=tenant.admin
    )
    assert len(tier_only.json()["segments"]) == 301
    cleared = await tenant.client.put(
        "/v1/admin/members/in-1", json={"segments": []}, headers=tenant.admin
    )
    assert cleared.json()["segments"] == []
    vip = (await tenant.client.get("/v1/admin/segments/vip", headers=tenant.admin)).json()
    assert vip["members"] == 0
    await check_ledger(conn)


def _saw_vip(answer: dict[str, Any]) -> bool:
    return "vip-bonus" in {r["rule_id"] for r in answer["rules_applied"]}


async def test_a_replace_switches_all_at_once_under_concurrent_purchases(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    """1,000 purchases in batches of 20 (ten members of the old set, ten of the new) while a
    replace switches between two disjoint sets: every batch saw wholly the old set or wholly
    the new one."""
    await rule(tenant)
    size = 40_000
    old = [f"old-{n:06d}" for n in range(size)]
    new = [f"new-{n:06d}" for n in range(size)]
    await tenant.client.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=tenant.admin)
    assert (await segment_members(tenant, "vip", old))["status"] == "done"
    started = await tenant.client.put(
        "/v1/admin/segments/vip/members",
        params={"mode": "replace"},
        content="".join(f"{m}\n" for m in new).encode(),
        headers=tenant.admin | IDS,
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    seen: list[tuple[bool, ...]] = []
    n = 0

    async def batch(k: int) -> None:
        items = [purchase(f"b{k}-o{i}", old[k * 10 + i]) for i in range(10)]
        items += [purchase(f"b{k}-n{i}", new[k * 10 + i]) for i in range(10)]
        response = await tenant.hook_batch(items)
        assert response.status_code == 200, response.text
        answers = response.json()["results"]
        seen.append(tuple(_saw_vip(a) for a in answers))

    while n < 50:
        await asyncio.gather(*(batch(n + i) for i in range(5)))
        n += 5
        if n == 25:
            assert (await wait_job(tenant, job_id))["status"] == "done"
    for saw in seen:
        assert saw in ((True,) * 10 + (False,) * 10, (False,) * 10 + (True,) * 10), saw
    assert (True,) * 10 + (False,) * 10 in seen  # before the switch
    assert (False,) * 10 + (True,) * 10 in seen  # after it
    segment = (await tenant.client.get("/v1/admin/segments/vip", headers=tenant.admin)).json()
    assert segment["members"] == size
    await check_ledger(conn)


async def test_one_membership_job_of_a_segment_at_a_time(tenant: Tenant) -> None:
    c, admin = tenant.client, tenant.admin
    await c.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=admin)
    first = await c.put("/v1/admin/segments/vip/members", content=b"a\n" * 10, headers=admin | IDS)
    second = await c.put("/v1/admin/segments/vip/members", content=b"b\n", headers=admin | IDS)
    assert first.status_code == 202
    if second.status_code == 409:
        assert second.json()["type"] == "segment_busy"
    else:  # the first had ended already
        assert second.status_code == 202
    await wait_job(tenant, first.json()["job_id"])
    bad = await c.put(
        "/v1/admin/segments/vip/members",
        params={"mode": "merge"},
        content=b"a\n",
        headers=admin | IDS,
    )
    assert bad.status_code == 422, bad.text


async def test_an_offer_targeting_a_segment_applies_to_its_members_only(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    """The hook reads only the segments conditions name — the rules' and the offers'."""
    from tests.integration.replay_scenario import OFFER, configure

    await configure(tenant, draws=False, extra_rules=[])
    c, admin = tenant.client, tenant.admin
    key = (
        await c.post(
            "/v1/admin/merchants",
            json={"id": "petro", "name": "Petro", "category": "fuel"},
            headers=admin,
        )
    ).json()["api_key"]
    merchant = {"Authorization": f"Bearer {key}"}
    store = {"id": "petro-01", "name": "Petro 01", "lat": 22.54, "lng": 114.05}
    assert (await c.post("/v1/merchant/stores", json=store, headers=merchant)).status_code == 201
    offer = OFFER | {
        "id": "vip-fuel",
        "store_ids": ["petro-01"],
        "targeting": {"segment_in": ["vip-drivers"]},
    }
    assert (await c.post("/v1/merchant/offers", json=offer, headers=merchant)).status_code == 201
    assert (await c.post("/v1/admin/offers/vip-fuel/approve", headers=admin)).status_code == 200
    await c.put("/v1/admin/segments/vip-drivers", json={"name": "VIP drivers"}, headers=admin)
    await c.put("/v1/admin/segments/unrelated", json={"name": "Other"}, headers=admin)
    await segment_members(tenant, "vip-drivers", ["v-1"])
    await segment_members(tenant, "unrelated", ["v-1", "o-1"])
    grant = {
        "id": "vip-fuel-claims",
        "audience": {"member_ids": ["v-1", "o-1"]},
        "offer_id": "vip-fuel",
        "reason": "drivers",
    }
    started = await c.post("/v1/admin/grants", json=grant, headers=admin)
    assert (await wait_job(tenant, started.json()["job_id"]))["counts"]["granted"] == 2
    at_petro = {"merchant_id": "petro", "store_id": "petro-01", "amount_minor": 30000}
    inside = (await tenant.hook(purchase("vip-1", "v-1", **at_petro))).json()
    outside = (await tenant.hook(purchase("vip-2", "o-1", **at_petro))).json()
    assert [o["offer_id"] for o in inside["offers_applied"]] == ["vip-fuel"]
    assert outside["offers_applied"] == []
    await check_ledger(conn)


async def test_the_periodic_job_forgets_replaced_generations_past_the_history_kept(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    from datetime import UTC, datetime, timedelta

    from api.wiring import UPKEEP
    from rewards.housekeeping import service as housekeeping

    await tenant.client.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=tenant.admin)
    await segment_members(tenant, "vip", ["a", "b"])
    await segment_members(tenant, "vip", ["c"])
    await segment_members(tenant, "vip", ["c"], mode="remove")
    await segment_members(tenant, "vip", ["d"], mode="add")
    count = "SELECT count(*) FROM segment_members WHERE tenant_id = $1"
    assert await conn.fetchval(count, tenant.id) == 4
    soon = datetime.now(UTC) + timedelta(days=1)
    assert await housekeeping.run(conn, soon, also=UPKEEP) is not None
    assert await conn.fetchval(count, tenant.id) == 4  # within the history kept
    later = datetime.now(UTC) + housekeeping.SEGMENT_HISTORY + timedelta(days=1)
    assert await housekeeping.run(conn, later, also=UPKEEP) is not None
    left = await conn.fetch("SELECT member_id FROM segment_members WHERE tenant_id = $1", tenant.id)
    assert [r["member_id"] for r in left] == ["d"]
    vip = (await tenant.client.get("/v1/admin/segments/vip", headers=tenant.admin)).json()
    assert vip["members"] == 1


async def test_a_replay_sees_each_purchase_with_the_segment_as_it_was_then(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    """Purchases before and after a replace, replayed: the baseline equals the ledger."""
    from datetime import UTC, datetime, timedelta

    from tests.integration.test_replays import replay

    await rule(tenant)
    opened = datetime.now(UTC)
    await tenant.client.put("/v1/admin/segments/vip", json={"name": "VIP"}, headers=tenant.admin)
    await segment_members(tenant, "vip", ["r-1", "r-2"])
    for n, who in enumerate(["r-1", "r-2", "r-3"]):
        assert (await tenant.hook(purchase(f"before-{n}", who))).status_code == 200
    await segment_members(tenant, "vip", ["r-3"])
    await segment_members(tenant, "vip", ["r-2"], mode="add")
    for n, who in enumerate(["r-1", "r-2", "r-3"]):
        assert (await tenant.hook(purchase(f"after-{n}", who))).status_code == 200
    window = {
        "from": opened.isoformat(),
        "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
    }
    done = await replay(tenant, window)
    assert done["status"] == "done", done
    assert done["fidelity"]["baseline_equals_ledger"], done["fidelity"]
    assert done["transactions"] == 6
