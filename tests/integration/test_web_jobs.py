"""The console's jobs, segments and grants pages over real HTTP through the app."""

from __future__ import annotations

from typing import Any

from tests.integration.bulk import import_members, ndjson, segment_members, wait_job
from tests.integration.conftest import Tenant
from tests.integration.replay_scenario import configure


async def test_jobs_show_their_progress_counts_and_line_errors(tenant: Tenant, web: Any) -> None:
    job = await import_members(
        tenant, ndjson([{"member_id": "w-1"}, {"member_id": "bad id"}, {"member_id": "w-1"}])
    )
    admin = await web("console", tenant.admin_key)
    listing = await admin.get("/console/jobs?kind=import")
    assert listing.status_code == 200
    assert f'href="/console/jobs/{job["id"]}"' in listing.text
    page = await admin.get(f"/console/jobs/{job['id']}")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "3 of 3 done" in text
    assert 'id="line-errors"' in page.text
    assert "member w-1 is on line 1 of this file" in text
    assert '<td class="num" data-label="Line">2</td>' in page.text
    assert (await admin.get("/console/jobs/job_nope")).status_code == 404


async def test_a_segment_is_made_and_granted_from_the_console(tenant: Tenant, web: Any) -> None:
    await configure(tenant, draws=False, extra_rules=[])
    admin = await web("console", tenant.admin_key)
    made = await admin.submit(
        "/console/segments",
        {"segment_id": "vip", "name": "贵宾", "description": ""},
        "/console/segments",
    )
    assert made.status_code == 303, made.text
    await segment_members(tenant, "vip", ["s-1", "s-2"])
    page = await admin.get("/console/segments")
    assert "贵宾" in page.text
    bad = await admin.submit(
        "/console/grants",
        {"id": "", "segment": "vip", "points": "", "expires_at": "", "offer_id": "", "reason": ""},
        "/console/segments",
    )
    assert bad.status_code == 422
    assert "Say why the grant is given." in bad.text
    granted = await admin.submit(
        "/console/grants",
        {
            "id": "autumn",
            "segment": "vip",
            "points": "66",
            "expires_at": "",
            "offer_id": "",
            "reason": "Mid-autumn",
        },
        "/console/segments",
    )
    assert granted.status_code == 303, granted.text
    job_id = granted.headers["location"].rsplit("/", 1)[1]
    done = await wait_job(tenant, job_id)
    assert done["counts"]["granted"] == 2
    page = await admin.get(granted.headers["location"])
    assert "granted" in page.text
