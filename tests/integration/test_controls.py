"""Controls a risk office asks for: exclusion lists (a matching purchase earns nothing and
matches no offer), points held on a risk score until released or voided (a refund before
then claws back from the hold), and changes that wait for a second admin key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.bulk import IDS, job_errors, wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_offers import FUEL_12, claim, fuel_purchase, shell
from tests.integration.test_points_hook import FUEL_3X, setup
from tests.integration.test_replays import replay, window


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(
            database_url=database,
            access_log=False,
            job_poll_seconds=0.1,
            webhook_allow_private=True,
        )
    )


async def exclusion(
    tenant: Tenant, list_id: str, match: str, entries: list[str], mode: str = "replace"
) -> dict[str, Any]:
    """Make (or keep) a list and upload its entries; the job once it has ended."""
    made = await tenant.client.put(
        f"/v1/admin/exclusions/{list_id}",
        json={"name": f"list {list_id}", "match": match},
        headers=tenant.admin,
    )
    assert made.status_code == 200, made.text
    started = await tenant.client.put(
        f"/v1/admin/exclusions/{list_id}/entries",
        params={"mode": mode},
        content="".join(f"{e}\n" for e in entries).encode(),
        headers=tenant.admin | IDS,
    )
    assert started.status_code == 202, started.text
    return await wait_job(tenant, started.json()["job_id"])


async def held_account(conn: asyncpg.Connection, tenant: Tenant) -> int:
    return int(
        await conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM postings "
            "WHERE tenant_id = $1 AND account_id = 'held'",
            tenant.id,
        )
    )


async def balance(tenant: Tenant, member: str) -> dict[str, int]:
    found = await tenant.client.get(f"/v1/admin/members/{member}", headers=tenant.admin)
    assert found.status_code == 200, found.text
    result: dict[str, int] = found.json()["balance"]
    return result


# --- exclusion lists -------------------------------------------------------------------------


async def test_a_purchase_on_an_exclusion_list_earns_nothing_and_matches_no_offer(
    tenant: Tenant, other_tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, None, FUEL_3X)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12, approve=tenant)
    await tenant.hook(purchase("t-first", merchant_id="m-0"))  # the member's card product
    claimed = await claim(tenant, "m-1", "fuel-12")
    assert claimed.status_code == 200, claimed.text
    job = await exclusion(tenant, "cash-out", "merchant_name_contains", ["还款", "Cash Out", ""])
    assert job["counts"] == {"entries": 2, "duplicates": 0, "failed": 0}, job
    by_id = await exclusion(tenant, "bad-merchants", "merchant_id", ["shell", "not an id!"])
    assert by_id["counts"]["failed"] == 1
    assert list((await job_errors(tenant, by_id["job_id"])).keys()) == [2]
    await exclusion(tenant, "acquirers", "acquirer_id", ["acq-9"])

    # By merchant id: no points, no offer, and the answer says which list.
    excluded = (await tenant.hook(fuel_purchase("t-shell"))).json()
    assert excluded["points"]["total"] == 0, excluded
    assert excluded["offers_applied"] == []
    assert excluded["excluded_by"] == ["bad-merchants"]
    # By a part of the name, whatever its case or width; by acquirer.
    named = (
        await tenant.hook(purchase("t-name", merchant_id="m-x", merchant_name="ＣＡＳＨ ouT Ltd"))
    ).json()
    assert (named["points"]["total"], named["excluded_by"]) == (0, ["cash-out"])
    chinese = (await tenant.hook(purchase("t-zh", merchant_name="信用卡还款助手"))).json()
    assert chinese["excluded_by"] == ["cash-out"]
    both = (
        await tenant.hook(
            purchase("t-both", merchant_id="m-y", acquirer_id="acq-9", merchant_name="x还款")
        )
    ).json()
    assert both["excluded_by"] == ["acquirers", "cash-out"]
    # Elsewhere, a purchase earns as before (and the other tenant's lists do not exist).
    fine = (await tenant.hook(purchase("t-fine", merchant_id="m-z", merchant_name="Cafe"))).json()
    assert fine["points"]["total"] > 0
    assert fine["excluded_by"] == []
    other = await other_tenant.client.get(
        "/v1/admin/exclusions/cash-out", headers=other_tenant.admin
    )
    assert other.status_code == 404

    # Listed with counts; a replace switches the entries at once; a delete excludes nothing.
    listed = (await tenant.client.get("/v1/admin/exclusions", headers=tenant.admin)).json()
    assert [(x["id"], x["match"], x["entries"]) for x in listed["items"]] == [
        ("acquirers", "acquirer_id", 1),
        ("bad-merchants", "merchant_id", 1),
        ("cash-out", "merchant_name_contains", 2),
    ]
    await exclusion(tenant, "bad-merchants", "merchant_id", ["someone-else"])
    again = (await tenant.hook(fuel_purchase("t-shell-2", amount_minor=30000))).json()
    assert again["excluded_by"] == []
    assert again["points"]["total"] > 0
    assert again["offers_applied"][0]["offer_id"] == "fuel-12"
    removed = await exclusion(tenant, "cash-out", "merchant_name_contains", ["还款"], mode="remove")
    assert removed["counts"] == {"removed": 1, "unchanged": 0, "failed": 0}
    assert (
        await tenant.client.delete("/v1/admin/exclusions/acquirers", headers=tenant.admin)
    ).status_code == 204
    later = (
        await tenant.hook(purchase("t-later", acquirer_id="acq-9", merchant_name="还款"))
    ).json()
    assert later["excluded_by"] == []
    assert later["points"]["total"] > 0
    # A list keeps what it matches by; bad input changes nothing.
    changed = await tenant.client.put(
        "/v1/admin/exclusions/cash-out",
        json={"name": "x", "match": "merchant_id"},
        headers=tenant.admin,
    )
    assert changed.status_code == 409, changed.text
    assert changed.json()["type"].endswith("exclusion_match_fixed")
    wrong = await tenant.client.put(
        "/v1/admin/exclusions/x", json={"name": "x", "match": "mcc"}, headers=tenant.admin
    )
    assert wrong.status_code == 422
    assert (
        await tenant.client.get("/v1/admin/exclusions/x", headers=tenant.admin)
    ).status_code == 404
    # A refund of an excluded purchase takes back nothing.
    refund = await tenant.hook(
        {**purchase("r-shell"), "kind": "refund", "original_id": "t-shell", "amount_minor": 35000}
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["points"]["total"] == 0
    await check_ledger(conn)


async def test_the_hook_matches_a_list_of_100000_entries(tenant: Tenant) -> None:
    await setup(tenant)
    entries = [f"bad-{n:06d}" for n in range(100_000)]
    job = await exclusion(tenant, "big", "merchant_id", entries)
    assert job["counts"] == {"entries": 100_000, "duplicates": 0, "failed": 0}
    hit = (await tenant.hook(purchase("t-hit", merchant_id="bad-099999"))).json()
    miss = (await tenant.hook(purchase("t-miss", merchant_id="bad-100000"))).json()
    assert hit["excluded_by"] == ["big"]
    assert miss["excluded_by"] == []


# --- risk holds ------------------------------------------------------------------------------

HOLDS = {"abuse": {"hold_above_score": 70}, "webhook_url": "http://127.0.0.1:9/events"}


async def test_points_over_the_risk_score_are_held_until_released_or_voided(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, HOLDS, FUEL_3X)
    low = (
        await tenant.hook(purchase("t-low", risk={"score": 70, "source": "fraud-engine"}))
    ).json()
    assert low["points"]["held"] == 0
    assert low["balance"]["available"] == low["points"]["total"]
    high = (
        await tenant.hook(purchase("t-high", risk={"score": 91, "source": "fraud-engine"}))
    ).json()
    assert high["points"]["total"] > 0
    assert high["points"]["held"] == high["points"]["total"]
    assert high["balance"] == low["balance"]  # nothing of it is the member's yet
    assert await held_account(conn, tenant) == high["points"]["total"]
    flagged = await conn.fetch(
        "SELECT data FROM outbox_events WHERE tenant_id = $1 AND type = 'risk.flagged'", tenant.id
    )
    assert [f["data"]["transaction_id"] for f in flagged] == ["t-high"]
    assert flagged[0]["data"]["score"] == 91

    listed = (await tenant.client.get("/v1/admin/holds", headers=tenant.admin)).json()["items"]
    assert [(h["transaction_id"], h["points"], h["score"], h["status"]) for h in listed] == [
        ("t-high", high["points"]["total"], 91, "held")
    ]
    released = await tenant.client.post("/v1/admin/holds/t-high/release", headers=tenant.admin)
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    after = await balance(tenant, "m-1")
    assert after["available"] == low["points"]["total"] + high["points"]["total"]
    # The member's activity shows the points when they became theirs, never before.
    activity = await tenant.client.get("/v1/me/activity", headers=tenant.member("m-1"))
    assert activity.status_code == 200, activity.text
    moves = [(a["kind"], a["points"]) for a in activity.json()["items"]]
    assert ("release", high["points"]["total"]) in moves
    assert all(points > 0 for _, points in moves), moves
    twice = await tenant.client.post("/v1/admin/holds/t-high/void", headers=tenant.admin)
    assert twice.status_code == 409
    assert twice.json()["type"].endswith("hold_decided")
    missing = await tenant.client.post("/v1/admin/holds/nope/release", headers=tenant.admin)
    assert missing.status_code == 404

    # Voided: the points go back to the program; the member never had them.
    voided = (await tenant.hook(purchase("t-void", risk={"score": 99}))).json()
    assert voided["points"]["held"] > 0
    assert (
        await tenant.client.post("/v1/admin/holds/t-void/void", headers=tenant.admin)
    ).status_code == 200
    assert await balance(tenant, "m-1") == after
    assert await held_account(conn, tenant) == 0
    # Nothing is left held; the audit log names what was done.
    assert (await tenant.client.get("/v1/admin/holds", headers=tenant.admin)).json()["items"] == []
    decided = (
        await tenant.client.get(
            "/v1/admin/holds", params={"status": "voided"}, headers=tenant.admin
        )
    ).json()["items"]
    assert [h["transaction_id"] for h in decided] == ["t-void"]
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    assert {"hold.release", "hold.void"} <= {e["action"] for e in log}
    await check_ledger(conn)


async def test_a_held_purchase_refunded_before_release_claws_back_from_the_hold(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, HOLDS, FUEL_3X)
    earned = (await tenant.hook(purchase("t-ok"))).json()
    held = (await tenant.hook(purchase("t-h", risk={"score": 80}))).json()
    total = held["points"]["held"]
    refund = (
        await tenant.hook(
            {**purchase("r-1"), "kind": "refund", "original_id": "t-h", "amount_minor": 17500}
        )
    ).json()
    # Half the purchase: half its points come back out of the hold, none from the member.
    assert refund["points"]["total"] == -(total // 2)
    assert refund["points"]["held"] == -(total // 2)
    assert refund["balance"] == earned["balance"]
    assert await held_account(conn, tenant) == total - total // 2
    (hold,) = (await tenant.client.get("/v1/admin/holds", headers=tenant.admin)).json()["items"]
    assert hold["remaining"] == total - total // 2
    # Released: the member gets what is left; a refund after that claws back from them.
    assert (
        await tenant.client.post("/v1/admin/holds/t-h/release", headers=tenant.admin)
    ).status_code == 200
    released = await balance(tenant, "m-1")
    assert released["available"] == earned["balance"]["available"] + total - total // 2
    rest = (await tenant.hook({**purchase("r-2"), "kind": "reversal", "original_id": "t-h"})).json()
    assert rest["points"]["held"] == 0
    assert rest["points"]["total"] == -(total - total // 2)
    assert (await balance(tenant, "m-1"))["available"] == earned["balance"]["available"]
    # Refunded in full while held: the hold is over, with nothing to release.
    whole = (await tenant.hook(purchase("t-h2", risk={"score": 75}))).json()
    back = (
        await tenant.hook({**purchase("r-3"), "kind": "reversal", "original_id": "t-h2"})
    ).json()
    assert back["points"]["held"] == -whole["points"]["held"]
    refunded = (
        await tenant.client.get(
            "/v1/admin/holds", params={"status": "refunded"}, headers=tenant.admin
        )
    ).json()["items"]
    assert [h["transaction_id"] for h in refunded] == ["t-h2"]
    assert await held_account(conn, tenant) == 0
    await check_ledger(conn)


async def test_risk_score_below_is_a_condition(tenant: Tenant) -> None:
    safe_bonus = FUEL_3X | {"id": "safe", "conditions": {"risk_score_below": 30}}
    await setup(tenant, None, safe_bonus)
    low = (await tenant.hook(purchase("t-1", risk={"score": 10}))).json()
    high = (await tenant.hook(purchase("t-2", risk={"score": 30}))).json()
    none = (await tenant.hook(purchase("t-3"))).json()
    assert [r["rule_id"] for r in low["rules_applied"]] == ["safe"]
    assert high["rules_applied"] == []
    assert none["rules_applied"] == []
    bad = await tenant.hook(purchase("t-4", risk={"score": 101}))
    assert bad.status_code == 422


# --- four eyes -------------------------------------------------------------------------------

APPROVALS = {
    "approvals": {"adjustment_points_over": 1000, "rule_changes": True, "grants_over_points": 500}
}


async def second_key(tenant: Tenant, label: str) -> dict[str, str]:
    made = await tenant.client.post("/v1/admin/keys", json={"label": label}, headers=tenant.admin)
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['api_key']}"}


async def test_a_big_adjustment_waits_for_a_second_key_and_is_applied_once(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, APPROVALS)
    await tenant.hook(purchase("t-1"))
    before = await balance(tenant, "m-1")
    small = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": 1000, "reason": "goodwill"},
        headers=tenant.admin,
    )
    assert small.status_code == 201, small.text  # at the threshold: no approval needed
    asked = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": 5000, "reason": "complaint 42"},
        headers=tenant.admin,
    )
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["approval_id"]
    assert asked.json()["status"] == "pending_approval"
    assert (await balance(tenant, "m-1"))["available"] == before["available"] + 1000
    # The same key cannot approve its own change.
    own = await tenant.client.post(
        f"/v1/admin/approvals/{approval_id}/approve", headers=tenant.admin
    )
    assert own.status_code == 403, own.text
    # Two other keys approve at the same moment: it is applied once.
    keys = [await second_key(tenant, "risk-officer"), await second_key(tenant, "ops-lead")]
    answers = await asyncio.gather(
        *(tenant.client.post(f"/v1/admin/approvals/{approval_id}/approve", headers=k) for k in keys)
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert (await balance(tenant, "m-1"))["available"] == before["available"] + 6000
    adjustments = await conn.fetchval(
        "SELECT count(*) FROM transfers WHERE tenant_id = $1 AND kind = 'adjustment'", tenant.id
    )
    assert adjustments == 2
    (done,) = (
        await tenant.client.get(
            "/v1/admin/approvals", params={"status": "approved"}, headers=tenant.admin
        )
    ).json()["items"]
    assert done["approval_id"] == approval_id
    assert done["requested_by"].startswith("admin: ")
    assert done["decided_by"].startswith(("admin: risk-officer (", "admin: ops-lead ("))
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    approve = next(e for e in log if e["action"] == "approval.approve")
    adjust = next(e for e in log if e["action"] == "member.adjust" and e["after"]["points"] == 5000)
    assert approve["actor"] == done["decided_by"]
    assert "approved by admin: " in adjust["actor"]
    assert adjust["actor"].startswith("admin: ")
    # An adjustment that could not be applied is refused at once, not parked.
    too_much = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        json={"points": -(10**9), "reason": "x"},
        headers=tenant.admin,
    )
    assert too_much.status_code == 409, too_much.text
    await check_ledger(conn)


async def test_a_rejected_rule_change_leaves_nothing_and_grants_wait_too(
    tenant: Tenant, conn: asyncpg.Connection
) -> None:
    await setup(tenant, APPROVALS)
    asked = await tenant.client.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    assert asked.status_code == 202, asked.text
    assert (
        await tenant.client.get("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)
    ).status_code == 404
    other = await second_key(tenant, "second")
    rejected = await tenant.client.post(
        f"/v1/admin/approvals/{asked.json()['approval_id']}/reject", headers=other
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert (
        await tenant.client.get("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)
    ).status_code == 404
    late = await tenant.client.post(
        f"/v1/admin/approvals/{asked.json()['approval_id']}/approve", headers=other
    )
    assert late.status_code == 409
    # Approved by another key, the rule is made as it was asked for and earns.
    again = await tenant.client.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    ok = await tenant.client.post(
        f"/v1/admin/approvals/{again.json()['approval_id']}/approve", headers=other
    )
    assert ok.status_code == 200, ok.text
    assert (await tenant.hook(purchase("t-1"))).json()["rules_applied"][0]["rule_id"] == "fuel-3x"
    # A delete waits as well; a bad rule is refused at once.
    waiting = await tenant.client.delete("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)
    assert waiting.status_code == 202, waiting.text
    assert (
        await tenant.client.get("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)
    ).status_code == 200
    bad = FUEL_3X | {"id": "bad", "conditions": {"h3_cells": ["8a0000000000000"]}}
    assert (
        await tenant.client.post("/v1/admin/earn-rules", json=bad, headers=tenant.admin)
    ).status_code == 422
    # A grant of more points a member than the threshold waits; a small one runs.
    big = await tenant.client.post(
        "/v1/admin/grants",
        json={
            "id": "g-big",
            "reason": "launch",
            "audience": {"member_ids": ["m-1"]},
            "points": 800,
        },
        headers=tenant.admin,
    )
    assert big.status_code == 202, big.text
    assert big.json()["status"] == "pending_approval"
    assert (
        await tenant.client.get("/v1/admin/grants/g-big", headers=tenant.admin)
    ).status_code == 404
    small = await tenant.client.post(
        "/v1/admin/grants",
        json={
            "id": "g-small",
            "reason": "launch",
            "audience": {"member_ids": ["m-1"]},
            "points": 100,
        },
        headers=tenant.admin,
    )
    assert small.status_code == 202, small.text
    assert small.json()["kind"] == "grant"
    pending = (
        await tenant.client.get(
            "/v1/admin/approvals", params={"status": "pending_approval"}, headers=tenant.admin
        )
    ).json()["items"]
    assert [p["kind"] for p in pending] == ["grant", "earn_rule.delete"]
    await check_ledger(conn)


async def test_a_replay_gives_what_the_hook_gave_with_lists_and_holds(tenant: Tenant) -> None:
    await setup(tenant, HOLDS, FUEL_3X)
    await exclusion(tenant, "cash-out", "merchant_name_contains", ["还款"])
    opens = datetime.now(UTC) - timedelta(seconds=1)
    bodies = [
        purchase("p-1"),
        purchase("p-2", merchant_name="信用卡还款"),
        purchase("p-3", risk={"score": 90}),
        {**purchase("r-3"), "kind": "refund", "original_id": "p-3", "amount_minor": 10000},
        purchase("p-4", risk={"score": 90}, member_id="m-2"),
        {**purchase("r-2"), "kind": "reversal", "original_id": "p-2"},
    ]
    for body in bodies:
        assert (await tenant.hook(body)).status_code == 200
    # The list changes after: the replay still sees p-2 as the hook did.
    await exclusion(tenant, "cash-out", "merchant_name_contains", ["nothing-like-it"])
    found = await replay(tenant, window(opens) | {"draft": {}})
    assert found["status"] == "done", found
    assert found["fidelity"]["baseline_equals_ledger"], found["fidelity"]
    assert found["transactions"] == len(bodies)
    explained = await tenant.client.get(
        "/v1/admin/transactions/p-2/explanation", headers=tenant.admin
    )
    assert explained.status_code == 200, explained.text
    assert [c["cap"] for c in explained.json()["caps"]] == ["excluded"]
    held = await tenant.client.get("/v1/admin/transactions/p-3/explanation", headers=tenant.admin)
    assert [c["cap"] for c in held.json()["caps"]] == ["held"]
