"""Members' operator-managed attributes, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rewards.audit import service as audit
from rewards.core.errors import NotFound
from rewards.core.records import Member
from rewards.members import repository as member_db
from rewards.members import service as members
from rewards.referrals import service as referrals
from rewards.segments import service as segments
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)
MEMBER = Member("m-1", "gold", ["vip"], [], None, None, NOW)


async def test_an_unknown_member_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, member_db, Calls(), get_member=None)
    with pytest.raises(NotFound):
        await members.get(CONN, "t", "m-1")


async def test_a_referral_code_locks_attachments_before_the_member_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, member_db, calls, get_member=MEMBER, upsert_member=None)
    fake(monkeypatch, segments, calls, assign=None)
    fake(monkeypatch, referrals, calls, lock_attachments=None, attach=None)
    fake(monkeypatch, audit, calls, record=None)
    await members.update(CONN, "t", "admin", "m-1", "gold", ["vip"], [], "ABCD2345")
    names = calls.names()
    assert names.index("lock_attachments") < names.index("upsert_member") < names.index("attach")
    (entry,) = calls.of("record")
    assert entry[2] == "member.update"


async def test_without_a_code_nothing_is_locked_and_a_new_member_is_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    found = iter([None, MEMBER])
    fake(monkeypatch, member_db, calls, get_member=lambda *_: next(found), upsert_member=None)
    fake(monkeypatch, segments, calls, assign=None)
    fake(monkeypatch, referrals, calls, lock_attachments=None, attach=None)
    fake(monkeypatch, audit, calls, record=None)
    await members.update(CONN, "t", "admin", "m-1", "gold", ["vip"], [], None)
    assert "lock_attachments" not in calls.names()
    assert calls.of("assign") == [("t", {"m-1": ["vip"]})]
    assert calls.of("record")[0][2] == "member.create"
