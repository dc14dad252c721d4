"""Small things a newcomer or an attacker meets first: an empty hook body, the pages' errors
and headers, Swagger in a frame, a flood of wrong keys at the sign-in page."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.http import AppClient
from tests.integration.web import WebUser, form_token


@pytest.mark.parametrize("body", [b"", b"   "])
async def test_an_empty_hook_body_is_a_400_as_documented(tenant: Tenant, body: bytes) -> None:
    answer = await tenant.client.post(
        "/v1/hooks/transactions", content=body, headers=tenant.signed(body)
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"] == "malformed_request"
    assert "'data'" not in problem["detail"]
    assert "empty" in problem["detail"]


@pytest.mark.parametrize("path", ["/portal/nope", "/console/no/such/page", "/console/x.php"])
async def test_an_unknown_page_is_an_html_404_with_the_pages_headers(
    client: AppClient, path: str
) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<html" in answer.text


async def test_pages_name_their_charset_once(client: AppClient) -> None:
    for path in ("/portal/sign-in", "/console/sign-in"):
        answer = await client.get(path)
        assert answer.headers["content-type"] == "text/html; charset=utf-8"


async def test_swagger_may_not_be_framed(client: AppClient) -> None:
    for path in ("/schema/swagger", "/schema", "/schema/openapi.json"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-frame-options"] == "DENY", path


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(database_url=database, access_log=False, web_sign_in_failures_per_minute=5)
    )


async def _try(user: WebUser, key: str) -> Any:
    page = await user.get(f"/{user.area}/sign-in")
    return await user.post(
        f"/{user.area}/sign-in", {"csrf_token": form_token(page.text), "api_key": key}
    )


async def test_a_flood_of_wrong_keys_is_throttled_per_address_and_audited_once(
    app: Litestar, tenant: Tenant
) -> None:
    wrong = tenant.admin_key[:-6] + "wrong0"
    flood = WebUser(app, "console", client_host="198.51.100.7")
    bystander = WebUser(app, "console", client_host="198.51.100.8")
    try:
        statuses = [(await _try(flood, wrong)).status_code for _ in range(12)]
        assert statuses[:4] == [401] * 4
        assert set(statuses[4:]) == {429}, statuses
        throttled = await _try(flood, tenant.admin_key)  # even the right key, this minute
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert "frame-ancestors 'none'" in throttled.headers["content-security-policy"]
        # Another address is not held up by the flood.
        assert (await _try(bystander, tenant.admin_key)).status_code == 303
    finally:
        await flood.close()
        await bystander.close()
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    floods = [e for e in log if e["action"] == "web.sign_in_throttled"]
    assert len(floods) == 1, log
    assert floods[0]["entity_id"] == "198.51.100.7"
