"""Use case: a member's request for their data (PIPL) — everything held about them as one
document — and the erasure of their personal data, the ledger's totals kept."""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.errors import NotFound
from rewards.privacy import repository as privacy_db
from rewards.tenants import service as tenants


async def export(conn: Conn, tenant_id: str, member_id: str) -> dict[str, Any]:
    """Everything held about a member: profile, attributes over time, ledger entries, lots,
    hook transactions with their answers, claims, redemptions, referrals, risk events,
    device hashes, events, audit entries.

    Raises:
        NotFound: no such member.
    """
    found = await privacy_db.export(conn, tenant_id, member_id)
    if found is None:
        raise NotFound(f"no member {member_id}")
    return {"member_id": member_id, "tables": found}


async def pseudonym_of(conn: Conn, tenant_id: str, member_id: str) -> str:
    """The keyed pseudonym an erased member's id becomes: an HMAC under the tenant's device
    key of the id and a fresh salt, so that nobody can tell which id it stands for, and an
    id enrolled again and erased again gets another."""
    secrets = await tenants.secrets_of(conn, tenant_id)
    if secrets is None:
        raise NotFound(f"no tenant {tenant_id}")
    salt = os.urandom(16).hex()
    digest = hmac.new(secrets.device_key, f"erase:{member_id}:{salt}".encode(), hashlib.sha256)
    return "erased-" + digest.hexdigest()[:32]


async def erase(conn: Conn, tenant_id: str, actor: str, member_id: str) -> str:
    """Replace the member's id by a keyed pseudonym everywhere, drop their devices and
    attributes (audited); returns the pseudonym. A later hook for the old id enrols a new
    member.

    Raises:
        NotFound: no such member.
    """
    pseudonym = await pseudonym_of(conn, tenant_id, member_id)
    if not await privacy_db.erase(conn, tenant_id, member_id, pseudonym):
        raise NotFound(f"no member {member_id}")
    await audit.record(
        conn, tenant_id, actor, "member.erase", "member", pseudonym, None, {"erased": True}
    )
    return pseudonym
