"""Goodwill adjustments, without a database: credit and debit as transfers, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from rewards.audit import service as audit
from rewards.core.errors import NotFound, ValidationFailed
from rewards.core.lots import InsufficientPoints, Lot, MemberState
from rewards.core.program import CompiledProgram, Program
from rewards.ledger import repository as ledger_db
from rewards.ledger import service as ledger
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


def member(points: int) -> MemberState:
    return MemberState(
        "m-1", None, [], [], points, points, [Lot(7, points, points, None, NOW - timedelta(1))]
    )


def setup(monkeypatch: pytest.MonkeyPatch, calls: Calls, found: dict[str, MemberState]) -> None:
    async def compiled(*_: Any) -> Any:
        return SimpleNamespace(program=CompiledProgram.of(Program()))

    monkeypatch.setattr(ledger, "compiled_for", compiled)
    fake(monkeypatch, ledger_db, calls, lock_members=found, write_ledger=None)
    fake(monkeypatch, audit, calls, record=None)


async def test_a_credit_is_a_transfer_from_adjustments_and_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    setup(monkeypatch, calls, {"m-1": member(100)})
    done = await ledger.adjust(CONN, "t", "admin", "m-1", 50, "goodwill")
    assert done.balance.available == 150
    ((_, transfers, members),) = calls.of("write_ledger")
    (transfer,) = transfers
    assert (transfer.debit, transfer.credit, transfer.amount) == ("adjustments", "member:m-1", 50)
    assert members[0].balance == 150
    (entry,) = calls.of("record")
    assert (entry[5], entry[6]["balance"]) == ({"balance": 100}, 150)


async def test_a_debit_takes_available_points_and_never_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    setup(monkeypatch, calls, {"m-1": member(100)})
    done = await ledger.adjust(CONN, "t", "admin", "m-1", -40, "correction")
    assert done.balance.available == 60
    with pytest.raises(InsufficientPoints):
        await ledger.adjust(CONN, "t", "admin", "m-1", -500, "too much")


async def test_zero_points_and_unknown_members_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    setup(monkeypatch, calls, {})
    with pytest.raises(ValidationFailed):
        await ledger.adjust(CONN, "t", "admin", "m-1", 0, "nothing")
    with pytest.raises(NotFound):
        await ledger.adjust(CONN, "t", "admin", "m-1", 5, "nobody")
    assert "write_ledger" not in calls.names()
