"""Breakage (pure): the share of issued points that will never be redeemed, estimated from
cohorts by the month the points were earned.

Each cohort's cumulative redemptions by age (months since it was earned) form a triangle;
the chain ladder develops every cohort to its ultimate redemptions with the volume-weighted
age-to-age factors of the older cohorts. A projection never exceeds what the cohort still
could redeem (issued, less what expired), never falls below what it redeemed, and a cohort
past the program's expiry is what it is. A cohort that has redeemed nothing yet takes the
ultimate rate of the others. The backtest does the same with the last ``holdout`` months
hidden and compares its projections with what then happened (mean absolute percentage
error).

Points are matched to cohorts first in, first out within each member's account (the
ledger's order); redemptions, expiries (and forfeits) and other outflows (clawbacks,
adjustments) are told apart, the last reducing the cohort's issued points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import msgspec

from rewards.core.program import month_at, month_index

REDEEMED = "redeemed"
EXPIRED = "expired"
REVERSED = "reversed"


class Flow(msgspec.Struct, frozen=True):
    """Points of a cohort that left the members' accounts in a month, by kind."""

    cohort: date  # first day of the month the points were earned
    month: date  # first day of the month they left
    kind: str  # redeemed | expired | reversed
    points: int


class Cohort(msgspec.Struct, frozen=True):
    cohort: date
    issued: int  # net of reversals
    redeemed: int
    expired: int
    outstanding: int
    projected_redemption: int  # ultimate redemptions, projected


class Report(msgspec.Struct, frozen=True):
    through: date | None  # the last complete month counted
    cohorts: list[Cohort]
    development_factors: list[float]
    ultimate_redemption_rate: float | None
    breakage_rate: float | None
    outstanding: int
    #: Of the outstanding points, those expected to be redeemed still.
    expected_redemptions: int
    holdout_months: int
    mape: float | None


class _Triangle(msgspec.Struct):
    cohorts: list[int]  # month indexes
    issued: dict[int, int]  # net of reversals
    cumulative: dict[int, list[int]]  # by age, up to the last month counted
    expired: dict[int, int]


def _triangle(issued: Mapping[date, int], flows: Iterable[Flow], through: int) -> _Triangle:
    cohorts = sorted(month_index(c) for c in issued if month_index(c) <= through)
    incremental = {c: [0] * (through - c + 1) for c in cohorts}
    net = {c: issued[month_at(c)] for c in cohorts}
    expired = dict.fromkeys(cohorts, 0)
    for f in flows:
        c, m = month_index(f.cohort), month_index(f.month)
        if c not in incremental or m > through:
            continue
        if f.kind == REDEEMED:
            incremental[c][max(m - c, 0)] += f.points
        elif f.kind == EXPIRED:
            expired[c] += f.points
        else:
            net[c] -= f.points
    cumulative = {}
    for c, steps in incremental.items():
        total, running = 0, []
        for s in steps:
            total += s
            running.append(total)
        cumulative[c] = running
    return _Triangle(cohorts, net, cumulative, expired)


def _factors(t: _Triangle) -> list[float]:
    """Volume-weighted age-to-age factors: age k to k + 1 over the cohorts seen at both."""
    longest = max((len(v) for v in t.cumulative.values()), default=0)
    factors = []
    for k in range(longest - 1):
        seen = [v for v in t.cumulative.values() if len(v) > k + 1]
        below = sum(v[k] for v in seen)
        factors.append(sum(v[k + 1] for v in seen) / below if below > 0 else 1.0)
    return factors


def _develop(value: float, age: int, to_age: int, factors: list[float]) -> float:
    for k in range(age, to_age):
        value *= factors[k] if k < len(factors) else 1.0
    return value


def _projections(
    t: _Triangle, factors: list[float], expiry_months: int | None, to_age: dict[int, int]
) -> dict[int, float]:
    """Each cohort developed to ``to_age`` (by cohort), bounded as the module says."""
    found: dict[int, float] = {}
    zero: list[int] = []
    for c in t.cohorts:
        seen = t.cumulative[c]
        age, now = len(seen) - 1, seen[-1]
        if expiry_months is not None and age >= expiry_months:
            found[c] = now
        elif now <= 0:
            zero.append(c)
        else:
            found[c] = _develop(now, age, to_age[c], factors)
    rated = [c for c in found if t.issued[c] > 0]
    rate = sum(found[c] for c in rated) / sum(t.issued[c] for c in rated) if rated else 0.0
    for c in zero:
        found[c] = rate * t.issued[c]
    for c in t.cohorts:
        ceiling = max(t.issued[c] - t.expired[c], t.cumulative[c][-1])
        found[c] = min(max(found[c], t.cumulative[c][-1]), ceiling)
    return found


def _mape(
    issued: Mapping[date, int],
    flows: list[Flow],
    through: int,
    holdout: int,
    expiry_months: int | None,
) -> float | None:
    """Mean absolute percentage error of projections made ``holdout`` months ago to the
    ages the cohorts have now, against what they redeemed by now."""
    earlier = through - holdout
    past = _triangle(issued, flows, earlier)
    if len(past.cohorts) < 2:
        return None
    now = _triangle(issued, flows, through)
    factors = _factors(past)
    projected = _projections(past, factors, expiry_months, {c: through - c for c in past.cohorts})
    errors = [
        abs(projected[c] - now.cumulative[c][-1]) / now.cumulative[c][-1]
        for c in past.cohorts
        if now.cumulative[c][-1] > 0
    ]
    return round(100 * sum(errors) / len(errors), 4) if errors else None


def estimate(
    issued: Mapping[date, int],
    flows: Iterable[Flow],
    through: date | None,
    expiry_months: int | None,
    holdout: int = 6,
) -> Report:
    """The breakage report through the month ``through`` (None: no complete month yet)."""
    flows = list(flows)
    if through is None or not any(month_index(c) <= month_index(through) for c in issued):
        return Report(through, [], [], None, None, 0, 0, holdout, None)
    last = month_index(through)
    t = _triangle(issued, flows, last)
    factors = _factors(t)
    longest = len(factors)
    ultimate = _projections(t, factors, expiry_months, dict.fromkeys(t.cohorts, longest))
    cohorts = []
    for c in t.cohorts:
        redeemed = t.cumulative[c][-1]
        cohorts.append(
            Cohort(
                month_at(c),
                t.issued[c],
                redeemed,
                t.expired[c],
                t.issued[c] - redeemed - t.expired[c],
                round(ultimate[c]),
            )
        )
    total = sum(x.issued for x in cohorts)
    rate = sum(ultimate.values()) / total if total > 0 else None
    return Report(
        through,
        cohorts,
        [round(f, 6) for f in factors],
        round(rate, 6) if rate is not None else None,
        round(1 - rate, 6) if rate is not None else None,
        sum(x.outstanding for x in cohorts),
        sum(max(x.projected_redemption - x.redeemed, 0) for x in cohorts),
        holdout,
        _mape(issued, flows, last, holdout, expiry_months),
    )
