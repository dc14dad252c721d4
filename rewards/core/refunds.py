"""A refund or a reversal: it claws back its share of what the purchase was awarded, as
far as the refund policy lets it, and gives back what budgets and caps had counted."""

from __future__ import annotations

import msgspec

from rewards.core import lots
from rewards.core.answers import (
    Answer,
    DrawResult,
    MerchantOfferApplied,
    PointsBreakdown,
    RuleApplied,
)
from rewards.core.awards import AppliedOffer, AwardedDraw, Original, share
from rewards.core.card_linked import Released
from rewards.core.errors import ValidationFailed
from rewards.core.ledger import (
    HELD_ACCOUNT,
    PROGRAM_ACCOUNT,
    balance_summary,
    campaign_account,
    member_account,
    merchant_account,
)
from rewards.core.plan import SpendRow
from rewards.core.program import month_of
from rewards.core.transactions import CardTransaction, RefundNotAllowed, UnknownOriginal
from rewards.core.working import Working, periods


class _Share(msgspec.Struct, frozen=True):
    """What a refund takes back of the purchase's award: its share of each part."""

    base: int
    rules: tuple[tuple[str, int], ...]
    draws: tuple[AwardedDraw, ...]
    offers: tuple[AppliedOffer, ...]

    @property
    def rules_total(self) -> int:
        return sum(p for _, p in self.rules)

    @property
    def draw_total(self) -> int:
        return sum(d.points for d in self.draws)

    @property
    def offer_points(self) -> int:
        return sum(o.points for o in self.offers)

    @property
    def total(self) -> int:
        return self.base + self.rules_total + self.draw_total + self.offer_points


def refund(w: Working, tx: CardTransaction) -> Answer:
    """Plan one refund or reversal and answer it."""
    original = _original(w, tx)
    refunded_before, reversed_ = w.refunded[original.transaction_id]
    amount = _amount(tx, original, refunded_before)
    after, total = refunded_before + amount, original.amount_minor
    taken = _share_of(original, refunded_before, after)
    member = w.members[tx.member_id]
    # Points still held come back from the hold first; the rest from the member.
    from_hold = min(taken.total, w.held.get(original.transaction_id, 0))
    if from_hold:
        w.held[original.transaction_id] -= from_hold
        w.holds_touched.add(original.transaction_id)
    owed = taken.total - from_hold
    if w.program.program.refund_policy == "within_balance":
        clawed = min(owed, max(member.balance, 0))
    else:
        clawed = owed
    lots.claw_back(member, clawed)
    _clawback_transfers(w, tx, taken, from_hold, clawed)
    fully = after == total
    day = w.program.local_date(original.occurred_at)
    w.daily.count(tx.member_id, day, -taken.total)
    award = original.award
    referee_back, referee_forgiven = (
        w.referrals.claw_back(tx, award.referral, w.program, w.members)
        if fully and award.referral
        else (0, 0)
    )
    _give_back(w, tx, original, taken, fully, amount)
    w.set_refunded(original.transaction_id, after, reversed_ or tx.kind == "reversal")
    w.spend.append(SpendRow(tx.member_id, month_of(day), -amount))
    negative = tuple(
        DrawResult(d.campaign_id, d.multiplier, -d.points, d.proof, d.drawn_multiplier)
        for d in taken.draws
    )
    return Answer(
        tx.id,
        tx.member_id,
        PointsBreakdown(
            -taken.base,
            -taken.rules_total,
            -taken.draw_total,
            -taken.offer_points,
            -from_hold - clawed - referee_back,
            -referee_back,
            held=-from_hold,
        ),
        tuple(RuleApplied(r, -p) for r, p in taken.rules),
        negative[0] if negative else None,
        tuple(MerchantOfferApplied(o.offer_id, -o.reward_minor, -o.points) for o in taken.offers),
        balance_summary(member, w.now),
        negative,
        original.transaction_id,
        owed - clawed + referee_forgiven,
    )


def _original(w: Working, tx: CardTransaction) -> Original:
    """The purchase the refund points at, if this member may refund it."""
    if tx.original_id is None:
        raise ValidationFailed(
            f"a {tx.kind} needs original_id", errors=[("original_id", "required")]
        )
    original = w.originals.get(tx.original_id)
    if original is None or original.kind != "purchase":
        raise UnknownOriginal(f"no purchase {tx.original_id} to {tx.kind}")
    if original.member_id != tx.member_id:
        raise RefundNotAllowed(f"{tx.original_id} belongs to another member")
    if original.currency != tx.currency:
        raise RefundNotAllowed(f"{tx.original_id} was in {original.currency}")
    if w.refunded[original.transaction_id][1]:
        raise RefundNotAllowed(f"{tx.original_id} was reversed already")
    return original


def _amount(tx: CardTransaction, original: Original, refunded_before: int) -> int:
    """How much of the purchase this refunds (a reversal: all that is left)."""
    left = original.amount_minor - refunded_before
    if tx.kind != "refund":
        return left
    if tx.amount_minor <= 0 or tx.amount_minor > left:
        raise RefundNotAllowed(
            f"the refund is {tx.amount_minor} but only {left} of {tx.original_id} is left to refund"
        )
    return tx.amount_minor


def _share_of(original: Original, before: int, after: int) -> _Share:
    total = original.amount_minor
    award = original.award
    return _Share(
        share(award.base, before, after, total),
        tuple((rule_id, share(points, before, after, total)) for rule_id, points in award.rules),
        tuple(
            msgspec.structs.replace(d, points=share(d.points, before, after, total))
            for d in award.draws
        ),
        tuple(
            msgspec.structs.replace(
                o,
                reward_minor=share(o.reward_minor, before, after, total),
                points=share(o.points, before, after, total),
            )
            for o in award.offers
        ),
    )


def _give_back(
    w: Working, tx: CardTransaction, original: Original, taken: _Share, fully: bool, amount: int
) -> None:
    """What the purchase had counted against offers, rule caps and campaign budgets comes
    back by the share the refund takes (offers' uses too once it is refunded in full)."""
    day = w.program.local_date(original.occurred_at)
    if w.offers is not None:
        for offer in taken.offers:
            w.offers.release(tx, Released(original.transaction_id, offer, fully, amount, day))
    at = periods(w.program, original.occurred_at)
    for rule_id, points in taken.rules:
        w.rules.count(tx.member_id, rule_id, at, -points)
    for d in taken.draws:
        w.draws.spend(d.campaign_id, day, -d.points)


def _clawback_transfers(
    w: Working, tx: CardTransaction, taken: _Share, from_hold: int, clawed: int
) -> None:
    """The clawed-back points go back where they came from, in this order: first out of
    what is still held of the purchase, then as far as the member had them
    (``within_balance`` forgives the rest)."""
    sources = [(HELD_ACCOUNT, from_hold), (member_account(tx.member_id), clawed)]
    legs: list[tuple[str, int, dict[str, object]]] = [
        (PROGRAM_ACCOUNT, taken.base + taken.rules_total, {})
    ]
    legs += [
        (campaign_account(d.campaign_id), d.points, {"campaign_id": d.campaign_id})
        for d in taken.draws
    ]
    legs += [
        (merchant_account(o.merchant_id), o.points, {"offer_id": o.offer_id}) for o in taken.offers
    ]
    for account, planned, detail in legs:
        for n, (source, left) in enumerate(sources):
            amount = min(planned, left)
            if amount > 0:
                w.transfer(
                    source,
                    account,
                    amount,
                    "clawback",
                    tx,
                    detail | {"original_id": tx.original_id, "kind": tx.kind},
                )
                sources[n] = (source, left - amount)
                planned -= amount
