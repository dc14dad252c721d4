"""Use case: card transactions from the processor's hook, each awarded exactly once.

A single hook is a batch of one: both go through the same set-based path. The shell loads
what the batch touches (members and originals locked in id order, budgets read), the pure
planner (``rewards.core.planner``) decides, and the plan is written as it is.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import msgspec

from db.types import BudgetTaken, Conn
from rewards import metrics
from rewards.abuse import service as abuse
from rewards.core.awards import Original
from rewards.core.card_linked import CardLinked
from rewards.core.errors import Conflict, IdempotencyConflict, NotFound, RewardsError
from rewards.core.events import NewEvent
from rewards.core.planner import (
    Answer,
    BatchPlan,
    CampaignBudget,
    CardTransaction,
    Usage,
    batch_facts,
    lock_plan,
    plan_batch,
)
from rewards.core.program import tier_window_start
from rewards.core.records import TransactionRecord
from rewards.core.transactions import LATER_FIELDS, Risk
from rewards.exclusions import service as exclusions
from rewards.hook import repository as hook_db
from rewards.ledger import service as ledger
from rewards.program.service import Compiled, compiled_at
from rewards.referrals import service as referrals

__all__ = [
    "Answer",
    "CardTransaction",
    "Risk",
    "awards",
    "get_record",
    "process",
    "process_batch",
    "simulate",
    "use_card_linked",
]

#: Merchant offers, as the composition root (api/app.py) wires them in: rewards imports
#: nothing of offers. Without them, no purchase gets an offer.
_card_linked: CardLinked | None = None


def use_card_linked(port: CardLinked | None) -> None:
    """Wire in the merchant offers the hook matches purchases against."""
    global _card_linked
    _card_linked = port


_encoder = msgspec.json.Encoder()

#: What one item of a batch is answered: the answer's JSON, as sent the first time, or a refusal.
ItemAnswer = bytes | RewardsError


def body_hash(tx: CardTransaction) -> bytes:
    """A digest of the transaction's meaning (field order and spacing do not matter)."""
    if tx.acquirer_id is None and tx.merchant_name is None and tx.risk is None:
        fields = msgspec.structs.asdict(tx)
        for name in LATER_FIELDS:
            del fields[name]
        return hashlib.sha256(_encoder.encode(fields)).digest()
    return hashlib.sha256(_encoder.encode(tx)).digest()


async def process(conn: Conn, tenant_id: str, tx: CardTransaction) -> bytes:
    """Award one transaction once; its answer's JSON (a repeat gets the same bytes again).

    Raises:
        IdempotencyConflict: the id is known with a different body.
        RewardsError: the transaction cannot be processed (nothing is written).
    """
    (result,) = await process_batch(conn, tenant_id, [tx])
    if isinstance(result, RewardsError):
        raise result
    return result


class _Replan(Exception):
    """Plan again: a referral was attached after the batch chose which members to lock, or
    a concurrent delivery recorded one of its transactions first."""


class BudgetContention(Conflict):
    type = "budget_contention"
    title = "Budget contention"


# From this many transactions on, a batch's statements are planned for its own arrays (the
# pool's generic plans suit single hooks, whose planning would cost more than the work).
_PLAN_EACH_CALL = 50


async def process_batch(conn: Conn, tenant_id: str, txs: list[CardTransaction]) -> list[ItemAnswer]:
    """Award a batch in one transaction with set-based statements; each item is answered as
    if posted alone (a bad one gets its problem and changes nothing).

    Budgets (rule budgets, draw campaigns, offers) are read without locks, and what the
    batch pays from them is reserved in its one write; the database adds the reservations to
    the budgets during COMMIT (migration 0008), so that hot budget rows are locked only for
    the commit itself. If another batch took the room in the meantime, the COMMIT fails, and
    the batch is planned again with those rows locked from the start. Each attempt is a
    transaction of its own (inside a caller's transaction, as for simulate, a savepoint whose
    reservations wait for the caller's COMMIT).
    """
    hashes = [body_hash(tx) for tx in txs]
    for lock_budgets in (False, True, True, True):
        try:
            async with conn.transaction():
                if len(txs) >= _PLAN_EACH_CALL:
                    await hook_db.plan_each_call(conn)
                results, fresh = await _attempt(
                    conn, tenant_id, txs, hashes, lock_budgets=lock_budgets
                )
        except (BudgetTaken, _Replan):
            continue
        if not conn.is_in_transaction():  # committed (a simulation's savepoint is not)
            metrics.record_awards([txs[n].kind for n, _ in fresh], [a for _, a in fresh])
        return results
    raise BudgetContention("budgets were too contended to reserve; retry the request")


