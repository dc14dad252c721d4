"""The portal and the console in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import WIDTHS, shoot
from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.test_points_hook import setup


async def signed_in(browser: Any, live: str, area: str, key: str) -> Any:
    """A new browser context (its own cookies), signed in through the sign-in page."""
    context = await browser.new_context(viewport=WIDTHS["desktop"], base_url=live)
    page = await context.new_page()
    await page.goto(f"/{area}/")
    assert page.url.endswith(f"/{area}/sign-in")
    key_name = "merchant API key" if area == "portal" else "admin API key"
    await page.get_by_label(f"Your {key_name}").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)
    return page


async def test_an_offer_from_the_portal_to_a_matched_purchase(
    browser: Any, live: str, tenant: Tenant
) -> None:
    await setup(tenant)
    key = await tenant.merchant("shell", "壳牌 Shell", "fuel")
    merchant = await signed_in(browser, live, "portal", key)

    # The session is an HttpOnly, SameSite=Strict cookie; the key is nowhere in the browser.
    cookies = {c["name"]: c for c in await merchant.context.cookies()}
    assert cookies["rewards_portal"]["httpOnly"]
    assert cookies["rewards_portal"]["sameSite"] == "Strict"
    assert key not in merchant.url
    assert key not in str(cookies)
    assert await merchant.evaluate("localStorage.length + sessionStorage.length") == 0
    await shoot(merchant, "portal-offers-empty")

    # A store, with its geofence drawn over its H3 cells.
    await merchant.get_by_role("link", name="Stores", exact=True).click()
    await merchant.get_by_role("link", name="Add a store").click()
    await merchant.get_by_label("Store code (optional)").fill("shell-01")
    await merchant.get_by_label("Name", exact=True).fill("壳牌 福田加油站 Shell Futian")
    await merchant.get_by_label("Address", exact=True).fill("深圳市福田区深南大道 1 号")
    await merchant.get_by_label("Latitude", exact=True).fill("22.5431")
    await merchant.get_by_label("Longitude", exact=True).fill("114.0579")
    await shoot(merchant, "portal-store-new")
    await merchant.get_by_role("button", name="Add the store").click()
    await merchant.get_by_text("The store was added.").wait_for()
    await shoot(merchant, "portal-stores")
    await merchant.get_by_role("link", name="壳牌 福田加油站 Shell Futian").click()
    assert await merchant.locator("svg.map polygon.cell").count() >= 1
    assert await merchant.locator("svg.map polygon.fence").count() == 1
    await shoot(merchant, "portal-store")

    # An offer, pending until the operator approves it.
    await merchant.get_by_role("link", name="Offers", exact=True).click()
    await merchant.get_by_role("link", name="Create an offer").click()
    await merchant.get_by_label("Offer code").fill("fuel-88")
    await merchant.get_by_label("Title", exact=True).fill("加油立减12% · 12% off fuel")
    await merchant.get_by_label("Category", exact=True).fill("fuel")
    await merchant.get_by_label("Kind of reward").select_option("percent_off")
    await merchant.get_by_label("Value", exact=True).fill("12")
    await merchant.get_by_label("Most paid per purchase (CNY, optional)").fill("50")
    await merchant.get_by_label("Minimum spend (CNY)").fill("200")
    await merchant.get_by_label("壳牌 福田加油站 Shell Futian").check()
    await merchant.get_by_label("Card products (comma-separated, optional)").fill("car-owner")
    await merchant.get_by_label("Uses per member (optional)").fill("4")
    await merchant.get_by_label("Most redemptions in all (optional)").fill("10000")
    await shoot(merchant, "portal-offer-new")
    await merchant.get_by_role("button", name="Create the offer").click()
    await merchant.get_by_text("Waiting for review").first.wait_for()
    await shoot(merchant, "portal-offer")

    # The operator approves it in the console.
    operator = await signed_in(browser, live, "console", tenant.admin_key)
    await shoot(operator, "console-overview")
    await operator.get_by_role("link", name="Review", exact=True).click()
    card = operator.locator("#offer-fuel-88")
    await card.get_by_text("加油立减12% · 12% off fuel").wait_for()
    await shoot(operator, "console-review")
    await card.get_by_role("button", name="Approve").click()
    await operator.get_by_text("The offer was approved: it is live.").wait_for()

    # A member claims it over the API and a signed purchase matches it.
    await tenant.client.put(
        "/v1/admin/members/m-1", json={"card_products": ["car-owner"]}, headers=tenant.admin
    )
    claimed = await tenant.client.post("/v1/me/offers/fuel-88/claim", headers=tenant.member("m-1"))
    assert claimed.status_code == 200, claimed.text
    when = days_ago(1)
    paid = await tenant.hook(
        purchase("t-1", "m-1", merchant_id="shell", store_id="shell-01", occurred_at=iso(when))
    )
    assert [o["offer_id"] for o in paid.json()["offers_applied"]] == ["fuel-88"]

    # The merchant's stats chart shows the redemption.
    await merchant.reload()
    await merchant.get_by_role("link", name="Stats", exact=True).click()
    bar = merchant.locator(
        f'svg.chart rect[data-series="redemptions"][data-day="{when.date().isoformat()}"]'
    )
    assert await bar.get_attribute("data-value") == "1"
    assert (await bar.bounding_box() or {}).get("height", 0) > 0
    assert await merchant.locator("#total-redemptions").inner_text() == "1"
    await shoot(merchant, "portal-stats")

    # The console's other pages, as they now stand.
    for name in ("program", "liability", "audit", "risk"):
        await operator.goto(f"/console/{name}")
        await shoot(operator, f"console-{name}")
    await operator.goto("/console/overview")
    await shoot(operator, "console-overview")


async def test_the_browser_cannot_be_used_against_the_merchant(
    browser: Any, live: str, tenant: Tenant
) -> None:
    await setup(tenant)
    first = await signed_in(browser, live, "portal", await tenant.merchant("shell", "Shell"))
    await first.goto("/portal/stores/new")
    await first.get_by_label("Store code (optional)").fill("shell-01")
    await first.get_by_label("Name", exact=True).fill("<script>alert('x')</script>")
    await first.get_by_label("Latitude", exact=True).fill("22.5431")
    await first.get_by_label("Longitude", exact=True).fill("114.0579")
    await first.get_by_role("button", name="Add the store").click()
    await first.get_by_text("The store was added.").wait_for()
    # Shown as text: the page has no script element at all.
    await first.get_by_role("link", name="<script>alert('x')</script>").wait_for()
    assert await first.locator("script").count() == 0

    # Another merchant: the first one's pages are 404, its list shows none of them.
    second = await signed_in(browser, live, "portal", await tenant.merchant("bp", "BP"))
    missing = await second.goto("/portal/stores/shell-01")
    assert missing is not None
    assert missing.status == 404
    await second.get_by_text("This page does not exist, or it belongs to someone else.").wait_for()
    await shoot(second, "portal-not-found")
    await second.goto("/portal/stores")
    assert await second.locator("a[href='/portal/stores/shell-01']").count() == 0

    # A form stripped of its token is refused, and nothing changes.
    await first.goto("/portal/stores/shell-01")
    await first.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())"
    )
    await first.get_by_role("button", name="Delete this store").click()
    await first.get_by_text("This form has expired").wait_for()
    # A page on another site that posts to the portal: the session cookie does not go along.
    await first.route(
        "http://attacker.test/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id="f" method="post" action="{live}/portal/stores/shell-01/delete"></form>'
            "<script>document.getElementById('f').submit()</script>",
        ),
    )
    await first.goto("http://attacker.test/win")
    await first.wait_for_url(f"{live}/portal/sign-in")
    await first.goto("/portal/stores/shell-01")
    assert "/sign-in" not in first.url  # still signed in, and the store is still there
    await first.get_by_role("heading", name="<script>alert('x')</script>").wait_for()

    # Signed out, the session is dead even for a cookie kept from before.
    kept = await first.context.cookies()
    await first.get_by_role("button", name="Sign out").click()
    await first.get_by_text("You are signed out.").wait_for()
    await shoot(first, "portal-sign-in")
    await first.context.add_cookies(kept)
    await first.goto("/portal/stores/shell-01")
    assert first.url.endswith("/portal/sign-in")
    stored = await tenant.client.get("/v1/admin/merchants/shell", headers=tenant.admin)
    assert stored.status_code == 200
    count = await tenant.client.get("/v1/admin/offers", headers=tenant.admin)
    assert count.status_code == 200
