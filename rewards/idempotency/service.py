"""Idempotency-Key for the mobile app's writes: the first answer, replayed."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from db.types import BudgetTaken, Conn
from rewards.core.errors import Conflict, IdempotencyConflict, RewardsError
from rewards.idempotency import repository as idempotency_db

Answer = tuple[int, Any]


class StockContention(Conflict):
    type = "stock_contention"
    title = "Stock contention"


def problem_document(exc: RewardsError, request_id: str | None = None) -> dict[str, Any]:
    """The problem body of a refusal, as stored for replays (with the id of the request it
    first answered: a replay is the same answer)."""
    document: dict[str, Any] = {
        "type": exc.type,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.errors:
        document["errors"] = [{"field": f, "message": m} for f, m in exc.errors]
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        document["retry_after"] = retry_after
    if request_id is not None:
        document["request_id"] = request_id
    return document


def answer_of(status: int, result: Any, request_id: str | None = None) -> Answer:
    """An action's answer: a refusal it returned (having written what the refusal leaves
    behind, such as a risk event) is answered as its problem."""
    if isinstance(result, RewardsError):
        return result.status, problem_document(result, request_id)
    return status, result


#: Refusals of the moment, not kept as a key's answer: the same request may be sent again
#: with the same key and be answered afresh.
TRANSIENT = frozenset({429})


async def once(
    conn: Conn,
    tenant_id: str,
    scope: str,
    key: str | None,
    request: bytes,
    action: Callable[[], Awaitable[Answer]],
    request_id: str | None = None,
) -> Answer:
    """Run ``action`` once per (scope, key): the same key with the same request answers the
    first answer again (same status, same body) and does nothing; with another request, 409.

    Refusals (4xx) are answers too: they are stored and replayed like successes. The action
    runs in a savepoint, so a refusal leaves nothing behind but the stored answer.
    """

    async def attempt() -> Answer:
        try:
            async with conn.transaction():
                return await action()
        except RewardsError as exc:
            return exc.status, problem_document(exc, request_id)

    if key is None:
        status, body = await attempt()
        return status, body
    digest = hashlib.sha256(request).digest()
    if not await idempotency_db.reserve_key(conn, tenant_id, scope, key, digest):
        # A concurrent twin waited on our insert until it committed: its answer is there.
        stored = await idempotency_db.get_key(conn, tenant_id, scope, key)
        if stored is None or stored.status is None:
            raise IdempotencyConflict(f"a request with Idempotency-Key {key} is in progress")
        if stored.request_hash != digest:
            raise IdempotencyConflict(f"Idempotency-Key {key} was used with a different request")
        return stored.status, stored.response
    status, body = await attempt()
    if status in TRANSIENT:
        await idempotency_db.release_key(conn, tenant_id, scope, key)
    else:
        await idempotency_db.save_key(conn, tenant_id, scope, key, status, body)
    return status, body


async def once_committed(
    conn: Conn,
    tenant_id: str,
    scope: str,
    key: str | None,
    request: bytes,
    action: Callable[[bool], Awaitable[Answer]],
    request_id: str | None = None,
) -> Answer:
    """``once`` in a transaction of its own, committed before the answer is given.

    The action reserves what it takes from shared rows (an item's stock) and the database
    takes it during COMMIT (migrations 0008, 0009). If a concurrent transaction took it
    first, the COMMIT fails and rolls everything back, key included; the action then runs
    again with ``locked=True``: it locks those rows before it reads them, so its checks are
    exact and its reservation fits.
    """
    for locked in (False, True):
        try:
            if key is None:
                # No answer to keep: a refusal rolls the whole transaction back.
                try:
                    async with conn.transaction():
                        return await action(locked)
                except RewardsError as exc:
                    return exc.status, problem_document(exc, request_id)
            async with conn.transaction():
                attempt = functools.partial(action, locked)
                return await once(conn, tenant_id, scope, key, request, attempt, request_id)
        except BudgetTaken:
            continue
    raise StockContention("the item was too contended to redeem; retry the request")


async def forget_before(conn: Conn, before: datetime) -> None:
    """Forget every tenant's keys stored before ``before`` (the periodic job)."""
    await idempotency_db.forget_old_keys(conn, before)
