"""Use cases for tenants and their credentials."""

from __future__ import annotations

import secrets
from datetime import timedelta

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.credentials import is_id, new_secret
from rewards.core.errors import AlreadyExists, NotFound, ValidationFailed
from rewards.tenants import repository as tenant_db
from rewards.tenants.keys import issue_key
from rewards.tenants.repository import TenantRow as TenantRow  # what list_tenants gives

FIRST_ADMIN_KEY = "first admin key"


class NewTenant(msgspec.Struct, frozen=True):
    """A created tenant with its credentials, shown once."""

    tenant_id: str
    admin_api_key: str
    hook_secret: str
    member_token_secret: str
    event_signing_secret: str


#: The kinds of a tenant's secrets, and the names they are shown under.
SECRET_KINDS = {
    "hook": "hook_secret",
    "member": "member_token_secret",
    "event": "event_signing_secret",
}
#: How long the previous secret stays accepted after a rotation, by default.
DEFAULT_OVERLAP = timedelta(hours=24)
#: The longest overlap a rotation may keep.
MAX_OVERLAP = timedelta(days=30)


def new_tenant_id() -> str:
    """A fresh server-chosen tenant id."""
    return "tn_" + secrets.token_hex(8)


async def create_tenant(conn: Conn, name: str, tenant_id: str | None = None) -> NewTenant:
    """Create a tenant with its first admin key, a hook secret, a member-token secret and an
    event signing secret."""
    tenant_id = tenant_id or new_tenant_id()
    if not is_id(tenant_id):
        raise ValidationFailed(
            f"tenant id {tenant_id!r} is not 1 to 64 of A-Z a-z 0-9 . _ : -",
            errors=[("id", "1 to 64 of A-Z a-z 0-9 . _ : -")],
        )
    if not name.strip():
        raise ValidationFailed("a tenant needs a name", errors=[("name", "must not be empty")])
    made = {kind: new_secret() for kind in SECRET_KINDS}
    if not await tenant_db.insert_tenant(conn, tenant_id, name, made):
        raise AlreadyExists(f"a tenant with id {tenant_id} exists already")
    admin = await issue_key(conn, tenant_id, "admin", None, FIRST_ADMIN_KEY)
    return NewTenant(tenant_id, admin.api_key, made["hook"], made["member"], made["event"])


async def require(conn: Conn, tenant_id: str) -> None:
    """Raises NotFound unless the tenant exists."""
    if not await tenant_db.tenant_exists(conn, tenant_id):
        raise NotFound(f"no tenant {tenant_id}")


async def rotate_secret(
    conn: Conn,
    tenant_id: str,
    kind: str,
    overlap: timedelta = DEFAULT_OVERLAP,
    actor: str = "cli",
) -> str:
    """A new current secret of ``kind`` (hook, member or event); the previous one stays
    accepted (hooks, member tokens) or signs events beside the new one for ``overlap``."""
    if kind not in SECRET_KINDS:
        raise ValidationFailed(f"no secret of kind {kind!r}", errors=[("kind", "unknown")])
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise ValidationFailed(
            "the overlap must be from 0 to 720 hours",
            errors=[("overlap_hours", "from 0 to 720")],
        )
    secret = new_secret()
    if not await tenant_db.rotate_secret(conn, tenant_id, kind, secret, overlap.total_seconds()):
        raise NotFound(f"no tenant {tenant_id}")
    await audit.record(
        conn,
        tenant_id,
        actor,
        "secret.rotate",
        "secret",
        SECRET_KINDS[kind],
        None,
        {"overlap_hours": overlap.total_seconds() / 3600},
    )
    return secret


async def issue_admin_key(conn: Conn, tenant_id: str, label: str) -> str:
    """Another admin key for an existing tenant (shown once)."""
    if await tenant_db.tenant_secrets(conn, tenant_id) is None:
        raise NotFound(f"no tenant {tenant_id}")
    return (await issue_key(conn, tenant_id, "admin", None, label)).api_key


#: Tenants by id, a page at a time (the command line's list).
list_tenants = tenant_db.list_tenants

#: The tenant's hook secrets and member-token secret, or None for no such tenant.
secrets_of = tenant_db.tenant_secrets

#: Revoke the tenant's live keys with these labels (the demo's own); how many.
revoke_labelled_keys = tenant_db.revoke_labelled_keys

#: Who holds the live API key with this hash (noting its use), or None.
key_holder = tenant_db.lookup_api_key
