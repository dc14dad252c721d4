"""The merchant portal over real HTTP through the app: sessions, forms, escaping, scoping."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

from api.web.forms import in_words
from tests.dates import NOW, days_ago, iso
from tests.integration.conftest import Tenant, count_rows, purchase
from tests.integration.test_offers import FUEL_12, claim
from tests.integration.test_points_hook import setup

STORE = {
    "name": "壳牌 福田加油站 Shell Futian",
    "address": "深圳市福田区",
    "lat": "22.5431",
    "lng": "114.0579",
}


def offer_form(**over: Any) -> dict[str, Any]:
    """The offer form as a merchant fills it: 12% off fuel, amounts in yuan."""
    form: dict[str, Any] = {
        "id": "fuel-88",
        "title": "加油立减12% · 12% off fuel",
        "category": "fuel",
        "description": "",
        "reward.kind": "percent_off",
        "reward.value": "12",
        "reward.max_reward_minor": "50.00",
        "min_spend_minor": "200",
        "store_ids": ["shell-01"],
        "geofence_radius_m": "500",
        "targeting.card_product_in": "car-owner",
        "targeting.tier_in": "",
        "targeting.segment_in": "",
        "targeting.mcc_in": "",
        "targeting.channel": "",
        "targeting.more": "",
        "schedule.starts_at": "",
        "schedule.ends_at": "",
        "schedule.days_of_week": ["1", "2", "3", "4", "5", "6", "7"],
        "budget.max_redemptions": "10000",
        "budget.max_reward_minor": "50000",
        "per_member_limit": "4",
        "activation": "claim",
    }
    form.update(over)
    return form


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', page)
    assert found, f"no error next to {name}"
    return html.unescape(found[1])


async def portal_with_store(tenant: Tenant, web: Any) -> tuple[Any, str]:
    await setup(tenant)
    key = await tenant.merchant("shell", "Shell", "fuel")
    user = await web("portal", key)
    added = await user.submit("/portal/stores", STORE | {"id": "shell-01"})
    assert added.status_code == 303, added.text
    return user, key


async def test_signing_in_exchanges_the_key_for_a_strict_session_cookie(
    tenant: Tenant, web: Any
) -> None:
    key = await tenant.merchant("shell")
    user = await web("portal", None)
    assert (await user.get("/portal/offers")).headers["location"] == "/portal/sign-in"
    signed = await user.sign_in(key)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/portal/"
    set_cookie = [v for k, v in signed.headers.multi_items() if k == "set-cookie"]
    session = next(c for c in set_cookie if c.startswith("rewards_portal="))
    assert "HttpOnly" in session
    assert "samesite=strict" in session.lower()
    assert "Path=/portal" in session
    assert "Secure" not in session  # plain http here; see the https test
    assert key not in signed.headers.get("location", "")
    assert key not in session
    page = await user.get("/portal/offers")
    assert page.status_code == 200
    assert key not in page.text
    assert "Sign out" in page.text


async def test_the_cookie_is_secure_over_https(tenant: Tenant, web: Any) -> None:
    key = await tenant.merchant("shell")
    user = await web("portal", None, "https://rewards.local")
    signed = await user.sign_in(key)
    session = next(
        v for k, v in signed.headers.multi_items() if k == "set-cookie" and "rewards_portal=" in v
    )
    assert "Secure" in session


async def test_a_wrong_or_foreign_key_does_not_sign_in(tenant: Tenant, web: Any) -> None:
    user = await web("portal", None)
    for key in ("rmch.nope.x", "", tenant.admin_key, "not a key at all"):
        refused = await user.sign_in(key)
        assert refused.status_code == 401, refused.text
        assert "This key is not valid, or it was revoked." in refused.text
        assert "rewards_portal=" not in refused.headers.get("set-cookie", "")
    console = await web("console", None)
    merchant_key = await tenant.merchant("shell")
    assert (await console.sign_in(merchant_key)).status_code == 401
    assert (await console.sign_in(tenant.admin_key)).status_code == 303


async def test_every_page_has_a_strict_content_security_policy(tenant: Tenant, web: Any) -> None:
    user, _ = await portal_with_store(tenant, web)
    for path in (
        "/portal/sign-in",
        "/portal/stores",
        "/portal/stores/shell-01",
        "/portal/offers",
        "/portal/offers/new",
        "/portal/stores/nope",
    ):
        page = await user.get(path)
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "script-src" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["content-type"].startswith("text/html; charset=utf-8")
        # Nothing is loaded from another host.
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path
    css = await user.get("/web/static/site.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


async def test_what_merchants_type_is_shown_as_text(tenant: Tenant, web: Any) -> None:
    user, _ = await portal_with_store(tenant, web)
    evil = "<script>alert(1)</script>"
    added = await user.submit(
        "/portal/stores",
        {"id": "evil", "name": evil, "address": '"><img src=x>', "lat": "22.5", "lng": "114"},
    )
    assert added.status_code == 303
    for path in ("/portal/stores", "/portal/stores/evil"):
        page = (await user.get(path)).text
        assert evil not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<img src=x>" not in page
    created = await user.submit(
        "/portal/offers", offer_form(id="evil-offer", title=evil, **{"store_ids": ["evil"]})
    )
    assert created.status_code == 303, created.text
    page = (await user.get("/portal/offers")).text
    assert evil not in page
    assert "&lt;script&gt;" in page


async def test_chinese_and_english_names_are_kept_as_typed(tenant: Tenant, web: Any) -> None:
    user, key = await portal_with_store(tenant, web)
    page = (await user.get("/portal/stores")).text
    assert STORE["name"] in page
    api = await tenant.client.get(
        "/v1/merchant/stores/shell-01", headers={"Authorization": f"Bearer {key}"}
    )
    assert api.json()["name"] == STORE["name"]
    assert api.json()["address"] == "深圳市福田区"


async def test_a_store_is_added_edited_drawn_and_deleted(tenant: Tenant, web: Any) -> None:
    user, key = await portal_with_store(tenant, web)
    page = await user.get("/portal/stores/shell-01")
    assert page.status_code == 200
    cells = re.search(r'<svg class="map"[^>]*data-cells="(\d+)"', page.text)
    assert cells
    assert int(cells[1]) >= 1
    assert page.text.count('class="cell"') == int(cells[1])
    assert 'class="fence"' in page.text
    saved = await user.submit(
        "/portal/stores/shell-01",
        {"name": "Shell 福田 2", "address": "x", "lat": "22.6", "lng": "114.1"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/portal/stores/shell-01?done=store-saved"
    api = (
        await tenant.client.get(
            "/v1/merchant/stores/shell-01", headers={"Authorization": f"Bearer {key}"}
        )
    ).json()
    assert (api["name"], api["lat"], api["lng"]) == ("Shell 福田 2", 22.6, 114.1)
    deleted = await user.submit("/portal/stores/shell-01/delete", {})
    assert deleted.status_code == 303
    assert (await user.get("/portal/stores/shell-01")).status_code == 404


async def test_store_coordinates_are_checked_as_the_api_checks_them(
    tenant: Tenant, web: Any, conn: Any
) -> None:
    user, key = await portal_with_store(tenant, web)
    before = await count_rows(conn, "stores")
    api = await tenant.client.post(
        "/v1/merchant/stores",
        json={"name": "x", "lat": 91, "lng": 114},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 422
    api_message = api.json()["errors"][0]["message"]
    page = await user.submit(
        "/portal/stores", {"name": "x", "address": "", "lat": "91", "lng": "114"}
    )
    assert page.status_code == 422
    assert field_error(page.text, "lat") == in_words(api_message) == "Enter a number of at most 90."
    typo = await user.submit(
        "/portal/stores", {"name": "x", "address": "", "lat": "22,5x", "lng": "114"}
    )
    assert field_error(typo.text, "lat") == "Enter a number, like 22.5431."
    assert 'value="22,5x"' in typo.text  # what was typed stays in the form
    assert await count_rows(conn, "stores") == before


async def test_an_offer_made_in_the_form_is_the_offer_the_api_shows(
    tenant: Tenant, web: Any
) -> None:
    user, key = await portal_with_store(tenant, web)
    starts = (NOW + timedelta(days=30)).replace(hour=8, minute=0, second=0)
    created = await user.submit(
        "/portal/offers",
        offer_form(
            **{
                "schedule.starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
                "schedule.days_of_week": ["6", "7"],
                "targeting.more": '{"local_time": {"from": "07:00", "to": "10:00"}}',
            }
        ),
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/portal/offers/fuel-88?done=offer-created"
    page = await user.get(created.headers["location"])
    assert "Waiting for review" in page.text
    assert "goes live once the program operator approves it" in page.text
    offer = (
        await tenant.client.get(
            "/v1/merchant/offers/fuel-88", headers={"Authorization": f"Bearer {key}"}
        )
    ).json()
    assert offer["status"] == "pending_review"
    assert offer["reward"] == {"kind": "percent_off", "value": "12", "max_reward_minor": 5000}
    assert offer["min_spend_minor"] == 20000
    assert offer["store_ids"] == ["shell-01"]
    assert offer["budget"] == {"max_redemptions": 10000, "max_reward_minor": 5_000_000}
    assert offer["per_member_limit"] == 4
    assert offer["activation"] == "claim"
    assert offer["targeting"] == {
        "card_product_in": ["car-owner"],
        "local_time": {"from": "07:00", "to": "10:00"},
    }
    assert offer["schedule"]["days_of_week"] == [6, 7]
    # Typed in the program's time zone (Asia/Shanghai, +08:00, as tests.dates.CST).
    assert datetime.fromisoformat(offer["schedule"]["starts_at"]) == starts
    # The edit form shows it back as it was typed.
    assert 'value="50.00"' in page.text
    assert 'value="200.00"' in page.text
    assert f'value="{starts.strftime("%Y-%m-%d %H:%M")}"' in page.text


async def test_offer_form_errors_are_the_apis_next_to_their_fields(
    tenant: Tenant, web: Any, conn: Any
) -> None:
    user, key = await portal_with_store(tenant, web)
    api = await tenant.client.post(
        "/v1/merchant/offers",
        json=FUEL_12 | {"store_ids": ["shell-01"], "geofence_radius_m": 5},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert api.status_code == 422
    page = await user.submit("/portal/offers", offer_form(geofence_radius_m="5"))
    assert page.status_code == 422
    assert field_error(page.text, "geofence_radius_m") == in_words(
        api.json()["errors"][0]["message"]
    )
    assert field_error(page.text, "geofence_radius_m") == "Enter a number of at least 10."
    bad_money = await user.submit("/portal/offers", offer_form(min_spend_minor="2OO"))
    assert field_error(bad_money.text, "min_spend_minor") == "Enter an amount like 200 or 200.50."
    no_title = await user.submit("/portal/offers", offer_form(title=""))
    assert field_error(no_title.text, "title") == "Enter a value."
    unknown_store = await user.submit("/portal/offers", offer_form(store_ids=["nope"]))
    assert unknown_store.status_code == 422
    assert "store_ids-error" in unknown_store.text
    bad_id = await user.submit("/portal/offers", offer_form(id="fuel 88"))
    assert field_error(bad_id.text, "id") == "Use 1 to 64 letters, digits or . _ : - (no spaces)."
    assert await count_rows(conn, "offers") == 0
    await user.submit("/portal/offers", offer_form())
    twice = await user.submit("/portal/offers", offer_form())
    assert twice.status_code == 409
    assert "already" in twice.text
    assert await count_rows(conn, "offers") == 1


async def test_an_edited_offer_goes_back_to_review_and_pauses_and_resumes(
    tenant: Tenant, web: Any
) -> None:
    user, key = await portal_with_store(tenant, web)
    await user.submit("/portal/offers", offer_form())
    approved = await tenant.client.post("/v1/admin/offers/fuel-88/approve", headers=tenant.admin)
    assert approved.status_code == 200
    page = (await user.get("/portal/offers/fuel-88")).text
    assert 'class="badge active"' in page
    listed = " ".join((await user.get("/portal/offers")).text.split())
    assert '<td data-label="Reward">12% off, at most CN¥50.00</td>' in listed
    assert "/pause" in page
    paused = await user.submit("/portal/offers/fuel-88/pause", {})
    assert paused.status_code == 303
    assert 'class="badge paused"' in (await user.get("/portal/offers/fuel-88")).text
    assert (await user.submit("/portal/offers/fuel-88/resume", {})).status_code == 303
    saved = await user.submit("/portal/offers/fuel-88", offer_form(title="12% off fuel, weekends"))
    assert saved.status_code == 303, saved.text
    offer = (
        await tenant.client.get(
            "/v1/merchant/offers/fuel-88", headers={"Authorization": f"Bearer {key}"}
        )
    ).json()
    assert offer["title"] == "12% off fuel, weekends"
    assert offer["status"] == "pending_review"


async def test_the_stats_page_charts_a_redemption(tenant: Tenant, web: Any) -> None:
    user, _ = await portal_with_store(tenant, web)
    await user.submit("/portal/offers", offer_form())
    await tenant.client.post("/v1/admin/offers/fuel-88/approve", headers=tenant.admin)
    await tenant.client.put(
        "/v1/admin/members/m-1", json={"card_products": ["car-owner"]}, headers=tenant.admin
    )
    assert (await claim(tenant, "m-1", "fuel-88")).status_code == 200
    when = days_ago(1)
    paid = await tenant.hook(
        purchase("t-1", "m-1", merchant_id="shell", store_id="shell-01", occurred_at=iso(when))
    )
    assert paid.status_code == 200, paid.text
    assert [o["offer_id"] for o in paid.json()["offers_applied"]] == ["fuel-88"]
    page = await user.get("/portal/offers/fuel-88/stats")
    assert page.status_code == 200
    day = when.date().isoformat()
    assert f'data-day="{day}" data-series="redemptions" data-value="1"' in page.text
    assert '<span class="figure" id="total-redemptions">1</span>' in page.text
    chosen = await user.get("/portal/offers/fuel-88/stats", params={"from": day, "to": day})
    assert chosen.text.count('data-series="redemptions"') == 1
    wrong = await user.get(
        "/portal/offers/fuel-88/stats", params={"from": day, "to": days_ago(5).date().isoformat()}
    )
    assert wrong.status_code == 422
    assert field_error(wrong.text, "from") == "The first day must not be after the last."
    typo = await user.get("/portal/offers/fuel-88/stats", params={"from": "yesterday"})
    assert typo.status_code == 422


async def test_another_merchant_reaches_none_of_it(tenant: Tenant, web: Any, conn: Any) -> None:
    user, _ = await portal_with_store(tenant, web)
    await user.submit("/portal/offers", offer_form())
    other = await web("portal", await tenant.merchant("bp", "BP"))
    for path in (
        "/portal/stores/shell-01",
        "/portal/offers/fuel-88",
        "/portal/offers/fuel-88/stats",
    ):
        page = await other.get(path)
        assert page.status_code == 404, path
        assert "belongs to someone else" in page.text
    token = await other.token("/portal/stores")
    for action, data in (
        ("/portal/stores/shell-01", {"name": "mine", "lat": "1", "lng": "1"}),
        ("/portal/stores/shell-01/delete", {}),
        ("/portal/offers/fuel-88", offer_form()),
        ("/portal/offers/fuel-88/pause", {}),
    ):
        assert (await other.post(action, {**data, "csrf_token": token})).status_code == 404, action
    listed = (await other.get("/portal/offers")).text + (await other.get("/portal/stores")).text
    assert "fuel-88" not in listed
    assert "shell-01" not in listed
    assert (await conn.fetchval("SELECT name FROM stores WHERE store_id = 'shell-01'")) == STORE[
        "name"
    ]


async def test_a_form_without_this_sessions_token_is_refused(
    tenant: Tenant, web: Any, conn: Any
) -> None:
    user, _ = await portal_with_store(tenant, web)
    other = await web("portal", await tenant.merchant("bp", "BP"))
    before = await count_rows(conn, "stores")
    new = {"name": "forged", "lat": "22", "lng": "114"}
    assert (await user.post("/portal/stores", new)).status_code == 403
    assert (await user.post("/portal/stores", {**new, "csrf_token": "guess"})).status_code == 403
    foreign = await user.post("/portal/stores", {**new, "csrf_token": await other.token()})
    assert foreign.status_code == 403
    assert "This form has expired" in foreign.text
    cross = await user.post(
        "/portal/stores",
        {**new, "csrf_token": await user.token()},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert (await user.post("/portal/stores/shell-01/delete", {})).status_code == 403
    assert await count_rows(conn, "stores") == before
    # Signing in needs the sign-in page's own token too (no login CSRF).
    fresh = await web("portal", None)
    assert (await fresh.post("/portal/sign-in", {"api_key": "rmch.x.y"})).status_code == 403


async def test_a_signed_out_session_cannot_act(tenant: Tenant, web: Any, conn: Any) -> None:
    user, _ = await portal_with_store(tenant, web)
    token = await user.token()
    cookie = user.http.cookies.get("rewards_portal")
    out = await user.post("/portal/sign-out", {"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/sign-in?signed_out=1"
    assert "You are signed out." in (await user.get(out.headers["location"])).text
    # The old cookie, kept by an attacker, is dead on the server.
    user.http.cookies.set("rewards_portal", cookie, domain="rewards.local", path="/portal")
    acted = await user.post("/portal/stores/shell-01/delete", {"csrf_token": token})
    assert acted.status_code == 303
    assert acted.headers["location"] == "/portal/sign-in"
    assert (await user.get("/portal/stores")).status_code == 303
    assert await count_rows(conn, "stores") == 1


async def test_revoking_the_key_ends_its_sessions(tenant: Tenant, web: Any) -> None:
    response = await tenant.client.post(
        "/v1/admin/merchants",
        json={"id": "shell", "name": "Shell", "category": "fuel"},
        headers=tenant.admin,
    )
    key = response.json()["api_key"]
    user = await web("portal", key)
    assert (await user.get("/portal/stores")).status_code == 200
    keys = (await tenant.client.get("/v1/admin/merchants/shell/keys", headers=tenant.admin)).json()[
        "items"
    ]
    revoked = await tenant.client.delete(
        f"/v1/admin/merchants/shell/keys/{keys[0]['id']}", headers=tenant.admin
    )
    assert revoked.status_code == 204
    assert (await user.get("/portal/stores")).status_code == 303


async def test_long_lists_page(tenant: Tenant, web: Any) -> None:
    await setup(tenant)
    key = await tenant.merchant("shell")
    headers = {"Authorization": f"Bearer {key}"}
    for n in range(30):
        made = await tenant.client.post(
            "/v1/merchant/stores",
            json={"id": f"s-{n:02}", "name": f"Store {n:02}", "lat": 22.5, "lng": 114.0},
            headers=headers,
        )
        assert made.status_code == 201
    user = await web("portal", key)
    first = await user.get("/portal/stores")
    assert first.text.count('href="/portal/stores/s-') == 25
    link = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert link
    second = await user.get(html.unescape(link[1]))
    assert second.text.count('href="/portal/stores/s-') == 5
    assert 'rel="next"' not in second.text
    assert "Store 29" in second.text
    assert "Store 29" not in first.text
