"""Hostile and careless input: every case is a 4xx problem that writes nothing, never a 500."""

from __future__ import annotations

import time

import msgspec
import pytest

from tests.dates import PURCHASE_AT, iso
from tests.integration.conftest import Tenant, count_rows, purchase
from tests.integration.test_catalog import item
from tests.integration.test_points_hook import setup


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/admin/merchants", rb'{"id": "m1", "name": "a\u0000b", "category": "fuel"}', 422),
        ("/v1/admin/merchants", rb'{"id": "m1", "name": "ok", "category": "\u0000"}', 422),
        # A lone surrogate is not even valid JSON text: the decoder refuses it as malformed.
        ("/v1/admin/merchants", rb'{"id": "m1", "name": "a\ud800b", "category": "fuel"}', 400),
        ("/v1/admin/merchants", rb'{"id": "m1", "name": "ok", "category": "\udc00"}', 400),
        (
            "/v1/admin/earn-rules",
            rb'{"id": "r1", "name": "x\u0000", "effect": {"kind": "fixed", "value": 5}}',
            422,
        ),
    ],
)
async def test_nul_and_lone_surrogates_in_a_body_are_refused(
    tenant: Tenant, conn, path: str, body: bytes, status: int
) -> None:
    headers = tenant.admin | {"Content-Type": "application/json"}
    response = await tenant.client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if status == 422:
        assert response.json()["errors"][0]["field"] in ("name", "category")
    assert await count_rows(conn, "merchants") == 0
    assert await count_rows(conn, "earn_rules") == 0


