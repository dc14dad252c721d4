"""The pure core of the transaction hook: from a batch of card transactions and the state
they touch, to each transaction's answer and everything the batch writes.

Nothing here awaits or touches the database, and nothing it is given is changed: the
planner works on its own copies (:mod:`rewards.core.working`) and returns a frozen
:class:`BatchPlan` that says exactly what to write — transfers, lots, balances, cap usage,
reservations from budgets, draws, what merchant offers changed, answers. The shell
(``rewards.hook.service``) loads the state with the rows locked, calls :func:`plan_batch`,
and applies the plan in a few set-based statements.

Each job has a module of its own: purchases (:mod:`rewards.core.purchases`), refunds and
reversals (:mod:`rewards.core.refunds`), rule caps (:mod:`rewards.core.rule_caps`), draws
(:mod:`rewards.core.campaign_draws`), the daily points cap (:mod:`rewards.core.daily_cap`),
referral bonuses (:mod:`rewards.core.referral_settlement`), merchant offers through
:mod:`rewards.core.card_linked`, and what to lock (:mod:`rewards.core.locking`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from rewards.core.answers import Answer as Answer
from rewards.core.answers import DrawResult as DrawResult
from rewards.core.answers import MerchantOfferApplied as MerchantOfferApplied
from rewards.core.answers import PointsBreakdown as PointsBreakdown
from rewards.core.answers import RuleApplied as RuleApplied
from rewards.core.awards import AppliedOffer as AppliedOffer
from rewards.core.awards import Award as Award
from rewards.core.awards import AwardedDraw as AwardedDraw
from rewards.core.awards import Original as Original
from rewards.core.awards import ReferralAward as ReferralAward
from rewards.core.awards import share as share
from rewards.core.budgets import CampaignBudget as CampaignBudget
from rewards.core.budgets import Reservation as Reservation
from rewards.core.budgets import Usage as Usage
from rewards.core.campaign_draws import DrawRecord as DrawRecord
from rewards.core.card_linked import PurchaseMatcher
from rewards.core.conditions import Facts
from rewards.core.earning import RuleSet
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.ledger import member_writes
from rewards.core.locking import LockPlan as LockPlan
from rewards.core.locking import batch_facts as batch_facts
from rewards.core.locking import lock_plan as lock_plan
from rewards.core.lots import MemberState
from rewards.core.plan import BatchPlan as BatchPlan
from rewards.core.plan import OriginalWrite as OriginalWrite
from rewards.core.plan import SpendRow as SpendRow
from rewards.core.program import CompiledProgram
from rewards.core.purchases import purchase
from rewards.core.referrals import ReferralBook
from rewards.core.refunds import refund
from rewards.core.rule_caps import UsageWrite as UsageWrite
from rewards.core.transactions import CardTransaction as CardTransaction
from rewards.core.transactions import RefundNotAllowed as RefundNotAllowed
from rewards.core.transactions import TransactionKind as TransactionKind
from rewards.core.transactions import UnknownOriginal as UnknownOriginal
from rewards.core.working import Working

#: The most points one transaction may earn or take back: far beyond any real card program,
#: and far enough below what the ledger's 64-bit figures hold that no sum overflows.
MAX_POINTS = 10**15


def plan_batch(
    transactions: Sequence[CardTransaction],
    *,
    program: CompiledProgram,
    rules: RuleSet,
    campaigns: Mapping[str, CampaignBudget],
    members: Mapping[str, MemberState],
    originals: Mapping[str, Original],
    usage: Usage,
    now: datetime,
    offers: PurchaseMatcher | None = None,
    facts: Sequence[Facts | None] | None = None,
    referrals: ReferralBook | None = None,
    keep: frozenset[str] = frozenset(),
    excluded: Mapping[str, tuple[str, ...]] | None = None,
) -> BatchPlan:
    """Plan every transaction of a batch in order, each seeing the effects of the ones
    before it (caps, budgets, balances). A transaction that cannot be processed gets its
    error as its answer and changes nothing. Nothing given is changed.

    ``facts`` are the batch's :func:`batch_facts`, when the caller has them already.
    ``excluded``: the purchases that matched exclusion lists (by id: the lists).
    ``keep``: purchases whose award the plan hands back as it stands after the batch
    (``BatchPlan.kept``), for a caller that plans their refunds in a later batch (a
    replay)."""
    if facts is None:
        facts = batch_facts(transactions, members, program)
    w = Working(
        program,
        rules,
        campaigns,
        members,
        originals,
        usage,
        now,
        offers.start() if offers is not None else None,
        {tx.original_id for tx in transactions if tx.original_id} | keep,
        referrals or ReferralBook(),
        excluded,
    )
    answers: list[Answer | RewardsError] = []
    currency = program.program.currency
    for tx, seen in zip(transactions, facts, strict=True):
        if tx.currency != currency:
            answers.append(
                ValidationFailed(
                    f"the program's currency is {currency}",
                    errors=[("currency", f"must be {currency}")],
                )
            )
            continue
        try:
            if seen is not None:
                answers.append(purchase(w, tx, seen))
                w.learn(tx)
            else:
                answers.append(refund(w, tx))
        except RewardsError as exc:
            answers.append(exc)
    plan = _plan(w, answers, keep)
    over = [
        n
        for n, a in enumerate(plan.answers)
        if isinstance(a, Answer) and abs(a.points.total) > MAX_POINTS
    ]
    if not over:
        return plan
    # Planned again without them, so that nothing they counted is kept; each is refused.
    kept = [n for n in range(len(transactions)) if n not in set(over)]
    again = plan_batch(
        [transactions[n] for n in kept],
        program=program,
        rules=rules,
        campaigns=campaigns,
        members=members,
        originals=originals,
        usage=usage,
        now=now,
        offers=offers,
        facts=[facts[n] for n in kept],
        referrals=referrals,
        keep=keep,
        excluded=excluded,
    )
    merged: list[Answer | RewardsError] = []
    rest = iter(again.answers)
    for n in range(len(transactions)):
        merged.append(_too_many_points() if n in set(over) else next(rest))
    return msgspec.structs.replace(again, answers=tuple(merged))


def _too_many_points() -> ValidationFailed:
    return ValidationFailed(
        f"the transaction would move more than {MAX_POINTS} points: check its amount and the "
        "program's rates",
        errors=[("amount_minor", "moves more points than one transaction may")],
    )


def _plan(w: Working, answers: list[Answer | RewardsError], keep: frozenset[str]) -> BatchPlan:
    lot_writes, member_rows = member_writes(w.members.values())
    effects = w.offers.effects() if w.offers else None
    return BatchPlan(
        answers=tuple(answers),
        transfers=tuple(w.transfers),
        lots=lot_writes,
        members=member_rows,
        learned=tuple(w.learned),
        usage=w.rules.writes(),
        reservations=(
            *w.rules.reservations(),
            *w.draws.reservations(),
            *(effects.reservations if effects else ()),
        ),
        draws=tuple(w.draws.records),
        originals=w.original_writes(),
        spend=tuple(w.spend),
        offers=effects,
        referrals=tuple(w.referrals.writes),
        day_points=w.daily.writes(),
        risk=tuple(w.risk),
        kept=w.kept(keep),
        holds=w.hold_writes(),
        hold_changes=w.hold_changes(),
    )
