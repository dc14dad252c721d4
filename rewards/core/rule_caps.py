"""Earn rules against their caps: the bonuses a purchase gets, what each rule has paid a
member per day and month, and what each budgeted rule reserves."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from rewards.core.budgets import Overlay, Reservation, add
from rewards.core.conditions import Facts
from rewards.core.daily_cap import Room
from rewards.core.earning import (
    NO_ROOM_LIMIT,
    CapRoom,
    CompiledRule,
    RuleSet,
    capped_bonus,
    choose_bonuses,
)


class UsageWrite(msgspec.Struct, frozen=True):
    """What a rule has paid a member in a period (``d:YYYY-MM-DD``, ``m:YYYY-MM``)."""

    member_id: str
    rule_id: str
    period: str
    points: int


class RuleCaps:
    """The batch's working figures of rule caps: usage per member and period, and budgets."""

    def __init__(
        self,
        rules: RuleSet,
        usage: Mapping[tuple[str, str, str], int],
        budget_used: Mapping[str, int],
    ) -> None:
        self.rules = rules
        # What the batch counts goes in front of what it was given, which stays unchanged
        # (and is not copied: a replay gives every member's figures at once).
        self.usage: Overlay[tuple[str, str, str], int] = Overlay(usage)
        self.budget_used = dict(budget_used)
        self.touched: set[tuple[str, str, str]] = set()
        self.reserved: dict[str, int] = {}

    def bonuses(
        self,
        member_id: str,
        facts: Facts,
        base: int,
        periods: tuple[str, str],
        cap: Room,
    ) -> list[tuple[str, int]]:
        """The rules' bonuses for a purchase earning ``base`` points, within their caps and
        the member's daily cap; counted against the caps."""
        candidates = [
            (rule, capped_bonus(rule, base, self._room(rule, member_id, periods)))
            for rule in self.rules.matching(facts)
        ]
        paying = [(rule_id, cap.take(points)) for rule_id, points in choose_bonuses(candidates)]
        paying = [(rule_id, points) for rule_id, points in paying if points > 0]
        for rule_id, points in paying:
            self.count(member_id, rule_id, periods, points)
        return paying

    def _room(self, rule: CompiledRule, member_id: str, periods: tuple[str, str]) -> CapRoom:
        if not rule.tracked:
            return NO_ROOM_LIMIT
        caps = rule.caps
        day_key, month_key = periods

        def left(cap: int | None, used: int) -> int | None:
            return None if cap is None else cap - used

        return CapRoom(
            per_day=left(caps.per_member_per_day, self.usage.get((member_id, rule.id, day_key), 0)),
            per_month=left(
                caps.per_member_per_month, self.usage.get((member_id, rule.id, month_key), 0)
            ),
            budget=left(caps.budget_points, self.budget_used.get(rule.id, 0)),
        )

    def count(self, member_id: str, rule_id: str, periods: tuple[str, str], points: int) -> None:
        """Track what a rule paid (negative: released) where one of its caps needs it."""
        rule = self.rules.by_id.get(rule_id)
        if rule is None or not rule.tracked:
            return
        day_key, month_key = periods
        for cap, period in (
            (rule.caps.per_member_per_day, day_key),
            (rule.caps.per_member_per_month, month_key),
        ):
            if cap is not None:
                key = (member_id, rule_id, period)
                self.usage[key] = max(self.usage.get(key, 0) + points, 0)
                self.touched.add(key)
        if rule.caps.budget_points is not None:
            used = self.budget_used.get(rule_id, 0)
            self.budget_used[rule_id] = max(used + points, 0)
            add(self.reserved, rule_id, self.budget_used[rule_id] - used)

    def writes(self) -> tuple[UsageWrite, ...]:
        """Every (member, rule, period) the batch touched, with its figure now."""
        return tuple(UsageWrite(m, r, p, self.usage[(m, r, p)]) for m, r, p in sorted(self.touched))

    def reservations(self) -> list[Reservation]:
        return [
            Reservation("rule", rule_id, amount)
            for rule_id, amount in sorted(self.reserved.items())
            if amount
        ]