async def test_a_surrogate_pair_is_a_character_like_any_other(tenant: Tenant) -> None:
    body = rb'{"id": "m1", "name": "\ud83d\ude00 \u52a0\u6cb9", "category": "fuel"}'
    headers = tenant.admin | {"Content-Type": "application/json"}
    response = await tenant.client.post("/v1/admin/merchants", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "\U0001f600 加油"


@pytest.mark.parametrize(
    "path",
    ["/v1/admin/members/%00", "/v1/admin/merchants/a%00b", "/v1/admin/offers?status=%00"],
)
async def test_nul_in_a_path_or_query_is_refused(tenant: Tenant, path: str) -> None:
    response = await tenant.client.get(path, headers=tenant.admin)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_batch_item_with_a_nul_gets_its_own_problem_and_the_others_are_written(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    bad = purchase("b1", card_product="a\u0000b")
    answer = await tenant.hook_batch([purchase("g1"), bad, purchase("g2")])
    assert answer.status_code == 200, answer.text
    first, problem, last = answer.json()["results"]
    assert first["transaction_id"] == "g1"
    assert last["transaction_id"] == "g2"
    assert 400 <= problem["status"] < 500
    assert await count_rows(conn, "transactions") == 2


@pytest.mark.parametrize(
    "signature",
    [
        "t=" + "9" * 400 + ",v1=00",
        "t=\u00b2,v1=00",
        "t={now},v1=\u00e9\u00e9",
        "t={now}," + "v1=ab," * 2000,
    ],
)
async def test_malformed_signature_headers_are_a_401(tenant: Tenant, signature: str) -> None:
    body = b'{"id":"x"}'
    header = signature.replace("{now}", str(int(time.time())))
    headers: dict[str, str | bytes] = {
        "Content-Type": "application/json",
        "X-Rewards-Tenant": tenant.id,
        "X-Rewards-Signature": header.encode("latin-1"),
    }
    for path in ("/v1/hooks/transactions", "/v1/hooks/transactions/batch"):
        response = await tenant.client.post(path, content=body, headers=headers)
        assert response.status_code == 401, (path, response.text)


async def test_ids_with_a_trailing_newline_are_not_ids(tenant: Tenant, conn) -> None:
    await setup(tenant)
    assert (await tenant.hook(purchase("nl-1\n"))).status_code == 422
    put = await tenant.client.put("/v1/admin/members/m%0A", json={}, headers=tenant.admin)
    assert put.status_code in (404, 422)
    token = tenant.member("m-1\n")
    assert (await tenant.client.get("/v1/me", headers=token)).status_code == 401
    assert await count_rows(conn, "transactions") == 0
    assert await count_rows(conn, "members") == 0


async def test_a_batch_item_nested_a_thousand_arrays_deep_is_refused(tenant: Tenant) -> None:
    await setup(tenant)
    deep = "[" * 1000 + "]" * 1000
    body = ('{"transactions": [' + deep + "]}").encode()
    response = await tenant.client.post(
        "/v1/hooks/transactions/batch", content=body, headers=tenant.signed(body)
    )
    assert 200 <= response.status_code < 500, response.text
    if response.status_code == 200:
        assert 400 <= response.json()["results"][0]["status"] < 500


async def test_a_key_named_twice_is_refused_in_a_hook_and_in_a_batch_item(
    tenant: Tenant, conn
) -> None:
    await setup(tenant)
    single = (
        b'{"id":"d1","kind":"purchase","member_id":"m-1","amount_minor":100,'
        b'"amount_minor":9000000,"currency":"CNY","occurred_at":"'
        + iso(PURCHASE_AT).encode()
        + b'"}'
    )
    refused = await tenant.client.post(
        "/v1/hooks/transactions", content=single, headers=tenant.signed(single)
    )
    assert refused.status_code == 400, refused.text
    assert "amount_minor" in refused.json()["detail"]
    good = msgspec.json.encode(purchase("d2"))
    batch = b'{"transactions":[' + single + b"," + good + b"]}"
    answer = await tenant.client.post(
        "/v1/hooks/transactions/batch", content=batch, headers=tenant.signed(batch)
    )
    problem, fine = answer.json()["results"]
    assert problem["status"] == 400
    assert fine["transaction_id"] == "d2"
    assert await count_rows(conn, "transactions") == 1


async def test_an_idempotency_key_compares_requests_by_meaning(tenant: Tenant) -> None:
    await setup(tenant)
    await item(tenant, sku="tea", points_price=0, cash_price_minor=800)
    member = tenant.member("m-1") | {"Idempotency-Key": "k-1", "Content-Type": "application/json"}
    first = await tenant.client.post(
        "/v1/me/redemptions", content=b'{"sku":"tea","quantity":1}', headers=member
    )
    assert first.status_code == 201, first.text
    again = await tenant.client.post(
        "/v1/me/redemptions", content=b'{\n  "quantity": 1,\n  "sku": "tea"\n}', headers=member
    )
    assert again.status_code == 201
    assert again.content == first.content
    other = await tenant.client.post(
        "/v1/me/redemptions", content=b'{"sku":"tea","quantity":2}', headers=member
    )
    assert other.status_code == 409


async def test_a_time_the_database_cannot_store_is_a_422_not_a_500(tenant: Tenant, conn) -> None:
    await setup(tenant)
    # Year 1 at +03:00 is year 0 in UTC, before anything PostgreSQL stores.
    early = await tenant.hook(purchase("t-early", occurred_at="0001-01-01T00:00:00+03:00"))
    assert early.status_code == 422, early.text
    assert "1900" in early.json()["detail"]
    late = await tenant.hook(purchase("t-late", occurred_at="9999-12-31T23:00:00-05:00"))
    assert late.status_code == 422, late.text
    risk = await tenant.client.get(
        "/v1/admin/risk-events", params={"from": "0001-01-01T00:00:00+03:00"}, headers=tenant.admin
    )
    assert risk.status_code == 422, risk.text
    assert await count_rows(conn, "transactions") == 0


@pytest.mark.parametrize(
    "moment", ["0.5", "1700000000", f"{PURCHASE_AT.year}-02-30T00:00:00Z", "today"]
)
async def test_a_time_in_a_query_is_rfc_3339_not_a_number(tenant: Tenant, moment: str) -> None:
    response = await tenant.client.get(
        "/v1/admin/risk-events", params={"to": moment}, headers=tenant.admin
    )
    assert response.status_code == 422, response.text
    fine = await tenant.client.get(
        "/v1/admin/risk-events", params={"to": iso(PURCHASE_AT)}, headers=tenant.admin
    )
    assert fine.status_code == 200, fine.text


async def test_a_whole_number_written_with_a_fraction_is_that_number(tenant: Tenant) -> None:
    """JSON Schema (and JSON) read 35000.0 and 3.5e4 as the integer 35000; a number that is
    not whole is still refused, and no digit is lost on the way."""
    await setup(tenant)
    body = msgspec.json.encode(purchase("f-1")).replace(
        b'"amount_minor":35000', b'"amount_minor":3.5e4'
    )
    assert b"3.5e4" in body
    first = await tenant.client.post(
        "/v1/hooks/transactions", content=body, headers=tenant.signed(body)
    )
    assert first.status_code == 200, first.text
    plain = await tenant.hook(purchase("f-0"))
    assert first.json()["points"] == plain.json()["points"]
    big = b'{"points": 123456789.000, "reason": "goodwill"}'
    adjusted = await tenant.client.post(
        "/v1/admin/members/m-1/adjustments",
        content=big,
        headers=tenant.admin | {"Content-Type": "application/json"},
    )
    assert adjusted.status_code == 201, adjusted.text
    assert adjusted.json()["points"] == 123456789
    half = await tenant.hook(purchase("f-2", amount_minor=350.5))
    assert half.status_code == 422, half.text
    assert half.json()["errors"][0]["field"] == "amount_minor"


async def test_a_405_and_options_name_every_method_of_the_path(tenant: Tenant) -> None:
    wrong = await tenant.client.delete("/v1/admin/catalog/items", headers=tenant.admin)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, OPTIONS, POST"
    assert wrong.headers["content-type"].startswith("application/problem+json")
    options = await tenant.client.options("/v1/admin/earn-rules/r-1", headers=tenant.admin)
    assert options.status_code < 300
    assert options.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    # A literal segment is its own resource, not a value of the parameter beside it.
    simulate = await tenant.client.get("/v1/admin/transactions/simulate", headers=tenant.admin)
    assert simulate.status_code == 405
    assert simulate.headers["allow"] == "OPTIONS, POST"


async def test_codes_for_an_item_that_makes_its_own_are_a_conflict(tenant: Tenant, conn) -> None:
    await item(tenant, sku="tea", points_price=100)
    response = await tenant.client.post(
        "/v1/admin/catalog/items/tea/codes", json={"codes": ["A-1"]}, headers=tenant.admin
    )
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "codes_not_taken"
    assert await count_rows(conn, "catalog_codes") == 0
