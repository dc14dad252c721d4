"""Lots, as properties: what a member holds always equals the balance, spending takes the
soonest to expire first and never what is not available, expiry takes only what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.core import lots
from rewards.core.lots import InsufficientPoints, MemberState

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)  # an injected clock
MONTHS = [NOW + timedelta(days=30 * k) for k in range(-2, 6)]

credit = st.tuples(
    st.just("credit"),
    st.integers(0, 5000),
    st.sampled_from([*MONTHS, None]),
    st.sampled_from([NOW - timedelta(days=1), NOW + timedelta(days=3)]),
)
spend = st.tuples(st.just("spend"), st.integers(1, 5000))
claw = st.tuples(st.just("claw"), st.integers(1, 5000))
operations = st.lists(st.one_of(credit, spend, claw), max_size=40)


def held(member: MemberState) -> int:
    return sum(lot.remaining for lot in member.lots)


@given(operations)
@settings(max_examples=200, deadline=None)
def test_the_lots_hold_exactly_the_positive_balance(ops: list[tuple[object, ...]]) -> None:
    member = MemberState("m-1", None, [], [], 0, 0, [])
    for op in ops:
        if op[0] == "credit":
            _, points, expires, available = op
            lots.credit(member, points, expires, available)  # type: ignore[arg-type]
        elif op[0] == "spend":
            before = (member.balance, [lot.remaining for lot in member.lots])
            try:
                lots.spend(member, op[1], NOW)  # type: ignore[arg-type]
            except InsufficientPoints:
                assert (member.balance, [lot.remaining for lot in member.lots]) == before
        else:
            lots.claw_back(member, op[1])  # type: ignore[arg-type]
        assert held(member) == max(member.balance, 0)
        assert all(lot.remaining >= 0 for lot in member.lots)


def test_spending_takes_available_points_the_soonest_to_expire_first() -> None:
    member = MemberState("m-1", None, [], [], 0, 0, [])
    lots.credit(member, 100, MONTHS[4], NOW - timedelta(days=1))
    lots.credit(member, 100, MONTHS[3], NOW - timedelta(days=1))
    lots.credit(member, 100, MONTHS[2], NOW + timedelta(days=3))  # pending: not spendable
    lots.spend(member, 150, NOW)
    remaining = {lot.expires_at: lot.remaining for lot in member.lots}
    assert remaining == {MONTHS[3]: 0, MONTHS[4]: 50, MONTHS[2]: 100}
    with pytest.raises(InsufficientPoints):
        lots.spend(member, 51, NOW)


@given(st.lists(st.tuples(st.integers(1, 1000), st.sampled_from([*MONTHS, None])), max_size=12))
@settings(max_examples=100, deadline=None)
def test_expiry_takes_exactly_the_lots_that_are_due(
    credits: list[tuple[int, datetime | None]],
) -> None:
    member = MemberState("m-1", None, [], [], 0, 0, [])
    for points, expires in credits:
        lots.credit(member, points, expires, NOW - timedelta(days=1))
    due = sum(p for p, e in credits if e is not None and e <= NOW)
    assert lots.expire(member, NOW) == due
    assert held(member) == member.balance == sum(p for p, _ in credits) - due
    assert lots.expire(member, NOW) == 0


def test_a_debt_is_repaid_first_from_new_points() -> None:
    member = MemberState("m-1", None, [], [], 0, 0, [])
    lots.claw_back(member, 300)
    assert member.balance == -300
    lots.credit(member, 500, MONTHS[4], NOW)
    assert (member.balance, held(member)) == (200, 200)
