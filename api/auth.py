"""The four callers: guards that authenticate each and leave who called in the request."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from db.pool import acquire
from rewards import metrics
from rewards.abuse import service as abuse
from rewards.core.abuse import DeviceSighting
from rewards.core.credentials import (
    ADMIN_KEY_PREFIX,
    hash_api_key,
    parse_api_key,
    token_tenant,
    verify_hook_signature,
    verify_member_token,
)
from rewards.core.errors import Forbidden, Unauthenticated, ValidationFailed
from rewards.core.records import ApiKeyRecord, TenantSecrets
from rewards.tenants import service as tenants

Connection = ASGIConnection[Any, Any, Any, Any]


class Admin(msgspec.Struct, frozen=True):
    """A program operator of one tenant, by the key they hold (named in the audit log)."""

    tenant_id: str
    key: str = ""
    key_id: str = ""  # which key: four eyes needs a second one

    @property
    def actor(self) -> str:
        return f"admin: {self.key}" if self.key else "admin"


class MerchantCaller(msgspec.Struct, frozen=True):
    """The portal of one merchant."""

    tenant_id: str
    merchant_id: str

    @property
    def actor(self) -> str:
        return f"merchant:{self.merchant_id}"


class MemberCaller(msgspec.Struct, frozen=True):
    """A member in the mobile app, with the device the request named (X-Device-Id)."""

    tenant_id: str
    member_id: str
    device: DeviceSighting | None


class HookCaller(msgspec.Struct, frozen=True):
    """The card processor of one tenant."""

    tenant_id: str


class CredentialCache:
    """Tenant secrets and API keys a worker looked up, kept for a few seconds."""

    def __init__(self, pool: asyncpg.Pool, ttl: float) -> None:
        self._pool = pool
        self._ttl = ttl
        self._secrets: dict[str, tuple[float, TenantSecrets]] = {}
        self._keys: dict[bytes, tuple[float, ApiKeyRecord]] = {}

    async def secrets(self, tenant_id: str) -> TenantSecrets | None:
        now = time.monotonic()
        hit = self._secrets.get(tenant_id)
        if hit and hit[0] > now:
            return hit[1]
        found = await tenants.secrets_of(self._pool, tenant_id)
        if found is not None and self._ttl > 0:
            self._secrets[tenant_id] = (now + self._ttl, found)
        return found

    async def api_key(self, tenant_id: str, key_hash: bytes) -> ApiKeyRecord | None:
        now = time.monotonic()
        hit = self._keys.get(key_hash)
        if hit and hit[0] > now and hit[1].tenant_id == tenant_id:
            return hit[1]
        found = await tenants.key_holder(self._pool, tenant_id, key_hash)
        if found is not None and self._ttl > 0:
            self._keys[key_hash] = (now + self._ttl, found)
        return found

    def forget_key(self, key_hash: bytes) -> None:
        """Drop one key at once (it was revoked through this worker)."""
        self._keys.pop(key_hash, None)

    def forget(self) -> None:
        self._secrets.clear()
        self._keys.clear()


def _cache(connection: Connection) -> CredentialCache:
    cache: CredentialCache = connection.app.state.credentials
    return cache


def _bearer(connection: Connection) -> str:
    header = connection.headers.get("authorization")
    if not header:
        raise Unauthenticated("the Authorization header is missing")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <credential>'")
    return token.strip()


def _remember(connection: Connection, caller: Any, tenant_id: str) -> None:
    connection.state.caller = caller
    connection.scope.setdefault("state", {})["tenant_id"] = tenant_id


async def _api_key(connection: Connection) -> ApiKeyRecord:
    key = _bearer(connection)
    parts = parse_api_key(key)
    record = await _cache(connection).api_key(parts.tenant_id, hash_api_key(key))
    if record is None:
        raise Unauthenticated("the API key is not valid")
    return record


async def admin_guard(connection: Connection, _: BaseRouteHandler) -> None:
    """Admin API key of the tenant; a merchant key is valid but has no right here (403)."""
    record = await _api_key(connection)
    if record.role != "admin":
        raise Forbidden("a merchant API key cannot call the operator API")
    _remember(connection, Admin(record.tenant_id, record.named, record.key_id), record.tenant_id)


async def merchant_guard(connection: Connection, _: BaseRouteHandler) -> None:
    """Merchant API key, scoped to one merchant; an admin key is not a merchant's (403)."""
    record = await _api_key(connection)
    if record.role != "merchant" or record.merchant_id is None:
        raise Forbidden("the merchant API needs a merchant's API key")
    _remember(connection, MerchantCaller(record.tenant_id, record.merchant_id), record.tenant_id)


async def member_guard(connection: Connection, _: BaseRouteHandler) -> None:
    """Member JWT (HS256) signed with the secret of the tenant named in its ``tid``."""
    token = _bearer(connection)
    if token.startswith((ADMIN_KEY_PREFIX + ".", "rmch.")):
        raise Unauthenticated("the mobile API takes a member token, not an API key")
    tenant_id = token_tenant(token)
    secrets = await _cache(connection).secrets(tenant_id)
    if secrets is None:
        raise Unauthenticated("the token's tenant is not known")
    claims = verify_member_token(token, secrets.member_token_secrets, now=time.time())
    device = connection.headers.get("x-device-id")
    sighting = None
    if device is not None:
        if not (0 < len(device) <= 128 and device.isascii() and device.isprintable()):
            raise ValidationFailed(
                "X-Device-Id must be 1 to 128 printable ASCII characters",
                errors=[("X-Device-Id", "1 to 128 printable ASCII characters")],
            )
        # Every member request that names its device is remembered (as a keyed hash): the
        # device limit and referral rings are judged from what was seen.
        pool: asyncpg.Pool = connection.app.state.pool
        async with acquire(pool) as conn:
            sighting = await abuse.sighting(
                conn, claims.tid, secrets.device_key, claims.sub, device
            )
    _remember(connection, MemberCaller(claims.tid, claims.sub, sighting), claims.tid)


async def hook_guard(connection: Connection, _: BaseRouteHandler) -> None:
    """Signed hook: HMAC-SHA256 of ``"<t>.<raw body>"``, checked before the body is parsed."""
    try:
        tenant_id = connection.headers.get("x-rewards-tenant")
        if not tenant_id:
            raise Unauthenticated("the X-Rewards-Tenant header is missing")
        secrets = await _cache(connection).secrets(tenant_id)
        if secrets is None:
            raise Unauthenticated("the hook signature is not valid")
        body: bytes = await connection.body()  # type: ignore[attr-defined]
        verify_hook_signature(
            connection.headers.get("x-rewards-signature"),
            body,
            secrets.hook_secrets,
            now=time.time(),
            tolerance=connection.app.state.settings.hook_tolerance_seconds,
        )
    except Unauthenticated:
        metrics.HOOK_SIGNATURE_FAILURES.inc()
        raise
    _remember(connection, HookCaller(tenant_id), tenant_id)


def caller_of(connection: Connection) -> Any:
    """Who the guard authenticated."""
    return connection.state.caller
