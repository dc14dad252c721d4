"""Every page the app routes, in Chromium, in both languages at 390 and 1280 px: the body
never wider than the screen, no table row taller than 600 px, chart labels at a readable
size, focus visible, and axe-core finding no serious or critical violation.

The pages come from the app's routes, so a page added later is tested without anyone
remembering to; a page whose path names something this scenario does not make fails
until it is taught what to show. With ``REWARDS_SCREENSHOTS=1`` it leaves a screenshot of
each page, language and width in ``screenshots/`` (those in docs/images come from there).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from litestar import Litestar

from tests import needs
from tests.browser.conftest import SCREENSHOTS, WIDTHS
from tests.dates import days_ago, iso
from tests.integration.bulk import import_members, ndjson, wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.test_catalog import item
from tests.integration.test_draws import campaign
from tests.integration.test_offers import FUEL_12, shell
from tests.integration.test_points_hook import FUEL_3X, setup

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
#: Routes that are not pages: they act and send the browser on, or download a file.
NOT_PAGES = {
    "/sign-out",
    "/language/{code:str}",
    "/transactions",
    "/",
    "",
    "/statements/{period:str}/lines",
}
TALLEST_ROW_PX = 600
SMALLEST_LABEL_PX = 10

MEASURE = """() => {
  const rows = [...document.querySelectorAll('tr')].map(r => r.getBoundingClientRect().height);
  const labels = [...document.querySelectorAll('svg.chart text')]
    .map(t => t.getBoundingClientRect().height).filter(h => h > 0);
  return {
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    tallest: Math.max(0, ...rows),
    smallest_label: labels.length ? Math.min(...labels) : null,
    lang: document.documentElement.lang,
  };
}"""
AXE_RUN = """async () => {
  const found = await axe.run(document, {resultTypes: ['violations']});
  return found.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target)}));
}"""


def page_paths(app: Litestar) -> list[str]:
    """Every GET page of the portal and the console, from the app's routes."""
    found = []
    for route in app.routes:
        for area in ("/portal", "/console"):
            rest = route.path.removeprefix(area)
            if route.path.startswith(area) and rest not in NOT_PAGES and "GET" in route.methods:
                found.append(route.path)
    return sorted(set(found))


async def scenario(tenant: Tenant) -> dict[str, str]:
    """Something on every page: an offer waiting and one live, a store, purchases, a
    replay, an import with a bad line, a segment; the ids a page's path names."""
    await setup(tenant, None, FUEL_3X)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"id": "fuel-12", "title": "加油立减12% · 12% off fuel"})
    await merchant.offer(
        FUEL_12
        | {
            "id": "fuel-live",
            "title": "周末加油 Weekend fuel",
            "activation": "auto",
            "funding": {"merchant_share_pct": 50, "fee_minor_per_match": 30},
        },
        tenant,
    )
    when = days_ago(3)
    for n in range(6):
        at_shell = {"merchant_id": "shell", "store_id": "shell-01"} if n % 2 else {}
        sent = await tenant.hook(
            purchase(f"t-{n}", f"m-{n % 3}", occurred_at=iso(when), **at_shell)
        )
        assert sent.status_code == 200, sent.text
    replay = await tenant.client.post(
        "/v1/admin/replays",
        headers=tenant.admin,
        json={"from": iso(days_ago(7)), "to": iso(days_ago(0)), "draft": {}},
    )
    assert replay.status_code == 202, replay.text
    await wait_job(tenant, replay.json()["id"])
    lines = [{"member_id": f"imp-{n}", "tier": "gold"} for n in range(3)] + [{"nope": 1}]
    job = await import_members(tenant, ndjson(lines))
    segment = await tenant.client.put(
        "/v1/admin/segments/vip", json={"name": "贵宾 VIP"}, headers=tenant.admin
    )
    assert segment.status_code in (200, 201), segment.text
    await campaign(tenant)
    await item(tenant, stock=10)
    await tenant.client.post(
        "/v1/admin/members/m-0/adjustments",
        json={"points": 100, "reason": "补偿 goodwill"},
        headers=tenant.admin,
    )
    return {
        "offer_id": "fuel-12",
        "store_id": "shell-01",
        "job_id": job["job_id"],
        "replay_id": replay.json()["id"],
        "transaction_id": "t-0",
        "rule_id": "fuel-3x",
        "campaign_id": "every-swipe",
        "member_id": "m-0",
        "sku": "video-month",
        "merchant_key": merchant.headers["Authorization"].removeprefix("Bearer "),
    }


