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
from rewards.core.credentials import (
    hash_api_key,
    new_session_token,
    parse_api_key,
    session_tenant,
)
from rewards.core.errors import Unauthenticated
from rewards.core.records import ApiKeyRecord, Role
from rewards.tenants import repository as tenant_db
from rewards.tenants.repository import SessionHolder

__all__ = ["OpenedSession", "SessionHolder", "find", "sign_in", "sign_out"]


class OpenedSession(msgspec.Struct, frozen=True):
    """A new session: the token for the cookie (shown once) and who holds it."""

    token: str
    holder: SessionHolder


async def sign_in(
    conn: Conn | asyncpg.Pool, api_key: str, role: Role, lifetime_seconds: float
) -> OpenedSession:
    """Exchange a live API key of ``role`` (a merchant's or an operator's) for a new session.

    Raises:
        Unauthenticated: the key is malformed, unknown, revoked or of another role.
    """
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
