"""The pure core of the transaction hook: from a batch of card transactions and the state
they touch, to the answer of each and the ledger writes that carry them out.

Nothing here awaits or touches the database. The shell (rewards.transactions) loads the
state with the rows locked, calls :func:`plan_batch`, and applies the plan in a few
set-based statements.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, Protocol

import msgspec

from rewards.core import lots
from rewards.core.campaigns import CampaignState, DrawBudget
from rewards.core.conditions import Facts
from rewards.core.draw import affordable_multiplier, draw_proof, prize_index
from rewards.core.earning import NO_ROOM_LIMIT, CapRoom, RuleSet, capped_bonus, choose_bonuses
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.lots import MemberState
from rewards.core.program import CompiledProgram

TransactionKind = Literal["purchase", "refund", "reversal"]
PROGRAM_ACCOUNT = "program"


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


class Original(msgspec.Struct):
    """A purchase that a refund or reversal points at, as locked for this batch."""

    transaction_id: str
    member_id: str
    kind: str
    amount_minor: int
    currency: str
    refunded_minor: int
    reversed: bool
    occurred_at: datetime
    response: dict[str, Any]


class TransferPlan(msgspec.Struct, frozen=True):
    debit: str
    credit: str
    amount: int
    kind: str
    member_id: str
    transaction_id: str | None
    detail: dict[str, Any]


class DrawRecord(msgspec.Struct, frozen=True):
    campaign_id: str
    transaction_id: str
    member_id: str
    drawn: int
    paid: int
    points: int
    proof: str
    day: date


class Usage(msgspec.Struct, frozen=True):
    """Where a rule's caps stand, as loaded for the batch (absolute values)."""

    member_period: dict[tuple[str, str, str], int]  # (member, rule, period) -> points
    rule_budget_used: dict[str, int]


class AppliedOffer(msgspec.Struct, frozen=True):
    """A merchant offer applied to a purchase (or released by its refund)."""

    offer_id: str
    merchant_id: str
    reward_minor: int
    points: int


class OfferMatcher(Protocol):
    """What the planner asks of card-linked offers (``offers.core.matching.OfferBook``)."""

    def apply(self, tx: CardTransaction, facts: Facts, base: int, day: date) -> AppliedOffer | None:
        """The offer the purchase gets, if any, counted against budgets and limits."""

    def release(
        self,
        tx: CardTransaction,
        original_id: str,
        released: AppliedOffer,
        fully: bool,
        amount: int,
        day: date,
    ) -> None:
        """Give back what a refund claws back of an applied offer."""


class NoOffers:
    """A tenant with no offers the batch could touch."""

    def apply(self, tx: CardTransaction, facts: Facts, base: int, day: date) -> AppliedOffer | None:
        return None

    def release(
        self,
        tx: CardTransaction,
        original_id: str,
        released: AppliedOffer,
        fully: bool,
        amount: int,
        day: date,
    ) -> None:
        return None


class BatchPlan(msgspec.Struct):
    """Answers and writes of one batch."""

    outcomes: list[dict[str, Any] | RewardsError]
    transfers: list[TransferPlan]
    draws: list[DrawRecord]
    members: dict[str, MemberState]
    usage: dict[tuple[str, str, str], int]
    rule_budget_used: dict[str, int]
    campaigns: dict[str, CampaignState]
    originals: dict[str, Original]


def member_account(member_id: str) -> str:
    return f"member:{member_id}"


