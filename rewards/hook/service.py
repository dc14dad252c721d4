"""Use case: card transactions from the processor's hook, each awarded exactly once.

A single hook is a batch of one: both go through the same set-based path.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import msgspec

from db.types import BudgetTaken, Conn
from offers.core.matching import OfferBook
from rewards import metrics
from rewards.core.campaigns import CampaignState
from rewards.core.errors import Conflict, IdempotencyConflict, NotFound, RewardsError
from rewards.core.planner import (
    BatchPlan,
    CardTransaction,
    LockPlan,
    Original,
    Usage,
    lock_plan,
    plan_batch,
)
from rewards.core.program import CompiledProgram, month_of, tier_window_start
from rewards.core.records import TransactionRecord
from rewards.hook import repository as award_db
from rewards.ledger import service as ledger
from rewards.program.service import compiled_at

__all__ = ["CardTransaction", "get_record", "process", "process_batch"]

_encoder = msgspec.json.Encoder()


def body_hash(tx: CardTransaction) -> bytes:
    """A digest of the transaction's meaning (field order and spacing do not matter)."""
    return hashlib.sha256(_encoder.encode(tx)).digest()


async def process(conn: Conn, tenant_id: str, tx: CardTransaction) -> dict[str, Any]:
    """Award one transaction once; a repeat gets the first answer again.

    Raises:
        IdempotencyConflict: the id is known with a different body.
        RewardsError: the transaction cannot be processed (nothing is written).
    """
    (outcome,) = await process_batch(conn, tenant_id, [tx])
    if isinstance(outcome, RewardsError):
        raise outcome
    return outcome


class BudgetContention(Conflict):
    type = "budget_contention"
    title = "Budget contention"


# From this many transactions on, a batch's statements are planned for its own arrays (the
# pool's generic plans suit single hooks, whose planning would cost more than the work).
_PLAN_EACH_CALL = 50


async def process_batch(
    conn: Conn, tenant_id: str, txs: list[CardTransaction]
) -> list[dict[str, Any] | RewardsError]:
    """Award a batch in one transaction with set-based statements; each item is answered as
    if posted alone (a bad one gets its problem and changes nothing).

    Budgets (rule budgets, draw campaigns, offers) are read without locks, and what the
    batch pays from them is reserved in its one write; the database adds the reservations to
    the budgets during COMMIT (migration 0008), so that hot budget rows are locked only for the
    commit itself. If another batch took the room in the meantime, the COMMIT fails, and
    the batch is planned again with those rows locked from the start. Each attempt is a
    transaction of its own (inside a caller's transaction, as for simulate, a savepoint whose
    reservations wait for the caller's COMMIT).
    """
    hashes = [body_hash(tx) for tx in txs]
    for lock_budgets in (False, True, True, True):
        try:
            async with conn.transaction():
                if len(txs) >= _PLAN_EACH_CALL:
                    await award_db.plan_each_call(conn)
                results, fresh = await _attempt(
                    conn, tenant_id, txs, hashes, lock_budgets=lock_budgets
                )
        except BudgetTaken:
            continue
        if not conn.is_in_transaction():  # committed (a simulation's savepoint is not)
            metrics.record_awards([txs[n].kind for n in fresh], [results[n] for n in fresh])
        return results
    raise BudgetContention("budgets were too contended to reserve; retry the request")


