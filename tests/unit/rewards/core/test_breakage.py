"""Breakage (pure): the chain ladder finds a known ultimate redemption rate, its backtest
is small where the curve is smooth, and projections stay within what a cohort could
redeem."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.core.breakage import EXPIRED, REDEEMED, REVERSED, Flow, estimate
from rewards.core.program import month_at, month_index

THROUGH = date(2030, 6, 1)


def curve(k: int, ultimate: float) -> float:
    """Cumulative share redeemed by age k: reaches ``ultimate`` at 23 months."""
    return ultimate * (1 - (1 - (k + 1) / 24) ** 2)


def synthetic(seed: int, ultimate: float, cohorts: int = 24) -> tuple[dict[date, int], list[Flow]]:
    rng = random.Random(seed)
    last = month_index(THROUGH)
    issued: dict[date, int] = {}
    flows: list[Flow] = []
    for c in range(last - cohorts + 1, last + 1):
        for _ in range(60):
            points = rng.randint(500, 5000)
            issued[month_at(c)] = issued.get(month_at(c), 0) + points
            appetite, before = rng.uniform(0.85, 1.15), 0
            for k in range(last - c + 1):
                now = min(round(points * min(curve(k, ultimate) * appetite, 1.0)), points)
                if now > before:
                    flows.append(Flow(month_at(c), month_at(c + k), REDEEMED, now - before))
                    before = now
    return issued, flows


@pytest.mark.parametrize("ultimate", [0.55, 0.72, 0.9])
def test_the_chain_ladder_finds_the_ultimate_rate_of_a_known_curve(ultimate: float) -> None:
    issued, flows = synthetic(7, ultimate)
    report = estimate(issued, flows, THROUGH, 24)
    assert report.ultimate_redemption_rate is not None
    assert abs(report.ultimate_redemption_rate - ultimate) <= 0.02
    assert report.breakage_rate == pytest.approx(1 - report.ultimate_redemption_rate)
    assert report.mape is not None
    assert report.mape <= 5
    assert len(report.cohorts) == 24
    assert report.outstanding == sum(c.issued - c.redeemed - c.expired for c in report.cohorts)


def test_the_same_input_gives_the_same_report() -> None:
    issued, flows = synthetic(3, 0.72)
    assert estimate(issued, flows, THROUGH, 24) == estimate(
        issued, list(reversed(flows)), THROUGH, 24
    )


def test_nothing_earned_gives_an_empty_report() -> None:
    report = estimate({}, [], THROUGH, 24)
    assert report.cohorts == []
    assert report.ultimate_redemption_rate is None


def test_expired_and_reversed_points_bound_the_projection() -> None:
    cohort = month_at(month_index(THROUGH) - 30)
    young = month_at(month_index(THROUGH))
    issued = {cohort: 1000, young: 500}
    flows = [
        Flow(cohort, cohort, REDEEMED, 300),
        Flow(cohort, month_at(month_index(cohort) + 24), EXPIRED, 600),
        Flow(cohort, cohort, REVERSED, 100),
    ]
    report = estimate(issued, flows, THROUGH, 24)
    old, new = report.cohorts
    # Past the expiry: what it redeemed is all it ever will.
    assert (old.issued, old.redeemed, old.expired, old.outstanding) == (900, 300, 600, 0)
    assert old.projected_redemption == 300
    # A cohort that redeemed nothing yet takes the others' rate.
    assert new.projected_redemption == round(500 * 300 / 900)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 11),  # cohort age at THROUGH
            st.integers(0, 11),  # months after the cohort
            st.sampled_from([REDEEMED, EXPIRED, REVERSED]),
            st.integers(1, 400),
        ),
        max_size=40,
    ),
    st.lists(st.integers(1, 5000), min_size=12, max_size=12),
)
def test_projections_stay_between_redeemed_and_what_could_be(
    moves: list[tuple[int, int, str, int]], amounts: list[int]
) -> None:
    last = month_index(THROUGH)
    issued = {month_at(last - a): amounts[a] for a in range(12)}
    flows = [
        Flow(month_at(last - a), month_at(min(last - a + m, last)), kind, points)
        for a, m, kind, points in moves
    ]
    report = estimate(issued, flows, THROUGH, 24)
    for c in report.cohorts:
        assert c.redeemed <= c.projected_redemption <= max(c.issued - c.expired, c.redeemed)
