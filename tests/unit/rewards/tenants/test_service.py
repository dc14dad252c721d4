"""Tenants, their secrets and their keys, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.audit import service as audit
from rewards.core.errors import AlreadyExists, NotFound, ValidationFailed
from rewards.core.records import ApiKey
from rewards.tenants import keys
from rewards.tenants import repository as tenant_db
from rewards.tenants import service as tenants
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


@pytest.mark.parametrize(("name", "tenant_id"), [("", "bank-a"), ("A", "sp ace"), ("A", "x" * 65)])
async def test_a_bad_name_or_id_is_refused_before_anything_is_written(
    monkeypatch: pytest.MonkeyPatch, name: str, tenant_id: str
) -> None:
    calls = Calls()
    fake(monkeypatch, tenant_db, calls, insert_tenant=True)
    with pytest.raises(ValidationFailed):
        await tenants.create_tenant(CONN, name, tenant_id)
    assert calls.log == []


async def test_a_tenant_gets_three_secrets_of_its_own_and_a_first_admin_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    key = ApiKey("key_1", "radm.bank-a.abcd", "first admin key", "admin", None, NOW, None)
    fake(monkeypatch, tenant_db, calls, insert_tenant=True, insert_api_key=key)
    made = await tenants.create_tenant(CONN, "Bank A", "bank-a")
    (stored,) = calls.of("insert_tenant")
    assert stored[:2] == ("bank-a", "Bank A")
    assert stored[2] == {
        "hook": made.hook_secret,
        "member": made.member_token_secret,
        "event": made.event_signing_secret,
    }
    assert len({made.hook_secret, made.member_token_secret, made.event_signing_secret}) == 3
    assert made.admin_api_key.startswith("radm.bank-a.")


async def test_a_taken_id_is_already_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, tenant_db, Calls(), insert_tenant=False)
    with pytest.raises(AlreadyExists):
        await tenants.create_tenant(CONN, "Bank A", "bank-a")


async def test_a_rotation_keeps_the_previous_secret_for_the_overlap_and_is_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, tenant_db, calls, rotate_secret=True)
    fake(monkeypatch, audit, calls, record=None)
    secret = await tenants.rotate_secret(CONN, "bank-a", "event", timedelta(hours=2), "admin")
    assert calls.of("rotate_secret") == [("bank-a", "event", secret, 7200.0)]
    (entry,) = calls.of("record")
    assert entry[2:4] == ("secret.rotate", "secret")
    assert secret not in repr(entry)


@pytest.mark.parametrize(
    ("kind", "overlap"), [("nope", timedelta(hours=1)), ("hook", timedelta(days=31))]
)
async def test_a_bad_kind_or_overlap_rotates_nothing(
    monkeypatch: pytest.MonkeyPatch, kind: str, overlap: timedelta
) -> None:
    calls = Calls()
    fake(monkeypatch, tenant_db, calls, rotate_secret=True)
    with pytest.raises(ValidationFailed):
        await tenants.rotate_secret(CONN, "bank-a", kind, overlap)
    assert calls.log == []


async def test_rotating_for_no_tenant_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, tenant_db, Calls(), rotate_secret=False)
    with pytest.raises(NotFound):
        await tenants.rotate_secret(CONN, "nobody", "hook")


async def test_the_last_admin_key_is_never_revoked(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ApiKey("key_1", "radm.t.abcd", "", "admin", None, NOW, None)
    calls = Calls()
    fake(
        monkeypatch,
        tenant_db,
        calls,
        lock_tenant=True,
        revoke_api_key=(key, b"hash"),
        count_live_admin_keys=0,
        close_sessions_of_key=None,
    )
    with pytest.raises(keys.LastAdminKey):
        await keys.revoke_key(CONN, "t", "admin", "key_1", None)
    assert "close_sessions_of_key" not in calls.names()
    assert calls.names()[0] == "lock_tenant"  # revocations are serialized on the tenant


async def test_revoking_a_key_ends_its_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ApiKey("key_2", "rmch.t.abcd", "", "merchant", "shop", NOW, None)
    calls = Calls()
    fake(monkeypatch, tenant_db, calls, revoke_api_key=(key, b"hash"), close_sessions_of_key=None)
    fake(monkeypatch, audit, calls, record=None)
    assert await keys.revoke_key(CONN, "t", "admin", "key_2", "shop") == b"hash"
    assert calls.of("close_sessions_of_key") == [("t", b"hash")]
    assert "lock_tenant" not in calls.names()
