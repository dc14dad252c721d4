"""Merchants, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from offers.core.offers import Merchant
from offers.merchants import repository as merchant_db
from offers.merchants import service as merchants
from rewards.audit import service as audit
from rewards.core.errors import AlreadyExists, NotFound
from rewards.core.records import ApiKey, NewApiKey
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


async def test_a_merchant_comes_with_its_first_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    merchant = Merchant("shell", "Shell", "fuel", NOW)
    key = NewApiKey(ApiKey("key_1", "rmch.t.abcd", "", "merchant", "shell", NOW, None), "rmch.t.x")
    fake(monkeypatch, merchant_db, calls, insert_merchant=merchant)
    fake(monkeypatch, merchants, calls, issue_key=key)
    fake(monkeypatch, audit, calls, record=None)
    made = await merchants.create_merchant(CONN, "t", "admin", "shell", "Shell", "fuel")
    assert (made.merchant, made.api_key) == (merchant, "rmch.t.x")
    assert calls.of("issue_key") == [("t", "merchant", "shell", "first merchant key")]


async def test_a_taken_id_gets_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, merchant_db, calls, insert_merchant=None, get_merchant=None)
    fake(monkeypatch, merchants, calls, issue_key=None)
    with pytest.raises(AlreadyExists):
        await merchants.create_merchant(CONN, "t", "admin", "shell", "Shell", "fuel")
    assert "issue_key" not in calls.names()
    with pytest.raises(NotFound):
        await merchants.get_merchant(CONN, "t", "shell")
