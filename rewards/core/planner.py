"""The pure core of the transaction hook: from a batch of card transactions and the state
they touch, to each transaction's answer and everything the batch writes.

Nothing here awaits or touches the database, and nothing it is given is changed: the
planner works on its own copies and returns a frozen :class:`BatchPlan` that says exactly
what to write — transfers, lots, balances, cap usage, budget reservations, draws, offer
effects, answers. The shell (``rewards.hook.service``) loads the state with the rows
locked, calls :func:`plan_batch`, and applies the plan in a few set-based statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Literal, Protocol

import msgspec

from rewards.core import lots
from rewards.core.abuse import DAILY_POINTS_CAP, REFERRAL_RING, RiskRecord
from rewards.core.campaigns import CampaignState, DrawBudget, DrawCampaign
from rewards.core.conditions import Facts
from rewards.core.draw import affordable_multiplier, draw_proof, prize_index
from rewards.core.earning import NO_ROOM_LIMIT, CapRoom, RuleSet, capped_bonus, choose_bonuses
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.ledger import (
    PROGRAM_ACCOUNT,
    REFERRALS_ACCOUNT,
    BalanceSummary,
    LotWrite,
    MemberWrite,
    TransferPlan,
    balance_summary,
    campaign_account,
    member_account,
    member_writes,
    merchant_account,
)
from rewards.core.lots import Lot, MemberState
from rewards.core.program import CompiledProgram, month_of
from rewards.core.referrals import ReferralBook, ReferralWrite

TransactionKind = Literal["purchase", "refund", "reversal"]


class CardTransaction(msgspec.Struct, frozen=True):
    """A card transaction as the processor reported it."""

    id: str
    kind: TransactionKind
    member_id: str
    amount_minor: int
    currency: str
    occurred_at: datetime
    card_product: str | None = None
    mcc: str | None = None
    merchant_id: str | None = None
    store_id: str | None = None
    channel: Literal["online", "offline"] | None = None
    original_id: str | None = None
    lat: float | None = None
    lng: float | None = None


class UnknownOriginal(RewardsError):
    status = 422
    type = "unknown_original"
    title = "Unknown original transaction"


class RefundNotAllowed(RewardsError):
    status = 422
    type = "refund_not_allowed"
    title = "Refund not allowed"


# --- the answer --------------------------------------------------------------------------


class PointsBreakdown(msgspec.Struct, frozen=True):
    base: int
    rules: int
    draw: int
    offers: int
    total: int
    referral: int = 0  # the referee's bonus for a first qualifying purchase
    capped: int = 0  # what the daily points cap kept from being awarded


class RuleApplied(msgspec.Struct, frozen=True):
    rule_id: str
    points: int


class DrawResult(msgspec.Struct, frozen=True):
    campaign_id: str
    multiplier: int
    points: int
    proof: str
    drawn_multiplier: int | None = None


class OfferApplied(msgspec.Struct, frozen=True):
    offer_id: str
    reward_minor: int
    points: int


class Answer(msgspec.Struct, frozen=True):
    """What the hook answers for one transaction: made by the planner, stored as the bytes
    that were sent, and sent again as they are for a repeat delivery."""

    transaction_id: str
    member_id: str
    points: PointsBreakdown
    rules_applied: tuple[RuleApplied, ...]
    draw: DrawResult | None
    offers_applied: tuple[OfferApplied, ...]
    balance: BalanceSummary
    draws: tuple[DrawResult, ...] = ()
    original_id: str | None = None
    forgiven: int = 0


# --- what a refund reverses: the original's award, as the ledger recorded it ---------------


class AppliedOffer(msgspec.Struct, frozen=True):
    """A merchant offer applied to a purchase (or the part of it a refund releases)."""

    offer_id: str
    merchant_id: str
    reward_minor: int
    points: int


class AwardedDraw(msgspec.Struct, frozen=True):
    campaign_id: str
    multiplier: int
    drawn_multiplier: int
    points: int
    proof: str


class ReferralAward(msgspec.Struct, frozen=True):
    """The referral bonuses a referee's first qualifying purchase paid."""

    referrer_id: str
    referee_points: int
    referrer_points: int


class Award(msgspec.Struct, frozen=True):
    """What a purchase was awarded: its earn transfer's base and rule points, its draws,
    its offer redemptions and the referral it settled (loaded from the ledger, never from a
    stored answer)."""

    base: int = 0
    rules: tuple[tuple[str, int], ...] = ()
    draws: tuple[AwardedDraw, ...] = ()
    offers: tuple[AppliedOffer, ...] = ()
    referral: ReferralAward | None = None


