"""Helpers of the bulk-work tests: upload lines, wait for a job, read its errors."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from tests.integration.conftest import Tenant

NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}
IDS = {"Content-Type": "text/plain"}


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(msgspec.json.encode(r) + b"\n" for r in rows)


async def wait_job(tenant: Tenant, job_id: str, *, within: float = 120) -> dict[str, Any]:
    """The job once it has ended."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await tenant.client.get(f"/v1/admin/jobs/{job_id}", headers=tenant.admin)
        assert found.status_code == 200, found.text
        job: dict[str, Any] = found.json()
        if job["status"] not in ("queued", "running"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.1)


async def job_errors(tenant: Tenant, job_id: str) -> dict[int, str]:
    errors: dict[int, str] = {}
    cursor = None
    while True:
        page = await tenant.client.get(
            f"/v1/admin/jobs/{job_id}/errors",
            params={"limit": 500} | ({"cursor": cursor} if cursor else {}),
            headers=tenant.admin,
        )
        assert page.status_code == 200, page.text
        for e in page.json()["items"]:
            errors[e["line"]] = e["problem"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return errors


async def import_members(
    tenant: Tenant, body: bytes, headers: dict[str, str] = NDJSON
) -> dict[str, Any]:
    """Upload an import and wait for its job."""
    started = await tenant.client.post(
        "/v1/admin/imports/members", content=body, headers=tenant.admin | headers
    )
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "import"
    return await wait_job(tenant, started.json()["job_id"])


async def segment_members(
    tenant: Tenant, segment: str, ids: list[str], mode: str = "replace"
) -> dict[str, Any]:
    started = await tenant.client.put(
        f"/v1/admin/segments/{segment}/members",
        params={"mode": mode},
        content="".join(f"{m}\n" for m in ids).encode(),
        headers=tenant.admin | IDS,
    )
    assert started.status_code == 202, started.text
    return await wait_job(tenant, started.json()["job_id"])
