"""What a purchase was awarded, as the ledger recorded it: what a refund reverses."""

from __future__ import annotations

from datetime import datetime

import msgspec


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
    held: int = 0  # of its points, those still held on a risk score (not the member's yet)


def share(points: int, before: int, after: int, total: int) -> int:
    """Points of a partial refund: cumulative floors, so the sum of every refund's share
    never exceeds what was awarded and a full refund returns exactly all of it."""
    if total <= 0:
        return points
    return points * after // total - points * before // total