class Original(msgspec.Struct, frozen=True):
    """A purchase that a refund or reversal points at, as locked for this batch."""

    transaction_id: str
    member_id: str
    kind: str
    amount_minor: int
    currency: str
    refunded_minor: int
    reversed: bool
    occurred_at: datetime
    award: Award


# --- inputs ----------------------------------------------------------------------------------


class Usage(msgspec.Struct, frozen=True):
    """Where rules' caps and the daily points cap stand, as loaded for the batch."""

    member_period: Mapping[tuple[str, str, str], int]  # (member, rule, period) -> points
    rule_budget_used: Mapping[str, int]
    day_points: Mapping[tuple[str, date], int] = {}  # (member, local day) -> points earned


class CampaignBudget(msgspec.Struct, frozen=True):
    """A draw campaign with its secret and what its budget has paid (as read or locked)."""

    campaign: DrawCampaign
    secret: bytes
    total_used: int
    daily_used: Mapping[date, int] = {}


# --- offers, through a protocol (rewards.core knows nothing of offers) -----------------------


class OfferRecord(msgspec.Struct, frozen=True):
    """One offer redemption (or its release by a refund: negative figures)."""

    offer_id: str
    transaction_id: str
    member_id: str
    original_id: str | None
    uses: int
    reward_minor: int
    points: int
    spend_minor: int
    day: date


class OfferUseChange(msgspec.Struct, frozen=True):
    """A member's standing with an offer after the batch (claimed, uses so far)."""

    member_id: str
    offer_id: str
    claimed: bool
    uses: int


class OfferBudgetDelta(msgspec.Struct, frozen=True):
    """What the batch takes from (or gives back to) an offer's budget."""

    offer_id: str
    uses: int
    reward: int


class OfferEffects(msgspec.Struct, frozen=True):
    uses: tuple[OfferUseChange, ...] = ()
    records: tuple[OfferRecord, ...] = ()
    budgets: tuple[OfferBudgetDelta, ...] = ()


class Released(msgspec.Struct, frozen=True):
    """The share of an applied offer that a refund gives back."""

    original_id: str
    offer: AppliedOffer
    fully: bool  # the purchase is now refunded in full: its use comes back too
    amount: int  # the amount refunded
    day: date  # the purchase's day (stats count the release there)


class OfferSession(Protocol):
    """One batch's working copy of the offers it may touch."""

    def apply(
        self, tx: CardTransaction, facts: Facts, base: int, day: date, max_points: int | None
    ) -> tuple[AppliedOffer, int] | None:
        """The offer the purchase gets, if any, counted against budgets and limits, with the
        points ``max_points`` (the member's daily cap) kept from it."""

    def release(self, tx: CardTransaction, released: Released) -> None:
        """Give back what a refund claws back of an applied offer."""

    def effects(self) -> OfferEffects:
        """Everything the batch changed, to write."""


class OfferMatcher(Protocol):
    """The offers a batch may touch (``offers.core.matching.OfferBook``), left unchanged:
    each plan works in a session of its own."""

    def start(self) -> OfferSession: ...


# --- the plan --------------------------------------------------------------------------------


class DrawRecord(msgspec.Struct, frozen=True):
    campaign_id: str
    transaction_id: str
    member_id: str
    drawn: int
    paid: int
    points: int
    proof: str
    day: date


class UsageWrite(msgspec.Struct, frozen=True):
    """What a rule has paid a member in a period (``d:YYYY-MM-DD``, ``m:YYYY-MM``)."""

    member_id: str
    rule_id: str
    period: str
    points: int


class OriginalWrite(msgspec.Struct, frozen=True):
    transaction_id: str
    refunded_minor: int
    reversed: bool


class SpendRow(msgspec.Struct, frozen=True):
    """Card spend a batch adds to a member's month (refunds negative, in the purchase's
    month): what tiers are computed from."""

    member_id: str
    month: date
    amount_minor: int


class BatchPlan(msgspec.Struct, frozen=True):
    """Everything one batch answers and writes."""

    answers: tuple[Answer | RewardsError, ...]
    transfers: tuple[TransferPlan, ...] = ()
    lots: tuple[LotWrite, ...] = ()
    members: tuple[MemberWrite, ...] = ()
    learned: tuple[tuple[str, str], ...] = ()  # (member, card product) first seen paying
    usage: tuple[UsageWrite, ...] = ()
    rule_budgets: tuple[tuple[str, int], ...] = ()  # (rule, points reserved; < 0 released)
    campaign_budgets: tuple[tuple[str, int], ...] = ()
    campaign_days: tuple[tuple[str, date, int], ...] = ()
    draws: tuple[DrawRecord, ...] = ()
    originals: tuple[OriginalWrite, ...] = ()
    spend: tuple[SpendRow, ...] = ()
    offers: OfferEffects = OfferEffects()
    referrals: tuple[ReferralWrite, ...] = ()
    day_points: tuple[tuple[str, date, int], ...] = ()  # (member, day, points): absolute
    risk: tuple[RiskRecord, ...] = ()


