"""The audit log's use case, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from rewards.audit import repository as audit_db
from rewards.audit import service as audit
from tests.unit.fakes import Calls, FakeConn, fake


async def test_an_entry_is_written_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, audit_db, calls, record=None, list_entries=[])
    monkeypatch.setattr(audit, "record", audit_db.record)
    monkeypatch.setattr(audit, "entries", audit_db.list_entries)
    conn: Any = FakeConn()
    await audit.record(conn, "t", "admin", "member.adjust", "member", "m-1", None, {"points": 5})
    assert await audit.entries(conn, "t", None, 50) == []
    assert calls.of("record") == [
        ("t", "admin", "member.adjust", "member", "m-1", None, {"points": 5})
    ]
