"""The operator's papercuts: keys, program PATCH, member lists, fields and errors that help."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_offers import FUEL_12, FUTIAN, claim, fuel_purchase, shell
from tests.integration.test_points_hook import PROGRAM, setup


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- keys ------------------------------------------------------------------------------------


async def test_admin_keys_are_shown_once_listed_without_the_key_and_revoked(
    tenant: Tenant,
) -> None:
    made = await tenant.client.post("/v1/admin/keys", json={"label": "ci"}, headers=tenant.admin)
    assert made.status_code == 201, made.text
    key = made.json()
    assert key["api_key"].startswith(key["prefix"])
    assert key["label"] == "ci"
    assert key["last_used_at"] is None
    assert (await tenant.client.get("/v1/admin/program", headers=bearer(key["api_key"]))).is_success

    listed = (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()
    assert len(listed["items"]) == 2
    assert all("api_key" not in k for k in listed["items"])
    mine = next(k for k in listed["items"] if k["id"] == key["id"])
    assert mine["prefix"] == key["prefix"]
    assert mine["last_used_at"] is not None  # used just above
    assert set(mine) >= {"id", "prefix", "label", "created_at", "last_used_at"}

    gone = await tenant.client.delete(f"/v1/admin/keys/{key['id']}", headers=tenant.admin)
    assert gone.status_code == 204
    refused = await tenant.client.get("/v1/admin/program", headers=bearer(key["api_key"]))
    assert refused.status_code == 401
    again = await tenant.client.delete(f"/v1/admin/keys/{key['id']}", headers=tenant.admin)
    assert again.status_code == 404
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    assert [e["action"] for e in log[:2]] == ["api_key.revoke", "api_key.create"]
    assert "api_key" not in str(log[0]["after"]).replace("'role'", "")


async def test_the_last_admin_key_cannot_be_revoked(tenant: Tenant) -> None:
    (only,) = (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()["items"]
    refused = await tenant.client.delete(f"/v1/admin/keys/{only['id']}", headers=tenant.admin)
    assert refused.status_code == 409
    assert refused.json()["type"] == "last_admin_key"
    assert (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).is_success


async def test_two_admin_keys_revoking_each_other_at_once_leave_one(tenant: Tenant) -> None:
    second = (await tenant.client.post("/v1/admin/keys", json={}, headers=tenant.admin)).json()
    first = next(
        k
        for k in (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()["items"]
        if k["id"] != second["id"]
    )
    answers = await asyncio.gather(
        tenant.client.delete(f"/v1/admin/keys/{second['id']}", headers=tenant.admin),
        tenant.client.delete(f"/v1/admin/keys/{first['id']}", headers=bearer(second["api_key"])),
    )
    # Each revokes the other's key: one goes through; the other is refused, as the last key
    # (409), or because its own key is gone already (401). One live key is always left.
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([204, 409], [204, 401]), statuses
    for headers in (tenant.admin, bearer(second["api_key"])):
        listed = await tenant.client.get("/v1/admin/keys", headers=headers)
        if listed.status_code == 200:
            assert len(listed.json()["items"]) == 1


async def test_merchant_keys_are_managed_by_the_operator(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await tenant.merchant("shop")
    made = await tenant.client.post(
        "/v1/admin/merchants/shop/keys", json={"label": "till 2"}, headers=tenant.admin
    )
    assert made.status_code == 201
    second = made.json()
    assert second["merchant_id"] == "shop"
    profile = await tenant.client.get("/v1/merchant/profile", headers=bearer(second["api_key"]))
    assert profile.json()["id"] == "shop"
    listed = (
        await tenant.client.get("/v1/admin/merchants/shop/keys", headers=tenant.admin)
    ).json()["items"]
    assert len(listed) == 2
    assert (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()["items"][0][
        "role"
    ] == "admin"
    old = next(k for k in listed if k["id"] != second["id"])
    gone = await tenant.client.delete(
        f"/v1/admin/merchants/shop/keys/{old['id']}", headers=tenant.admin
    )
    assert gone.status_code == 204
    assert (
        await tenant.client.get("/v1/merchant/profile", headers=bearer(first))
    ).status_code == 401
    # Another tenant's operator sees no such merchant; an admin key id is not a merchant's.
    other = await other_tenant.client.get(
        "/v1/admin/merchants/shop/keys", headers=other_tenant.admin
    )
    assert other.status_code == 404
    (admin_key,) = (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()["items"]
    wrong = await tenant.client.delete(
        f"/v1/admin/merchants/shop/keys/{admin_key['id']}", headers=tenant.admin
    )
    assert wrong.status_code == 404
    missing = await tenant.client.post(
        "/v1/admin/merchants/nobody/keys", json={}, headers=tenant.admin
    )
    assert missing.status_code == 404


# --- program ---------------------------------------------------------------------------------


async def test_patch_merges_the_program_and_put_says_what_it_reset(tenant: Tenant) -> None:
    await setup(tenant, {"pending_days": 3, "excluded_mccs": ["6011"]})
    patched = await tenant.client.patch(
        "/v1/admin/program", json={"base_rate": "2"}, headers=tenant.admin
    )
    assert patched.status_code == 200, patched.text
    program = (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json()
    assert (program["base_rate"], program["pending_days"], program["excluded_mccs"]) == (
        "2",
        3,
        ["6011"],
    )
    bad = await tenant.client.patch(
        "/v1/admin/program", json={"pending_days": -1}, headers=tenant.admin
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["pending_days"]
    unknown = await tenant.client.patch(
        "/v1/admin/program", json={"pending": 1}, headers=tenant.admin
    )
    assert unknown.status_code == 422
    replaced = await tenant.client.put(
        "/v1/admin/program", json={"currency": "CNY", "base_rate": "2"}, headers=tenant.admin
    )
    assert replaced.status_code == 200
    assert sorted(replaced.json()["reset_to_defaults"]) == [
        "excluded_mccs",
        "mcc_rates",
        "pending_days",
    ]
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    assert [e["action"] for e in log[:2]] == ["program.put", "program.patch"]


# --- lists and fields ------------------------------------------------------------------------


async def test_members_are_listed_in_pages_and_filtered(tenant: Tenant) -> None:
    await setup(tenant)
    for n in range(5):
        await tenant.client.put(
            f"/v1/admin/members/m-{n}",
            json={"tier": "gold" if n % 2 else "silver", "segments": ["young"] if n < 2 else []},
            headers=tenant.admin,
        )
    await tenant.hook(purchase("p1", "m-1", mcc="5812"))
    first = (
        await tenant.client.get("/v1/admin/members", params={"limit": 3}, headers=tenant.admin)
    ).json()
    assert [m["member_id"] for m in first["items"]] == ["m-0", "m-1", "m-2"]
    assert first["items"][1]["balance"] == {"available": 350, "pending": 0}
    rest = (
        await tenant.client.get(
            "/v1/admin/members",
            params={"limit": 3, "cursor": first["next_cursor"]},
            headers=tenant.admin,
        )
    ).json()
    assert [m["member_id"] for m in rest["items"]] == ["m-3", "m-4"]
    assert rest["next_cursor"] is None
    gold = await tenant.client.get(
        "/v1/admin/members", params={"tier": "gold"}, headers=tenant.admin
    )
    assert [m["member_id"] for m in gold.json()["items"]] == ["m-1", "m-3"]
    young_gold = await tenant.client.get(
        "/v1/admin/members", params={"tier": "gold", "segment": "young"}, headers=tenant.admin
    )
    assert [m["member_id"] for m in young_gold.json()["items"]] == ["m-1"]


async def test_claimed_offers_page_and_carry_the_offers_own_fields(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    created = []
    for n in range(3):
        created.append(
            await merchant.offer(FUEL_12 | {"id": f"fuel-{n}", "targeting": {}}, approve=tenant)
        )
        assert (await claim(tenant, "m-1", f"fuel-{n}")).status_code == 200
    first = await tenant.client.get(
        "/v1/me/offers/claimed", params={"limit": 2}, headers=tenant.member("m-1")
    )
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 2
    rest = await tenant.client.get(
        "/v1/me/offers/claimed",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=tenant.member("m-1"),
    )
    items = page["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert sorted(i["offer"]["id"] for i in items) == ["fuel-0", "fuel-1", "fuel-2"]
    by_id = {o["id"]: o for o in created}
    for item in items:
        offer = item["offer"]
        assert offer["merchant_id"] == "shell"
        assert offer["created_at"] == by_id[offer["id"]]["created_at"]
    bad = await tenant.client.get(
        "/v1/me/offers/claimed", params={"cursor": "nonsense"}, headers=tenant.member("m-1")
    )
    assert bad.status_code == 422


async def test_nearby_shows_the_offers_own_created_at(tenant: Tenant) -> None:
    await setup(tenant)
    merchant = await shell(tenant)
    made = await merchant.offer(FUEL_12 | {"targeting": {}}, approve=tenant)
    await asyncio.sleep(1.1)  # a listing stamped "now" would differ by a second at least
    found = await tenant.client.get(
        "/v1/me/offers/nearby",
        params={"lat": FUTIAN[0], "lng": FUTIAN[1]},
        headers=tenant.member("m-1"),
    )
    (item,) = found.json()["items"]
    assert item["offer"]["created_at"] == made["created_at"]
    assert item["offer"]["merchant_id"] == "shell"


async def test_a_reversal_needs_no_amount(tenant: Tenant, conn) -> None:
    await setup(tenant)
    await tenant.hook(purchase("p1", mcc="5812"))
    body = purchase("v1", kind="reversal", original_id="p1")
    del body["amount_minor"]
    voided = await tenant.hook(body)
    assert voided.status_code == 200, voided.text
    assert voided.json()["points"]["total"] == -350
    no_amount = purchase("p2")
    del no_amount["amount_minor"]
    refused = await tenant.hook(no_amount)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["amount_minor"]
    batch = await tenant.hook_batch([no_amount, purchase("p3", mcc="5812")])
    first, second = batch.json()["results"]
    assert first["errors"][0]["field"] == "transactions[0].amount_minor"
    assert first["request_id"] == batch.headers["x-request-id"]
    assert second["points"]["total"] == 350
    await check_ledger(conn)


async def test_an_unknown_filter_value_is_a_422(tenant: Tenant) -> None:
    bogus = await tenant.client.get(
        "/v1/admin/offers", params={"status": "bogus"}, headers=tenant.admin
    )
    assert bogus.status_code == 422
    assert [e["field"] for e in bogus.json()["errors"]] == ["status"]
    fine = await tenant.client.get(
        "/v1/admin/offers", params={"status": "pending_review"}, headers=tenant.admin
    )
    assert fine.status_code == 200


# --- errors ----------------------------------------------------------------------------------


async def test_every_4xx_names_its_field_and_carries_the_request_id(tenant: Tenant) -> None:
    await setup(tenant)
    member = tenant.member("m-1")
    cases: list[tuple[str, str, dict[str, Any], dict[str, str], list[str]]] = [
        ("GET", "/v1/me/offers/nearby", {"lng": "114"}, member, ["lat"]),
        ("GET", "/v1/me/offers/nearby", {"lat": "x", "lng": "114"}, member, ["lat"]),
        ("GET", "/v1/admin/reports/liability", {"from": "yesterday"}, tenant.admin, ["from"]),
        ("GET", "/v1/admin/members", {"limit": "0"}, tenant.admin, ["limit"]),
    ]
    for method, path, params, headers, fields in cases:
        response = await tenant.client.request(method, path, params=params, headers=headers)
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert [e["field"] for e in body["errors"]] == fields, (path, body)
        assert body["request_id"] == response.headers["x-request-id"]
        assert "from_" not in response.text
    others = [
        await tenant.client.get("/v1/admin/program"),
        await tenant.client.get("/v1/nowhere"),
        await tenant.client.get("/v1/admin/members/nobody", headers=tenant.admin),
        await tenant.client.delete("/v1/admin/program", headers=tenant.admin),
        await tenant.client.post(
            "/v1/admin/earn-rules",
            content=b"{",
            headers=tenant.admin | {"content-type": "application/json"},
        ),
    ]
    assert [r.status_code for r in others] == [401, 404, 404, 405, 400]
    for response in others:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["request_id"] == response.headers["x-request-id"]


# --- documentation and metrics ---------------------------------------------------------------


async def test_the_swagger_page_loads_everything_from_the_service_itself(tenant: Tenant) -> None:
    page = await tenant.client.get("/schema/swagger")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls, page.text
    for url in urls:
        assert url.startswith("/"), f"{url} is loaded from another host"
        asset = await tenant.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100
    assert "//" not in "".join(u[1:] for u in urls)
    assert not re.search(r"https?://(?!rewards\.local)", page.text.split("<body")[0])
    for other in ("/schema", "/schema/openapi.json"):
        doc = await tenant.client.get(other)
        assert doc.status_code == 200
        assert not re.search(r"(?:src|href)=[\"']https?://", doc.text), other


async def test_metrics_count_awards_points_draws_offers_and_refusals(tenant: Tenant) -> None:
    before = _metrics(await tenant.client.get("/metrics"))
    await setup(tenant, None)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"activation": "auto", "targeting": {}}, approve=tenant)
    await tenant.client.post(
        "/v1/admin/draw-campaigns",
        json={
            "id": "every-swipe",
            "name": "Every swipe",
            "prizes": [{"multiplier": 2, "weight": 1}],
        },
        headers=tenant.admin,
    )
    for n in range(3):
        assert (await tenant.hook(fuel_purchase(f"t{n}"))).status_code == 200
    await tenant.hook(fuel_purchase("t0"))  # a repeat delivery counts nothing
    await tenant.hook(purchase("r0", kind="refund", original_id="t0", amount_minor=35000))
    body = b"{}"
    bad = await tenant.client.post(
        "/v1/hooks/transactions",
        content=body,
        headers=tenant.signed(body) | {"X-Rewards-Signature": "t=1,v1=00"},
    )
    assert bad.status_code == 401
    await tenant.client.post(
        "/v1/admin/catalog/items",
        json={"sku": "tea", "title": "Tea", "category": "food", "points_price": 100, "stock": 0},
        headers=tenant.admin,
    )
    sold_out = await tenant.client.post(
        "/v1/me/redemptions", json={"sku": "tea", "quantity": 1}, headers=tenant.member("m-1")
    )
    assert sold_out.status_code == 409
    after = _metrics(await tenant.client.get("/metrics"))

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew('rewards_awards_total{kind="purchase"}') == 3
    assert grew('rewards_awards_total{kind="refund"}') == 1
    assert grew('rewards_points_awarded_total{kind="base"}') == 3 * 175
    assert grew('rewards_points_awarded_total{kind="draw"}') == 3 * 175
    assert grew('rewards_draws_total{multiplier="2"}') == 3
    assert grew("rewards_offer_matches_total") == 3
    assert grew('rewards_points_clawed_back_total{kind="base"}') == 175
    assert grew("rewards_hook_signature_failures_total") == 1
    assert grew('rewards_redemptions_total{outcome="out_of_stock"}') == 1


def _metrics(response: httpx.Response) -> dict[str, float]:
    assert response.status_code == 200
    found: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def test_put_program_still_replaces_the_whole_program(tenant: Tenant) -> None:
    await setup(tenant, {"pending_days": 2})
    response = await tenant.client.put("/v1/admin/program", json=PROGRAM, headers=tenant.admin)
    assert response.json()["reset_to_defaults"] == []  # PROGRAM names pending_days: 0
    assert response.json()["pending_days"] == 0


async def test_a_recorded_transaction_shows_what_was_posted_and_stores_it_once(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    posted = purchase("p-body", "m-1", store_id="s-1", location={"lat": 22.54, "lng": 114.05})
    assert (await tenant.hook(posted)).status_code == 200
    response = await tenant.client.get("/v1/admin/transactions/p-body", headers=tenant.admin)
    assert response.status_code == 200, response.text
    body = response.json()["request"]
    expected = {k: v for k, v in posted.items() if k != "location"} | {"original_id": None}
    assert body == expected | {"lat": 22.54, "lng": 114.05}
    # The fields that have columns are not kept a second time in the body.
    stored = await conn.fetchval("SELECT body FROM transactions WHERE transaction_id = 'p-body'")
    assert stored.keys().isdisjoint({"id", "kind", "member_id", "amount_minor", "currency"})