async def _attempt(
    conn: Conn,
    tenant_id: str,
    txs: list[CardTransaction],
    hashes: list[bytes],
    *,
    lock_budgets: bool,
) -> tuple[list[dict[str, Any] | RewardsError], list[int]]:
    """One try at the batch: each item's answer, and which items it newly awarded."""
    now = datetime.now(UTC)
    results: list[dict[str, Any] | RewardsError | None] = [None] * len(txs)

    # 1. Take the ids (sorted, so concurrent batches lock in the same order). A repeated id
    #    within the batch is answered like a repeat delivery of its first copy.
    first: dict[str, int] = {}
    for n, tx in enumerate(txs):
        first.setdefault(tx.id, n)
    order = sorted(first.values(), key=lambda n: txs[n].id)
    taken = await award_db.take_ids(
        conn, tenant_id, [txs[n] for n in order], [hashes[n] for n in order]
    )
    repeated = [txs[n].id for n in order if txs[n].id not in taken]
    stored = await award_db.known(conn, tenant_id, repeated) if repeated else {}
    for tx_id in repeated:
        n = first[tx_id]
        prior = stored.get(tx_id)
        if prior is None or not prior.response:
            results[n] = IdempotencyConflict(f"transaction {tx_id} is being processed; retry")
        elif prior.body_hash != hashes[n]:
            results[n] = _conflict(tx_id)
        else:
            results[n] = prior.response
    work = [n for n in sorted(first.values()) if txs[n].id in taken]
    fresh: list[int] = []

    if work:
        # 2. Load what the batch touches, members and originals locked in id order.
        batch = [txs[n] for n in work]
        version = await ledger.enroll(conn, tenant_id, [tx.member_id for tx in batch])
        compiled = await compiled_at(conn, tenant_id, version)
        members = await ledger.lock_members(conn, tenant_id, [tx.member_id for tx in batch])
        seen = sorted(
            {
                (tx.member_id, tx.card_product)
                for tx in batch
                if tx.card_product and tx.card_product not in members[tx.member_id].card_products
            }
        )
        for member_id, product in seen:  # written with the batch
            members[member_id].card_products.append(product)
        originals = await award_db.lock_originals(
            conn, tenant_id, [tx.original_id for tx in batch if tx.original_id]
        )
        originals_before = {k: (o.refunded_minor, o.reversed) for k, o in originals.items()}
        campaigns = {
            row.campaign.id: CampaignState(row.campaign, row.secret, row.total_used)
            for row in compiled.campaigns
        }
        locks: LockPlan = lock_plan(
            batch,
            program=compiled.program,
            rules=compiled.rules,
            campaigns=campaigns,
            members=members,
            originals=originals,
        )
        budgets = await award_db.rule_budgets(
            conn, tenant_id, locks.budget_rules, lock=lock_budgets
        )
        usage = await award_db.load_usage(
            conn,
            tenant_id,
            sorted({m for m, _ in locks.capped}),
            sorted({r for _, r in locks.capped}),
            locks.periods,
        )
        totals, daily = await award_db.campaign_budgets(
            conn, tenant_id, locks.campaigns, locks.days, lock=lock_budgets
        )
        daily_before: dict[tuple[str, date], int] = {}
        for campaign_id, total in totals.items():
            state = campaigns[campaign_id]
            state.total_used = total
            state.daily_used = {day: used for (c, day), used in daily.items() if c == campaign_id}
            for day in locks.days:
                daily_before[(campaign_id, day)] = state.daily_used.get(day, 0)

        book = await _offer_book(conn, tenant_id, batch, originals, lock=lock_budgets)

        # 3. Decide (pure).
        plan = plan_batch(
            batch,
            program=compiled.program,
            rules=compiled.rules,
            campaigns=campaigns,
            members=members,
            originals=originals,
            usage=Usage(usage, budgets),
            now=now,
            book=book,
        )
        answered: dict[str, dict[str, Any]] = {}
        failed: list[str] = []
        for n, outcome in zip(work, plan.outcomes, strict=True):
            results[n] = outcome
            if isinstance(outcome, RewardsError):
                failed.append(txs[n].id)
            else:
                answered[txs[n].id] = outcome
                fresh.append(n)
        for tx_id in failed:
            plan.originals.pop(tx_id, None)

        # 4. Write it all in one statement; its budget claims are added at COMMIT.
        await award_db.forget(conn, tenant_id, failed)
        rule_deltas = {
            r: plan.rule_budget_used.get(r, 0) - budgets.get(r, 0)
            for r in locks.budget_rules
            if plan.rule_budget_used.get(r, 0) != budgets.get(r, 0)
        }
        campaign_deltas = {
            c: campaigns[c].total_used - totals[c]
            for c in totals
            if campaigns[c].total_used != totals[c]
        }
        daily_deltas = {
            (c, day): campaigns[c].daily_used.get(day, 0) - before
            for (c, day), before in daily_before.items()
            if campaigns[c].daily_used.get(day, 0) != before
        }
        spend = _spend(compiled.program, batch, plan)
        offer_deltas = book.budget_deltas()
        await ledger.write(
            conn,
            tenant_id,
            ledger.Writes(
                plan.transfers,
                list(plan.members.values()),
                learned=seen,
                usage=plan.usage,
                draws=plan.draws,
                answers=answers_of(plan, answered, originals_before),
                spend=spend,
                rule_deltas=rule_deltas,
                campaign_deltas=campaign_deltas,
                daily_deltas=daily_deltas,
                offer_deltas=offer_deltas,
            ),
        )
        tiers = [(t.name, t.min_spend_minor_12m) for t in compiled.program.program.tiers]
        if tiers and spend:
            since = tier_window_start(now.astimezone(compiled.program.zone).date())
            await ledger.set_tiers(conn, tenant_id, [r[0] for r in spend], since, tiers)
        if book.offers:
            await award_db.save_uses(conn, tenant_id, book.uses)
            await award_db.insert_records(conn, tenant_id, book.records)

    # Later copies of an id within the batch answer like repeat deliveries.
    for n, tx in enumerate(txs):
        if results[n] is None:
            head = first[tx.id]
            results[n] = _conflict(tx.id) if hashes[n] != hashes[head] else results[head]
    return [r for r in results if r is not None], fresh


