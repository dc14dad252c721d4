"""The console and the portal in Chinese first, over real HTTP through the app: the switch,
the browser's languages, the program's setting, and money, numbers and times as Babel
formats them in the program's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from api.web.i18n import LANGUAGE_COOKIE
from tests.integration.conftest import Tenant, purchase
from tests.integration.test_web_console import pending_offer


async def test_a_page_is_in_chinese_unless_the_person_or_the_program_says_otherwise(
    tenant: Tenant, web: Any
) -> None:
    silent = await web("console", tenant.admin_key, language=None)
    page = (await silent.get("/console/overview")).text
    assert '<html lang="zh-CN">' in page
    assert "<title>概览 · 运营控制台</title>" in page
    assert "Overview" not in page
    assert "Sign out" not in page

    english = await web("console", tenant.admin_key, language="en-US,en;q=0.9,zh;q=0.5")
    page = (await english.get("/console/overview")).text
    assert '<html lang="en">' in page
    assert "<h1>Overview</h1>" in page

    # The switch outranks the browser, is remembered for both areas, and goes back where
    # it was chosen.
    chinese = await web("console", tenant.admin_key, language="zh-CN,zh;q=0.9")
    switched = await chinese.get("/console/language/en", params={"back": "/console/liability"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/console/liability"
    set_cookie = switched.headers["set-cookie"]
    assert f"{LANGUAGE_COOKIE}=en" in set_cookie
    assert "Path=/;" in set_cookie
    assert "HttpOnly" in set_cookie
    assert "<h1>Points liability</h1>" in (await chinese.get("/console/liability")).text
    back = await chinese.get("/console/language/zh_CN", params={"back": "/console/audit"})
    assert back.headers["location"] == "/console/audit"
    assert "<h1>审计日志</h1>" in (await chinese.get("/console/audit")).text

    # The program's language is what a browser naming none of ours gets.
    patched = await tenant.client.patch(
        "/v1/admin/program", json={"locale": "en"}, headers=tenant.admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["locale"] == "en"
    french = await web("console", tenant.admin_key, language="fr-FR")
    assert '<html lang="en">' in (await french.get("/console/overview")).text
    bad = await tenant.client.patch(
        "/v1/admin/program", json={"locale": "fr"}, headers=tenant.admin
    )
    assert bad.status_code in (400, 422)
    assert bad.headers["content-type"].startswith("application/problem+json")
    program = (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json()
    assert program["locale"] == "en"


async def test_the_switch_goes_back_only_inside_its_own_area(tenant: Tenant, web: Any) -> None:
    visitor = await web("portal", None, language=None)
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/console/overview", "/\\evil"):
        sent = await visitor.get("/portal/language/en", params={"back": elsewhere})
        assert sent.status_code == 303
        assert sent.headers["location"] == "/portal/", elsewhere
    # The sign-in page switches too (no session needed), and an unknown language is a 404.
    assert "<h1>Sign in to the Merchant portal</h1>" in (await visitor.get("/portal/sign-in")).text
    unknown = await visitor.get("/portal/language/fr")
    assert unknown.status_code == 404
    assert "<!doctype html>" in unknown.text


async def test_money_numbers_and_times_in_the_language_and_the_programs_zone(
    tenant: Tenant, web: Any
) -> None:
    await pending_offer(tenant)
    # 372,500 fen at 1 point a yuan: 3,725 points, grouped wherever they are shown.
    sent = await tenant.hook(purchase("t-big", "m-1", amount_minor=372_500, mcc="5812"))
    assert sent.status_code == 200, sent.text
    admin = await web("console", tenant.admin_key, language="zh-CN")
    review = " ".join((await admin.get("/console/review")).text.split())
    # The offer in words and yuan, not JSON in minor units.
    assert (
        "12% 折扣，最多 ¥50.00，消费满 ¥200.00 可用；地理围栏 500 米；最多核销 10,000 次；"
        "预算 ¥50,000.00；每位会员限用 4 次。"
    ) in review
    assert "3,725" in (await admin.get("/console/overview")).text
    liability = (await admin.get("/console/liability")).text
    assert "3,725" in liability
    assert ">3725<" not in liability
    assert 'type="date"' not in liability
    assert 'placeholder="年-月-日"' in liability

    audit = (await admin.get("/console/audit")).text
    newest = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()
    at = datetime.fromisoformat(newest["items"][0]["at"])
    shanghai = format_datetime(at, "medium", tzinfo=ZoneInfo("Asia/Shanghai"), locale="zh_CN")
    assert shanghai in audit
    assert "时间（Asia/Shanghai）" in audit

    english = await web("console", tenant.admin_key, language="en")
    review = " ".join((await english.get("/console/review")).text.split())
    assert (
        "12% off, at most CN¥50.00 on CN¥200.00 or more; geofence 500 m; "
        "at most 10,000 redemptions; budget CN¥50,000.00; 4 uses per member."
    ) in review
