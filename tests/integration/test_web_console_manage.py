"""What an operator manages in the console besides offers and the program, over real HTTP
through the app, each checked against the API afterwards: earn rules with their
conditions and caps, draw campaigns revealed and recomputed, members and adjustments, API
keys shown once and revoked, outbound events sent again, catalog stock and codes; and the
audit log naming the key that made each change."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.integration.conftest import PURCHASE_AT, Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_catalog import item
from tests.integration.test_draws import EVERY_SWIPE, campaign
from tests.integration.test_points_hook import setup

RULE_FORM = {
    "id": "fuel-3x",
    "name": "加油三倍 Fuel 3x",
    "effect.kind": "multiplier",
    "effect.value": "3",
    "stacking": "on",
    "active": "on",
    "conditions.mcc_in": "5541, 5542",
    "conditions.card_product_in": "car-owner",
    "conditions.min_amount_minor": "100.00",
    "conditions.days_of_week": ["6", "7"],
    "conditions.local_time.from": "07:00",
    "conditions.local_time.to": "10:00",
    "caps.per_member_per_day": "500",
    "caps.budget_points": "100000",
}


async def rule_of(tenant: Tenant, rule_id: str) -> Any:
    return await tenant.client.get(f"/v1/admin/earn-rules/{rule_id}", headers=tenant.admin)


async def test_an_earn_rule_is_made_changed_and_switched_off_with_form_fields(
    tenant: Tenant, web: Any
) -> None:
    admin = await web("console", tenant.admin_key)
    assert (await admin.get("/console/earn-rules/new")).status_code == 200
    made = await admin.submit("/console/earn-rules", RULE_FORM, "/console/earn-rules/new")
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/console/earn-rules/fuel-3x?done=rule-saved"
    rule = (await rule_of(tenant, "fuel-3x")).json()
    assert rule["effect"] == {"kind": "multiplier", "value": "3"}
    assert rule["conditions"] == {
        "mcc_in": ["5541", "5542"],
        "card_product_in": ["car-owner"],
        "min_amount_minor": 10000,
        "days_of_week": [6, 7],
        "local_time": {"from": "07:00", "to": "10:00"},
    }
    assert rule["caps"]["per_member_per_day"] == 500
    assert rule["caps"]["budget_points"] == 100000
    page = (await admin.get("/console/earn-rules/fuel-3x")).text
    assert 'value="100.00"' in page  # money in yuan, as it was typed
    assert 'value="6" checked' in page

    changed = RULE_FORM | {"name": "Fuel 3x weekends", "caps.per_member_per_day": "800"}
    del changed["id"]
    saved = await admin.submit(
        "/console/earn-rules/fuel-3x", changed, "/console/earn-rules/fuel-3x"
    )
    assert saved.status_code == 303, saved.text
    rule = (await rule_of(tenant, "fuel-3x")).json()
    assert rule["name"] == "Fuel 3x weekends"
    assert rule["caps"]["per_member_per_day"] == 800

    off = await admin.submit("/console/earn-rules/fuel-3x/active", {"active": "off"})
    assert off.status_code == 303
    assert (await rule_of(tenant, "fuel-3x")).json()["active"] is False
    listing = (await admin.get("/console/earn-rules")).text
    assert "Switch on" in listing

    # Bad fields are shown next to each field; nothing is made.
    bad = await admin.submit(
        "/console/earn-rules",
        RULE_FORM | {"id": "bad", "effect.value": "three", "conditions.mcc_in": "55"},
        "/console/earn-rules/new",
    )
    assert bad.status_code == 422
    assert 'id="effect.value-error"' in bad.text
    assert (await rule_of(tenant, "bad")).status_code == 404


async def test_a_campaign_is_made_then_revealed_and_its_draws_recomputed_on_the_page(
    tenant: Tenant, web: Any
) -> None:
    await setup(tenant)
    admin = await web("console", tenant.admin_key)
    # A month from now for a month, typed in the program's time (Shanghai).
    shanghai = ZoneInfo("Asia/Shanghai")
    starts = (datetime.now(shanghai) + timedelta(days=30)).replace(second=0, microsecond=0)
    form = {
        "id": "spring",
        "name": "春季抽奖",
        "prizes": "1 = 700\n2 = 300",
        "budget.total_points": "100000",
        "starts_at": starts.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (starts + timedelta(days=30)).strftime("%Y-%m-%d %H:%M"),
    }
    made = await admin.submit("/console/draw-campaigns", form, "/console/draw-campaigns")
    assert made.status_code == 303, made.text
    spring = (
        await tenant.client.get("/v1/admin/draw-campaigns/spring", headers=tenant.admin)
    ).json()
    assert spring["prizes"] == [{"multiplier": 1, "weight": 700}, {"multiplier": 2, "weight": 300}]
    assert datetime.fromisoformat(spring["starts_at"]) == starts
    page = (await admin.get("/console/draw-campaigns/spring")).text
    assert spring["commitment"] in page
    assert "/reveal" not in page  # not ended: nothing to reveal

    # A campaign that ended after purchases drew in it: its page reveals and checks them.
    ended = await campaign(tenant, ends_at=PURCHASE_AT.replace(hour=23, minute=59).isoformat())
    for n in range(12):
        sent = await tenant.hook(purchase(f"d{n}", f"m-{n % 3}", mcc="5812"))
        assert sent.status_code == 200, sent.text
    revealed = await admin.submit(
        "/console/draw-campaigns/every-swipe/reveal", {}, "/console/draw-campaigns/every-swipe"
    )
    assert revealed.status_code == 200, revealed.text
    assert ended["commitment"] in revealed.text
    assert 'id="commitment-check" class="ok"' in revealed.text
    assert revealed.text.count("✓") == 12
    assert "✗" not in revealed.text
    assert len(EVERY_SWIPE["prizes"]) == revealed.text.count("<tr><td>×")


async def test_a_member_is_found_and_adjusted_with_a_reason_named_by_its_key(
    tenant: Tenant, web: Any, conn: Any
) -> None:
    await setup(tenant)
    assert (await tenant.hook(purchase("t-1", "m-1", mcc="5812"))).status_code == 200
    admin = await web("console", tenant.admin_key)
    found = await admin.get("/console/members", params={"member": "m-1"})
    assert found.status_code == 303
    assert found.headers["location"] == "/console/members/m-1"
    missing = await admin.get("/console/members", params={"member": "nobody"})
    assert missing.status_code == 404
    assert "No member nobody in this program." in missing.text
    before = (await tenant.client.get("/v1/admin/members/m-1", headers=tenant.admin)).json()
    page = (await admin.get("/console/members/m-1")).text
    assert f'id="available">{before["balance"]["available"]:,}<' in page
    # The lot the purchase made, with what is left of it.
    lots = page[page.index('id="lots"') : page.index("</table>", page.index('id="lots"'))]
    assert f"{before['balance']['available']:,} / {before['balance']['available']:,}" in lots

    unexplained = await admin.submit(
        "/console/members/m-1/adjustments", {"points": "100", "reason": " "}, "/console/members/m-1"
    )
    assert unexplained.status_code == 422
    assert "Say why" in unexplained.text
    done = await admin.submit(
        "/console/members/m-1/adjustments",
        {"points": "100", "reason": "补偿 goodwill"},
        "/console/members/m-1",
    )
    assert done.status_code == 303, done.text
    after = (await tenant.client.get("/v1/admin/members/m-1", headers=tenant.admin)).json()
    assert after["balance"]["available"] == before["balance"]["available"] + 100
    too_much = await admin.submit(
        "/console/members/m-1/adjustments",
        {"points": "-99999999", "reason": "oops"},
        "/console/members/m-1",
    )
    assert too_much.status_code in (409, 422)
    assert "Not enough points (" in too_much.text
    assert (await tenant.client.get("/v1/admin/members/m-1", headers=tenant.admin)).json()[
        "balance"
    ] == after["balance"]
    await check_ledger(conn)
    # Suspended from the console: the member's other attributes stay; reinstated, it earns.
    suspended = await admin.submit(
        "/console/members/m-1/status", {"status": "suspended"}, "/console/members/m-1"
    )
    assert suspended.status_code == 303, suspended.text
    member = (await tenant.client.get("/v1/admin/members/m-1", headers=tenant.admin)).json()
    assert member["status"] == "suspended"
    assert member["card_products"] == before["card_products"]
    bogus = await admin.submit(
        "/console/members/m-1/status", {"status": "deleted"}, "/console/members/m-1"
    )
    assert bogus.status_code == 422
    await admin.submit("/console/members/m-1/status", {"status": "active"}, "/console/members/m-1")
    # The audit log names the key the console was signed in with.
    entries = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    entry = next(e for e in entries if e["action"] == "member.adjust")
    assert re.fullmatch(r"admin: first admin key \(\S+…\)", entry["actor"]), entry["actor"]
    assert entry["actor"] in (await admin.get("/console/audit")).text


async def test_a_key_is_shown_once_works_and_is_revoked(tenant: Tenant, web: Any) -> None:
    admin = await web("console", tenant.admin_key)
    issued = await admin.submit("/console/keys", {"label": "ops-lead"}, "/console/keys")
    assert issued.status_code == 201
    key = re.search(r'<code id="new-key">([^<]+)</code>', issued.text)
    assert key is not None
    new_key = key[1]
    headers = {"Authorization": f"Bearer {new_key}"}
    assert (await tenant.client.get("/v1/admin/program", headers=headers)).status_code == 200
    listing = (await admin.get("/console/keys")).text
    assert new_key not in listing  # shown once
    assert "ops-lead" in listing
    # A change made with the new key is audited under its label.
    await tenant.client.patch("/v1/admin/program", json={"pending_days": 1}, headers=headers)
    entry = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"][
        0
    ]
    assert entry["actor"].startswith("admin: ops-lead (")

    listed = (await tenant.client.get("/v1/admin/keys", headers=tenant.admin)).json()["items"]
    ops = next(k for k in listed if k["label"] == "ops-lead")
    revoked = await admin.submit(f"/console/keys/{ops['id']}/revoke", {}, "/console/keys")
    assert revoked.status_code == 303
    assert (await tenant.client.get("/v1/admin/program", headers=headers)).status_code == 401
    # The last key cannot be revoked: the page says why and the key still works.
    first = next(k for k in listed if k["label"] != "ops-lead")
    last = await admin.submit(f"/console/keys/{first['id']}/revoke", {}, "/console/keys")
    assert last.status_code == 409
    assert "This is the last admin key: issue another one first (" in last.text
    assert (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).status_code == 200


async def test_catalog_stock_is_set_and_codes_uploaded(tenant: Tenant, web: Any) -> None:
    await item(tenant, stock=5)
    await item(tenant, sku="coffee", title="咖啡券 Coffee", fulfilment="pool", codes=["C-1"])
    admin = await web("console", tenant.admin_key)
    listing = (await admin.get("/console/catalog")).text
    assert "咖啡券 Coffee" in listing
    stocked = await admin.submit(
        "/console/catalog/video-month/stock", {"stock": "42"}, "/console/catalog/video-month"
    )
    assert stocked.status_code == 303
    view = (
        await tenant.client.get("/v1/admin/catalog/items/video-month", headers=tenant.admin)
    ).json()
    assert view["stock_left"] == 42
    negative = await admin.submit(
        "/console/catalog/video-month/stock", {"stock": "-1"}, "/console/catalog/video-month"
    )
    assert negative.status_code == 422
    codes = await admin.submit(
        "/console/catalog/coffee/codes", {"codes": "C-1\nC-2\n\nC-3\n"}, "/console/catalog/coffee"
    )
    assert codes.status_code == 303, codes.text
    coffee = (
        await tenant.client.get("/v1/admin/catalog/items/coffee", headers=tenant.admin)
    ).json()
    assert coffee["stock_left"] == 3  # C-1 was there already
    not_pool = await admin.submit(
        "/console/catalog/video-month/codes", {"codes": "X-1"}, "/console/catalog/video-month"
    )
    assert not_pool.status_code == 409
