"""Every way to fail authentication: 401 or 403, and nothing written."""

from __future__ import annotations

import base64
import time

import msgspec
import pytest

from rewards.core.credentials import encode_member_token, hook_signature
from tests.integration.conftest import Tenant, count_rows, purchase


async def _nothing_written(tenant: Tenant, conn) -> None:  # type: ignore[no-untyped-def]
    assert await count_rows(conn, "merchants") == 0
    assert await count_rows(conn, "transactions") == 0
    assert await count_rows(conn, "members") == 0


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "Bearer radm.nope.secret", "Bearer not-a-key"],
)
async def test_admin_calls_without_a_valid_key_are_401(
    tenant: Tenant, conn, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await tenant.client.post(
        "/v1/admin/merchants", json={"name": "x", "category": "fuel"}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "unauthorized"
    await _nothing_written(tenant, conn)


async def test_a_forged_key_of_the_right_tenant_is_401(tenant: Tenant, conn) -> None:
    forged = tenant.admin_key[:-4] + "AAAA"
    response = await tenant.client.post(
        "/v1/admin/merchants",
        json={"name": "x", "category": "fuel"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert response.status_code == 401
    await _nothing_written(tenant, conn)


async def test_a_merchant_key_on_the_admin_api_is_403(tenant: Tenant, conn) -> None:
    merchant_key = await tenant.merchant("shop-1")
    response = await tenant.client.post(
        "/v1/admin/merchants",
        json={"name": "x", "category": "fuel"},
        headers={"Authorization": f"Bearer {merchant_key}"},
    )
    assert response.status_code == 403
    assert await count_rows(conn, "merchants") == 1


async def test_an_admin_key_on_the_merchant_api_is_403(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/merchant/profile", headers=tenant.admin)
    assert response.status_code == 403


async def test_a_merchant_key_sees_only_its_own_merchant(tenant: Tenant) -> None:
    key_a = await tenant.merchant("shop-a", "Shop A")
    await tenant.merchant("shop-b", "Shop B")
    response = await tenant.client.get(
        "/v1/merchant/profile", headers={"Authorization": f"Bearer {key_a}"}
    )
    assert response.json()["id"] == "shop-a"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "case",
    ["missing", "expired", "alg_none", "hs512", "wrong_secret", "other_tid", "no_sub", "api_key"],
)
async def test_member_calls_with_a_bad_token_are_401(
    tenant: Tenant, other_tenant: Tenant, conn, case: str
) -> None:
    now = int(time.time())
    good = {"sub": "m-1", "tid": tenant.id, "exp": now + 60}
    if case == "missing":
        headers: dict[str, str] = {}
    elif case == "expired":
        token = encode_member_token(tenant.member_secret, sub="m-1", tid=tenant.id, exp=now - 5)
        headers = {"Authorization": f"Bearer {token}"}
    elif case in ("alg_none", "hs512"):
        alg = "none" if case == "alg_none" else "HS512"
        header = _b64(msgspec.json.encode({"alg": alg, "typ": "JWT"}))
        claims = _b64(msgspec.json.encode(good))
        headers = {"Authorization": f"Bearer {header}.{claims}."}
    elif case == "wrong_secret":
        token = encode_member_token("x" * 64, sub="m-1", tid=tenant.id, exp=now + 60)
        headers = {"Authorization": f"Bearer {token}"}
    elif case == "other_tid":
        # Signed with tenant B's secret but claiming tenant A.
        token = encode_member_token(
            other_tenant.member_secret, sub="m-1", tid=tenant.id, exp=now + 60
        )
        headers = {"Authorization": f"Bearer {token}"}
    elif case == "no_sub":
        header = _b64(b'{"alg":"HS256"}')
        claims = _b64(msgspec.json.encode({"tid": tenant.id, "exp": now + 60}))
        import hashlib
        import hmac

        sig = hmac.new(
            tenant.member_secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256
        ).digest()
        headers = {"Authorization": f"Bearer {header}.{claims}.{_b64(sig)}"}
    else:
        headers = tenant.admin
    response = await tenant.client.get("/v1/me", headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["type"] == "unauthorized"
    assert await count_rows(conn, "members") == 0


async def test_a_member_is_enrolled_on_first_call(tenant: Tenant, conn) -> None:
    response = await tenant.client.get(
        "/v1/me", headers=tenant.member("m-7", **{"X-Device-Id": "d1"})
    )
    assert response.status_code == 200
    assert response.json()["member_id"] == "m-7"
    assert await count_rows(conn, "members") == 1


@pytest.mark.parametrize(
    "case",
    [
        "no_tenant",
        "unknown_tenant",
        "no_signature",
        "bad_signature",
        "stale",
        "future",
        "other_tenant_secret",
        "body_changed",
    ],
)
async def test_hook_calls_with_a_bad_signature_are_401(
    tenant: Tenant, other_tenant: Tenant, conn, case: str
) -> None:
    body = msgspec.json.encode(purchase())
    headers = tenant.signed(body)
    now = int(time.time())
    if case == "no_tenant":
        del headers["X-Rewards-Tenant"]
    elif case == "unknown_tenant":
        headers["X-Rewards-Tenant"] = "no-such-tenant"
    elif case == "no_signature":
        del headers["X-Rewards-Signature"]
    elif case == "bad_signature":
        headers["X-Rewards-Signature"] = f"t={now},v1={'0' * 64}"
    # The exact ±300 s edge is in the unit tests (with a fixed clock); here a few seconds
    # beyond it, so that a slow machine cannot cross the edge between signing and checking.
    elif case == "stale":
        headers = tenant.signed(body, at=now - 305)
    elif case == "future":
        headers = tenant.signed(body, at=now + 305)
    elif case == "other_tenant_secret":
        headers["X-Rewards-Signature"] = hook_signature(other_tenant.hook_secret, now, body)
    elif case == "body_changed":
        body = body.replace(b"35000", b"95000")
    response = await tenant.client.post("/v1/hooks/transactions", content=body, headers=headers)
    assert response.status_code == 401, response.text
    await _nothing_written(tenant, conn)


async def test_after_rotation_both_hook_secrets_are_accepted(tenant: Tenant, conn) -> None:
    from rewards.tenants.service import rotate_secret

    old = tenant.hook_secret
    async with conn.transaction():
        new = await rotate_secret(conn, tenant.id, "hook")
    tenant.client.app.state.credentials.forget()
    for n, secret in enumerate([old, new]):
        body = msgspec.json.encode(purchase(f"txn-{n}"))
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": tenant.id,
            "X-Rewards-Signature": hook_signature(secret, stamp, body),
        }
        response = await tenant.client.post("/v1/hooks/transactions", content=body, headers=headers)
        assert response.status_code == 200, response.text
    async with conn.transaction():
        await rotate_secret(conn, tenant.id, "hook")
    tenant.client.app.state.credentials.forget()
    body = msgspec.json.encode(purchase("txn-9"))
    headers = {
        "Content-Type": "application/json",
        "X-Rewards-Tenant": tenant.id,
        "X-Rewards-Signature": hook_signature(old, int(time.time()), body),
    }
    response = await tenant.client.post("/v1/hooks/transactions", content=body, headers=headers)
    assert response.status_code == 401
