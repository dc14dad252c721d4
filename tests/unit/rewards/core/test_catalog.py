"""The catalog's pure rules: which refusal a redemption gets, in the order a member would
want it explained, and which items are valid at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.core.catalog import (
    CatalogItem,
    LimitReached,
    MemberLimit,
    NotActive,
    NotEligible,
    OutOfStock,
    cancel_deadline,
    generated_code,
    period_start,
    refusal,
    validate_item,
)
from rewards.core.conditions import Conditions
from rewards.core.errors import ValidationFailed
from rewards.core.lots import InsufficientPoints, Lot, MemberState

NOW = datetime.now(UTC)
ZONE = ZoneInfo("Asia/Shanghai")


def member(points: int, *, tier: str | None = None, pending: int = 0) -> MemberState:
    lots = [Lot(1, points, points, None, NOW - timedelta(days=1))]
    if pending:
        lots.append(Lot(2, pending, pending, None, NOW + timedelta(days=3)))
    return MemberState("m-1", tier, [], [], points + pending, points + pending, lots)


def item(**fields: object) -> CatalogItem:
    base: dict[str, object] = {"sku": "vip", "title": "VIP", "category": "video"}
    base["points_price"] = fields.pop("points_price", 100)
    return CatalogItem(**(base | fields))  # type: ignore[arg-type]


def why(it: CatalogItem, m: MemberState | None, **kw: object) -> object:
    args: dict[str, object] = {
        "active": True,
        "stock_left": None,
        "member": m,
        "used": 0,
        "quantity": 1,
        "now": NOW,
        "zone": ZONE,
    }
    return refusal(it, **(args | kw))  # type: ignore[arg-type]


def test_a_member_with_the_points_may_redeem() -> None:
    assert why(item(), member(100)) is None


def test_refusals_come_in_the_order_a_member_wants_them_explained() -> None:
    gold_only = Conditions(tier_in=["gold"])
    limited = MemberLimit(1, "month")
    everything_wrong = item(eligibility=gold_only, per_member_limit=limited, points_price=500)
    poor = member(10)
    assert isinstance(why(everything_wrong, poor, active=False), NotActive)
    assert isinstance(why(everything_wrong, poor), NotEligible)
    gold = member(10, tier="gold")
    assert isinstance(why(everything_wrong, gold, stock_left=0), OutOfStock)
    assert isinstance(why(everything_wrong, gold, stock_left=5, used=1), LimitReached)
    assert isinstance(why(everything_wrong, gold, stock_left=5), InsufficientPoints)


def test_an_item_outside_its_window_is_not_active() -> None:
    assert isinstance(why(item(starts_at=NOW + timedelta(hours=1)), member(500)), NotActive)
    assert isinstance(why(item(ends_at=NOW), member(500)), NotActive)


def test_pending_points_do_not_pay() -> None:
    assert isinstance(why(item(points_price=150), member(100, pending=100)), InsufficientPoints)


@given(
    points=st.integers(0, 10_000),
    price=st.integers(1, 2_000),
    quantity=st.integers(1, 5),
    stock=st.none() | st.integers(0, 10),
)
def test_a_redemption_is_allowed_exactly_when_stock_and_points_cover_it(
    points: int, price: int, quantity: int, stock: int | None
) -> None:
    answer = why(item(points_price=price), member(points), quantity=quantity, stock_left=stock)
    enough_stock = stock is None or stock >= quantity
    assert (answer is None) == (enough_stock and points >= price * quantity)


@pytest.mark.parametrize(
    ("fields", "codes", "field"),
    [
        ({"points_price": -1}, 0, "points_price"),
        ({"points_price": 0}, 0, "points_price"),
        ({"cash_price_minor": -5}, 0, "cash_price_minor"),
        ({"fulfilment": "pool"}, 0, "codes"),
        ({"fulfilment": "pool", "stock": 3}, 2, "stock"),
        ({}, 2, "codes"),
        ({"stock": -1}, 0, "stock"),
        ({"per_member_limit": MemberLimit(0)}, 0, "per_member_limit.count"),
        ({"cancel_window_hours": -1}, 0, "cancel_window_hours"),
        ({"starts_at": NOW, "ends_at": NOW}, 0, "ends_at"),
        ({"eligibility": Conditions(tier_in=[])}, 0, "eligibility.tier_in"),
    ],
)
def test_an_item_that_cannot_be_redeemed_sensibly_is_refused(
    fields: dict[str, object], codes: int, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_item(item(**fields), codes)
    assert field in [f for f, _ in refused.value.errors]


def test_limits_count_from_the_start_of_their_period_in_the_programs_zone() -> None:
    at = datetime(2030, 3, 15, 20, 30, tzinfo=UTC)  # 04:30 on the 16th in Shanghai
    assert period_start("lifetime", at, ZONE) is None
    assert period_start("day", at, ZONE) == datetime(2030, 3, 16, tzinfo=ZONE)
    assert period_start("month", at, ZONE) == datetime(2030, 3, 1, tzinfo=ZONE)
    assert period_start("year", at, ZONE) == datetime(2030, 1, 1, tzinfo=ZONE)


def test_codes_and_cancel_windows() -> None:
    codes = {generated_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(c.startswith("RWD-") and not set(c) & set("01IO") for c in codes)
    assert cancel_deadline(item(), NOW) is None
    assert cancel_deadline(item(cancel_window_hours=2), NOW) == NOW + timedelta(hours=2)
