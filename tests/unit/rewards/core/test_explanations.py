"""Explanations, as properties over random programs and transactions: a rule is ``applied``
exactly when the answer names it, with the same points; every ``not_matched`` names a
condition that really fails; the member's view holds no budget figure, no other member and
no id the member has not seen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rewards.core.answers import Answer
from rewards.core.budgets import CampaignBudget
from rewards.core.campaigns import DrawBudget, DrawCampaign
from rewards.core.conditions import Conditions, Facts, Matcher
from rewards.core.draw import Prize
from rewards.core.earning import Caps, EarnRule, Effect
from rewards.core.explanations import explain
from rewards.core.locking import batch_facts
from rewards.core.lots import MemberState
from rewards.core.member_explanations import for_member
from rewards.core.planner import Usage, plan_batch
from rewards.core.program import AbuseLimits, Program
from rewards.core.replay import Config
from rewards.core.transactions import CardTransaction

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)  # an injected clock
MEMBERS = ["m-1", "m-2", "m-3"]
MCCS = ["5541", "5812", "5411", "6011"]

conditions = st.builds(
    Conditions,
    mcc_in=st.none() | st.lists(st.sampled_from(MCCS), min_size=1, max_size=2, unique=True),
    channel=st.none() | st.sampled_from(["online", "offline"]),
    tier_in=st.none() | st.just(["gold"]),
    segment_in=st.none() | st.just(["vip"]),
    card_product_in=st.none() | st.just(["car-owner"]),
    min_amount_minor=st.none() | st.integers(0, 50_000),
    days_of_week=st.none() | st.lists(st.integers(1, 7), min_size=1, max_size=3, unique=True),
)
effects = st.one_of(
    st.builds(Effect, kind=st.just("multiplier"), value=st.sampled_from(["1.5", "2", "3"])),
    st.builds(Effect, kind=st.just("fixed"), value=st.integers(0, 300)),
)
caps = st.builds(
    Caps,
    per_transaction=st.none() | st.integers(0, 500),
    per_member_per_day=st.none() | st.integers(0, 800),
    per_member_per_month=st.none() | st.integers(0, 2000),
    budget_points=st.none() | st.integers(10, 3000),
)


@st.composite
def rules(draw: Any) -> list[EarnRule]:
    count = draw(st.integers(1, 5))
    return [
        EarnRule(
            id=f"rule-{n}",
            name=f"Promotion {chr(65 + n)}",
            effect=draw(effects),
            conditions=draw(conditions),
            stacking=draw(st.booleans()),
            caps=draw(caps),
            active=draw(st.booleans() | st.just(True)),
        )
        for n in range(count)
    ]


transactions = st.lists(
    st.tuples(
        st.sampled_from(MEMBERS),
        st.integers(0, 120_000),
        st.sampled_from(MCCS),
        st.sampled_from(["online", "offline"]),
        st.integers(0, 9 * 24),  # hours before NOW
        st.booleans(),  # paid with the car-owner card
    ),
    min_size=1,
    max_size=30,
)


def member_states() -> dict[str, MemberState]:
    return {
        "m-1": MemberState("m-1", "gold", ["vip"], [], 0, 0, []),
        "m-2": MemberState("m-2", None, [], ["car-owner"], 0, 0, []),
        "m-3": MemberState("m-3", "silver", ["other"], [], 0, 0, []),
    }


CAMPAIGN = DrawCampaign(
    id="cmp-7",
    name="Lucky swipe",
    prizes=[Prize(multiplier=1, weight=6), Prize(multiplier=3, weight=4)],
    conditions=Conditions(mcc_in=["5812"]),
    budget=DrawBudget(total_points=1500),
)


def _txs(items: list[tuple[str, int, str, str, int, bool]]) -> list[CardTransaction]:
    return [
        CardTransaction(
            id=f"p{n}",
            kind="purchase",
            member_id=m,
            amount_minor=amount,
            currency="CNY",
            occurred_at=NOW - timedelta(hours=hours),
            mcc=mcc,
            merchant_id="shop",
            channel=channel,  # type: ignore[arg-type]
            card_product="car-owner" if card else None,
        )
        for n, (m, amount, mcc, channel, hours, card) in enumerate(items)
    ]


def _single(field: str, conditions: Conditions) -> Matcher:
    """A matcher of just one condition of ``conditions``."""
    return Matcher(Conditions(**{field: getattr(conditions, field)}))


def _explained(
    given_rules: list[EarnRule], items: list[tuple[str, int, str, str, int, bool]], cap: int | None
) -> list[tuple[CardTransaction, Facts | None, Answer, Any]]:
    program = Program(
        excluded_mccs=["6011"],
        abuse=AbuseLimits(max_points_per_member_per_day=cap) if cap is not None else None,
    )
    config = Config(program, given_rules, [(CAMPAIGN, b"s" * 32)])
    txs = _txs(items)
    members = member_states()
    facts = batch_facts(txs, members, config.program)
    plan = plan_batch(
        txs,
        program=config.program,
        rules=config.rules,
        campaigns={"cmp-7": CampaignBudget(CAMPAIGN, b"s" * 32, 0)},
        members=members,
        originals={},
        usage=Usage({}, {}),
        now=NOW,
        facts=facts,
    )
    found = []
    used: dict[str, dict[tuple[str, str], int]] = {}
    for tx, seen, answer in zip(txs, facts, plan.answers, strict=True):
        assert isinstance(answer, Answer)
        mine = used.setdefault(tx.member_id, {})
        explanation = explain(tx, seen, config, answer, dict(mine))
        found.append((tx, seen, answer, explanation))
        day = config.program.local_date(tx.occurred_at)
        for r in answer.rules_applied:
            for period in (f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"):
                mine[(r.rule_id, period)] = mine.get((r.rule_id, period), 0) + r.points
    return found


@given(rules(), transactions, st.none() | st.integers(100, 3000))
@settings(max_examples=300, deadline=None)
def test_an_explanation_agrees_with_the_answer_and_names_a_failing_condition(
    given_rules: list[EarnRule],
    items: list[tuple[str, int, str, str, int, bool]],
    cap: int | None,
) -> None:
    by_id = {r.id: r for r in given_rules}
    for tx, facts, answer, e in _explained(given_rules, items, cap):
        assert facts is not None
        paid = {r.rule_id: r.points for r in answer.rules_applied}
        assert {r.rule_id for r in e.rules} == set(by_id)
        for outcome in e.rules:
            rule = by_id[outcome.rule_id]
            # applied exactly when the answer names the rule, with the same points
            assert (outcome.outcome == "applied") == (outcome.rule_id in paid)
            if outcome.outcome == "applied":
                assert outcome.points == paid[outcome.rule_id]
            else:
                assert outcome.points == 0
            if outcome.outcome == "not_matched":
                field = outcome.failed_condition
                assert field is not None
                if field == "mcc_excluded":
                    assert tx.mcc == "6011"
                else:
                    assert not _single(field, rule.conditions)(facts), (field, rule)
            if outcome.outcome == "not_active":
                assert not rule.active
            if outcome.outcome in ("capped", "budget_exhausted", "outranked"):
                assert rule.active
                assert Matcher(rule.conditions)(facts)
            if outcome.outcome == "budget_exhausted":
                assert rule.caps.budget_points is not None
        for d in e.draws:
            drawn = {x.campaign_id for x in answer.draws}
            assert (d.outcome in ("applied", "budget_exhausted")) == (d.campaign_id in drawn)
            if d.outcome == "not_matched" and d.failed_condition not in (None, "mcc_excluded"):
                assert not _single(d.failed_condition, CAMPAIGN.conditions)(facts)


@given(rules(), transactions, st.none() | st.integers(100, 3000))
@settings(max_examples=200, deadline=None)
def test_the_member_view_shows_no_budget_no_other_member_and_no_unseen_id(
    given_rules: list[EarnRule],
    items: list[tuple[str, int, str, str, int, bool]],
    cap: int | None,
) -> None:
    budgets = {str(r.caps.budget_points) for r in given_rules if r.caps.budget_points}
    budgets |= {str(CAMPAIGN.budget.total_points)}
    for tx, _, answer, e in _explained(given_rules, items, cap):
        view = for_member(e)
        text = " ".join(f"{line.title} {line.message}" for line in view.lines)
        numbers = set(re.findall(r"\d+", text))
        assert not numbers & budgets, (numbers, budgets)
        assert "budget" not in text.lower()
        for other in MEMBERS:
            assert other not in text
        for rule in given_rules:
            assert rule.id not in text  # rules by their names, never their ids
        assert CAMPAIGN.id not in text
        assert view.transaction_id == tx.id
        assert view.points == answer.points.total