def batch_facts(
    transactions: Sequence[CardTransaction],
    members: Mapping[str, MemberState],
    program: CompiledProgram,
) -> tuple[Facts | None, ...]:
    """What conditions see of each purchase of a batch (None for refunds and for purchases
    the program refuses), computed once for the lock plan and the planner: the card product
    of the transaction (or else the member's, with those learned from earlier purchases of
    the batch), the member's tier and segments, local time in the program's zone."""
    learned: dict[str, set[str]] = {}
    found: list[Facts | None] = []
    for tx in transactions:
        member = members.get(tx.member_id)
        if tx.kind != "purchase" or member is None or tx.currency != program.program.currency:
            found.append(None)
            continue
        known = learned.setdefault(tx.member_id, set(member.card_products))
        found.append(
            Facts(
                amount_minor=tx.amount_minor,
                occurred_at=tx.occurred_at,
                local=tx.occurred_at.astimezone(program.zone),
                mcc=tx.mcc,
                merchant_id=tx.merchant_id,
                channel=tx.channel,
                card_products=frozenset([tx.card_product] if tx.card_product else known),
                tier=member.tier,
                segments=frozenset(member.segments),
                lat=tx.lat,
                lng=tx.lng,
            )
        )
        if tx.card_product:
            known.add(tx.card_product)
    return tuple(found)


def share(points: int, before: int, after: int, total: int) -> int:
    """Points of a partial refund: cumulative floors, so the sum of every refund's share
    never exceeds what was awarded and a full refund returns exactly all of it."""
    if total <= 0:
        return points
    return points * after // total - points * before // total


def _working_copy(member: MemberState) -> MemberState:
    return MemberState(
        member.member_id,
        member.tier,
        list(member.segments),
        list(member.card_products),
        member.balance,
        member.lifetime_earned,
        [
            Lot(lot.lot_id, lot.amount, lot.remaining, lot.expires_at, lot.available_at, lot.saved)
            for lot in member.lots
        ],
    )


def _periods(program: CompiledProgram, occurred_at: datetime) -> tuple[str, str]:
    day = program.local_date(occurred_at)
    return f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"


class _Room:
    """What the daily points cap leaves a member for one purchase (None: no cap)."""

    def __init__(self, left: int | None) -> None:
        self.left = left
        self.capped = 0

    def take(self, points: int) -> int:
        """The part of ``points`` that fits; the rest is counted as capped."""
        if self.left is None or points <= 0:
            return points
        paid = min(points, self.left)
        self.left -= paid
        self.capped += points - paid
        return paid


