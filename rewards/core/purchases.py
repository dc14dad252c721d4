"""A purchase: base points, the rules' bonuses, the draws and a merchant offer, within the
member's daily cap; a referral it settles; the answer it gets."""

from __future__ import annotations

from datetime import date

from rewards.core import lots
from rewards.core.abuse import DAILY_POINTS_CAP, RiskRecord
from rewards.core.answers import (
    Answer,
    DrawResult,
    MerchantOfferApplied,
    PointsBreakdown,
    RuleApplied,
)
from rewards.core.awards import AppliedOffer, Award, AwardedDraw, Original, ReferralAward
from rewards.core.conditions import Facts
from rewards.core.daily_cap import Room
from rewards.core.ledger import (
    HELD_ACCOUNT,
    PROGRAM_ACCOUNT,
    balance_summary,
    campaign_account,
    member_account,
    merchant_account,
)
from rewards.core.plan import HoldPlan, SpendRow
from rewards.core.program import month_of
from rewards.core.transactions import CardTransaction
from rewards.core.working import Working


class _Earned:
    """What one purchase earned, part by part; the totals are summed once, when the parts
    are all known (:meth:`settle`)."""

    __slots__ = ("base", "draw_total", "draws", "offer", "rules", "rules_total", "total")

    def __init__(self, base: int) -> None:
        self.base = base
        self.rules: list[tuple[str, int]] = []
        self.draws: list[AwardedDraw] = []
        self.offer: AppliedOffer | None = None
        self.rules_total = self.draw_total = 0
        self.total = base

    @property
    def offer_points(self) -> int:
        return self.offer.points if self.offer else 0

    def settle(self) -> None:
        self.rules_total = sum(p for _, p in self.rules)
        self.draw_total = sum(d.points for d in self.draws)
        self.total = self.base + self.rules_total + self.draw_total + self.offer_points


def purchase(w: Working, tx: CardTransaction, facts: Facts) -> Answer:
    """Plan one purchase and answer it."""
    member = w.members[tx.member_id]
    program = w.program
    excluded_by = w.excluded.get(tx.id)
    if excluded_by:
        return _withheld(w, tx, excluded_by)
    if not member.earns:
        return _withheld(w, tx)
    base_earned = program.base_points(tx.amount_minor, tx.mcc)
    excluded = tx.mcc is not None and tx.mcc in program.excluded
    day = program.local_date(tx.occurred_at)
    room = w.daily.room(tx.member_id, day)
    earned = _Earned(room.take(base_earned))
    if not excluded:
        _bonuses(w, tx, facts, base_earned, room, earned, day)
    earned.settle()
    held = _held(w, tx, earned.total)
    _transfers(w, tx, earned, HELD_ACCOUNT if held else member_account(tx.member_id))
    w.daily.count(tx.member_id, day, earned.total)
    if room.capped:
        w.risk.append(
            RiskRecord(
                tx.member_id,
                None,
                DAILY_POINTS_CAP,
                {
                    "transaction_id": tx.id,
                    "day": day.isoformat(),
                    "cap": w.daily.cap,
                    "capped": room.capped,
                },
            )
        )
    if held:
        _hold(w, tx, earned)
    else:
        lots.credit(
            member, earned.total, program.expiry_of(tx.occurred_at), program.available_at(w.now)
        )
    # A held purchase settles no referral: the referee's next purchase may.
    settles = not excluded and not held
    referral = w.referrals.settle(tx, program, w.members, w.now) if settles else None
    referee_points = referral.referee_points if referral else 0
    w.spend.append(SpendRow(tx.member_id, month_of(day), tx.amount_minor))
    if tx.id in w.referenced:  # a refund later in the same batch points at it
        _remember(w, tx, earned, referral)
    results = tuple(
        DrawResult(d.campaign_id, d.multiplier, d.points, d.proof, d.drawn_multiplier)
        for d in earned.draws
    )
    offer = earned.offer
    return Answer(
        tx.id,
        tx.member_id,
        PointsBreakdown(
            earned.base,
            earned.rules_total,
            earned.draw_total,
            earned.offer_points,
            earned.total + referee_points,
            referee_points,
            room.capped,
            held=earned.total if held else 0,
        ),
        tuple(RuleApplied(r, p) for r, p in earned.rules),
        results[0] if results else None,
        (MerchantOfferApplied(offer.offer_id, offer.reward_minor, offer.points),) if offer else (),
        balance_summary(member, w.now),
        results,
    )


