"""Abuse limits as the services apply them, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.abuse import repository as abuse_db
from rewards.abuse import service as abuse
from rewards.core.abuse import DeviceLimit, DeviceSighting, RateLimited, RiskRecord
from rewards.core.program import AbuseLimits
from rewards.events import service as events
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)
LIMITS = AbuseLimits(max_members_per_device=2, max_claims_per_member_per_hour=3)


async def test_a_claim_from_a_device_past_its_limit_is_refused_and_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, abuse_db, calls, record=None, claims_since=[])
    fake(monkeypatch, events, calls, emit=None)
    refused = await abuse.claim_refusal(
        CONN, "t", "m-3", DeviceSighting(b"\xaa", 3), LIMITS, "fuel-88", NOW
    )
    assert isinstance(refused, DeviceLimit)
    ((_, risks),) = calls.of("record")
    assert [r.reason for r in risks] == ["device_limit"]
    ((_, emitted),) = calls.of("emit")
    assert emitted[0].type == "risk.flagged"
    assert emitted[0].data["device"] == "aa"
    assert "claims_since" not in calls.names()  # the device refused it first


async def test_the_claims_of_the_last_hour_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    recent = [NOW - timedelta(minutes=m) for m in (5, 10, 50)]
    fake(monkeypatch, abuse_db, calls, record=None, claims_since=recent)
    fake(monkeypatch, events, calls, emit=None)
    refused = await abuse.claim_refusal(
        CONN, "t", "m-1", DeviceSighting(b"\xaa", 1), LIMITS, "fuel-88", NOW
    )
    assert isinstance(refused, RateLimited)
    assert 0 < refused.retry_after <= 600
    assert calls.of("claims_since")[0][2] == NOW - timedelta(hours=1)


async def test_no_limits_no_refusal_and_nothing_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, abuse_db, calls, record=None, claims_since=[])
    assert await abuse.claim_refusal(CONN, "t", "m-1", None, None, "o", NOW) is None
    await abuse.record(CONN, "t", [])
    assert calls.log == []


async def test_risk_events_are_recorded_and_announced(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, abuse_db, calls, record=None)
    fake(monkeypatch, events, calls, emit=None)
    risk = RiskRecord("m-1", None, "daily_points_cap", {"capped": 5})
    await abuse.record(CONN, "t", [risk])
    assert calls.names() == ["record", "emit"]
