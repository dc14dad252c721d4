"""The OpenAPI document describes every route, its types and its auth scheme."""

from __future__ import annotations

from tests.integration.http import AppClient

SCHEMES = {
    "/v1/admin/": "AdminKey",
    "/v1/merchant/": "MerchantKey",
    "/v1/me": "MemberToken",
    "/v1/hooks/": "HookSignature",
}


async def test_every_route_is_documented_with_types_and_auth(
    client: AppClient,
) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["components"]["securitySchemes"]) >= set(SCHEMES.values())
    documented = set(doc["paths"])
    # The web pages (and their stylesheet) are HTML for browsers, not part of the API.
    pages = ("/portal", "/console", "/web/static")
    assert not [p for p in documented if p.startswith(pages)]
    for route in client.app.routes:
        if route.path.startswith(("/schema", *pages)):
            continue
        path = route.path.replace(":str", "")
        for prefix in ("{merchant_id", "{member_id", "{transaction_id"):
            path = path.replace(prefix + "}", prefix + "}")
        assert any(p.split("{")[0] == path.split("{")[0] for p in documented), route.path
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            scheme = next((s for prefix, s in SCHEMES.items() if path.startswith(prefix)), None)
            if scheme:
                names = {name for req in operation.get("security", []) for name in req}
                assert scheme in names, (method, path)
            # A success: 202 for the work a background job does (replays, bulk work).
            assert {"200", "201", "202", "204"} & set(operation["responses"]), path
            problems = {"422", "500"} | ({"401", "403"} if path.startswith("/v1/") else set())
            for code in problems:
                content = operation["responses"][code]["content"]
                assert "application/problem+json" in content, (method, path, code)
            actions = (
                "/reveal",
                "/cancel",
                "/pause",
                "/resume",
                "/approve",
                "/reject",
                "/release",
                "/void",
                "/claim",
                "/redeliver",
                "/rotate",
                "/erase",
                "/close",
            )
            if method in ("post", "put", "patch") and not path.endswith(actions):
                assert "requestBody" in operation, (method, path)