async def _attempt(
    conn: Conn,
    tenant_id: str,
    txs: list[CardTransaction],
    hashes: list[bytes],
    *,
    lock_budgets: bool,
) -> tuple[list[ItemAnswer], list[tuple[int, Answer]]]:
    """One try at the batch: each item's result, and the answers it newly made."""
    now = datetime.now(UTC)
    results: list[ItemAnswer | None] = [None] * len(txs)

    # 1. Find the ids already recorded: those are repeat deliveries. A repeated id within
    #    the batch is answered like a repeat delivery of its first copy.
    first: dict[str, int] = {}
    for n, tx in enumerate(txs):
        first.setdefault(tx.id, n)
    stored = await hook_db.known(conn, tenant_id, sorted(first))
    for tx_id, prior in stored.items():
        n = first[tx_id]
        results[n] = _conflict(tx_id) if prior.body_hash != hashes[n] else prior.answer
    work = [n for n in sorted(first.values()) if txs[n].id not in stored]
    fresh: list[tuple[int, Answer]] = []

    if work:
        batch = [txs[n] for n in work]
        plan, compiled = await _plan(conn, tenant_id, batch, now, lock_budgets=lock_budgets)
        recorded: list[ledger.Recorded] = []
        for n, answer in zip(work, plan.answers, strict=True):
            if isinstance(answer, RewardsError):
                results[n] = answer
            else:
                results[n] = encoded = _encoder.encode(answer)
                recorded.append(_record(txs[n], hashes[n], encoded))
                fresh.append((n, answer))
        # 4. Write it all, the transactions with their answers; the budget reservations are
        #    added at COMMIT.
        await _write(conn, tenant_id, plan, recorded, compiled, now)

    # Later copies of an id within the batch answer like repeat deliveries.
    for n, tx in enumerate(txs):
        if results[n] is None:
            head = first[tx.id]
            results[n] = _conflict(tx.id) if hashes[n] != hashes[head] else results[head]
    return [r for r in results if r is not None], fresh


