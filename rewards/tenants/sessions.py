"""Use cases for web sessions: a browser signs in with an API key and gets a session.

The session token is random and names its tenant (like an API key); only its SHA-256 is
stored, beside a per-session token that every form of the session must carry (CSRF). A
session ends when it expires, when its holder signs out, or when its key is revoked.
"""

from __future__ import annotations

import secrets

import asyncpg
import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.credentials import (
    hash_api_key,
    new_session_token,
    parse_api_key,
    session_tenant,
)
from rewards.core.errors import RewardsError, Unauthenticated
from rewards.core.records import ApiKeyRecord, Role
from rewards.tenants import repository as tenant_db
from rewards.tenants.repository import SessionHolder

__all__ = ["OpenedSession", "SessionHolder", "SignInThrottled", "find", "sign_in", "sign_out"]


class OpenedSession(msgspec.Struct, frozen=True):
    """A new session: the token for the cookie (shown once) and who holds it."""

    token: str
    holder: SessionHolder


class SignInThrottled(RewardsError):
    """Too many failed sign-ins from one client this minute."""

    status = 429
    type = "sign_in_throttled"
    title = "Too many failed sign-ins"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


async def sign_in(
    pool: asyncpg.Pool,
    api_key: str,
    role: Role,
    lifetime_seconds: float,
    *,
    client: str,
    max_failures: int,
) -> OpenedSession:
    """Exchange a live API key of ``role`` (a merchant's or an operator's) for a new session.

    A client (an address) has ``max_failures`` failed sign-ins a minute with keys naming one
    tenant; past them it is refused before its key is looked at, until the minute is over.
    The failure that reaches the limit is written to the audit log of the tenant the key
    names, if there is one (a flood leaves one entry a minute, not one an attempt).

    Raises:
        SignInThrottled: the client failed too often this minute.
        Unauthenticated: the key is malformed, unknown, revoked or of another role.
    """
    named = _tenant_named(api_key)
    if await tenant_db.sign_in_failures_now(pool, named, client) >= max_failures:
        raise SignInThrottled(
            "too many failed sign-ins from this address: wait a minute", retry_after=60
        )
    try:
        return await _open(pool, api_key, role, lifetime_seconds)
    except Unauthenticated:
        failures, seconds_left = await tenant_db.note_sign_in_failure(pool, named, client)
        if failures == max_failures and named:
            await _audit_flood(pool, named, role, client, failures)
        if failures >= max_failures:
            raise SignInThrottled(
                f"too many failed sign-ins from this address: wait {seconds_left} s",
                retry_after=seconds_left,
            ) from None
        raise


def _tenant_named(api_key: str) -> str:
    """The tenant a key names ('' when it has not a key's shape)."""
    try:
        return parse_api_key(api_key.strip()).tenant_id
    except Unauthenticated:
        return ""


async def _audit_flood(
    pool: asyncpg.Pool, tenant_id: str, role: Role, client: str, failures: int
) -> None:
    if not await tenant_db.tenant_exists(pool, tenant_id):
        return
    async with pool.acquire() as conn, conn.transaction():
        await audit.record(
            conn,
            tenant_id,
            f"web:{client}",
            "web.sign_in_throttled",
            "client",
            client,
            None,
            {"failures_this_minute": failures, "role": role},
        )


async def _open(
    conn: Conn | asyncpg.Pool, api_key: str, role: Role, lifetime_seconds: float
) -> OpenedSession:
    tenant_id = parse_api_key(api_key.strip()).tenant_id
    token = new_session_token(tenant_id)
    csrf = secrets.token_urlsafe(32)
    record: ApiKeyRecord | None = await tenant_db.open_session(
        conn,
        tenant_id,
        hash_api_key(api_key.strip()),
        hash_api_key(token),
        csrf,
        lifetime_seconds,
        role,
    )
    if record is None:
        raise Unauthenticated("the API key is not valid")
    holder = SessionHolder(record.tenant_id, record.role, record.merchant_id, csrf)
    return OpenedSession(token, holder)


async def find(conn: Conn | asyncpg.Pool, token: str) -> SessionHolder | None:
    """The holder of a live session, or None (unknown, expired, signed out, key revoked)."""
    tenant_id = session_tenant(token)
    if tenant_id is None:
        return None
    return await tenant_db.find_session(conn, tenant_id, hash_api_key(token))


async def sign_out(conn: Conn | asyncpg.Pool, token: str) -> None:
    """End a session (nothing happens for a token that names none)."""
    tenant_id = session_tenant(token)
    if tenant_id is not None:
        await tenant_db.close_session(conn, tenant_id, hash_api_key(token))
