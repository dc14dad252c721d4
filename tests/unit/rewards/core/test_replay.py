"""A replay's pure parts: the configuration in force by version or time with a draft laid
over it, how transactions are cut into batches, a new campaign's cost over many secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rewards.core.answers import Answer, PointsBreakdown
from rewards.core.campaigns import DrawBudget, DrawCampaign
from rewards.core.draw import Prize
from rewards.core.errors import ValidationFailed
from rewards.core.ledger import BalanceSummary
from rewards.core.replay import (
    Changes,
    Draft,
    DrawSamples,
    History,
    ReplayItem,
    Version,
    batches,
)
from rewards.core.transactions import CardTransaction

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # an injected clock


def rule(rule_id: str, value: str) -> dict[str, object]:
    return {"id": rule_id, "name": rule_id, "effect": {"kind": "multiplier", "value": value}}


VERSIONS = [
    Version("program", "t", 1, T0, {"base_rate": "1"}),
    Version("earn_rule", "fuel", 2, T0 + timedelta(hours=1), rule("fuel", "3")),
    Version("earn_rule", "fuel", 3, T0 + timedelta(hours=2), rule("fuel", "2")),
    Version("earn_rule", "dining", 4, T0 + timedelta(hours=3), rule("dining", "2")),
    Version("earn_rule", "dining", 5, T0 + timedelta(hours=4), None),  # deleted
]


def multipliers(history: History, version: int | None, at: datetime) -> dict[str, str]:
    config = history.at(version, at)
    return {r.id: str(r.rule.effect.value) for r in config.rules.by_id.values()}


def test_the_configuration_in_force_by_program_version_and_by_time() -> None:
    history = History(VERSIONS, {})
    assert multipliers(history, 1, T0) == {}
    assert multipliers(history, 2, T0) == {"fuel": "3"}
    assert multipliers(history, 3, T0) == {"fuel": "2"}
    assert multipliers(history, 4, T0) == {"fuel": "2", "dining": "2"}
    assert multipliers(history, 5, T0) == {"fuel": "2"}
    # Without a version: what had taken effect by then.
    assert multipliers(history, None, T0 + timedelta(minutes=90)) == {"fuel": "3"}
    assert multipliers(history, None, T0 + timedelta(hours=5)) == {"fuel": "2"}


def test_a_draft_is_laid_over_every_moment() -> None:
    draft = Draft(
        program={"base_rate": "2"},
        earn_rules=Changes(upsert=[rule("boost", "4")], remove=["fuel"]),
    )
    history = History(VERSIONS, {}, draft)
    assert multipliers(history, 2, T0) == {"boost": "4"}
    assert multipliers(history, 4, T0) == {"boost": "4", "dining": "2"}
    assert history.at(4, T0).program.program.base_rate == "2"
    broken = History(VERSIONS, {}, Draft(earn_rules=Changes(upsert=[{"id": "x"}])))
    with pytest.raises(ValidationFailed):
        broken.at(2, T0)


def item(
    n: int, member: str, version: int = 1, tier: str | None = None, kind: str = "purchase"
) -> ReplayItem:
    tx = CardTransaction(
        id=f"t{n}",
        kind=kind,
        member_id=member,
        amount_minor=100,
        currency="CNY",  # type: ignore[arg-type]
        occurred_at=T0,
        original_id="t0" if kind != "purchase" else None,
    )
    answer = Answer(
        f"t{n}", member, PointsBreakdown(1, 0, 0, 0, 1), (), None, (), BalanceSummary(1, 0)
    )
    return ReplayItem(tx, n, T0 + timedelta(seconds=n), version, tier, (), (), answer)


def test_batches_keep_one_version_and_a_member_only_when_nothing_changed() -> None:
    items = [
        item(1, "a"),
        item(2, "b"),
        item(3, "a"),  # same attributes: same batch
        item(4, "a", tier="gold"),  # a tier change: a new batch
        item(5, "c", version=2),  # another program version: a new batch
        item(6, "c", version=2, kind="refund"),  # the same member's refund: a new batch
    ]
    cut = [[i.tx.id for i in b] for b in batches(items, 500)]
    assert cut == [["t1", "t2", "t3"], ["t4"], ["t5"], ["t6"]]
    assert [len(b) for b in batches([item(n, f"m{n}") for n in range(7)], 3)] == [3, 3, 1]


def test_a_new_campaigns_cost_over_many_secrets_stays_within_its_budget() -> None:
    campaign = DrawCampaign(
        id="new",
        name="new",
        prizes=[Prize(multiplier=1, weight=50), Prize(multiplier=10, weight=50)],
        budget=DrawBudget(total_points=5000),
    )
    samples = DrawSamples(campaign, [bytes([n]) * 32 for n in range(50)])
    for n in range(200):
        samples.draw(f"tx-{n}", 100, T0.date())
    p50, p95 = samples.percentiles()
    assert 0 < p50 <= p95 <= 5000
    assert all(total <= 5000 for total in samples.totals)
    assert len(set(samples.totals)) >= 1
