"""Domain values shared by the services: tenants, credentials, merchants, members."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Role = Literal["admin", "merchant"]


class TenantSecrets(msgspec.Struct, frozen=True):
    """What is needed to check a tenant's hook signatures and member tokens: the secrets
    accepted now, the current one first (then those still in a rotation's overlap)."""

    tenant_id: str
    hook_secrets: list[str]
    member_token_secrets: list[str]
    device_key: bytes  # the key of the hash devices are kept as


class ApiKeyRecord(msgspec.Struct, frozen=True):
    """A stored API key: who holds it."""

    tenant_id: str
    role: Role
    merchant_id: str | None
    key_id: str = ""
    label: str = ""
    prefix: str = ""

    @property
    def named(self) -> str:
        """The key as the audit log names it: its label and the start of the key."""
        return key_name(self.key_id, self.label, self.prefix)


def key_name(key_id: str, label: str, prefix: str) -> str:
    """``ops-lead (rk_live_3f9a…)``; the key's id where it has no label."""
    if not key_id:
        return ""
    return f"{label or key_id} ({prefix}…)" if prefix else label or key_id


class ApiKey(msgspec.Struct, frozen=True):
    """An API key as its holders see it later: never the key itself, only its visible start."""

    key_id: str
    prefix: str
    label: str
    role: Role
    merchant_id: str | None
    created_at: datetime
    last_used_at: datetime | None


class NewApiKey(msgspec.Struct, frozen=True):
    """A key just made: the only time the key itself is shown."""

    key: ApiKey
    api_key: str


class Member(msgspec.Struct, frozen=True):
    """A cardholder enrolled in the program."""

    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    referral_code_used: str | None
    referral_code: str | None  # the member's own code, once made
    created_at: datetime
    status: str = "active"  # active, suspended or closed


class StoredTransaction(msgspec.Struct, frozen=True):
    """A hook transaction as it was first recorded, with the answer it got."""

    transaction_id: str
    body_hash: bytes
    answer: bytes  # the JSON sent


class AuditEntry(msgspec.Struct, frozen=True):
    """One change made by an operator or a merchant."""

    audit_id: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    at: datetime


class TransactionRecord(msgspec.Struct, frozen=True):
    """A recorded hook transaction, for the operator."""

    transaction_id: str
    kind: str
    member_id: str
    original_id: str | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    body: dict[str, Any]
    answer: dict[str, Any]  # the answer as it was sent
    created_at: datetime
