"""The operator console over real HTTP through the app: review, program, reports."""

from __future__ import annotations

import re
from typing import Any

from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.test_offers import FUEL_12, Merchant, shell
from tests.integration.test_points_hook import setup
from tests.integration.test_web_portal import field_error


async def pending_offer(
    tenant: Tenant, offer_id: str = "fuel-12", title: str = "12% off fuel"
) -> Merchant:
    await setup(tenant)
    merchant = await shell(tenant)
    await merchant.offer(FUEL_12 | {"id": offer_id, "title": title})
    return merchant


async def status_of(merchant: Merchant, offer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        await merchant.tenant.client.get(
            f"/v1/merchant/offers/{offer_id}", headers=merchant.headers
        )
    ).json()
    return found


async def test_the_operator_approves_from_the_review_queue(tenant: Tenant, web: Any) -> None:
    merchant = await pending_offer(tenant, title="加油立减 <b>12%</b>")
    admin = await web("console", tenant.admin_key)
    page = await admin.get("/console/review")
    assert page.status_code == 200
    assert "加油立减 &lt;b&gt;12%&lt;/b&gt;" in page.text
    assert 'id="offer-fuel-12"' in page.text
    assert "12% off, at most CN¥50.00 on CN¥200.00 or more; geofence 500 m" in " ".join(
        page.text.split()
    )
    approved = await admin.submit("/console/offers/fuel-12/approve", {}, "/console/review")
    assert approved.status_code == 303
    assert approved.headers["location"] == "/console/review?done=approved"
    after = await admin.get(approved.headers["location"])
    assert "it is live" in after.text
    assert 'id="offer-fuel-12"' not in after.text
    assert (await status_of(merchant, "fuel-12"))["status"] == "active"
    audit = (await admin.get("/console/audit")).text
    assert "offer.approve" in audit or "approve" in audit


async def test_a_rejection_needs_a_reason_the_merchant_then_sees(tenant: Tenant, web: Any) -> None:
    merchant = await pending_offer(tenant)
    admin = await web("console", tenant.admin_key)
    bare = await admin.submit("/console/offers/fuel-12/reject", {"reason": "  "}, "/console/review")
    assert bare.status_code == 422
    assert "Write the reason the merchant will see." in bare.text
    assert (await status_of(merchant, "fuel-12"))["status"] == "pending_review"
    rejected = await admin.submit(
        "/console/offers/fuel-12/reject",
        {"reason": "请写明适用油品 (which fuels?)"},
        "/console/review",
    )
    assert rejected.status_code == 303
    offer = await status_of(merchant, "fuel-12")
    assert offer["status"] == "rejected"
    assert offer["reject_reason"] == "请写明适用油品 (which fuels?)"


