"""Earning arithmetic, clause by clause: base, rules, stacking, caps, time, place."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import h3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.core.conditions import Conditions, Facts, LocalTime, Matcher
from rewards.core.earning import (
    CapRoom,
    Caps,
    CompiledRule,
    EarnRule,
    Effect,
    RuleSet,
    capped_bonus,
    choose_bonuses,
)
from rewards.core.program import CompiledProgram, Program

SHANGHAI = ZoneInfo("Asia/Shanghai")


def program(**fields: object) -> CompiledProgram:
    return CompiledProgram.of(Program(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "amount", "mcc", "points"),
    [
        ({}, 35000, "5541", 350),
        ({"mcc_rates": {"5541": "0.5"}}, 35000, "5541", 175),
        ({"mcc_rates": {"5541": "0.5"}}, 35000, "5812", 350),
        ({"base_rate": "1.5"}, 999, None, 14),  # 9.99 × 1.5 = 14.985 → 14
        ({"base_rate": "0.333333"}, 300, None, 0),  # 0.999999 → 0
        ({"base_rate": "0.1"}, 1000, None, 1),  # exact where a float would give 0.999…
        ({"excluded_mccs": ["6011"]}, 100000, "6011", 0),
        ({"currency": "JPY"}, 3500, None, 3500),
        ({"currency": "KWD"}, 3500, None, 3),
        ({"base_rate": "2"}, 1, None, 0),
    ],
)
def test_base_points_are_floor_of_amount_times_rate(
    fields: dict[str, object], amount: int, mcc: str | None, points: int
) -> None:
    assert program(**fields).base_points(amount, mcc) == points


def test_points_expire_at_the_end_of_the_month_expiry_months_later() -> None:
    p = program(expiry_months=12)
    earned = datetime(2026, 11, 21, 8, 30, tzinfo=SHANGHAI)
    assert p.expiry_of(earned) == datetime(2027, 12, 1, tzinfo=SHANGHAI)
    # 23:30 UTC on 31 January is already February in Shanghai.
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert p.expiry_of(late) == datetime(2027, 3, 1, tzinfo=SHANGHAI)
    assert program(expiry_months=None).expiry_of(earned) is None


def test_pending_points_become_available_after_pending_days() -> None:
    now = datetime(2026, 11, 21, 8, 30, tzinfo=SHANGHAI)
    assert program(pending_days=7).available_at(now) == datetime(2026, 11, 28, tzinfo=SHANGHAI)
    assert program(pending_days=0).available_at(now) < now


def facts(**fields: object) -> Facts:
    when = fields.pop("at", datetime(2026, 11, 21, 8, 30, tzinfo=SHANGHAI))
    assert isinstance(when, datetime)
    return Facts(
        amount_minor=int(fields.pop("amount_minor", 35000)),  # type: ignore[call-overload]
        occurred_at=when,
        local=when.astimezone(SHANGHAI),
        **fields,  # type: ignore[arg-type]
    )


def rule(
    rule_id: str, kind: str = "multiplier", value: str | int = "3", **fields: object
) -> CompiledRule:
    return CompiledRule(EarnRule(id=rule_id, name=rule_id, effect=Effect(kind, value), **fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("conditions", "fact_fields", "matches"),
    [
        (Conditions(mcc_in=["5541"]), {"mcc": "5541"}, True),
        (Conditions(mcc_in=["5541"]), {"mcc": "5812"}, False),
        (Conditions(merchant_in=["shell"]), {"merchant_id": "shell"}, True),
        (Conditions(channel="online"), {"channel": "offline"}, False),
        (
            Conditions(card_product_in=["car-owner"]),
            {"card_products": frozenset({"car-owner"})},
            True,
        ),
        (Conditions(tier_in=["gold"]), {"tier": "silver"}, False),
        (Conditions(segment_in=["vip", "new"]), {"segments": frozenset({"new"})}, True),
        (Conditions(min_amount_minor=35001), {}, False),
        (Conditions(min_amount_minor=35000), {}, True),
        # The injected day, 21 November 2026, is a Saturday (ISO 6).
        (Conditions(days_of_week=[6, 7]), {}, True),
        (Conditions(days_of_week=[1]), {}, False),
        # 22:30 UTC Saturday is 06:30 Sunday in Shanghai: days are the program's.
        (Conditions(days_of_week=[7]), {"at": datetime(2026, 11, 21, 22, 30, tzinfo=UTC)}, True),
        (Conditions(local_time=LocalTime("08:00", "09:00")), {}, True),
        (Conditions(local_time=LocalTime("08:31", "09:00")), {}, False),
        (Conditions(local_time=LocalTime("22:00", "09:00")), {}, True),  # over midnight
        (Conditions(local_time=LocalTime("22:00", "02:00")), {}, False),
        (Conditions(starts_at=datetime(2026, 11, 22, tzinfo=UTC)), {}, False),
        (Conditions(ends_at=datetime(2026, 11, 21, tzinfo=UTC)), {}, False),
    ],
)
def test_each_condition_clause(
    conditions: Conditions, fact_fields: dict[str, object], matches: bool
) -> None:
    assert Matcher(conditions)(facts(**fact_fields)) is matches


def test_h3_cells_match_at_any_resolution() -> None:
    lat, lng = 22.5431, 114.0579
    coarse = h3.latlng_to_cell(lat, lng, 6)
    fine_elsewhere = h3.latlng_to_cell(22.60, 114.10, 9)
    matcher = Matcher(Conditions(h3_cells=[fine_elsewhere, coarse]))
    assert matcher(facts(lat=lat, lng=lng))
    assert not matcher(facts(lat=-33.86, lng=151.21))
    assert not matcher(facts())  # no location, no match


def test_multiplier_and_fixed_bonuses() -> None:
    assert rule("m", value="3").raw_bonus(175) == 350
    assert rule("m", value="1.5").raw_bonus(175) == 87
    assert rule("f", kind="fixed", value=88).raw_bonus(175) == 88


def test_stacking_rules_all_add_and_only_the_best_exclusive_counts() -> None:
    a = rule("a", value="2", stacking=True)
    b = rule("b", kind="fixed", value=50, stacking=True)
    x = rule("x", value="3", stacking=False)
    y = rule("y", value="4", stacking=False)
    paying = choose_bonuses([(a, 100), (b, 50), (x, 200), (y, 300)])
    assert paying == [("a", 100), ("b", 50), ("y", 300)]


def test_equal_exclusive_bonuses_pick_the_lowest_id() -> None:
    x, y = rule("x", stacking=False), rule("y", stacking=False)
    assert choose_bonuses([(y, 10), (x, 10)]) == [("x", 10)]


@pytest.mark.parametrize(
    ("caps", "room", "bonus"),
    [
        (Caps(per_transaction=100), CapRoom(), 100),
        (Caps(per_member_per_day=500), CapRoom(per_day=120), 120),  # partly used
        (Caps(per_member_per_month=3000), CapRoom(per_month=0), 0),  # used up
        (Caps(budget_points=10_000), CapRoom(budget=7), 7),  # budget nearly spent
        (Caps(per_transaction=300), CapRoom(per_day=200, per_month=250, budget=900), 200),
        (Caps(), CapRoom(per_day=-5), 0),  # over-used never pays negative
    ],
)
def test_a_capped_rule_adds_what_is_left_never_more(caps: Caps, room: CapRoom, bonus: int) -> None:
    assert capped_bonus(rule("r", value="3", caps=caps), 175, room) == bonus


def test_rule_set_finds_rules_by_index_and_everywhere() -> None:
    rules = RuleSet(
        [
            EarnRule("fuel", "fuel", Effect("multiplier", "3"), Conditions(mcc_in=["5541"])),
            EarnRule("shell", "s", Effect("fixed", 5), Conditions(merchant_in=["shell"])),
            EarnRule("car", "c", Effect("fixed", 1), Conditions(card_product_in=["car-owner"])),
            EarnRule("all", "all", Effect("fixed", 1)),
            EarnRule("off", "off", Effect("fixed", 1), active=False),
        ]
    )
    found = rules.matching(
        facts(mcc="5541", merchant_id="shell", card_products=frozenset({"car-owner"}))
    )
    assert [r.id for r in found] == ["all", "car", "fuel", "shell"]
    assert [r.id for r in rules.matching(facts(mcc="5812"))] == ["all"]


rule_specs = st.lists(
    st.tuples(
        st.sampled_from(["multiplier", "fixed"]),
        st.integers(min_value=1, max_value=10),
        st.booleans(),
        st.one_of(st.none(), st.integers(min_value=0, max_value=2000)),
        st.one_of(st.none(), st.integers(min_value=-100, max_value=2000)),
    ),
    min_size=1,
    max_size=8,
)


@given(rule_specs, st.integers(min_value=0, max_value=10**7))
def test_total_is_base_plus_stacking_plus_best_exclusive_within_caps(
    specs: list[tuple[str, int, bool, int | None, int | None]], base: int
) -> None:
    candidates = []
    for n, (kind, value, stacking, per_tx, room_left) in enumerate(specs):
        r = rule(
            f"r{n}",
            kind=kind,
            value=str(value) if kind == "multiplier" else value,
            stacking=stacking,
            caps=Caps(per_transaction=per_tx),
        )
        room = CapRoom(per_day=room_left)
        bonus = capped_bonus(r, base, room)
        assert 0 <= bonus <= r.raw_bonus(base)
        if per_tx is not None:
            assert bonus <= per_tx
        if room_left is not None:
            assert bonus <= max(room_left, 0)
        candidates.append((r, bonus))
    paying = dict(choose_bonuses(candidates))
    stacking_sum = sum(b for r, b in candidates if r.stacking)
    exclusive = [b for r, b in candidates if not r.stacking]
    assert sum(paying.values()) == stacking_sum + max(exclusive, default=0)


@given(
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from(["1", "0.5", "1.5", "2", "0.01"]),
)
def test_multiplier_bonuses_are_monotone_in_amount(
    multiplier: int, a: int, b: int, rate: str
) -> None:
    p = program(base_rate=rate)
    r = rule("m", value=str(multiplier))
    low, high = sorted((a, b))
    assert r.raw_bonus(p.base_points(low, None)) <= r.raw_bonus(p.base_points(high, None))