def _spend(
    program: CompiledProgram, batch: list[CardTransaction], plan: BatchPlan
) -> list[tuple[str, date, int]]:
    """What the batch adds to monthly spend: purchases in, refunds out, each in the month of
    the purchase (which decides the members' tiers over the last 12 months)."""
    rows: list[tuple[str, date, int]] = []
    for tx, outcome in zip(batch, plan.outcomes, strict=True):
        if isinstance(outcome, RewardsError):
            continue
        if tx.kind == "purchase":
            month = month_of(program.local_date(tx.occurred_at))
            rows.append((tx.member_id, month, tx.amount_minor))
            continue
        original = plan.originals.get(tx.original_id or "")
        if original is not None:
            month = month_of(program.local_date(original.occurred_at))
            rows.append((tx.member_id, month, -int(outcome.get("refunded_minor", 0))))
    return rows


async def _offer_book(
    conn: Conn,
    tenant_id: str,
    batch: list[CardTransaction],
    originals: dict[str, Original],
    *,
    lock: bool,
) -> OfferBook:
    """The offers the batch's purchases may get and its refunds may release, with the
    members' claims and uses (members are locked already) and the budgets as read."""
    purchases = [tx for tx in batch if tx.kind == "purchase"]
    stores = await award_db.store_merchants(
        conn, tenant_id, sorted({tx.store_id for tx in purchases if tx.store_id})
    )
    merchants = sorted(
        {stores.get(tx.store_id or "", tx.merchant_id or "") for tx in purchases} - {""}
    )
    offers = await award_db.active_offers_of_merchants(conn, tenant_id, merchants)
    released = sorted(
        {
            o["offer_id"]
            for tx in batch
            if tx.kind != "purchase" and tx.original_id in originals
            for o in originals[tx.original_id or ""].response.get("offers_applied") or []
        }
        - set(offers)
    )
    offers |= await award_db.offers_by_id(conn, tenant_id, released)
    if not offers:
        return OfferBook({}, stores, {})
    if lock:
        for offer_id, (used, reward) in (
            await award_db.lock_offers(conn, tenant_id, list(offers))
        ).items():
            offers[offer_id].redemptions_used = used
            offers[offer_id].reward_used = reward
    uses = await award_db.member_uses(
        conn, tenant_id, sorted({tx.member_id for tx in batch}), sorted(offers)
    )
    return OfferBook(offers, stores, uses)


def _conflict(tx_id: str) -> IdempotencyConflict:
    return IdempotencyConflict(f"transaction {tx_id} was already posted with a different body")


async def get_record(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord:
    """A recorded transaction with the answer it got."""
    record = await award_db.detail(conn, tenant_id, transaction_id)
    if record is None:
        raise NotFound(f"no transaction {transaction_id}")
    return record


class _Undo(Exception):
    """Carries a simulated answer out of the savepoint that is rolled back."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__("simulation")
        self.outcome = outcome


async def simulate(conn: Conn, tenant_id: str, tx: CardTransaction) -> dict[str, Any]:
    """What the hook would answer for this transaction, computed through the same path in a
    savepoint that is then rolled back: nothing is written."""
    try:
        async with conn.transaction():
            raise _Undo(await process(conn, tenant_id, tx))
    except _Undo as done:
        return done.outcome


def answers_of(
    plan: BatchPlan,
    answered: dict[str, dict[str, Any]],
    originals_before: dict[str, tuple[int, bool]],
) -> dict[str, ledger.Answer]:
    """The answers to record and the originals whose refund state moved."""
    saves: dict[str, ledger.Answer] = {
        tx_id: (response, None, None) for tx_id, response in answered.items()
    }
    for tx_id, original in plan.originals.items():
        if originals_before.get(tx_id) != (original.refunded_minor, original.reversed):
            response = saves.get(tx_id, (None, None, None))[0]
            saves[tx_id] = (response, original.refunded_minor, original.reversed)
    return saves
