"""Draw campaigns: what they are and when a transaction is eligible."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from rewards.core.conditions import Conditions, Facts, Matcher, validate_conditions
from rewards.core.draw import Prize
from rewards.core.errors import ValidationFailed


class DrawBudget(msgspec.Struct, frozen=True, omit_defaults=True):
    daily_points: int | None = None
    total_points: int | None = None


class DrawCampaign(msgspec.Struct, frozen=True, omit_defaults=True):
    """An "every swipe draws" campaign: a weighted prize table of multipliers."""

    id: str
    name: str
    prizes: list[Prize]
    conditions: Conditions = Conditions()
    budget: DrawBudget = DrawBudget()
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def validate_campaign(campaign: DrawCampaign) -> None:
    """Refuse a campaign whose draw could not be computed or paid (422)."""
    validate_conditions(campaign.conditions)
    errors: list[tuple[str, str]] = []
    if not campaign.prizes:
        errors.append(("prizes", "at least one prize"))
    for n, prize in enumerate(campaign.prizes):
        if prize.multiplier < 1:
            errors.append((f"prizes[{n}].multiplier", "at least 1"))
        if prize.weight <= 0:
            errors.append((f"prizes[{n}].weight", "a positive integer"))
    for name in ("daily_points", "total_points"):
        value = getattr(campaign.budget, name)
        if value is not None and value < 0:
            errors.append((f"budget.{name}", "must not be negative"))
    if campaign.starts_at and campaign.ends_at and campaign.ends_at <= campaign.starts_at:
        errors.append(("ends_at", "must be after starts_at"))
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


class CampaignState:
    """A campaign with its secret and what its budget has paid so far (locked rows)."""

    def __init__(
        self,
        campaign: DrawCampaign,
        secret: bytes,
        total_used: int,
        daily_used: dict[date, int] | None = None,
    ) -> None:
        self.campaign = campaign
        self.secret = secret
        self.total_used = total_used
        self.daily_used = dict(daily_used or {})
        self.matcher = Matcher(campaign.conditions)
        self.touched_days: set[date] = set()

    @property
    def id(self) -> str:
        return self.campaign.id

    def eligible(self, facts: Facts) -> bool:
        c = self.campaign
        if c.starts_at is not None and facts.occurred_at < c.starts_at:
            return False
        if c.ends_at is not None and facts.occurred_at >= c.ends_at:
            return False
        return self.matcher(facts)

    def room(self, day: date) -> int | None:
        """Bonus points the budget can still pay on ``day`` (None: unlimited)."""
        budget = self.campaign.budget
        rooms = []
        if budget.total_points is not None:
            rooms.append(budget.total_points - self.total_used)
        if budget.daily_points is not None:
            rooms.append(budget.daily_points - self.daily_used.get(day, 0))
        return max(min(rooms), 0) if rooms else None

    def spend(self, day: date, points: int) -> None:
        """Record a bonus paid (negative: released by a refund)."""
        self.total_used = max(self.total_used + points, 0)
        self.daily_used[day] = max(self.daily_used.get(day, 0) + points, 0)
        self.touched_days.add(day)