def campaign_account(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def merchant_account(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


def facts_of(tx: CardTransaction, member: MemberState, program: CompiledProgram) -> Facts:
    """What conditions see of a purchase: the card product of the transaction (or else the
    member's), the member's tier and segments, local time in the program's zone."""
    products = frozenset([tx.card_product]) if tx.card_product else frozenset(member.card_products)
    return Facts(
        amount_minor=tx.amount_minor,
        occurred_at=tx.occurred_at,
        local=tx.occurred_at.astimezone(program.zone),
        mcc=tx.mcc,
        merchant_id=tx.merchant_id,
        channel=tx.channel,
        card_products=products,
        tier=member.tier,
        segments=frozenset(member.segments),
        lat=tx.lat,
        lng=tx.lng,
    )


def _share(points: int, before: int, after: int, total: int) -> int:
    """Points of a partial refund: cumulative floors, so the sum of every refund's share
    never exceeds what was awarded and a full refund returns exactly all of it."""
    if total <= 0:
        return points
    return points * after // total - points * before // total


def balance_summary(member: MemberState, now: datetime) -> dict[str, int]:
    """Available and pending points; a member in debt has a negative available balance."""
    pending = sum(lot.remaining for lot in member.lots if lot.available_at > now)
    return {"available": member.balance - pending, "pending": pending}


def empty_outcome(tx: CardTransaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.id,
        "member_id": tx.member_id,
        "points": {"base": 0, "rules": 0, "draw": 0, "offers": 0, "total": 0},
        "rules_applied": [],
        "draw": None,
        "offers_applied": [],
        "balance": {"available": 0, "pending": 0},
    }


class _Planner:
    def __init__(
        self,
        program: CompiledProgram,
        rules: RuleSet,
        campaigns: dict[str, CampaignState],
        members: dict[str, MemberState],
        originals: dict[str, Original],
        usage: Usage,
        now: datetime,
        book: OfferMatcher | None = None,
    ) -> None:
        self.program = program
        self.book: OfferMatcher = book or NoOffers()
        self.rules = rules
        self.campaigns = campaigns
        self.members = members
        self.originals = originals
        self.usage = dict(usage.member_period)
        self.budget_used = dict(usage.rule_budget_used)
        self.now = now
        self.transfers: list[TransferPlan] = []
        self.draws: list[DrawRecord] = []

    # --- purchases ---------------------------------------------------------------------

    def facts(self, tx: CardTransaction, member: MemberState) -> Facts:
        return facts_of(tx, member, self.program)

    def purchase(self, tx: CardTransaction) -> dict[str, Any]:
        member = self.members[tx.member_id]
        outcome = empty_outcome(tx)
        base = self.program.base_points(tx.amount_minor, tx.mcc)
        excluded = tx.mcc is not None and tx.mcc in self.program.excluded
        rule_points: list[tuple[str, int]] = []
        draws: list[dict[str, Any]] = []
        if not excluded:
            facts = self.facts(tx, member)
            rule_points = self._rules(tx, facts, base)
            draws = self._draws(tx, facts, base)
        applied = [] if excluded else self._offers(tx, member, base)
        offer_points = sum(a["points"] for a in applied)
        rules_total = sum(p for _, p in rule_points)
        draw_total = sum(d["points"] for d in draws)
        earned = base + rules_total
        if earned > 0:
            self.transfers.append(
                TransferPlan(
                    PROGRAM_ACCOUNT,
                    member_account(tx.member_id),
                    earned,
                    "earn",
                    tx.member_id,
                    tx.id,
                    {"base": base, "rules": dict(rule_points)},
                )
            )
        for d in draws:
            if d["points"] > 0:
                self.transfers.append(
                    TransferPlan(
                        campaign_account(d["campaign_id"]),
                        member_account(tx.member_id),
                        d["points"],
                        "draw",
                        tx.member_id,
                        tx.id,
                        {"campaign_id": d["campaign_id"], "multiplier": d["multiplier"]},
                    )
                )
        for a in applied:
            if a["points"] > 0:
                self.transfers.append(
                    TransferPlan(
                        merchant_account(a["merchant_id"]),
                        member_account(tx.member_id),
                        a["points"],
                        "offer",
                        tx.member_id,
                        tx.id,
                        {"offer_id": a["offer_id"]},
                    )
                )
        total = earned + draw_total + offer_points
        self._credit(member, total, tx.occurred_at)
        outcome["points"] = {
            "base": base,
            "rules": rules_total,
            "draw": draw_total,
            "offers": offer_points,
            "total": total,
        }
        outcome["offers_applied"] = applied
        outcome["rules_applied"] = [{"rule_id": r, "points": p} for r, p in rule_points]
        outcome["draw"] = draws[0] if draws else None
        outcome["draws"] = draws
        outcome["balance"] = balance_summary(member, self.now)
        return outcome

    def _offers(self, tx: CardTransaction, member: MemberState, base: int) -> list[dict[str, Any]]:
        applied = self.book.apply(
            tx, self.facts(tx, member), base, self.program.local_date(tx.occurred_at)
        )
        if applied is None:
            return []
        return [
            {
                "offer_id": applied.offer_id,
                "reward_minor": applied.reward_minor,
                "points": applied.points,
                "merchant_id": applied.merchant_id,
            }
        ]

    def _periods(self, occurred_at: datetime) -> tuple[str, str]:
        day = self.program.local_date(occurred_at)
        return f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"

    def _rules(self, tx: CardTransaction, facts: Facts, base: int) -> list[tuple[str, int]]:
        periods = self._periods(tx.occurred_at)
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
        paying = choose_bonuses(candidates)
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

    def _draws(self, tx: CardTransaction, facts: Facts, base: int) -> list[dict[str, Any]]:
        day = self.program.local_date(tx.occurred_at)
        results = []
        for campaign_id in sorted(self.campaigns):
            state = self.campaigns[campaign_id]
            if not state.eligible(facts):
                continue
            prizes = state.campaign.prizes
            proof = draw_proof(state.secret, campaign_id, tx.id)
            drawn = prizes[prize_index(proof, prizes)].multiplier
            paid = affordable_multiplier(prizes, drawn, base, state.room(day))
            points = base * (paid - 1)
            state.spend(day, points)
            self.draws.append(
                DrawRecord(campaign_id, tx.id, tx.member_id, drawn, paid, points, proof.hex(), day)
            )
            results.append(
                {
                    "campaign_id": campaign_id,
                    "multiplier": paid,
                    "drawn_multiplier": drawn,
                    "points": points,
                    "proof": proof.hex(),
                }
            )
        return results

    def _credit(self, member: MemberState, points: int, earned_at: datetime) -> None:
        lots.credit(
            member, points, self.program.expiry_of(earned_at), self.program.available_at(self.now)
        )

    # --- refunds and reversals ------------------------------------------------------------

    def refund(self, tx: CardTransaction) -> dict[str, Any]:
        original = self.originals.get(tx.original_id or "")
        if tx.original_id is None:
            raise ValidationFailed(
                f"a {tx.kind} needs original_id", errors=[("original_id", "required")]
            )
        if original is None or original.kind != "purchase":
            raise UnknownOriginal(f"no purchase {tx.original_id} to {tx.kind}")
        if original.member_id != tx.member_id:
            raise RefundNotAllowed(f"{tx.original_id} belongs to another member")
        if original.currency != tx.currency:
            raise RefundNotAllowed(f"{tx.original_id} was in {original.currency}")
        if original.reversed:
            raise RefundNotAllowed(f"{tx.original_id} was reversed already")
        left = original.amount_minor - original.refunded_minor
        if tx.kind == "refund":
            if tx.amount_minor <= 0 or tx.amount_minor > left:
                raise RefundNotAllowed(
                    f"the refund is {tx.amount_minor} but only {left} of {tx.original_id} "
                    "is left to refund"
                )
            amount = tx.amount_minor
        else:
            amount = left
        before = original.refunded_minor
        after = before + amount
        total = original.amount_minor
        awarded = original.response["points"]
        base = _share(awarded["base"], before, after, total)
        rules = [
            (r["rule_id"], _share(r["points"], before, after, total))
            for r in original.response["rules_applied"]
        ]
        draws = [
            d | {"points": _share(d["points"], before, after, total)}
            for d in original.response.get("draws") or []
        ]
        offers = [
            o
            | {
                "reward_minor": _share(o["reward_minor"], before, after, total),
                "points": _share(o["points"], before, after, total),
            }
            for o in original.response.get("offers_applied") or []
        ]
        offer_points = sum(o["points"] for o in offers)
        planned = base + sum(p for _, p in rules) + sum(d["points"] for d in draws) + offer_points
        member = self.members[tx.member_id]
        if self.program.program.refund_policy == "within_balance":
            clawed = min(planned, max(member.balance, 0))
        else:
            clawed = planned
        lots.claw_back(member, clawed)
        self._clawback_transfers(tx, base + sum(p for _, p in rules), draws, offers, clawed)
        fully = after == total
        for o in offers:
            self._release_offer(tx, original, o, fully, amount)
        for rule_id, points in rules:
            self._count_rule(tx.member_id, rule_id, self._periods(original.occurred_at), -points)
        day = self.program.local_date(original.occurred_at)
        for d in draws:
            state = self.campaigns.get(d["campaign_id"])
            if state is not None:
                state.spend(day, -d["points"])
        original.refunded_minor = after
        original.reversed = original.reversed or tx.kind == "reversal"
        outcome = empty_outcome(tx)
        draw_total = sum(d["points"] for d in draws)
        outcome["original_id"] = original.transaction_id
        outcome["refunded_minor"] = amount
        outcome["points"] = {
            "base": -base,
            "rules": -sum(p for _, p in rules),
            "draw": -draw_total,
            "offers": -offer_points,
            "total": -clawed,
        }
        outcome["offers_applied"] = [
            o | {"reward_minor": -o["reward_minor"], "points": -o["points"]} for o in offers
        ]
        outcome["forgiven"] = planned - clawed
        outcome["rules_applied"] = [{"rule_id": r, "points": -p} for r, p in rules]
        negative_draws = [d | {"points": -d["points"]} for d in draws]
        outcome["draw"] = negative_draws[0] if negative_draws else None
        outcome["draws"] = negative_draws
        outcome["balance"] = balance_summary(member, self.now)
        return outcome

    def _release_offer(
        self,
        tx: CardTransaction,
        original: Original,
        released: dict[str, Any],
        fully: bool,
        amount: int,
    ) -> None:
        self.book.release(
            tx,
            original.transaction_id,
            AppliedOffer(
                released["offer_id"],
                released["merchant_id"],
                released["reward_minor"],
                released["points"],
            ),
            fully,
            amount,
            self.program.local_date(original.occurred_at),
        )

    def _clawback_transfers(
        self,
        tx: CardTransaction,
        program_part: int,
        draws: list[dict[str, Any]],
        offers: list[dict[str, Any]],
        clawed: int,
    ) -> None:
        left = clawed
        legs: list[tuple[str, int, dict[str, Any]]] = [(PROGRAM_ACCOUNT, program_part, {})] + [
            (campaign_account(d["campaign_id"]), d["points"], {"campaign_id": d["campaign_id"]})
            for d in draws
        ]
        legs += [
            (merchant_account(o["merchant_id"]), o["points"], {"offer_id": o["offer_id"]})
            for o in offers
        ]
        for account, planned, detail in legs:
            amount = min(planned, left)
            if amount > 0:
                self.transfers.append(
                    TransferPlan(
                        member_account(tx.member_id),
                        account,
                        amount,
                        "clawback",
                        tx.member_id,
                        tx.id,
                        detail | {"original_id": tx.original_id, "kind": tx.kind},
                    )
                )
            left -= amount


def plan_batch(
    transactions: list[CardTransaction],
    *,
    program: CompiledProgram,
    rules: RuleSet,
    campaigns: dict[str, CampaignState],
    members: dict[str, MemberState],
    originals: dict[str, Original],
    usage: Usage,
    now: datetime,
    book: OfferMatcher | None = None,
) -> BatchPlan:
    """Plan every transaction of a batch in order, each seeing the effects of the ones
    before it (caps, budgets, balances). A transaction that cannot be processed gets its
    error as outcome and changes nothing."""
    planner = _Planner(program, rules, campaigns, members, originals, usage, now, book)
    outcomes: list[dict[str, Any] | RewardsError] = []
    for tx in transactions:
        if tx.currency != program.program.currency:
            outcomes.append(
                ValidationFailed(
                    f"the program's currency is {program.program.currency}",
                    errors=[("currency", f"must be {program.program.currency}")],
                )
            )
            continue
        try:
            if tx.kind == "purchase":
                outcome = planner.purchase(tx)
                outcomes.append(outcome)
                # A refund later in the same batch may point at this purchase.
                originals[tx.id] = Original(
                    tx.id,
                    tx.member_id,
                    "purchase",
                    tx.amount_minor,
                    tx.currency,
                    0,
                    False,
                    tx.occurred_at,
                    outcome,
                )
            else:
                outcomes.append(planner.refund(tx))
        except RewardsError as exc:
            outcomes.append(exc)
    return BatchPlan(
        outcomes=outcomes,
        transfers=planner.transfers,
        draws=planner.draws,
        members=members,
        usage=planner.usage,
        rule_budget_used=planner.budget_used,
        campaigns=campaigns,
        originals=originals,
    )


class LockPlan(msgspec.Struct, frozen=True):
    """The budget rows a batch may touch: locked and loaded before it is planned."""

    budget_rules: list[str]
    capped: list[tuple[str, str]]  # (member, rule) with a per-member cap
    periods: list[str]
    campaigns: list[str]
    days: list[date]


def lock_plan(
    transactions: list[CardTransaction],
    *,
    program: CompiledProgram,
    rules: RuleSet,
    campaigns: dict[str, CampaignState],
    members: dict[str, MemberState],
    originals: dict[str, Original],
) -> LockPlan:
    """Which rules with a budget, which member caps and which budgeted campaigns the batch
    may touch, so that exactly those rows are locked (in a fixed order) and loaded."""
    budget_rules: set[str] = set()
    capped: set[tuple[str, str]] = set()
    periods: set[str] = set()
    budgeted: set[str] = set()
    days: set[date] = set()
    for tx in transactions:
        member = members.get(tx.member_id)
        if member is None:
            continue
        if tx.kind == "purchase":
            facts = facts_of(tx, member, program)
            matched = [r.id for r in rules.matching(facts)]
            when = tx.occurred_at
            eligible = [c.id for c in campaigns.values() if c.eligible(facts)]
        else:
            original = originals.get(tx.original_id or "")
            if original is None:
                continue
            matched = [r["rule_id"] for r in original.response["rules_applied"]]
            when = original.occurred_at
            eligible = [d["campaign_id"] for d in original.response.get("draws") or []]
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
        for campaign_id in eligible:
            state = campaigns.get(campaign_id)
            if state is not None and state.campaign.budget != DrawBudget():
                budgeted.add(campaign_id)
                days.add(day)
    return LockPlan(
        sorted(budget_rules), sorted(capped), sorted(periods), sorted(budgeted), sorted(days)
    )
