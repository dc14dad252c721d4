"""What the hook answers for one transaction."""

from __future__ import annotations

import msgspec

from rewards.core.ledger import BalanceSummary


class PointsBreakdown(msgspec.Struct, frozen=True):
    base: int
    rules: int
    draw: int
    offers: int
    total: int
    referral: int = 0  # the referee's bonus for a first qualifying purchase
    capped: int = 0  # what the daily points cap kept from being awarded
    withheld: int = 0  # the base points a suspended or closed member's purchase did not earn
    held: int = 0  # of the total, the points held on the purchase's risk score


class RuleApplied(msgspec.Struct, frozen=True):
    rule_id: str
    points: int


class DrawResult(msgspec.Struct, frozen=True):
    campaign_id: str
    multiplier: int
    points: int
    proof: str
    drawn_multiplier: int | None = None


class MerchantOfferApplied(msgspec.Struct, frozen=True):
    """A merchant offer a purchase got (or the part of it a refund took back)."""

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
    offers_applied: tuple[MerchantOfferApplied, ...]
    balance: BalanceSummary
    draws: tuple[DrawResult, ...] = ()
    original_id: str | None = None
    forgiven: int = 0
    excluded_by: tuple[str, ...] = ()  # the exclusion lists the purchase matched
