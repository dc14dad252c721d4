"""The hook's shell, without a database: repeat deliveries answered from what was stored,
conflicts, and a batch planned again with its budgets locked when a reservation no longer
fits at COMMIT."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from db.types import BudgetTaken
from rewards.core.errors import IdempotencyConflict, NotFound
from rewards.core.records import StoredTransaction
from rewards.hook import repository as hook_db
from rewards.hook import service as hook
from rewards.hook.service import BudgetContention, CardTransaction
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


def tx(tx_id: str, amount: int = 35000) -> CardTransaction:
    return CardTransaction(tx_id, "purchase", "m-1", amount, "CNY", NOW)


async def never(*_: Any, **__: Any) -> Any:
    raise AssertionError("nothing should be planned")


async def test_repeat_deliveries_get_the_stored_bytes_and_nothing_is_planned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = {
        "p-1": StoredTransaction("p-1", hook.body_hash(tx("p-1")), b'{"old":1}'),
        "p-2": StoredTransaction("p-2", hook.body_hash(tx("p-2")), b'{"old":2}'),
    }
    fake(monkeypatch, hook_db, Calls(), known=stored)
    monkeypatch.setattr(hook, "_plan", never)
    results = await hook.process_batch(CONN, "t", [tx("p-1"), tx("p-2"), tx("p-1")])
    assert results == [b'{"old":1}', b'{"old":2}', b'{"old":1}']


async def test_a_known_id_with_another_body_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = {"p-1": StoredTransaction("p-1", hook.body_hash(tx("p-1")), b"{}")}
    fake(monkeypatch, hook_db, Calls(), known=stored)
    monkeypatch.setattr(hook, "_plan", never)
    (result,) = await hook.process_batch(CONN, "t", [tx("p-1", amount=1)])
    assert isinstance(result, IdempotencyConflict)


async def test_a_reservation_refused_at_commit_plans_again_with_budgets_locked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tries: list[bool] = []

    async def attempt(*_: Any, lock_budgets: bool) -> Any:
        tries.append(lock_budgets)
        if len(tries) < 3:
            raise BudgetTaken("the budget was taken")
        return [b"{}"], []

    monkeypatch.setattr(hook, "_attempt", attempt)
    assert await hook.process_batch(CONN, "t", [tx("p-1")]) == [b"{}"]
    assert tries == [False, True, True]


async def test_budgets_too_contended_to_reserve_are_a_conflict_to_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def attempt(*_: Any, lock_budgets: bool) -> Any:
        raise BudgetTaken("the budget was taken")

    monkeypatch.setattr(hook, "_attempt", attempt)
    with pytest.raises(BudgetContention):
        await hook.process_batch(CONN, "t", [tx("p-1")])


async def test_an_unknown_transaction_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, hook_db, Calls(), detail=None)
    with pytest.raises(NotFound):
        await hook.get_record(CONN, "t", "nope")
