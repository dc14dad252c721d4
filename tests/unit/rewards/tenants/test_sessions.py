"""Signing in to the portal and the console, without a database: a flood is throttled
before any key is looked at, and written to the audit log once."""

from __future__ import annotations

from typing import Any

import pytest

from rewards.core.errors import Unauthenticated
from rewards.tenants import repository as tenant_db
from rewards.tenants import sessions
from tests.unit.fakes import Calls, FakeConn, fake

POOL: Any = FakeConn()


async def test_an_address_past_its_failures_is_refused_before_its_key_is_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, tenant_db, calls, sign_in_failures_now=10, open_session=None)
    with pytest.raises(sessions.SignInThrottled):
        await sessions.sign_in(
            POOL, "radm.bank-a.secret", "admin", 60, client="198.51.100.7", max_failures=10
        )
    assert calls.names() == ["sign_in_failures_now"]
    assert calls.of("sign_in_failures_now") == [("bank-a", "198.51.100.7")]


async def test_a_wrong_key_is_counted_and_the_failure_that_reaches_the_limit_throttles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    counts = iter([(1, 40), (3, 40)])
    fake(
        monkeypatch,
        tenant_db,
        calls,
        sign_in_failures_now=0,
        open_session=None,
        note_sign_in_failure=lambda *_: next(counts),
        tenant_exists=False,
    )
    with pytest.raises(Unauthenticated):
        await sessions.sign_in(POOL, "radm.bank-a.wrong", "admin", 60, client="c", max_failures=3)
    with pytest.raises(sessions.SignInThrottled) as throttled:
        await sessions.sign_in(POOL, "radm.bank-a.wrong", "admin", 60, client="c", max_failures=3)
    assert throttled.value.retry_after == 40
    assert calls.of("tenant_exists") == [("bank-a",)]  # the flood is audited, if anywhere
