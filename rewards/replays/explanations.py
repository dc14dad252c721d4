"""Use case: why a recorded transaction earned what it did — for the operator, and for the
member in plain words — from the configuration in force when it was processed, the member's
attributes then, and what their caps had counted before it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from db.types import Conn
from rewards.core.errors import NotFound
from rewards.core.explanations import Explanation, explain
from rewards.core.locking import batch_facts
from rewards.core.lots import MemberState
from rewards.core.member_explanations import MemberExplanation, for_member
from rewards.core.replay import Config, History
from rewards.core.transactions import CardTransaction
from rewards.program import service as programs
from rewards.replays import repository as replay_db
from rewards.replays import service as replays


async def _config(conn: Conn, tenant_id: str, row: replay_db.Row) -> Config:
    versions = await programs.versions_upto(conn, tenant_id, 2**62)
    history = History(versions, await programs.campaign_secrets(conn, tenant_id))
    return history.at(row.version, row.recorded_at)


async def _used(
    conn: Conn, tenant_id: str, tx: CardTransaction, row: replay_db.Row, config: Config
) -> dict[tuple[str, str], int]:
    """What each rule had paid the member in the purchase's local day and month before it."""
    program = config.program
    day = program.local_date(tx.occurred_at)
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    opens = datetime.combine(first, time(), program.zone)
    closes = datetime.combine(after, time(), program.zone)
    used: dict[tuple[str, str], int] = {}
    for s in await replay_db.member_before(conn, tenant_id, tx.member_id, row.seq, opens, closes):
        when = program.local_date(s.original_at or s.occurred_at)
        for r in s.answer.rules_applied:
            for period in (f"d:{when.isoformat()}", f"m:{when.isoformat()[:7]}"):
                used[(r.rule_id, period)] = used.get((r.rule_id, period), 0) + r.points
    return used


async def explanation(conn: Conn, tenant_id: str, transaction_id: str) -> Explanation:
    """Why a recorded transaction earned what it did (the operator's view).

    Raises:
        NotFound: no such transaction in the tenant.
    """
    row = await replay_db.recorded(conn, tenant_id, transaction_id)
    if row is None:
        raise NotFound(f"no transaction {transaction_id}")
    return await _explain(conn, tenant_id, row)


async def _explain(conn: Conn, tenant_id: str, row: replay_db.Row) -> Explanation:
    tx = row.tx
    answer = replay_db.decode_answer(row.answer)
    config = await _config(conn, tenant_id, row)
    if tx.kind != "purchase":
        return explain(tx, None, config, answer, {})
    changes = await replay_db.member_changes(conn, tenant_id, [tx.member_id], row.recorded_at)
    last = changes[-1] if changes else None
    spans = await replay_db.segment_spans(conn, tenant_id, [tx.member_id], row.recorded_at)
    segments = replay_db.segments_at(
        last.segments if last else (), spans.get(tx.member_id, ()), row.recorded_at
    )
    member = MemberState(
        tx.member_id,
        last.tier if last else None,
        list(segments),
        list(last.card_products) if last else [],
        0,
        0,
    )
    (facts,) = batch_facts([tx], {tx.member_id: member}, config.program)
    if facts is None:  # not a purchase the program could plan (another currency then)
        return explain(tx, None, config, answer, {})
    used = await _used(conn, tenant_id, tx, row, config)
    offers: Any = ()
    port = replays.offer_history()
    if port is not None:
        applied = {o.offer_id: (o.reward_minor, o.points) for o in answer.offers_applied}
        offers = await port.explain(conn, tenant_id, tx, facts, row.seq, row.recorded_at, applied)
    return explain(tx, facts, config, answer, used, offers)


async def member_explanation(
    conn: Conn, tenant_id: str, member_id: str, transaction_id: str
) -> MemberExplanation:
    """The member's own view of one of their transactions (another member's is not found)."""
    row = await replay_db.recorded(conn, tenant_id, transaction_id)
    if row is None or row.member_id != member_id:
        raise NotFound(f"no transaction {transaction_id}")
    return for_member(await _explain(conn, tenant_id, row))


async def recorded_answer(conn: Conn, tenant_id: str, transaction_id: str) -> bytes:
    """What the ledger recorded as the transaction's answer (its bytes as sent)."""
    row = await replay_db.recorded(conn, tenant_id, transaction_id)
    if row is None:
        raise NotFound(f"no transaction {transaction_id}")
    return row.answer
