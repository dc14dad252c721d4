"""What an explanation says: the outcome of each part of a purchase's award, and the caps
and controls that kept points from the member."""

from __future__ import annotations

from datetime import datetime

import msgspec

from rewards.core.answers import Answer


class BaseOutcome(msgspec.Struct, frozen=True):
    rate: str
    points: int
    excluded: bool


class RuleOutcome(msgspec.Struct, frozen=True):
    rule_id: str
    name: str
    outcome: str
    failed_condition: str | None
    detail: str
    points: int


class DrawOutcome(msgspec.Struct, frozen=True):
    campaign_id: str
    name: str
    outcome: str
    failed_condition: str | None
    detail: str
    multiplier: int
    drawn_multiplier: int | None
    points: int


class MatchOutcome(msgspec.Struct, frozen=True):
    """A merchant offer of the purchase's merchant against it (made on the offers' side)."""

    offer_id: str
    title: str
    outcome: str
    failed_condition: str | None
    detail: str
    reward_minor: int
    points: int
    claimed: bool  # the member had claimed it (so has seen it)


class CapOutcome(msgspec.Struct, frozen=True):
    cap: str
    detail: str
    points: int


class Explanation(msgspec.Struct, frozen=True):
    transaction_id: str
    kind: str
    occurred_at: datetime
    member_id: str
    points: int
    base: BaseOutcome
    rules: tuple[RuleOutcome, ...]
    draws: tuple[DrawOutcome, ...]
    offers: tuple[MatchOutcome, ...]
    caps: tuple[CapOutcome, ...]
    referral: int = 0


def said_caps(answer: Answer) -> list[CapOutcome]:
    """What kept points from being awarded to the member, or the purchase from earning."""
    points = answer.points
    lists = ", ".join(answer.excluded_by)
    return [
        CapOutcome(code, why, paid)
        for code, why, paid, happened in (
            (
                "daily_points",
                "the member's daily points cap kept these points from being awarded",
                points.capped,
                points.capped,
            ),
            (
                "member_status",
                "the member's account was suspended or closed: the purchase earned nothing",
                points.withheld,
                points.withheld,
            ),
            (
                "excluded",
                f"the purchase matched the exclusion lists {lists}: it earned nothing",
                0,
                answer.excluded_by,
            ),
            (
                "held",
                "the purchase's risk score was above the program's hold_above_score: "
                "its points were held until an operator released or voided them",
                points.held,
                points.held,
            ),
        )
        if happened
    ]
