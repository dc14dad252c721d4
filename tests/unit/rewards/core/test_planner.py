"""The hook's pure planner, as properties: points are conserved, caps and budgets hold,
refunds never take more than was awarded and a full refund takes exactly all of it, and the
planner changes nothing it was given. No database: each example runs in microseconds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from offers.core.matching import OfferBook, OfferUse
from offers.core.offers import Offer, OfferBudget, OfferReward, OfferState
from rewards.core.campaigns import DrawBudget, DrawCampaign
from rewards.core.draw import Prize
from rewards.core.earning import Caps, EarnRule, Effect, RuleSet
from rewards.core.errors import RewardsError
from rewards.core.ledger import member_account
from rewards.core.lots import Lot, MemberState
from rewards.core.planner import (
    Answer,
    Award,
    BatchPlan,
    CampaignBudget,
    CardTransaction,
    Original,
    Usage,
    batch_facts,
    lock_plan,
    plan_batch,
)
from rewards.core.program import AbuseLimits, CompiledProgram, Program, Referral
from rewards.core.referrals import PendingReferral, ReferralBook

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)  # an injected clock
PROGRAM = CompiledProgram.of(Program(mcc_rates={"5541": "0.5"}, expiry_months=12))
MEMBERS = ["m-1", "m-2", "m-3"]


def members() -> dict[str, MemberState]:
    return {m: MemberState(m, None, [], [], 0, 0, []) for m in MEMBERS}


def purchase(n: int, member: str, amount: int, mcc: str = "5812", **extra: Any) -> CardTransaction:
    return CardTransaction(
        id=f"p{n}",
        kind="purchase",
        member_id=member,
        amount_minor=amount,
        currency="CNY",
        occurred_at=NOW - timedelta(hours=n % 48),
        mcc=mcc,
        merchant_id="shop",
        **extra,
    )


RULES = RuleSet(
    [
        EarnRule("triple", "3x", Effect("multiplier", "3"), caps=Caps(per_member_per_day=700)),
        EarnRule("bonus", "bonus", Effect("fixed", 50), caps=Caps(budget_points=400)),
    ]
)
CAMPAIGN = CampaignBudget(
    DrawCampaign(
        "swipe",
        "Every swipe",
        [Prize(1, 5), Prize(2, 3), Prize(5, 1)],
        budget=DrawBudget(daily_points=3000, total_points=5000),
    ),
    b"s" * 32,
    0,
)
OFFER = Offer(
    "ten-off",
    "10% off",
    "dining",
    OfferReward("percent_off", 10, max_reward_minor=2000),
    budget=OfferBudget(max_redemptions=4, max_reward_minor=6000),
    per_member_limit=2,
    activation="auto",
)


def book() -> OfferBook:
    return OfferBook({OFFER.id: OfferState(OFFER, "shop", frozenset(), 0, 0)}, {}, {})


def plan(txs: list[CardTransaction], **given: Any) -> BatchPlan:
    inputs: dict[str, Any] = {
        "program": PROGRAM,
        "rules": RULES,
        "campaigns": {"swipe": CAMPAIGN},
        "members": members(),
        "originals": {},
        "usage": Usage({}, {}),
        "now": NOW,
        "offers": book(),
    }
    inputs.update(given)
    return plan_batch(txs, **inputs)


amounts = st.integers(min_value=0, max_value=200_000)
purchases = st.lists(
    st.tuples(st.sampled_from(MEMBERS), amounts, st.sampled_from(["5812", "5541", "6011"])),
    min_size=1,
    max_size=25,
)


def to_txs(items: list[tuple[str, int, str]]) -> list[CardTransaction]:
    return [purchase(n, m, a, mcc) for n, (m, a, mcc) in enumerate(items)]


def answers(p: BatchPlan) -> list[Answer]:
    assert not [a for a in p.answers if isinstance(a, RewardsError)]
    return [a for a in p.answers if isinstance(a, Answer)]


@given(purchases)
@settings(max_examples=150, deadline=None)
def test_every_point_awarded_is_a_transfer_to_the_member(items: list[tuple[str, int, str]]) -> None:
    txs = to_txs(items)
    p = plan(txs)
    for tx, answer in zip(txs, answers(p), strict=True):
        credited = sum(
            t.amount
            for t in p.transfers
            if t.transaction_id == tx.id and t.credit == member_account(tx.member_id)
        )
        assert credited == answer.points.total
        parts = answer.points
        assert parts.total == parts.base + parts.rules + parts.draw + parts.offers
    balances = {m.member_id: m.balance for m in p.members}
    for member in MEMBERS:
        awarded = sum(a.points.total for a in answers(p) if a.member_id == member)
        assert balances.get(member, 0) == awarded
    held = dict.fromkeys(MEMBERS, 0)
    for lot in p.lots:
        held[lot.member_id] += lot.remaining
    assert held == {m: balances.get(m, 0) for m in MEMBERS}


@given(purchases)
@settings(max_examples=150, deadline=None)
def test_caps_and_budgets_are_never_exceeded(items: list[tuple[str, int, str]]) -> None:
    p = plan(to_txs(items))
    per_day: dict[tuple[str, str], int] = {}
    bonus_paid = 0
    for tx, answer in zip(to_txs(items), answers(p), strict=True):
        for r in answer.rules_applied:
            if r.rule_id == "triple":
                key = (tx.member_id, PROGRAM.local_date(tx.occurred_at).isoformat())
                per_day[key] = per_day.get(key, 0) + r.points
            else:
                bonus_paid += r.points
    assert all(points <= 700 for points in per_day.values())
    assert bonus_paid <= 400
    assert dict(p.rule_budgets).get("bonus", 0) == bonus_paid
    daily: dict[Any, int] = {}
    for d in p.draws:
        daily[d.day] = daily.get(d.day, 0) + d.points
    assert all(points <= 3000 for points in daily.values())
    assert sum(daily.values()) <= 5000
    offers = [o for a in answers(p) for o in a.offers_applied]
    assert len(offers) <= 4
    assert sum(o.reward_minor for o in offers) <= 6000
    for member in MEMBERS:
        assert sum(1 for a in answers(p) if a.member_id == member and a.offers_applied) <= 2


@given(amounts.filter(lambda a: a > 0), st.lists(st.integers(1, 100), min_size=1, max_size=6))
@settings(max_examples=150, deadline=None)
def test_refunds_take_at_most_what_was_awarded_and_a_full_refund_takes_it_all(
    amount: int, parts: list[int]
) -> None:
    bought = purchase(0, "m-1", amount)
    total = sum(parts)
    cuts = [amount * sum(parts[: k + 1]) // total for k in range(len(parts))]
    refunds = []
    before = 0
    for k, cut in enumerate(cuts):
        if cut > before:
            refunds.append(
                msgspec.structs.replace(
                    bought, id=f"r{k}", kind="refund", amount_minor=cut - before, original_id="p0"
                )
            )
        before = cut
    p = plan([bought, *refunds])
    award, *clawbacks = answers(p)
    for field in ("base", "rules", "draw", "offers", "total"):
        taken = -sum(getattr(c.points, field) for c in clawbacks)
        assert 0 <= taken <= getattr(award.points, field)
        if before == amount:
            assert taken == getattr(award.points, field)
    reward = award.offers_applied[0].reward_minor if award.offers_applied else 0
    returned = -sum(o.reward_minor for c in clawbacks for o in c.offers_applied)
    assert 0 <= returned <= reward
    final = {m.member_id: m.balance for m in p.members}["m-1"]
    assert final == award.points.total + sum(c.points.total for c in clawbacks)
    if before == amount:
        assert final == 0


def test_a_reversal_voids_what_is_left_from_the_original_award() -> None:
    original = Original(
        "p9",
        "m-1",
        "purchase",
        10000,
        "CNY",
        4000,
        False,
        NOW - timedelta(days=1),
        Award(base=100, rules=(("triple", 200),)),
    )
    member = MemberState("m-1", None, [], [], 180, 300, [])
    reversal = CardTransaction("v1", "reversal", "m-1", 0, "CNY", NOW, mcc="5812", original_id="p9")
    p = plan([reversal], members={"m-1": member}, originals={"p9": original})
    (answer,) = answers(p)
    # 60% was left: floor(100 × 10000/10000) − floor(100 × 4000/10000) = 60, and 120 of 200.
    assert (answer.points.base, answer.points.rules) == (-60, -120)
    assert answer.original_id == "p9"
    assert [(o.transaction_id, o.refunded_minor, o.reversed) for o in p.originals] == [
        ("p9", 10000, True)
    ]
    again = plan(
        [msgspec.structs.replace(reversal, id="v2")],
        members={"m-1": member},
        originals={"p9": msgspec.structs.replace(original, reversed=True)},
    )
    assert isinstance(again.answers[0], RewardsError)
    assert again.transfers == ()


@given(purchases)
@settings(max_examples=60, deadline=None)
def test_the_planner_changes_nothing_it_was_given(items: list[tuple[str, int, str]]) -> None:
    given_members = members()
    lot = Lot(7, 500, 500, NOW + timedelta(days=90), NOW - timedelta(days=9), (500, 500))
    given_members["m-1"] = MemberState("m-1", "gold", ["young"], ["car-owner"], 500, 900, [lot])
    offers = OfferBook(
        {OFFER.id: OfferState(OFFER, "shop", frozenset(), 1, 100)},
        {},
        {("m-1", OFFER.id): OfferUse(True, 1)},
    )
    usage = Usage({("m-1", "triple", f"d:{NOW.date().isoformat()}"): 100}, {"bonus": 50})

    def state() -> Any:
        counters = [(o.redemptions_used, o.reward_used) for o in offers.offers.values()]
        return copy.deepcopy((given_members, usage, offers.uses, counters))

    snapshot = state()
    first = plan(to_txs(items), members=given_members, usage=usage, offers=offers)
    assert state() == snapshot
    # And the same inputs give the same plan.
    second = plan(to_txs(items), members=given_members, usage=usage, offers=offers)
    assert msgspec.json.encode(first.answers) == msgspec.json.encode(second.answers)
    assert first.transfers == second.transfers


def test_a_purchase_in_another_currency_is_refused_and_writes_nothing() -> None:
    p = plan([msgspec.structs.replace(purchase(0, "m-1", 1000), currency="USD")])
    assert isinstance(p.answers[0], RewardsError)
    assert (p.transfers, p.lots, p.draws, p.spend) == ((), (), (), ())


def test_the_lock_plan_names_exactly_the_budget_rows_the_batch_may_touch() -> None:
    txs = [
        purchase(0, "m-1", 10000),
        msgspec.structs.replace(purchase(1, "m-2", 10000), currency="USD"),  # refused first
        purchase(2, "m-3", 10000, mcc="6011"),
    ]
    facts = batch_facts(txs, members(), PROGRAM)
    assert facts[1] is None
    locks = lock_plan(
        txs,
        program=PROGRAM,
        rules=RULES,
        campaigns=[CAMPAIGN.campaign],
        members=members(),
        originals={},
        facts=facts,
    )
    assert locks.budget_rules == ["bonus"]
    assert [m for m, _ in locks.capped] == ["m-1", "m-3"]
    assert locks.campaigns == ["swipe"]


@given(purchases, st.integers(0, 3000))
@settings(max_examples=150, deadline=None)
def test_the_daily_points_cap_holds_and_says_what_it_kept(
    items: list[tuple[str, int, str]], cap: int
) -> None:
    capped = CompiledProgram.of(
        msgspec.structs.replace(
            PROGRAM.program, abuse=AbuseLimits(max_points_per_member_per_day=cap)
        )
    )
    txs = to_txs(items)
    uncapped = answers(plan(txs))
    p = plan(txs, program=capped)
    per_day: dict[tuple[str, Any], int] = {}
    for tx, answer, free in zip(txs, answers(p), uncapped, strict=True):
        key = (tx.member_id, capped.local_date(tx.occurred_at))
        per_day[key] = per_day.get(key, 0) + answer.points.total
        assert answer.points.capped >= 0
        if not any(a.points.capped for a in answers(p)):
            assert answer.points == free.points  # a cap never reached changes nothing
    assert all(points <= cap for points in per_day.values())
    assert {(m, d): v for m, d, v in p.day_points} == dict(per_day.items())
    assert len(p.risk) == sum(1 for a in answers(p) if a.points.capped)


@given(
    st.lists(st.tuples(st.sampled_from(["m-2", "m-3"]), amounts), min_size=1, max_size=12),
    st.integers(0, 2),
    st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_referral_bonuses_are_paid_once_within_the_referrers_limit(
    items: list[tuple[str, int]], limit: int, ring: bool
) -> None:
    program = CompiledProgram.of(
        msgspec.structs.replace(
            PROGRAM.program,
            referral=Referral(500, 300, min_first_purchase_minor=10000, max_per_referrer=limit),
        )
    )
    pending = {
        m: PendingReferral(m, "m-1", b"phone" if ring and m == "m-3" else None)
        for m in ("m-2", "m-3")
    }
    txs = [purchase(n, m, a) for n, (m, a) in enumerate(items)]
    p = plan(txs, program=program, referrals=ReferralBook(pending, {"m-1": 0}))
    paid = [a for a in answers(p) if a.points.referral]
    assert len({a.member_id for a in paid}) == len(paid) <= limit
    assert all(a.points.referral == 300 for a in paid)
    if ring:
        assert all(a.member_id != "m-3" for a in paid)
    referrer = {m.member_id: m.balance for m in p.members}["m-1"]
    assert referrer == 500 * len(paid)
    settled = {w.referee_id: w for w in p.referrals}
    for a in paid:
        assert settled[a.member_id].status == "rewarded"
    first = {}
    for tx in txs:
        if tx.amount_minor >= 10000:
            first.setdefault(tx.member_id, tx.id)
    assert set(settled) == set(first)
    assert [r.reason for r in p.risk] == (["referral_ring"] if ring and "m-3" in first else [])


def test_a_purchase_that_would_earn_more_than_the_ledger_holds_is_refused_alone() -> None:
    from rewards.core.planner import MAX_POINTS

    huge = CompiledProgram.of(Program(base_rate="100000", expiry_months=12))
    txs = [purchase(1, "m-1", 10_000), purchase(2, "m-1", 10**13), purchase(3, "m-1", 10_000)]
    p = plan(txs, program=huge, rules=RuleSet([]), campaigns={}, offers=None)
    refused = p.answers[1]
    assert isinstance(refused, RewardsError)
    assert refused.status == 422
    ok = [a for a in p.answers if isinstance(a, Answer)]
    assert [a.transaction_id for a in ok] == ["p1", "p3"]
    # Nothing the refused one would have earned is written.
    assert sum(t.amount for t in p.transfers) == sum(a.points.total for a in ok)
    assert all(a.points.total <= MAX_POINTS for a in ok)
