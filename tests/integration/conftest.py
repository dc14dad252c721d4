"""HTTP-level fixtures: the real Litestar app over the test's database, and callers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from rewards.core.credentials import encode_member_token, hook_signature
from rewards.tenants.service import NewTenant, create_tenant
from tests.dates import PURCHASE_AT, iso
from tests.integration.http import AppClient
from tests.integration.web import WebUser


class Tenant:
    """A tenant with its credentials and helpers to call the API as each of its callers."""

    def __init__(self, client: AppClient, created: NewTenant) -> None:
        self.client = client
        self.id = created.tenant_id
        self.admin_key = created.admin_api_key
        self.hook_secret = created.hook_secret
        self.member_secret = created.member_token_secret
        self.event_secret = created.event_signing_secret

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def member(self, member_id: str, **extra: str) -> dict[str, str]:
        token = encode_member_token(
            self.member_secret, sub=member_id, tid=self.id, exp=int(time.time()) + 3600
        )
        return {"Authorization": f"Bearer {token}", **extra}

    def signed(self, body: bytes, *, at: int | None = None) -> dict[str, str]:
        stamp = int(time.time()) if at is None else at
        return {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": self.id,
            "X-Rewards-Signature": hook_signature(self.hook_secret, stamp, body),
        }

    async def hook(self, transaction: dict[str, Any]) -> Any:
        body = msgspec.json.encode(transaction)
        return await self.client.post(
            "/v1/hooks/transactions", content=body, headers=self.signed(body)
        )

    async def hook_batch(self, transactions: list[dict[str, Any]]) -> Any:
        body = msgspec.json.encode({"transactions": transactions})
        return await self.client.post(
            "/v1/hooks/transactions/batch", content=body, headers=self.signed(body)
        )

    async def merchant(self, merchant_id: str, name: str = "A shop", category: str = "fuel") -> str:
        """Create a merchant and return its API key."""
        response = await self.client.post(
            "/v1/admin/merchants",
            json={"id": merchant_id, "name": name, "category": category},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        key: str = response.json()["api_key"]
        return key


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(Settings(database_url=database, pool_max_size=40, access_log=False))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AppClient]:
    async with AppClient(app) as test_client:
        yield test_client


async def _new_tenant(conn: asyncpg.Connection, client: AppClient, name: str) -> Tenant:
    async with conn.transaction():
        created = await create_tenant(conn, name)
    return Tenant(client, created)


@pytest.fixture
async def tenant(conn: asyncpg.Connection, client: AppClient) -> Tenant:
    return await _new_tenant(conn, client, "Bank A")


@pytest.fixture
async def other_tenant(conn: asyncpg.Connection, client: AppClient) -> Tenant:
    return await _new_tenant(conn, client, "Bank B")


def purchase(tx_id: str = "txn-1", member_id: str = "m-1", **fields: Any) -> dict[str, Any]:
    """A valid purchase body; fields override."""
    body: dict[str, Any] = {
        "id": tx_id,
        "kind": "purchase",
        "member_id": member_id,
        "card_product": "car-owner",
        "amount_minor": 35000,
        "currency": "CNY",
        "mcc": "5541",
        "merchant_id": "shell-futian",
        "channel": "offline",
        "occurred_at": iso(PURCHASE_AT),
    }
    body.update(fields)
    return body


async def count_rows(conn: asyncpg.Connection, table: str) -> int:
    value: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return value


@pytest.fixture
async def web(app: Litestar, client: AppClient) -> AsyncIterator[Callable[..., Awaitable[WebUser]]]:
    """``await web("portal", key)``: a browser of the portal or the console with its own
    cookies, signed in with ``key`` (None: not signed in), naming ``language`` as its
    Accept-Language (English unless a test says otherwise; None: none). It shares the app
    (and its lifespan) with ``client``."""
    users: list[WebUser] = []

    async def make(
        area: str,
        key: str | None,
        base_url: str = "http://rewards.local",
        language: str | None = "en",
    ) -> WebUser:
        user = WebUser(app, area, base_url, language=language)
        users.append(user)
        if key is not None:
            signed = await user.sign_in(key)
            assert signed.status_code == 303, signed.text
        return user

    yield make
    for user in users:
        await user.close()