async def _plan(
    conn: Conn,
    tenant_id: str,
    batch: list[CardTransaction],
    now: datetime,
    *,
    lock_budgets: bool,
) -> tuple[BatchPlan, Compiled]:
    """2. Load what the batch touches, members and originals locked in id order, and
    3. decide (pure)."""
    versions = await ledger.enroll(conn, tenant_id, [tx.member_id for tx in batch])
    compiled = await compiled_at(conn, tenant_id, versions.program)
    excluded = await _excluded(conn, tenant_id, versions.exclusions, batch)
    settings = compiled.program.program
    buyers = sorted({tx.member_id for tx in batch if tx.kind == "purchase"})
    original_ids = [tx.original_id for tx in batch if tx.original_id]
    # Referrers whose balances the batch may change are locked with its members.
    referrers: set[str] = set()
    if settings.referral is not None or original_ids:
        referrers = await referrals.referrers_of_batch(
            conn, tenant_id, buyers if settings.referral is not None else [], original_ids
        )
    # Of a member's segments, only those a condition could ask about are read.
    named = compiled.segments_named
    if _card_linked is not None:
        named = named | await _card_linked.segments_named(conn, tenant_id)
    members = await ledger.lock_members(
        conn, tenant_id, [tx.member_id for tx in batch] + sorted(referrers), segments=named
    )
    originals = await hook_db.lock_originals(
        conn, tenant_id, original_ids, [row.campaign.id for row in compiled.campaigns]
    )
    book = None
    if settings.referral is not None:
        book = await referrals.book(conn, tenant_id, buyers, set(members))
        if book is None:
            raise _Replan
    if any(
        o.award.referral is not None and o.award.referral.referrer_id not in members
        for o in originals.values()
    ):
        raise _Replan
    day_points: dict[tuple[str, date], int] = {}
    if settings.abuse is not None and settings.abuse.max_points_per_member_per_day is not None:
        days = {compiled.program.local_date(tx.occurred_at) for tx in batch}
        days |= {compiled.program.local_date(o.occurred_at) for o in originals.values()}
        day_points = await hook_db.day_points(
            conn, tenant_id, sorted({tx.member_id for tx in batch}), sorted(days)
        )
    loaded = {row.campaign.id: row for row in compiled.campaigns}
    facts = batch_facts(batch, members, compiled.program)
    locks = lock_plan(
        batch,
        program=compiled.program,
        rules=compiled.rules,
        campaigns=[row.campaign for row in compiled.campaigns],
        members=members,
        originals=originals,
        facts=facts,
    )
    budgets = await hook_db.rule_budgets(conn, tenant_id, locks.budget_rules, lock=lock_budgets)
    usage = await hook_db.load_usage(
        conn,
        tenant_id,
        sorted({m for m, _ in locks.capped}),
        sorted({r for _, r in locks.capped}),
        locks.periods,
    )
    totals, daily = await hook_db.campaign_budgets(
        conn, tenant_id, locks.campaigns, locks.days, lock=lock_budgets
    )
    campaigns = {
        campaign_id: CampaignBudget(
            row.campaign,
            row.secret,
            totals.get(campaign_id, row.total_used),
            {day: used for (c, day), used in daily.items() if c == campaign_id},
        )
        for campaign_id, row in loaded.items()
    }
    offers = (
        await _card_linked.matcher(conn, tenant_id, batch, originals, lock=lock_budgets)
        if _card_linked is not None
        else None
    )
    plan = plan_batch(
        batch,
        program=compiled.program,
        rules=compiled.rules,
        campaigns=campaigns,
        members=members,
        originals=originals,
        usage=Usage(usage, budgets, day_points),
        now=now,
        offers=offers,
        facts=facts,
        referrals=book,
        excluded=excluded,
    )
    return plan, compiled


async def _excluded(
    conn: Conn, tenant_id: str, version: int, batch: list[CardTransaction]
) -> dict[str, tuple[str, ...]]:
    """The batch's purchases that match the tenant's exclusion lists, with the lists."""
    if version == 0:
        return {}
    lists = await exclusions.current(conn, tenant_id, version)
    found: dict[str, tuple[str, ...]] = {}
    for tx in batch:
        if tx.kind == "purchase":
            matched = lists.match(tx.merchant_id, tx.merchant_name, tx.acquirer_id)
            if matched:
                found[tx.id] = matched
    return found


async def _write(
    conn: Conn,
    tenant_id: str,
    plan: BatchPlan,
    recorded: list[ledger.Recorded],
    compiled: Compiled,
    now: datetime,
) -> None:
    """Write exactly what the plan says: the ledger and all that goes with it in one
    statement, then the tiers the spend moved and the offers' member standings.

    Raises:
        _Replan: a concurrent delivery recorded one of these transactions first; the
            attempt starts again, and answers it as a repeat.
    """
    # A purchase refunded later in the same batch is recorded with what the refunds took.
    refunded = {o.transaction_id: o for o in plan.originals}
    recorded = [
        msgspec.structs.replace(
            r,
            refunded_minor=refunded[r.transaction_id].refunded_minor,
            reversed=refunded[r.transaction_id].reversed,
        )
        if r.transaction_id in refunded
        else r
        for r in recorded
    ]
    new = {r.transaction_id for r in recorded}
    program = compiled.program
    count = await ledger.write(
        conn,
        tenant_id,
        ledger.Writes(
            transfers=plan.transfers,
            lots=plan.lots,
            members=plan.members,
            learned=plan.learned,
            usage=plan.usage,
            draws=plan.draws,
            refunds=tuple(
                ledger.RefundState(o.transaction_id, o.refunded_minor, o.reversed)
                for o in plan.originals
                if o.transaction_id not in new
            ),
            spend=plan.spend,
            reservations=plan.reservations,
            events=_events(plan) if program.program.webhook_url is not None else (),
            recorded=recorded,
            config_version=compiled.version,
        ),
    )
    if count != len(recorded):
        raise _Replan
    # Tiers follow the spend this batch added (a purchase counts from the next one on).
    tiers = [(t.name, t.min_spend_minor_12m) for t in program.program.tiers]
    if tiers and plan.spend:
        since = tier_window_start(now.astimezone(program.zone).date())
        await ledger.set_tiers(conn, tenant_id, [r.member_id for r in plan.spend], since, tiers)
    if plan.offers is not None and _card_linked is not None:
        await _card_linked.save(conn, tenant_id, plan.offers)
    await referrals.settle(conn, tenant_id, plan.referrals)
    await hook_db.save_day_points(conn, tenant_id, plan.day_points)
    await hook_db.save_holds(conn, tenant_id, plan.holds, plan.hold_changes)
    await abuse.record(conn, tenant_id, plan.risk)