def _withheld(w: Working, tx: CardTransaction, excluded_by: tuple[str, ...] = ()) -> Answer:
    """A purchase that earns nothing — a suspended or closed member's, or one that matched
    exclusion lists: recorded with its spend, with no points, rule, draw, offer or referral,
    so no cap, budget or limit moves; answered with the base points a suspended member's
    would have earned, or with the lists it matched."""
    program, member = w.program, w.members[tx.member_id]
    excluded = bool(excluded_by) or (tx.mcc is not None and tx.mcc in program.excluded)
    withheld = 0 if excluded else program.base_points(tx.amount_minor, tx.mcc)
    day = program.local_date(tx.occurred_at)
    w.spend.append(SpendRow(tx.member_id, month_of(day), tx.amount_minor))
    nothing = _Earned(0)
    if tx.id in w.referenced:
        _remember(w, tx, nothing, None)
    return Answer(
        tx.id,
        tx.member_id,
        PointsBreakdown(0, 0, 0, 0, 0, withheld=withheld),
        (),
        None,
        (),
        balance_summary(member, w.now),
        (),
        excluded_by=excluded_by,
    )


def _held(w: Working, tx: CardTransaction, points: int) -> bool:
    """Whether the purchase's points are held: its risk score is above the program's
    ``abuse.hold_above_score``."""
    abuse = w.program.program.abuse
    threshold = abuse.hold_above_score if abuse is not None else None
    return (
        points > 0 and threshold is not None and tx.risk is not None and tx.risk.score > threshold
    )


def _hold(w: Working, tx: CardTransaction, earned: _Earned) -> None:
    """The purchase's points wait in the ``held`` account, with what each account paid."""
    parts: dict[str, int] = {}
    program_part = earned.base + earned.rules_total
    if program_part > 0:
        parts[PROGRAM_ACCOUNT] = program_part
    for d in earned.draws:
        if d.points > 0:
            account = campaign_account(d.campaign_id)
            parts[account] = parts.get(account, 0) + d.points
    if earned.offer is not None and earned.offer.points > 0:
        account = merchant_account(earned.offer.merchant_id)
        parts[account] = parts.get(account, 0) + earned.offer.points
    assert tx.risk is not None
    w.held[tx.id] = earned.total
    w.holds.append(
        HoldPlan(
            tx.id,
            tx.member_id,
            earned.total,
            parts,
            tx.risk.score,
            tx.risk.source,
            w.program.expiry_of(tx.occurred_at),
            earned.total,
        )
    )


def _bonuses(
    w: Working,
    tx: CardTransaction,
    facts: Facts,
    base: int,
    room: Room,
    earned: _Earned,
    day: date,
) -> None:
    """The rules, the draws and a merchant offer, in that order, each within what the daily
    cap leaves."""
    iso = day.isoformat()
    earned.rules = w.rules.bonuses(tx.member_id, facts, base, (f"d:{iso}", f"m:{iso[:7]}"), room)
    earned.draws = w.draws.draw(tx, facts, base, day, room)
    found = w.offers.apply(tx, facts, base, day, room.left) if w.offers else None
    if found is not None:
        earned.offer, kept = found
        room.capped += kept
        room.take(earned.offer.points)


def _transfers(w: Working, tx: CardTransaction, earned: _Earned, member: str) -> None:
    """The purchase's points, each part from the account that pays it, to the member (or to
    the ``held`` account)."""
    program_part = earned.base + earned.rules_total
    if program_part > 0:
        detail = {"base": earned.base, "rules": dict(earned.rules)}
        w.transfer(PROGRAM_ACCOUNT, member, program_part, "earn", tx, detail)
    for d in earned.draws:
        if d.points > 0:
            detail = {"campaign_id": d.campaign_id, "multiplier": d.multiplier}
            w.transfer(campaign_account(d.campaign_id), member, d.points, "draw", tx, detail)
    offer = earned.offer
    if offer is not None and offer.points > 0:
        account = merchant_account(offer.merchant_id)
        w.transfer(account, member, offer.points, "offer", tx, {"offer_id": offer.offer_id})


def _remember(
    w: Working, tx: CardTransaction, earned: _Earned, referral: ReferralAward | None
) -> None:
    """Keep a purchase's award for a refund later in the same batch."""
    w.originals[tx.id] = Original(
        tx.id,
        tx.member_id,
        "purchase",
        tx.amount_minor,
        tx.currency,
        0,
        False,
        tx.occurred_at,
        Award(
            earned.base,
            tuple(earned.rules),
            tuple(earned.draws),
            (earned.offer,) if earned.offer else (),
            referral,
        ),
        held=w.held.get(tx.id, 0),
    )
    w.refunded[tx.id] = (0, False)