class _Planner:
    """The working state of one plan: copies of what it was given, changed as the batch's
    transactions are planned in order."""

    def __init__(
        self,
        program: CompiledProgram,
        rules: RuleSet,
        campaigns: Mapping[str, CampaignBudget],
        members: Mapping[str, MemberState],
        originals: Mapping[str, Original],
        usage: Usage,
        now: datetime,
        offers: OfferSession | None,
        referenced: set[str],
        referrals: ReferralBook,
    ) -> None:
        self.program = program
        self.pending_referrals = dict(referrals.pending)
        self.referrer_rewarded = dict(referrals.rewarded)
        self.referral_writes: list[ReferralWrite] = []
        self.risk: list[RiskRecord] = []
        abuse = program.program.abuse
        self.daily_cap = abuse.max_points_per_member_per_day if abuse else None
        self.day_points_loaded = dict(usage.day_points)
        self.day_points = dict(usage.day_points)
        self.rules = rules
        self.offers = offers
        self.campaigns = {
            c: CampaignState(b.campaign, b.secret, b.total_used, dict(b.daily_used))
            for c, b in campaigns.items()
        }
        self.campaigns_loaded = {
            c: (b.total_used, dict(b.daily_used)) for c, b in campaigns.items()
        }
        self.members = {m: _working_copy(state) for m, state in members.items()}
        self.learned: list[tuple[str, str]] = []
        self.originals = dict(originals)
        self.refund_loaded = {k: (o.refunded_minor, o.reversed) for k, o in originals.items()}
        self.refund_state = dict(self.refund_loaded)
        self.usage_loaded = dict(usage.member_period)
        self.usage = dict(usage.member_period)
        self.budgets_loaded = dict(usage.rule_budget_used)
        self.budget_used = dict(usage.rule_budget_used)
        self.now = now
        self.transfers: list[TransferPlan] = []
        self.draws: list[DrawRecord] = []
        self.spend: list[SpendRow] = []
        self.referenced = referenced  # purchases that refunds of the batch point at

    # --- purchases ---------------------------------------------------------------------

    def learn(self, tx: CardTransaction) -> None:
        """A card product seen paying becomes one of the member's (targeting follows it)."""
        member = self.members[tx.member_id]
        if tx.card_product and tx.card_product not in member.card_products:
            member.card_products.append(tx.card_product)
            self.learned.append((tx.member_id, tx.card_product))

    def purchase(self, tx: CardTransaction, facts: Facts) -> Answer:
        member = self.members[tx.member_id]
        base_earned = self.program.base_points(tx.amount_minor, tx.mcc)
        excluded = tx.mcc is not None and tx.mcc in self.program.excluded
        day = self.program.local_date(tx.occurred_at)
        room = self._room(tx.member_id, day)
        base = room.take(base_earned)
        rule_points: list[tuple[str, int]] = []
        draws: list[AwardedDraw] = []
        applied: AppliedOffer | None = None
        if not excluded:
            rule_points = self._rules(tx, facts, base_earned, room)
            draws = self._draws(tx, facts, base_earned, day, room)
            found = (
                self.offers.apply(tx, facts, base_earned, day, room.left) if self.offers else None
            )
            if found is not None:
                applied, kept = found
                room.capped += kept
                room.take(applied.points)
        offer_points = applied.points if applied else 0
        rules_total = sum(p for _, p in rule_points)
        draw_total = sum(d.points for d in draws)
        earned = base + rules_total
        if earned > 0:
            self._transfer(
                PROGRAM_ACCOUNT,
                member_account(tx.member_id),
                earned,
                "earn",
                tx,
                {"base": base, "rules": dict(rule_points)},
            )
        for d in draws:
            if d.points > 0:
                self._transfer(
                    campaign_account(d.campaign_id),
                    member_account(tx.member_id),
                    d.points,
                    "draw",
                    tx,
                    {"campaign_id": d.campaign_id, "multiplier": d.multiplier},
                )
        if applied is not None and applied.points > 0:
            self._transfer(
                merchant_account(applied.merchant_id),
                member_account(tx.member_id),
                applied.points,
                "offer",
                tx,
                {"offer_id": applied.offer_id},
            )
        total = earned + draw_total + offer_points
        self._count_day(tx.member_id, day, total)
        if room.capped:
            self.risk.append(
                RiskRecord(
                    tx.member_id,
                    None,
                    DAILY_POINTS_CAP,
                    {
                        "transaction_id": tx.id,
                        "day": day.isoformat(),
                        "cap": self.daily_cap,
                        "capped": room.capped,
                    },
                )
            )
        lots.credit(
            member,
            total,
            self.program.expiry_of(tx.occurred_at),
            self.program.available_at(self.now),
        )
        referral = None if excluded else self._referral(tx)
        referee_points = referral.referee_points if referral else 0
        self.spend.append(SpendRow(tx.member_id, month_of(day), tx.amount_minor))
        if tx.id in self.referenced:  # a refund later in the same batch points at it
            self._remember(tx, base, rule_points, draws, applied, referral)
        results = tuple(_draw_result(d) for d in draws)
        return Answer(
            tx.id,
            tx.member_id,
            PointsBreakdown(
                base,
                rules_total,
                draw_total,
                offer_points,
                total + referee_points,
                referee_points,
                room.capped,
            ),
            tuple(RuleApplied(r, p) for r, p in rule_points),
            results[0] if results else None,
            (OfferApplied(applied.offer_id, applied.reward_minor, applied.points),)
            if applied
            else (),
            balance_summary(member, self.now),
            results,
        )

    def _room(self, member_id: str, day: date) -> _Room:
        if self.daily_cap is None:
            return _Room(None)
        return _Room(max(self.daily_cap - self.day_points.get((member_id, day), 0), 0))

    def _count_day(self, member_id: str, day: date, points: int) -> None:
        """What the member's purchases earned that day (negative: a refund gave room back),
        kept while the program caps it."""
        if self.daily_cap is None:
            return
        key = (member_id, day)
        self.day_points[key] = max(self.day_points.get(key, 0) + points, 0)

    def _referral(self, tx: CardTransaction) -> ReferralAward | None:
        """Settle the member's pending referral if this is their first qualifying purchase:
        both bonuses paid, or refused (a referral ring, or the referrer's limit reached)."""
        pending = self.pending_referrals.get(tx.member_id)
        settings = self.program.program.referral
        if pending is None or settings is None:
            return None
        if tx.amount_minor < settings.min_first_purchase_minor:
            return None
        del self.pending_referrals[tx.member_id]
        referrer = pending.referrer_id
        if pending.shared_device is not None:
            self.referral_writes.append(
                ReferralWrite(tx.member_id, "refused", REFERRAL_RING, tx.id, 0, 0, referrer)
            )
            self.risk.append(
                RiskRecord(
                    tx.member_id,
                    pending.shared_device,
                    REFERRAL_RING,
                    {"referrer_id": referrer, "transaction_id": tx.id},
                )
            )
            return None
        limit = settings.max_per_referrer
        if limit is not None and self.referrer_rewarded.get(referrer, 0) >= limit:
            self.referral_writes.append(
                ReferralWrite(tx.member_id, "refused", "referrer_limit", tx.id, 0, 0, referrer)
            )
            return None
        self.referrer_rewarded[referrer] = self.referrer_rewarded.get(referrer, 0) + 1
        award = ReferralAward(referrer, settings.referee_points, settings.referrer_points)
        expires_at = self.program.expiry_of(tx.occurred_at)
        available_at = self.program.available_at(self.now)
        for member_id, points, role in (
            (tx.member_id, award.referee_points, "referee"),
            (referrer, award.referrer_points, "referrer"),
        ):
            if points <= 0:
                continue
            self.transfers.append(
                TransferPlan(
                    REFERRALS_ACCOUNT,
                    member_account(member_id),
                    points,
                    "referral",
                    member_id,
                    tx.id,
                    {
                        "role": role,
                        "referee_id": tx.member_id,
                        "referrer_id": referrer,
                    },
                )
            )
            lots.credit(self.members[member_id], points, expires_at, available_at)
        self.referral_writes.append(
            ReferralWrite(
                tx.member_id,
                "rewarded",
                None,
                tx.id,
                award.referee_points,
                award.referrer_points,
                referrer,
            )
        )
        return award

    def _remember(
        self,
        tx: CardTransaction,
        base: int,
        rule_points: list[tuple[str, int]],
        draws: list[AwardedDraw],
        applied: AppliedOffer | None,
        referral: ReferralAward | None,
    ) -> None:
        """Keep a purchase's award for a refund later in the same batch."""
        self.originals[tx.id] = Original(
            tx.id,
            tx.member_id,
            "purchase",
            tx.amount_minor,
            tx.currency,
            0,
            False,
            tx.occurred_at,
            Award(base, tuple(rule_points), tuple(draws), (applied,) if applied else (), referral),
        )
        self.refund_loaded[tx.id] = self.refund_state[tx.id] = (0, False)

    def _rules(
        self, tx: CardTransaction, facts: Facts, base: int, cap: _Room
    ) -> list[tuple[str, int]]:
        periods = _periods(self.program, tx.occurred_at)
        day_key, month_key = periods
        candidates = []
        for rule in self.rules.matching(facts):
            if not rule.tracked:
                candidates.append((rule, capped_bonus(rule, base, NO_ROOM_LIMIT)))
                continue
            caps = rule.caps
            room = CapRoom(
                per_day=None
                if caps.per_member_per_day is None
                else caps.per_member_per_day - self.usage.get((tx.member_id, rule.id, day_key), 0),
                per_month=None
                if caps.per_member_per_month is None
                else caps.per_member_per_month
                - self.usage.get((tx.member_id, rule.id, month_key), 0),
                budget=None
                if caps.budget_points is None
                else caps.budget_points - self.budget_used.get(rule.id, 0),
            )
            candidates.append((rule, capped_bonus(rule, base, room)))
        paying = [(rule_id, cap.take(points)) for rule_id, points in choose_bonuses(candidates)]
        paying = [(rule_id, points) for rule_id, points in paying if points > 0]
        for rule_id, points in paying:
            self._count_rule(tx.member_id, rule_id, periods, points)
        return paying

    def _count_rule(
        self, member_id: str, rule_id: str, periods: tuple[str, str], points: int
    ) -> None:
        """Track what a rule paid (negative: released) where one of its caps needs it."""
        rule = self.rules.by_id.get(rule_id)
        if rule is None or not rule.tracked:
            return
        day_key, month_key = periods
        if rule.caps.per_member_per_day is not None:
            key = (member_id, rule_id, day_key)
            self.usage[key] = max(self.usage.get(key, 0) + points, 0)
        if rule.caps.per_member_per_month is not None:
            key = (member_id, rule_id, month_key)
            self.usage[key] = max(self.usage.get(key, 0) + points, 0)
        if rule.caps.budget_points is not None:
            self.budget_used[rule_id] = max(self.budget_used.get(rule_id, 0) + points, 0)

    def _draws(
        self, tx: CardTransaction, facts: Facts, base: int, day: date, cap: _Room
    ) -> list[AwardedDraw]:
        results = []
        for campaign_id in sorted(self.campaigns):
            state = self.campaigns[campaign_id]
            if not state.eligible(facts):
                continue
            prizes = state.campaign.prizes
            proof = draw_proof(state.secret, campaign_id, tx.id)
            drawn = prizes[prize_index(proof, prizes)].multiplier
            paid = affordable_multiplier(prizes, drawn, base, state.room(day))
            points = cap.take(base * (paid - 1))
            state.spend(day, points)
            self.draws.append(
                DrawRecord(campaign_id, tx.id, tx.member_id, drawn, paid, points, proof.hex(), day)
            )
            results.append(AwardedDraw(campaign_id, paid, drawn, points, proof.hex()))
        return results

    def _transfer(
        self,
        debit: str,
        credit: str,
        amount: int,
        kind: str,
        tx: CardTransaction,
        detail: dict[str, object],
    ) -> None:
        self.transfers.append(
            TransferPlan(debit, credit, amount, kind, tx.member_id, tx.id, detail)
        )

    # --- refunds and reversals ------------------------------------------------------------

    def refund(self, tx: CardTransaction) -> Answer:
        if tx.original_id is None:
            raise ValidationFailed(
                f"a {tx.kind} needs original_id", errors=[("original_id", "required")]
            )
        original = self.originals.get(tx.original_id)
        if original is None or original.kind != "purchase":
            raise UnknownOriginal(f"no purchase {tx.original_id} to {tx.kind}")
        if original.member_id != tx.member_id:
            raise RefundNotAllowed(f"{tx.original_id} belongs to another member")
        if original.currency != tx.currency:
            raise RefundNotAllowed(f"{tx.original_id} was in {original.currency}")
        refunded_before, reversed_ = self.refund_state[original.transaction_id]
        if reversed_:
            raise RefundNotAllowed(f"{tx.original_id} was reversed already")
        left = original.amount_minor - refunded_before
        if tx.kind == "refund":
            if tx.amount_minor <= 0 or tx.amount_minor > left:
                raise RefundNotAllowed(
                    f"the refund is {tx.amount_minor} but only {left} of {tx.original_id} "
                    "is left to refund"
                )
            amount = tx.amount_minor
        else:
            amount = left
        before, after, total = refunded_before, refunded_before + amount, original.amount_minor
        award = original.award
        base = share(award.base, before, after, total)
        rules = [(rule_id, share(points, before, after, total)) for rule_id, points in award.rules]
        draws = [
            msgspec.structs.replace(d, points=share(d.points, before, after, total))
            for d in award.draws
        ]
        offers = [
            msgspec.structs.replace(
                o,
                reward_minor=share(o.reward_minor, before, after, total),
                points=share(o.points, before, after, total),
            )
            for o in award.offers
        ]
        offer_points = sum(o.points for o in offers)
        rules_total = sum(p for _, p in rules)
        draw_total = sum(d.points for d in draws)
        planned = base + rules_total + draw_total + offer_points
        member = self.members[tx.member_id]
        if self.program.program.refund_policy == "within_balance":
            clawed = min(planned, max(member.balance, 0))
        else:
            clawed = planned
        lots.claw_back(member, clawed)
        self._clawback_transfers(tx, base + rules_total, draws, offers, clawed)
        fully = after == total
        day = self.program.local_date(original.occurred_at)
        self._count_day(tx.member_id, day, -planned)
        referee_back, referee_forgiven = (
            self._referral_clawback(tx, award.referral) if fully and award.referral else (0, 0)
        )
        for o in offers:
            if self.offers is not None:
                self.offers.release(tx, Released(original.transaction_id, o, fully, amount, day))
        for rule_id, points in rules:
            self._count_rule(
                tx.member_id, rule_id, _periods(self.program, original.occurred_at), -points
            )
        for d in draws:
            state = self.campaigns.get(d.campaign_id)
            if state is not None:
                state.spend(day, -d.points)
        self.refund_state[original.transaction_id] = (after, reversed_ or tx.kind == "reversal")
        self.spend.append(SpendRow(tx.member_id, month_of(day), -amount))
        negative = tuple(
            DrawResult(d.campaign_id, d.multiplier, -d.points, d.proof, d.drawn_multiplier)
            for d in draws
        )
        return Answer(
            tx.id,
            tx.member_id,
            PointsBreakdown(
                -base,
                -rules_total,
                -draw_total,
                -offer_points,
                -clawed - referee_back,
                -referee_back,
            ),
            tuple(RuleApplied(r, -p) for r, p in rules),
            negative[0] if negative else None,
            tuple(OfferApplied(o.offer_id, -o.reward_minor, -o.points) for o in offers),
            balance_summary(member, self.now),
            negative,
            original.transaction_id,
            planned - clawed + referee_forgiven,
        )

    def _referral_clawback(self, tx: CardTransaction, award: ReferralAward) -> tuple[int, int]:
        """Take both referral bonuses back when the purchase that paid them is reversed or
        refunded in full; the referee's (clawed, forgiven) points."""
        referee_result = (0, 0)
        for member_id, points, role in (
            (tx.member_id, award.referee_points, "referee"),
            (award.referrer_id, award.referrer_points, "referrer"),
        ):
            member = self.members[member_id]
            clawed = points
            if self.program.program.refund_policy == "within_balance":
                clawed = min(points, max(member.balance, 0))
            if clawed > 0:
                lots.claw_back(member, clawed)
                self.transfers.append(
                    TransferPlan(
                        member_account(member_id),
                        REFERRALS_ACCOUNT,
                        clawed,
                        "clawback",
                        member_id,
                        tx.id,
                        {
                            "role": role,
                            "referee_id": tx.member_id,
                            "referrer_id": award.referrer_id,
                            "original_id": tx.original_id,
                            "kind": tx.kind,
                        },
                    )
                )
            if role == "referee":
                referee_result = (clawed, points - clawed)
        referrer = award.referrer_id
        self.referrer_rewarded[referrer] = max(self.referrer_rewarded.get(referrer, 0) - 1, 0)
        self.referral_writes.append(
            ReferralWrite(
                tx.member_id,
                "clawed_back",
                None,
                tx.original_id or "",
                award.referee_points,
                award.referrer_points,
                award.referrer_id,
            )
        )
        return referee_result

    def _clawback_transfers(
        self,
        tx: CardTransaction,
        program_part: int,
        draws: list[AwardedDraw],
        offers: list[AppliedOffer],
        clawed: int,
    ) -> None:
        """The clawed-back points go back where they came from, in this order, as far as
        the member had them (``within_balance`` forgives the rest)."""
        left = clawed
        legs: list[tuple[str, int, dict[str, object]]] = [(PROGRAM_ACCOUNT, program_part, {})]
        legs += [
            (campaign_account(d.campaign_id), d.points, {"campaign_id": d.campaign_id})
            for d in draws
        ]
        legs += [
            (merchant_account(o.merchant_id), o.points, {"offer_id": o.offer_id}) for o in offers
        ]
        for account, planned, detail in legs:
            amount = min(planned, left)
            if amount > 0:
                self._transfer(
                    member_account(tx.member_id),
                    account,
                    amount,
                    "clawback",
                    tx,
                    detail | {"original_id": tx.original_id, "kind": tx.kind},
                )
            left -= amount

    # --- the plan ----------------------------------------------------------------------------

    def plan(self, answers: list[Answer | RewardsError]) -> BatchPlan:
        lot_writes, member_rows = member_writes(self.members.values())
        usage = tuple(
            UsageWrite(m, r, p, points)
            for (m, r, p), points in self.usage.items()
            if self.usage_loaded.get((m, r, p)) != points
        )
        rule_budgets = tuple(
            (rule_id, used - self.budgets_loaded.get(rule_id, 0))
            for rule_id, used in sorted(self.budget_used.items())
            if used != self.budgets_loaded.get(rule_id, 0)
        )
        campaign_budgets = []
        campaign_days = []
        for campaign_id in sorted(self.campaigns):
            state = self.campaigns[campaign_id]
            total_before, daily_before = self.campaigns_loaded[campaign_id]
            if state.campaign.budget == DrawBudget():
                continue  # an unbudgeted campaign keeps no count
            if state.total_used != total_before:
                campaign_budgets.append((campaign_id, state.total_used - total_before))
            for day in sorted(state.touched_days):
                delta = state.daily_used.get(day, 0) - daily_before.get(day, 0)
                if delta:
                    campaign_days.append((campaign_id, day, delta))
        originals = tuple(
            OriginalWrite(tx_id, refunded, reversed_)
            for tx_id, (refunded, reversed_) in self.refund_state.items()
            if self.refund_loaded[tx_id] != (refunded, reversed_)
        )
        return BatchPlan(
            answers=tuple(answers),
            transfers=tuple(self.transfers),
            lots=lot_writes,
            members=member_rows,
            learned=tuple(self.learned),
            usage=usage,
            rule_budgets=rule_budgets,
            campaign_budgets=tuple(campaign_budgets),
            campaign_days=tuple(campaign_days),
            draws=tuple(self.draws),
            originals=originals,
            spend=tuple(self.spend),
            offers=self.offers.effects() if self.offers else OfferEffects(),
            referrals=tuple(self.referral_writes),
            day_points=tuple(
                (member_id, day, points)
                for (member_id, day), points in sorted(self.day_points.items())
                if self.day_points_loaded.get((member_id, day)) != points
            ),
            risk=tuple(self.risk),
        )