#: The fields of a transaction that have columns of their own; its body keeps the rest.
_COLUMNS = frozenset({"id", "kind", "member_id", "original_id", "amount_minor", "currency"})


def _record(tx: CardTransaction, digest: bytes, answer: bytes) -> ledger.Recorded:
    body = {k: v for k, v in msgspec.to_builtins(tx).items() if v is not None and k not in _COLUMNS}
    return ledger.Recorded(
        tx.id,
        digest,
        tx.kind,
        tx.member_id,
        tx.original_id,
        tx.amount_minor,
        tx.currency,
        tx.occurred_at,
        body,
        answer,
    )


def _events(plan: BatchPlan) -> list[NewEvent]:
    """What the batch announces: each answer (awarded or clawed back, as sent to the
    processor), each offer applied and each referral rewarded."""
    found = []
    for answer in plan.answers:
        if isinstance(answer, RewardsError):
            continue
        kind = "points.clawed_back" if answer.original_id else "points.awarded"
        found.append(NewEvent(kind, answer.member_id, transaction_id=answer.transaction_id))

        if answer.original_id is None:
            found.extend(
                NewEvent(
                    "offer.redeemed",
                    answer.member_id,
                    {
                        "offer_id": o.offer_id,
                        "member_id": answer.member_id,
                        "transaction_id": answer.transaction_id,
                        "reward_minor": o.reward_minor,
                        "points": o.points,
                    },
                )
                for o in answer.offers_applied
            )
    found.extend(
        NewEvent(
            "risk.flagged",
            h.member_id,
            {
                "transaction_id": h.transaction_id,
                "member_id": h.member_id,
                "score": h.score,
                "source": h.source,
                "points_held": h.points,
            },
        )
        for h in plan.holds
    )
    found.extend(
        NewEvent("referral.rewarded", r.referee_id, msgspec.to_builtins(r))
        for r in plan.referrals
        if r.status == "rewarded"
    )
    return found


def _conflict(tx_id: str) -> IdempotencyConflict:
    return IdempotencyConflict(f"transaction {tx_id} was already posted with a different body")


async def get_record(conn: Conn, tenant_id: str, transaction_id: str) -> TransactionRecord:
    """A recorded transaction with the answer it got."""
    record = await hook_db.detail(conn, tenant_id, transaction_id)
    if record is None:
        raise NotFound(f"no transaction {transaction_id}")
    return record


class _Undo(Exception):
    """Carries a simulated answer out of the savepoint that is rolled back."""

    def __init__(self, answer: bytes) -> None:
        super().__init__("simulation")
        self.answer = answer


async def simulate(conn: Conn, tenant_id: str, tx: CardTransaction) -> bytes:
    """What the hook would answer for this transaction, computed through the same path in a
    savepoint that is then rolled back: nothing is written."""
    try:
        async with conn.transaction():
            raise _Undo(await process(conn, tenant_id, tx))
    except _Undo as done:
        return done.answer


async def awards(
    conn: Conn, tenant_id: str, transaction_ids: list[str], campaign_ids: list[str]
) -> dict[str, Original]:
    """Recorded purchases with their awards as the ledger recorded them (what their refunds
    take back), read without locks."""
    return await hook_db.awards(conn, tenant_id, transaction_ids, campaign_ids)
