"""The console's controls over real HTTP through the app, each checked against the API
afterwards: held points released and voided, a change asked for on a console form waiting
for a second key and approved by it (never by the key that asked), and exclusion lists made
and filled from the page."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.bulk import wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_controls import APPROVALS, balance, second_key
from tests.integration.test_points_hook import FUEL_3X, setup


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, access_log=False, job_poll_seconds=0.1))


async def test_held_points_are_released_and_voided_from_the_console(
    tenant: Tenant, web: Any, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"abuse": {"hold_above_score": 60}}, FUEL_3X)
    one = (await tenant.hook(purchase("t-1", risk={"score": 88, "source": "engine"}))).json()
    await tenant.hook(purchase("t-2", risk={"score": 95}))
    admin = await web("console", tenant.admin_key)
    page = await admin.get("/console/holds")
    assert page.status_code == 200
    assert "t-1" in page.text
    assert "t-2" in page.text
    assert "engine" in page.text
    released = await admin.submit("/console/holds/t-1/release", {}, "/console/holds")
    assert released.status_code == 303, released.text
    assert released.headers["location"] == "/console/holds?done=hold-released"
    assert (await balance(tenant, "m-1"))["available"] == one["points"]["held"]
    voided = await admin.submit("/console/holds/t-2/void", {}, "/console/holds")
    assert voided.status_code == 303
    again = await admin.submit("/console/holds/t-2/release", {}, "/console/holds")
    assert again.status_code == 409
    assert "decided already" in again.text
    left = (await tenant.client.get("/v1/admin/holds", headers=tenant.admin)).json()["items"]
    assert left == []
    shown = (await admin.get("/console/holds?status=voided")).text
    assert "t-2" in shown
    assert "t-1" not in shown
    await check_ledger(conn)


async def test_a_console_adjustment_waits_for_another_key_which_approves_it(
    tenant: Tenant, web: Any, conn: asyncpg.Connection
) -> None:
    await setup(tenant, APPROVALS)
    await tenant.hook(purchase("t-1"))
    before = (await balance(tenant, "m-1"))["available"]
    first = await web("console", tenant.admin_key)
    asked = await first.submit(
        "/console/members/m-1/adjustments",
        {"points": "5000", "reason": "complaint 7"},
        "/console/members/m-1",
    )
    assert asked.status_code == 303, asked.text
    assert asked.headers["location"] == "/console/approvals?done=approval-pending"
    assert (await balance(tenant, "m-1"))["available"] == before
    listed = (await first.get("/console/approvals")).text
    assert "complaint 7" in listed
    assert "another key approves it" in listed  # no approve button for the key that asked
    (pending,) = (await tenant.client.get("/v1/admin/approvals", headers=tenant.admin)).json()[
        "items"
    ]
    own = await first.submit(
        f"/console/approvals/{pending['approval_id']}/approve", {}, "/console/approvals"
    )
    assert own.status_code == 403
    other_key = (await second_key(tenant, "checker"))["Authorization"].removeprefix("Bearer ")
    second = await web("console", other_key)
    approved = await second.submit(
        f"/console/approvals/{pending['approval_id']}/approve", {}, "/console/approvals"
    )
    assert approved.status_code == 303, approved.text
    assert (await balance(tenant, "m-1"))["available"] == before + 5000
    # A rule switched off on the console waits as well.
    await tenant.client.patch("/v1/admin/program", json={"approvals": None}, headers=tenant.admin)
    await tenant.client.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    await tenant.client.patch("/v1/admin/program", json=APPROVALS, headers=tenant.admin)
    off = await first.submit("/console/earn-rules/fuel-3x/active", {"active": "off"})
    assert off.headers["location"] == "/console/approvals?done=approval-pending"
    rule = await tenant.client.get("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)
    assert rule.json()["active"] is True
    await check_ledger(conn)


async def test_exclusion_lists_are_made_and_filled_from_the_console(
    tenant: Tenant, web: Any
) -> None:
    await setup(tenant)
    admin = await web("console", tenant.admin_key)
    made = await admin.submit(
        "/console/exclusions",
        {"list_id": "cash-out", "name": "套现商户", "match": "merchant_name_contains"},
        "/console/exclusions",
    )
    assert made.status_code == 303, made.text
    bad = await admin.submit(
        "/console/exclusions", {"list_id": "", "name": "x", "match": "mcc"}, "/console/exclusions"
    )
    assert bad.status_code == 422
    filled = await admin.submit(
        "/console/exclusions/entries",
        {"list": "cash-out", "mode": "add", "entries": "还款\r\ncash out\r\n"},
        "/console/exclusions",
    )
    assert filled.status_code == 303, filled.text
    job_id = filled.headers["location"].rsplit("/", 1)[1]
    assert (await wait_job(tenant, job_id))["counts"]["added"] == 2
    page = (await admin.get("/console/exclusions")).text
    assert "套现商户" in page
    assert "Part of the merchant" in page
    hit = (await tenant.hook(purchase("t-1", merchant_name="某某还款"))).json()
    assert hit["excluded_by"] == ["cash-out"]
    gone = await admin.submit("/console/exclusions/cash-out/delete", {}, "/console/exclusions")
    assert gone.status_code == 303
    listed = (await tenant.client.get("/v1/admin/exclusions", headers=tenant.admin)).json()
    assert listed["items"] == []