def _draw_result(d: AwardedDraw) -> DrawResult:
    return DrawResult(d.campaign_id, d.multiplier, d.points, d.proof, d.drawn_multiplier)


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
    offers: OfferMatcher | None = None,
    facts: Sequence[Facts | None] | None = None,
    referrals: ReferralBook | None = None,
) -> BatchPlan:
    """Plan every transaction of a batch in order, each seeing the effects of the ones
    before it (caps, budgets, balances). A transaction that cannot be processed gets its
    error as its answer and changes nothing. Nothing given is changed.

    ``facts`` are the batch's :func:`batch_facts`, when the caller has them already."""
    if facts is None:
        facts = batch_facts(transactions, members, program)
    planner = _Planner(
        program,
        rules,
        campaigns,
        members,
        originals,
        usage,
        now,
        offers.start() if offers is not None else None,
        {tx.original_id for tx in transactions if tx.original_id},
        referrals or ReferralBook(),
    )
    answers: list[Answer | RewardsError] = []
    for tx, seen in zip(transactions, facts, strict=True):
        if tx.currency != program.program.currency:
            answers.append(
                ValidationFailed(
                    f"the program's currency is {program.program.currency}",
                    errors=[("currency", f"must be {program.program.currency}")],
                )
            )
            continue
        try:
            if seen is not None:
                answers.append(planner.purchase(tx, seen))
                planner.learn(tx)
            else:
                answers.append(planner.refund(tx))
        except RewardsError as exc:
            answers.append(exc)
    return planner.plan(answers)