def filled(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:str}}", value)
    assert "{" not in path, f"{path}: the scenario makes nothing for this page to show"
    return path


async def test_every_page_in_both_languages_on_a_phone_and_a_desktop(
    browser: Any, live: str, tenant: Tenant, app: Litestar
) -> None:
    if not AXE.exists():
        needs.missing("needs axe-core: npm ci --prefix tests/browser")
    ids = await scenario(tenant)
    paths = page_paths(app)
    assert "/console/audit" in paths
    assert "/portal/offers/{offer_id:str}/stats" in paths
    keys = {"portal": ids.pop("merchant_key"), "console": tenant.admin_key}
    axe = AXE.read_text()
    problems: list[str] = []
    SCREENSHOTS.mkdir(exist_ok=True)
    for language in ("zh_CN", "en"):
        context = await browser.new_context(base_url=live, bypass_csp=True, locale="en-US")
        await context.add_cookies([{"name": "rewards_language", "value": language, "url": live}])
        page = await context.new_page()
        for area, key in keys.items():
            await page.goto(f"/{area}/sign-in")
            await _measure(page, f"/{area}/sign-in", language, axe, problems)
            await page.locator("#f-api_key").fill(key)
            await page.locator("form[action$='/sign-in'] button[type=submit]").click()
            await page.wait_for_url(lambda url: "/sign-in" not in url)
            for path in paths:
                if not path.startswith(f"/{area}"):
                    continue
                address = filled(path, ids)
                sent = await page.goto(address)
                assert sent is not None, address
                assert sent.status == 200, (address, sent.status)
                await _measure(page, address, language, axe, problems)
        await context.close()
    assert problems == [], "\n".join(problems)


async def _measure(page: Any, address: str, language: str, axe: str, problems: list[str]) -> None:
    for width, size in WIDTHS.items():
        await page.set_viewport_size(size)
        seen = await page.evaluate(MEASURE)
        where = f"{address} ({language}, {width})"
        if seen["lang"] != language.replace("_", "-"):
            problems.append(f"{where}: <html lang={seen['lang']}>")
        if seen["overflow"] > 0:
            problems.append(f"{where}: the page is {seen['overflow']} px wider than the screen")
        if seen["tallest"] > TALLEST_ROW_PX:
            problems.append(f"{where}: a table row {seen['tallest']:.0f} px tall")
        if seen["smallest_label"] is not None and seen["smallest_label"] < SMALLEST_LABEL_PX:
            problems.append(f"{where}: chart labels {seen['smallest_label']:.1f} px tall")
        if not await page.evaluate("typeof axe !== 'undefined'"):
            await page.add_script_tag(content=axe)
        for violation in await page.evaluate(AXE_RUN):
            problems.append(f"{where}: axe {json.dumps(violation, ensure_ascii=False)}")
        if os.environ.get("REWARDS_SCREENSHOTS"):
            name = address.strip("/").replace("/", "-") or "root"
            await page.screenshot(
                path=str(SCREENSHOTS / f"{name}-{language}-{width}.png"), full_page=True
            )
    await page.set_viewport_size(WIDTHS["desktop"])
    # Focus is visible: the first link reached with the keyboard has an outline.
    await page.keyboard.press("Tab")
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    if outline in ("none", ""):
        problems.append(f"{address} ({language}): focus is not visible")
