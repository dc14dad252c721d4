"""One structured log line per request, and request ids."""

from __future__ import annotations

import json
import logging

import pytest

from api.app import create_app
from api.logs import JsonFormatter
from api.settings import Settings
from rewards.tenants.service import create_tenant
from tests.integration.http import AppClient


async def test_each_request_logs_one_json_line_with_its_tenant_and_request_id(
    database: str, conn, caplog: pytest.LogCaptureFixture
) -> None:
    async with conn.transaction():
        tenant = await create_tenant(conn, "Log Bank")
    app = create_app(Settings(database_url=database, access_log=True, expiry_interval_seconds=0))
    async with AppClient(app) as client:
        with caplog.at_level(logging.INFO, logger="rewards.access"):
            response = await client.get(
                "/v1/admin/merchants",
                headers={
                    "Authorization": f"Bearer {tenant.admin_api_key}",
                    "X-Request-Id": "req-123",
                },
            )
            anonymous = await client.get("/v1/nothing")
    assert response.headers["x-request-id"] == "req-123"
    assert len(anonymous.headers["x-request-id"]) == 16
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "rewards.access"
    ]
    assert len(lines) == 2
    first, second = lines
    assert {k: first[k] for k in ("method", "path", "status", "tenant", "request_id")} == {
        "method": "GET",
        "path": "/v1/admin/merchants",
        "status": 200,
        "tenant": tenant.tenant_id,
        "request_id": "req-123",
    }
    assert first["duration_ms"] >= 0
    assert (second["status"], second["tenant"]) == (404, None)
