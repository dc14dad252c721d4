"""Merchant offers (pure): what an offer is, when it applies, what it pays."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any, Literal

import msgspec

from rewards.core.conditions import Conditions, Facts, Matcher, validate_conditions
from rewards.core.errors import ValidationFailed

RewardKind = Literal["percent_off", "amount_off", "points_multiplier", "bonus_points"]
Status = Literal["pending_review", "active", "paused", "exhausted", "rejected", "ended"]


class Store(msgspec.Struct, frozen=True):
    store_id: str
    merchant_id: str
    name: str
    address: str
    lat: float
    lng: float


class OfferReward(msgspec.Struct, frozen=True, omit_defaults=True):
    kind: RewardKind
    value: int | str  # percent, minor units, multiplier (decimal string or int), points
    max_reward_minor: int | None = None


class OfferSchedule(msgspec.Struct, frozen=True, omit_defaults=True):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days_of_week: list[int] | None = None


class OfferBudget(msgspec.Struct, frozen=True, omit_defaults=True):
    max_redemptions: int | None = None
    max_reward_minor: int | None = None


class OfferFunding(msgspec.Struct, frozen=True):
    """What the merchant pays of its offer: a share of each reward it gives (the program
    pays the rest) and a fee per match."""

    merchant_share_pct: int = 0
    fee_minor_per_match: int = 0


class Offer(msgspec.Struct, frozen=True, omit_defaults=True):
    """An offer a merchant publishes; card-linked when its activation is ``claim``."""

    id: str
    title: str
    category: str
    reward: OfferReward
    min_spend_minor: int = 0
    store_ids: list[str] = []
    geofence_radius_m: int = 500
    targeting: Conditions = Conditions()
    schedule: OfferSchedule = OfferSchedule()
    budget: OfferBudget = OfferBudget()
    per_member_limit: int | None = None
    activation: Literal["claim", "auto"] = "claim"
    description: str = ""
    funding: OfferFunding | None = None


def _reward_errors(r: OfferReward) -> list[tuple[str, str]]:
    errors = []
    value = _fraction(r.value, "reward.value")
    if r.kind == "percent_off" and not 0 < value <= 100:
        errors.append(("reward.value", "a percentage above 0 and at most 100"))
    elif r.kind in ("amount_off", "bonus_points") and (not isinstance(r.value, int) or value <= 0):
        errors.append(("reward.value", "a positive whole number"))
    elif r.kind == "points_multiplier" and value <= 1:
        errors.append(("reward.value", "a multiplier above 1"))
    if r.max_reward_minor is not None and r.max_reward_minor <= 0:
        errors.append(("reward.max_reward_minor", "must be positive"))
    return errors


def _limit_errors(offer: Offer) -> list[tuple[str, str]]:
    errors = [
        (f"budget.{name}", "must be positive")
        for name in ("max_redemptions", "max_reward_minor")
        if (limit := getattr(offer.budget, name)) is not None and limit <= 0
    ]
    if offer.per_member_limit is not None and offer.per_member_limit < 1:
        errors.append(("per_member_limit", "at least 1"))
    if offer.funding is not None:
        if not 0 <= offer.funding.merchant_share_pct <= 100:
            errors.append(("funding.merchant_share_pct", "between 0 and 100"))
        if offer.funding.fee_minor_per_match < 0:
            errors.append(("funding.fee_minor_per_match", "must not be negative"))
    return errors


def _fraction(value: int | str, field: str) -> Fraction:
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ValidationFailed(
            f"{field} must be a number", errors=[(field, "not a number")]
        ) from None


def validate_offer(offer: Offer) -> None:
    """Refuse an offer that cannot apply or pay sensibly (422)."""
    errors = [*_reward_errors(offer.reward), *_limit_errors(offer)]
    if not 10 <= offer.geofence_radius_m <= 5000:
        errors.append(("geofence_radius_m", "between 10 and 5000 metres"))
    if offer.min_spend_minor < 0:
        errors.append(("min_spend_minor", "must not be negative"))
    s = offer.schedule
    if s.starts_at and s.ends_at and s.ends_at <= s.starts_at:
        errors.append(("schedule.ends_at", "must be after starts_at"))
    if s.days_of_week is not None and (
        not s.days_of_week or not all(1 <= d <= 7 for d in s.days_of_week)
    ):
        errors.append(("schedule.days_of_week", "ISO days 1 (Monday) to 7 (Sunday)"))
    if len(set(offer.store_ids)) != len(offer.store_ids):
        errors.append(("store_ids", "listed twice"))
    try:
        validate_conditions(offer.targeting, "targeting")
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


def effective_status(stored: str, offer: Offer, now: datetime) -> Status:
    """The status a caller sees: ``ended`` once the schedule is over."""
    if (
        stored in ("active", "paused", "exhausted")
        and offer.schedule.ends_at
        and now >= offer.schedule.ends_at
    ):
        return "ended"
    return stored  # type: ignore[return-value]


def reward_of(offer: Offer, amount_minor: int, base_points: int) -> tuple[int, int]:
    """(money off in minor units, bonus points) the offer pays on a purchase, before budget.

    ``percent_off`` rounds down; ``points_multiplier`` adds base × (m − 1) like an earn rule.
    ``max_reward_minor`` caps the money reward per purchase.
    """
    r = offer.reward
    value = Fraction(str(r.value))
    money = points = 0
    if r.kind == "percent_off":
        money = int(amount_minor * value / 100)
    elif r.kind == "amount_off":
        money = min(int(value), amount_minor)
    elif r.kind == "points_multiplier":
        points = int(base_points * (value - 1))
    else:
        points = int(value)
    if r.max_reward_minor is not None:
        money = min(money, r.max_reward_minor)
    return money, points


def value_of(money: int, points: int) -> int:
    """How offers are compared when several apply: money in minor units, a point as one
    minor unit (1 fen). The member gets the most valuable; ties go to the lowest id."""
    return money + points


class OfferState:
    """An active offer as loaded for a batch, with its budget as read."""

    __slots__ = (
        "created_at",
        "matcher",
        "merchant_id",
        "offer",
        "redemptions_used",
        "reward_used",
        "stores",
    )

    def __init__(
        self,
        offer: Offer,
        merchant_id: str,
        stores: frozenset[str],
        redemptions_used: int,
        reward_used: int,
        created_at: datetime | None = None,
    ) -> None:
        self.offer = offer
        self.merchant_id = merchant_id
        self.stores = stores
        self.redemptions_used = redemptions_used
        self.reward_used = reward_used
        self.created_at = created_at
        self.matcher = Matcher(offer.targeting)

    def at(self, store_id: str | None, merchant_id: str | None) -> bool:
        """Whether a purchase there is at one of the offer's stores: by store when the hook
        names one (all the merchant's stores when the offer lists none), else by merchant."""
        if store_id is not None:
            return store_id in self.stores if self.stores else merchant_id == self.merchant_id
        return merchant_id == self.merchant_id

    def in_schedule(self, facts: Facts) -> bool:
        s = self.offer.schedule
        if s.starts_at and facts.occurred_at < s.starts_at:
            return False
        if s.ends_at and facts.occurred_at >= s.ends_at:
            return False
        return not (s.days_of_week and facts.day_of_week not in s.days_of_week)

    def room_at(self, redemptions_used: int, reward_used: int) -> tuple[bool, int | None]:
        """(a redemption is left, money/points the budget can still pay — None: no cap), when
        the budget has paid these."""
        b = self.offer.budget
        left = b.max_redemptions is None or redemptions_used < b.max_redemptions
        if b.max_reward_minor is None:
            return left, None
        return left, max(b.max_reward_minor - reward_used, 0)


class StoredOffer(msgspec.Struct, frozen=True):
    offer: Offer
    merchant_id: str
    status: str
    redemptions_used: int
    reward_used_minor: int
    reject_reason: str | None
    created_at: datetime


def store_of(row: Any) -> Store:
    return Store(
        row["store_id"], row["merchant_id"], row["name"], row["address"], row["lat"], row["lng"]
    )


def stored_offer_of(row: Any) -> StoredOffer:
    return StoredOffer(
        msgspec.convert(row["definition"], Offer),
        row["merchant_id"],
        row["status"],
        row["redemptions_used"],
        row["reward_used_minor"],
        row["reject_reason"],
        row["created_at"],
    )


def offer_state_of(row: Any) -> OfferState:
    return OfferState(
        msgspec.convert(row["definition"], Offer),
        row["merchant_id"],
        frozenset(row["stores"]),
        row["redemptions_used"],
        row["reward_used_minor"],
        row["created_at"],
    )


class Merchant(msgspec.Struct, frozen=True):
    """A merchant of the program."""

    merchant_id: str
    name: str
    category: str
    created_at: datetime
