"""The benefit catalog (pure): items, who may redeem what now, and why not."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from rewards.core.conditions import Conditions, Facts, Matcher, validate_conditions
from rewards.core.errors import Conflict, RewardsError, ValidationFailed
from rewards.core.lots import InsufficientPoints, MemberState

Period = Literal["day", "month", "year", "lifetime"]


class MemberLimit(msgspec.Struct, frozen=True):
    count: int
    per: Period = "lifetime"


class CatalogItem(msgspec.Struct, frozen=True, omit_defaults=True):
    """A benefit: for points, or points plus a small cash price."""

    sku: str
    title: str
    category: str
    points_price: int
    cash_price_minor: int = 0
    description: str = ""
    stock: int | None = None  # generated-code items: None is unlimited
    per_member_limit: MemberLimit | None = None
    eligibility: Conditions = Conditions()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cancel_window_hours: int = 0
    fulfilment: Literal["generated", "pool"] = "generated"
    active: bool = True


def validate_item(item: CatalogItem, initial_codes: int) -> None:
    """Refuse an item that cannot be redeemed sensibly (422)."""
    errors = [*_price_errors(item), *_stock_errors(item, initial_codes)]
    if item.starts_at and item.ends_at and item.ends_at <= item.starts_at:
        errors.append(("ends_at", "must be after starts_at"))
    if item.per_member_limit is not None and item.per_member_limit.count < 1:
        errors.append(("per_member_limit.count", "at least 1"))
    if item.cancel_window_hours < 0:
        errors.append(("cancel_window_hours", "must not be negative"))
    try:
        validate_conditions(item.eligibility, "eligibility")
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


def _price_errors(item: CatalogItem) -> list[tuple[str, str]]:
    errors = []
    if item.points_price < 0:
        errors.append(("points_price", "must not be negative"))
    if item.cash_price_minor < 0:
        errors.append(("cash_price_minor", "must not be negative"))
    if item.points_price == 0 and item.cash_price_minor == 0:
        errors.append(("points_price", "an item needs a points or a cash price"))
    return errors


def _stock_errors(item: CatalogItem, initial_codes: int) -> list[tuple[str, str]]:
    errors = []
    if item.fulfilment == "pool":
        if item.stock is not None:
            errors.append(("stock", "a pool item's stock is the number of its codes"))
        if initial_codes == 0:
            errors.append(("codes", "a pool item needs codes"))
    elif initial_codes:
        errors.append(("codes", "only pool items take uploaded codes"))
    if item.stock is not None and item.stock < 0:
        errors.append(("stock", "must not be negative"))
    return errors


class OutOfStock(Conflict):
    type = "out_of_stock"
    title = "Out of stock"


class LimitReached(Conflict):
    type = "limit_reached"
    title = "Member limit reached"


class NotEligible(RewardsError):
    status = 422
    type = "not_eligible"
    title = "Not eligible"


class NotActive(RewardsError):
    status = 422
    type = "not_active"
    title = "Not available now"


class CancelRefused(Conflict):
    type = "cancel_refused"
    title = "The redemption cannot be cancelled"


def period_start(per: Period, now: datetime, zone: object) -> datetime | None:
    """Start of the limit's current period in the program's time zone (None: lifetime)."""
    if per == "lifetime":
        return None
    local = now.astimezone(zone)  # type: ignore[arg-type]
    if per == "day":
        return local.replace(hour=0, minute=0, second=0, microsecond=0)
    if per == "month":
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def refusal(
    item: CatalogItem,
    *,
    active: bool,
    stock_left: int | None,
    member: MemberState | None,
    used: int,
    quantity: int,
    now: datetime,
    zone: object,
) -> RewardsError | None:
    """Why this member may not redeem ``quantity`` of the item now, or None if they may.

    The order is the one a member would want explained first: not available at all, not for
    them, none left, their limit, their points.
    """
    if (
        not active
        or (item.starts_at and now < item.starts_at)
        or (item.ends_at and now >= item.ends_at)
    ):
        return NotActive(f"{item.sku} is not available now")
    local = now.astimezone(zone)  # type: ignore[arg-type]
    facts = Facts(
        amount_minor=0,
        occurred_at=now,
        local=local,
        card_products=frozenset(member.card_products) if member else frozenset(),
        tier=member.tier if member else None,
        segments=frozenset(member.segments) if member else frozenset(),
    )
    if not Matcher(item.eligibility)(facts):
        return NotEligible(f"{item.sku} is not offered to this member")
    if stock_left is not None and stock_left < quantity:
        return OutOfStock(f"{item.sku} is out of stock")
    limit = item.per_member_limit
    if limit is not None and used + quantity > limit.count:
        return LimitReached(
            f"{item.sku} can be redeemed {limit.count} time(s) per {limit.per}; {used} already"
        )
    needed = item.points_price * quantity
    available = 0
    if member is not None:
        available = min(
            member.balance,
            sum(lot.remaining for lot in member.lots if lot.available_at <= now),
        )
    if needed > available:
        return InsufficientPoints(f"{needed} points needed, {max(available, 0)} available")
    return None


def generated_code() -> str:
    """A fresh code for items whose codes the engine makes: RWD-XXXX-XXXX-XXXX."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"RWD-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def cancel_deadline(item: CatalogItem, created_at: datetime) -> datetime | None:
    if item.cancel_window_hours <= 0:
        return None
    return created_at + timedelta(hours=item.cancel_window_hours)