async def test_the_program_is_read_and_patched_through_its_form(tenant: Tenant, web: Any) -> None:
    await setup(tenant)
    admin = await web("console", tenant.admin_key)
    page = await admin.get("/console/program")
    assert page.status_code == 200
    assert 'value="Asia/Shanghai"' in page.text
    form = dict(
        re.findall(
            r'<input id="f-[^"]+" name="([^"]+)" type="(?:text|number|url)" value="([^"]*)"',
            page.text,
        )
    )
    form |= {
        "refund_policy": "within_balance",
        "base_rate": "1.5",
        "tiers": "gold = 50000\nplatinum = 200000.50",
        "mcc_rates": "5541 = 2",
        "excluded_mccs": "6011, 6012",
    }
    form |= {
        "referral.on": "on",
        "referral.referrer_points": "500",
        "referral.referee_points": "200",
        "referral.min_first_purchase_minor": "100",
    }
    saved = await admin.submit("/console/program", form, "/console/program")
    assert saved.status_code == 303, saved.text
    program = (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json()
    assert program["base_rate"] == "1.5"
    assert program["refund_policy"] == "within_balance"
    assert program["tiers"] == [
        {"name": "gold", "min_spend_minor_12m": 5_000_000},
        {"name": "platinum", "min_spend_minor_12m": 20_000_050},
    ]
    assert program["mcc_rates"] == {"5541": "2"}
    assert program["excluded_mccs"] == ["6011", "6012"]
    assert program["referral"] == {
        "referrer_points": 500,
        "referee_points": 200,
        "min_first_purchase_minor": 10000,
        "max_per_referrer": None,
    }
    assert program["time_zone"] == "Asia/Shanghai"  # untouched settings stay
    bad = await admin.submit(
        "/console/program",
        form | {"time_zone": "Mars/Olympus", "tiers": "gold 5"},
        "/console/program",
    )
    assert bad.status_code == 422
    assert "Line 1" in field_error(bad.text, "tiers")
    fixed_tiers = await admin.submit(
        "/console/program", form | {"time_zone": "Mars/Olympus"}, "/console/program"
    )
    assert fixed_tiers.status_code == 422
    assert "time_zone-error" in fixed_tiers.text
    assert (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json() == program
    private = await admin.submit(
        "/console/program", form | {"webhook_url": "https://127.0.0.1/hook"}, "/console/program"
    )
    assert private.status_code == 422
    assert "webhook_url-error" in private.text


async def test_liability_audit_risk_and_overview_show_what_happened(
    tenant: Tenant, web: Any
) -> None:
    await pending_offer(tenant)
    await tenant.client.patch(
        "/v1/admin/program", json={"abuse": {"max_members_per_device": 1}}, headers=tenant.admin
    )
    when = days_ago(2)
    assert (await tenant.hook(purchase("t-1", "m-1", occurred_at=iso(when)))).status_code == 200
    for member in ("m-1", "m-2"):
        await tenant.client.put(
            f"/v1/admin/members/{member}",
            json={"card_products": ["car-owner"]},
            headers=tenant.admin,
        )
    await tenant.client.post("/v1/admin/offers/fuel-12/approve", headers=tenant.admin)
    await tenant.client.post(
        "/v1/me/offers/fuel-12/claim", headers=tenant.member("m-1", **{"X-Device-Id": "phone-1"})
    )
    refused = await tenant.client.post(
        "/v1/me/offers/fuel-12/claim", headers=tenant.member("m-2", **{"X-Device-Id": "phone-1"})
    )
    assert refused.status_code == 403
    admin = await web("console", tenant.admin_key)
    liability = await admin.get("/console/liability")
    assert liability.status_code == 200
    issued = (await tenant.client.get("/v1/admin/reports/liability", headers=tenant.admin)).json()
    day = next(d for d in issued["days"] if d["issued"])
    assert (
        f'data-day="{day["day"]}" data-series="issued" data-value="{day["issued"]}"'
        in liability.text
    )
    assert (await admin.get("/console/liability", params={"from": "nope"})).status_code == 422
    audit = (await admin.get("/console/audit")).text
    assert "merchant:shell" in audit
    assert "offer" in audit
    risk = (await admin.get("/console/risk")).text
    assert "m-2" in risk
    assert "Too many members on one device" in risk
    overview = (await admin.get("/console/overview")).text
    assert re.search(
        r'device_limit">Too many members on one device</a></td><td class="num">1<', overview
    )
    assert '<span class="figure" id="pending-count">0</span>' in overview


async def test_a_merchant_cannot_use_the_console(tenant: Tenant, web: Any) -> None:
    key = await tenant.merchant("shell")
    console = await web("console", None)
    assert (await console.sign_in(key)).status_code == 401
    assert (await console.get("/console/review")).status_code == 303
    # A portal session is not a console session.
    portal = await web("portal", key)
    cookie = portal.http.cookies.get("rewards_portal")
    console.http.cookies.set("rewards_console", cookie, domain="rewards.local", path="/console")
    assert (await console.get("/console/review")).headers["location"] == "/console/sign-in"
