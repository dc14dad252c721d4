"""Idempotency-Key handling, without a database: run once, replay, conflict, forget."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from rewards.core.abuse import RateLimited
from rewards.core.errors import IdempotencyConflict, NotFound
from rewards.idempotency import repository as idempotency_db
from rewards.idempotency import service as idempotency
from rewards.idempotency.repository import StoredKey
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
REQUEST = b"/v1/me/redemptions\n{}"


def action(answer: Any) -> Any:
    ran: list[int] = []

    async def run() -> Any:
        ran.append(1)
        if isinstance(answer, Exception):
            raise answer
        return answer

    run.ran = ran  # type: ignore[attr-defined]
    return run


async def test_without_a_key_the_action_just_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, idempotency_db, calls, reserve_key=True)
    assert await idempotency.once(CONN, "t", "s", None, REQUEST, action((201, {"id": 1}))) == (
        201,
        {"id": 1},
    )
    assert calls.log == []


async def test_a_first_request_is_answered_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, idempotency_db, calls, reserve_key=True, save_key=None)
    answer = await idempotency.once(CONN, "t", "s", "k", REQUEST, action((201, {"id": 1})))
    assert answer == (201, {"id": 1})
    assert calls.of("save_key") == [("t", "s", "k", 201, {"id": 1})]


async def test_a_refusal_is_kept_with_the_request_id_it_first_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, idempotency_db, calls, reserve_key=True, save_key=None)
    status, body = await idempotency.once(
        CONN, "t", "s", "k", REQUEST, action(NotFound("no item x")), "req-1"
    )
    assert status == 404
    assert body["type"] == "not_found"
    assert body["request_id"] == "req-1"
    assert calls.of("save_key")[0][3:] == (404, body)


async def test_a_refusal_of_the_moment_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, idempotency_db, calls, reserve_key=True, release_key=None, save_key=None)
    limited = RateLimited("at most 1 claim per hour", retry_after=30)
    status, body = await idempotency.once(CONN, "t", "s", "k", REQUEST, action(limited))
    assert (status, body["retry_after"]) == (429, 30)
    assert calls.names() == ["reserve_key", "release_key"]


async def test_the_same_key_replays_and_another_request_conflicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digest = hashlib.sha256(REQUEST).digest()
    stored = StoredKey(digest, 201, {"id": 1})
    fake(monkeypatch, idempotency_db, Calls(), reserve_key=False, get_key=stored)
    again = action((201, {"id": 2}))
    assert await idempotency.once(CONN, "t", "s", "k", REQUEST, again) == (201, {"id": 1})
    assert again.ran == []
    with pytest.raises(IdempotencyConflict, match="different request"):
        await idempotency.once(CONN, "t", "s", "k", b"other", action((201, {})))


async def test_a_key_still_in_progress_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(
        monkeypatch, idempotency_db, Calls(), reserve_key=False, get_key=StoredKey(b"", None, None)
    )
    with pytest.raises(IdempotencyConflict, match="in progress"):
        await idempotency.once(CONN, "t", "s", "k", REQUEST, action((200, {})))
