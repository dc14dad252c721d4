"""Offer rewards and card-linked matching (pure): what an offer pays, which offer a purchase
gets, and that budgets and per-member limits hold across a batch."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from offers.core.matching import OfferBook, OfferUse
from offers.core.offers import Offer, OfferBudget, OfferReward, OfferState, reward_of
from rewards.core.conditions import Facts
from rewards.core.planner import CardTransaction

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
DAY = date(2030, 6, 15)


def offer(offer_id: str, reward: OfferReward, **fields: object) -> Offer:
    return Offer(offer_id, offer_id, "dining", reward, activation="auto", **fields)  # type: ignore[arg-type]


def tx(n: int, member: str, amount: int) -> CardTransaction:
    return CardTransaction(f"t{n}", "purchase", member, amount, "CNY", NOW, merchant_id="shop")


def facts(amount: int) -> Facts:
    return Facts(amount_minor=amount, occurred_at=NOW, local=NOW, merchant_id="shop")


@given(
    st.integers(0, 10**9),
    st.integers(1, 100),
    st.one_of(st.none(), st.integers(1, 10**6)),
)
@settings(max_examples=200, deadline=None)
def test_percent_off_rounds_down_and_respects_its_cap(
    amount: int, percent: int, cap: int | None
) -> None:
    money, points = reward_of(
        offer("o", OfferReward("percent_off", percent, max_reward_minor=cap)), amount, 0
    )
    assert points == 0
    assert money == min(amount * percent // 100, cap if cap is not None else amount)
    assert 0 <= money <= amount


@given(st.integers(0, 10**7), st.integers(0, 10**6))
@settings(max_examples=100, deadline=None)
def test_an_amount_off_never_pays_more_than_the_purchase(amount: int, off: int) -> None:
    money, _ = reward_of(offer("o", OfferReward("amount_off", off)), amount, 0)
    assert money == min(off, amount)


def test_the_most_valuable_offer_wins_and_ties_go_to_the_lowest_id() -> None:
    book = OfferBook(
        {
            "b-points": OfferState(
                offer("b-points", OfferReward("bonus_points", 500)), "shop", frozenset(), 0, 0
            ),
            "a-money": OfferState(
                offer("a-money", OfferReward("amount_off", 500)), "shop", frozenset(), 0, 0
            ),
            "c-less": OfferState(
                offer("c-less", OfferReward("amount_off", 400)), "shop", frozenset(), 0, 0
            ),
        }
    )
    found = book.start().apply(tx(0, "m-1", 10000), facts(10000), 100, DAY, None)
    assert found is not None
    applied, kept = found
    assert kept == 0
    assert (applied.offer_id, applied.reward_minor, applied.points) == ("a-money", 500, 0)


@given(
    st.lists(st.tuples(st.sampled_from(["m-1", "m-2", "m-3"]), st.integers(0, 50000)), max_size=40),
    st.integers(0, 6),
    st.integers(0, 20000),
    st.integers(1, 3),
)
@settings(max_examples=150, deadline=None)
def test_budgets_and_member_limits_hold_across_a_batch_and_the_book_is_left_as_it_was(
    purchases: list[tuple[str, int]], max_uses: int, max_reward: int, limit: int
) -> None:
    ten = offer(
        "ten",
        OfferReward("percent_off", 10),
        budget=OfferBudget(max_redemptions=max_uses, max_reward_minor=max_reward),
        per_member_limit=limit,
    )
    state = OfferState(ten, "shop", frozenset(), 0, 0)
    book = OfferBook({"ten": state}, {}, {("m-1", "ten"): OfferUse(True, 0)})
    session = book.start()
    paid: list[tuple[str, int]] = []
    for n, (member, amount) in enumerate(purchases):
        found = session.apply(tx(n, member, amount), facts(amount), 0, DAY, None)
        if found is not None:
            paid.append((member, found[0].reward_minor))
    assert len(paid) <= max_uses
    assert sum(money for _, money in paid) <= max_reward
    for member in ("m-1", "m-2", "m-3"):
        assert sum(1 for m, _ in paid if m == member) <= limit
    effects = session.effects()
    assert [r.reward_minor for r in effects.records] == [money for _, money in paid]
    if paid:
        (delta,) = effects.budgets
        assert (delta.uses, delta.reward) == (len(paid), sum(money for _, money in paid))
    assert (state.redemptions_used, state.reward_used) == (0, 0)
    assert book.uses == {("m-1", "ten"): OfferUse(True, 0)}


def test_the_daily_cap_keeps_points_from_a_points_offer_and_its_budget_pays_only_the_rest() -> None:
    book = OfferBook(
        {
            "pts": OfferState(
                offer("pts", OfferReward("bonus_points", 500)), "shop", frozenset(), 0, 0
            )
        }
    )
    session = book.start()
    found = session.apply(tx(0, "m-1", 10000), facts(10000), 100, DAY, 120)
    assert found is not None
    applied, kept = found
    assert (applied.points, kept) == (120, 380)
    (delta,) = session.effects().budgets
    assert delta.reward == 120
    assert session.apply(tx(1, "m-1", 10000), facts(10000), 100, DAY, 0) is None
