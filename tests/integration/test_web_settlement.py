"""Statements and breakage in the pages, over real HTTP through the app: the merchant's
statements and their download (the API's bytes), the console's settlements and the close of
a month from its form, and the breakage page with its chart."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.dates import iso, month_start
from tests.integration.bulk import wait_job
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_offers import Merchant, shell
from tests.integration.test_points_hook import setup
from tests.integration.test_settlement import FUNDED, PERIOD


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, access_log=False, job_poll_seconds=0.1))


async def test_statements_in_the_portal_and_settlements_in_the_console(
    tenant: Tenant, web: Any, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"settlement": {"return_days": 0}})
    merchant: Merchant = await shell(tenant)
    await merchant.offer(FUNDED, approve=tenant)
    answered = await tenant.hook_batch(
        [
            purchase(
                f"p-{n}",
                f"m-{n}",
                merchant_id="shell",
                store_id="shell-01",
                amount_minor=40000 + n,
                occurred_at=iso(month_start(-1) + timedelta(days=n, hours=3)),
            )
            for n in range(5)
        ]
    )
    assert answered.status_code == 200, answered.text
    key = merchant.headers["Authorization"].removeprefix("Bearer ")
    portal = await web("portal", key)
    page = await portal.get("/portal/statements")
    assert page.status_code == 200, page.text
    assert PERIOD in page.text
    assert "¥" in page.text  # money in the program's currency
    download = await portal.get(f"/portal/statements/{PERIOD}/lines")
    assert download.status_code == 200
    api = await tenant.client.get(
        f"/v1/merchant/statements/{PERIOD}/lines", headers=merchant.headers
    )
    assert download.content == api.content
    assert len(download.text.splitlines()) == 6

    admin = await web("console", tenant.admin_key)
    listed = await admin.get(f"/console/settlements?period={PERIOD}")
    assert listed.status_code == 200, listed.text
    assert "shell" in listed.text
    bad = await admin.get("/console/settlements?period=2026-13")
    assert bad.status_code == 422
    closed = await admin.submit(
        f"/console/settlements/{PERIOD}/close", {}, f"/console/settlements?period={PERIOD}"
    )
    assert closed.status_code == 303, closed.text
    job_id = closed.headers["location"].rsplit("/", 1)[1]
    assert (await wait_job(tenant, job_id))["status"] == "done"
    again = await admin.submit(
        f"/console/settlements/{PERIOD}/close", {}, f"/console/settlements?period={PERIOD}"
    )
    assert again.status_code == 409
    statement = (
        await tenant.client.get(f"/v1/merchant/statements/{PERIOD}", headers=merchant.headers)
    ).json()
    assert statement["status"] == "closed"
    assert statement["sha256"] == hashlib.sha256(download.content).hexdigest()
    assert (
        statement["sha256"][:16] in (await admin.get(f"/console/settlements?period={PERIOD}")).text
    )

    report = await admin.get("/console/breakage?value=2")
    assert report.status_code == 200, report.text
    assert 'id="breakage-chart"' in report.text
    assert "<svg" in report.text
    assert (await admin.get("/console/breakage?as_of=someday")).status_code == 422
    chinese = await admin.get("/console/settlements", headers={"Accept-Language": "zh-CN"})
    assert "商户结算" in chinese.text
    await check_ledger(conn)
