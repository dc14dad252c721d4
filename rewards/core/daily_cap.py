"""The program's daily points cap per member: what a purchase may still earn today."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from rewards.core.budgets import Overlay


class Room:
    """What the daily points cap leaves a member for one purchase (None: no cap)."""

    def __init__(self, left: int | None) -> None:
        self.left = left
        self.capped = 0

    def take(self, points: int) -> int:
        """The part of ``points`` that fits; the rest is counted as capped."""
        if self.left is None or points <= 0:
            return points
        paid = min(points, self.left)
        self.left -= paid
        self.capped += points - paid
        return paid


class DailyCap:
    """What each member's purchases earned each local day, while the program caps it; the
    days a batch touched are written back."""

    def __init__(self, cap: int | None, day_points: Mapping[tuple[str, date], int]) -> None:
        self.cap = cap
        # Counted in front of what was given, which stays unchanged and is not copied.
        self.points: Overlay[tuple[str, date], int] = Overlay(day_points)
        self.touched: set[tuple[str, date]] = set()

    def room(self, member_id: str, day: date) -> Room:
        if self.cap is None:
            return Room(None)
        return Room(max(self.cap - self.points.get((member_id, day), 0), 0))

    def count(self, member_id: str, day: date, points: int) -> None:
        """What the member's purchases earned that day (negative: a refund gave room back)."""
        if self.cap is None:
            return
        key = (member_id, day)
        self.points[key] = max(self.points.get(key, 0) + points, 0)
        self.touched.add(key)

    def writes(self) -> tuple[tuple[str, date, int], ...]:
        """(member, day, points) of every day the batch touched: absolute figures."""
        return tuple((m, d, self.points[(m, d)]) for m, d in sorted(self.touched))