class LockPlan(msgspec.Struct, frozen=True):
    """The budget rows a batch may touch: locked and loaded before it is planned."""

    budget_rules: list[str]
    capped: list[tuple[str, str]]  # (member, rule) with a per-member cap
    periods: list[str]
    campaigns: list[str]
    days: list[date]


def lock_plan(
    transactions: Sequence[CardTransaction],
    *,
    program: CompiledProgram,
    rules: RuleSet,
    campaigns: Sequence[DrawCampaign],
    members: Mapping[str, MemberState],
    originals: Mapping[str, Original],
    facts: Sequence[Facts | None],
) -> LockPlan:
    """Which rules with a budget, which member caps and which budgeted campaigns the batch
    may touch, so that exactly those rows are locked (in a fixed order) and loaded."""
    budget_rules: set[str] = set()
    capped: set[tuple[str, str]] = set()
    periods: set[str] = set()
    budgeted: set[str] = set()
    days: set[date] = set()
    by_id = {c.id: c for c in campaigns}
    budgeted_states = [CampaignState(c, b"", 0) for c in campaigns if c.budget != DrawBudget()]
    for tx, seen in zip(transactions, facts, strict=True):
        if tx.member_id not in members:
            continue
        if seen is not None:
            matched = [r.id for r in rules.matching(seen)]
            when = tx.occurred_at
            eligible = [c.id for c in budgeted_states if c.eligible(seen)]
        elif tx.kind == "purchase":
            continue  # refused before planning (another currency)
        else:
            original = originals.get(tx.original_id or "")
            if original is None:
                continue
            matched = [rule_id for rule_id, _ in original.award.rules]
            when = original.occurred_at
            eligible = [
                d.campaign_id
                for d in original.award.draws
                if d.campaign_id in by_id and by_id[d.campaign_id].budget != DrawBudget()
            ]
        day = program.local_date(when)
        for rule_id in matched:
            caps = rules.by_id[rule_id].caps if rule_id in rules.by_id else None
            if caps is None:
                continue
            if caps.budget_points is not None:
                budget_rules.add(rule_id)
            if caps.per_member_per_day is not None or caps.per_member_per_month is not None:
                capped.add((tx.member_id, rule_id))
                periods.update((f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"))
        if eligible:
            budgeted.update(eligible)
            days.add(day)
    return LockPlan(
        sorted(budget_rules), sorted(capped), sorted(periods), sorted(budgeted), sorted(days)
    )
