"""Lots: how a member's points are held, spent, clawed back and expired (pure)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from rewards.core.errors import Conflict, Forbidden


class Lot(msgspec.Struct):
    """Points a member holds that expire together and become available together."""

    lot_id: int | None
    amount: int
    remaining: int
    expires_at: datetime | None
    available_at: datetime
    # (amount, remaining) as loaded, so that only the lots a batch changed are written back.
    saved: tuple[int, int] | None = None

    @property
    def changed(self) -> bool:
        return (self.amount, self.remaining) != self.saved


class MemberState(msgspec.Struct):
    """A member as locked for this batch: attributes, balance and open lots."""

    member_id: str
    tier: str | None
    segments: list[str]
    card_products: list[str]
    balance: int
    lifetime_earned: int
    lots: list[Lot] = []
    #: ``active`` earns; ``suspended`` and ``closed`` have their purchases recorded and
    #: earning nothing (claims and redemptions refused).
    status: str = "active"

    @property
    def earns(self) -> bool:
        return self.status == "active"


class MemberSuspended(Forbidden):
    """A suspended or closed member claims an offer or redeems a benefit."""

    type = "member_suspended"
    title = "The member's account is suspended or closed"


def ensure_earns(member: MemberState) -> None:
    """Refuse (403) what only an active member may do."""
    if not member.earns:
        raise MemberSuspended(f"member {member.member_id} is {member.status}")


class InsufficientPoints(Conflict):
    type = "insufficient_points"
    title = "Not enough points"


def credit(
    member: MemberState, points: int, expires_at: datetime | None, available_at: datetime
) -> None:
    """Add points to the member's lot of that expiry and availability; a negative balance
    (points owed after a refund) is repaid first."""
    if points <= 0:
        return
    repay = min(points, max(-member.balance, 0))
    lot = next(
        (
            lot
            for lot in member.lots
            if lot.expires_at == expires_at and lot.available_at == available_at
        ),
        None,
    )
    if lot is None:
        lot = Lot(None, 0, 0, expires_at, available_at)
        member.lots.append(lot)
    lot.amount += points
    lot.remaining += points - repay
    member.balance += points
    member.lifetime_earned += points


def _expiry_key(lot: Lot) -> tuple[int, datetime, datetime, int]:
    # Lots that never expire come last; then by availability, then by age.
    return (
        lot.expires_at is None,
        lot.expires_at or lot.available_at,
        lot.available_at,
        lot.lot_id or 2**62,
    )


def spend(member: MemberState, points: int, now: datetime) -> list[tuple[int, int]]:
    """Take points from available lots, the soonest to expire first; (lot id, points) of
    each lot taken from.

    Raises:
        InsufficientPoints: the available points do not cover it (nothing is changed).
    """
    usable = [lot for lot in member.lots if lot.available_at <= now and lot.remaining > 0]
    if sum(lot.remaining for lot in usable) < points or member.balance < points:
        raise InsufficientPoints(
            f"{points} points needed, {max(sum(lot.remaining for lot in usable), 0)} available"
        )
    left = points
    taken: list[tuple[int, int]] = []
    for lot in sorted(usable, key=_expiry_key):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take:
            lot.remaining -= take
            left -= take
            taken.append((lot.lot_id or 0, take))
    member.balance -= points
    return taken


def claw_back(member: MemberState, points: int) -> None:
    """Take clawed-back points from the newest lots first (most likely the refunded
    purchase's own, pending ones included); what the lots cannot cover leaves the balance
    negative, to be repaid from future earnings."""
    left = points
    for lot in sorted(member.lots, key=_expiry_key, reverse=True):
        if left == 0:
            break
        take = min(lot.remaining, left)
        lot.remaining -= take
        left -= take
    member.balance -= points


def expire(member: MemberState, now: datetime) -> int:
    """Empty every lot whose expiry has come; the points that expired."""
    expired = 0
    for lot in member.lots:
        if lot.expires_at is not None and lot.expires_at <= now and lot.remaining > 0:
            expired += lot.remaining
            lot.remaining = 0
    member.balance -= expired
    return expired
