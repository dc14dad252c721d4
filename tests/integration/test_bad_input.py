"""Bad input: a clear 4xx problem+json, and nothing changed."""

from __future__ import annotations

import msgspec
import pytest
from litestar import get

from tests.integration.conftest import Tenant, count_rows, purchase


def _is_problem(response, status: int, type_: str | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if type_:
        assert body["type"] == type_
    return body  # type: ignore[no-any-return]


async def test_malformed_json_is_400(tenant: Tenant, conn) -> None:
    response = await tenant.client.post(
        "/v1/admin/merchants",
        content=b'{"name": "x", ',
        headers=tenant.admin | {"Content-Type": "application/json"},
    )
    _is_problem(response, 400, "malformed_request")
    assert await count_rows(conn, "merchants") == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 7, "category": "fuel"}, "name"),
        ({"name": "x", "category": "fuel", "owner": "me"}, "owner"),
        ({"name": "x" * 201, "category": "fuel"}, "name"),
        ({"name": "x", "category": "fuel", "id": "with space"}, "id"),
        ({"category": "fuel"}, "name"),
        ([], "body"),
    ],
)
async def test_wrong_values_are_422_with_the_field(tenant: Tenant, conn, body, field: str) -> None:  # type: ignore[no-untyped-def]
    response = await tenant.client.post("/v1/admin/merchants", json=body, headers=tenant.admin)
    problem = _is_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == field
    assert await count_rows(conn, "merchants") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_minor": "35000"}, "amount_minor"),
        ({"amount_minor": -1}, "amount_minor"),
        ({"amount_minor": 1.5}, "amount_minor"),
        ({"currency": "yuan"}, "currency"),
        ({"kind": "gift"}, "kind"),
        ({"mcc": "55"}, "mcc"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"location": {"lat": 95, "lng": 0}}, "location.lat"),
        ({"bonus": 1}, "bonus"),
    ],
)
async def test_bad_hook_transactions_are_422_and_write_nothing(
    tenant: Tenant,
    conn,
    change: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    response = await tenant.hook(purchase() | change)
    problem = _is_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == field
    assert await count_rows(conn, "transactions") == 0
    assert await count_rows(conn, "members") == 0


async def test_a_hook_body_over_64_kib_is_413(tenant: Tenant, conn) -> None:
    body = msgspec.json.encode(purchase() | {"padding": "x" * 70_000})
    response = await tenant.client.post(
        "/v1/hooks/transactions", content=body, headers=tenant.signed(body)
    )
    _is_problem(response, 413, "payload_too_large")
    assert await count_rows(conn, "transactions") == 0


async def test_a_body_over_1_mib_is_413(tenant: Tenant, conn) -> None:
    body = msgspec.json.encode({"name": "x" * 1_100_000, "category": "fuel"})
    response = await tenant.client.post(
        "/v1/admin/merchants",
        content=body,
        headers=tenant.admin | {"Content-Type": "application/json"},
    )
    _is_problem(response, 413, "payload_too_large")
    assert await count_rows(conn, "merchants") == 0


async def test_unknown_routes_are_404_and_wrong_methods_405(tenant: Tenant) -> None:
    _is_problem(await tenant.client.get("/v1/nothing-here"), 404, "not_found")
    _is_problem(
        await tenant.client.delete("/v1/admin/merchants", headers=tenant.admin),
        405,
        "method_not_allowed",
    )


async def test_bad_query_parameters_are_422(tenant: Tenant) -> None:
    for params in ({"limit": 0}, {"limit": 501}, {"limit": "many"}, {"cursor": "garbage!"}):
        response = await tenant.client.get(
            "/v1/admin/merchants", params=params, headers=tenant.admin
        )
        _is_problem(response, 422, "validation_error")


async def test_a_duplicate_merchant_id_is_409(tenant: Tenant) -> None:
    await tenant.merchant("dup")
    response = await tenant.client.post(
        "/v1/admin/merchants",
        json={"id": "dup", "name": "x", "category": "c"},
        headers=tenant.admin,
    )
    _is_problem(response, 409, "already_exists")


async def test_an_unhandled_error_is_a_500_with_a_request_id_and_no_trace(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    tenant.client.app.register(boom)
    response = await tenant.client.get("/boom")
    problem = _is_problem(response, 500, "internal_error")
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)
