"""Outbound events' use cases, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.core.errors import NotFound
from rewards.events import repository as events_db
from rewards.events import service as events
from rewards.events.repository import ExpiryDue
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


@pytest.mark.parametrize("event_id", ["evt_x", "12", "evt_99"])
async def test_redelivering_an_unknown_event_is_not_found(
    monkeypatch: pytest.MonkeyPatch, event_id: str
) -> None:
    calls = Calls()
    fake(monkeypatch, events_db, calls, redeliver=None)
    with pytest.raises(NotFound):
        await events.redeliver(CONN, "t", event_id)
    assert calls.of("redeliver") == ([("t", 99)] if event_id == "evt_99" else [])


async def test_expiring_points_are_announced_once_per_member_and_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = NOW + timedelta(days=10)
    due = [ExpiryDue("t-1", "m-1", at, 50), ExpiryDue("t-2", "m-9", at, 7)]
    calls = Calls()
    pages = [due, []]
    fake(
        monkeypatch,
        events_db,
        calls,
        expiry_due=lambda *_: pages.pop(0),
        notice_expiry=lambda tenant_id, notices: notices[:1] if tenant_id == "t-1" else [],
        insert=None,
    )
    assert await events.announce_expiring(CONN, NOW, batch=2) == 1
    ((tenant, written),) = [c for c in calls.of("insert") if c[1]]
    assert tenant == "t-1"
    assert [(e.type, e.member_id, e.data["points"]) for e in written] == [
        ("points.expiring", "m-1", 50)
    ]


async def test_delivered_events_older_than_the_retention_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, events_db, calls, prune=None)
    await events.prune(CONN, NOW, timedelta(days=7))
    assert calls.of("prune") == [(NOW - timedelta(days=7),)]
