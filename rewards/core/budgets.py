"""Where budgets and caps stand for a batch, and what it reserves from them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Generic, TypeVar

import msgspec

from rewards.core.campaigns import DrawCampaign

K = TypeVar("K")
V = TypeVar("V")


class Usage(msgspec.Struct, frozen=True):
    """Where rules' caps and the daily points cap stand, as loaded for the batch."""

    member_period: Mapping[tuple[str, str, str], int]  # (member, rule, period) -> points
    rule_budget_used: Mapping[str, int]
    day_points: Mapping[tuple[str, date], int] = {}  # (member, local day) -> points earned


class CampaignBudget(msgspec.Struct, frozen=True):
    """A draw campaign with its secret and what its budget has paid (as read or locked)."""

    campaign: DrawCampaign
    secret: bytes
    total_used: int
    daily_used: Mapping[date, int] = {}


class Reservation(msgspec.Struct, frozen=True):
    """What a change takes from a budget (negative: gives back), added to it at COMMIT:
    ``amount`` (and ``amount2``, an offer's reward beside its uses) of the ``budget`` kind
    (rule, campaign, campaign_day, offer) with that ``key`` (and ``day``)."""

    budget: str
    key: str
    amount: int
    amount2: int = 0
    day: date | None = None


def add(totals: dict[str, int], key: str, amount: int) -> None:
    """Add ``amount`` to ``totals[key]``."""
    totals[key] = totals.get(key, 0) + amount


_MISSING: object = object()


class Overlay(Generic[K, V]):
    """Figures a plan counts in front of those it was given, which stay unchanged and are
    never copied (a replay gives every member's figures at once)."""

    __slots__ = ("back", "front")

    def __init__(self, back: Mapping[K, V]) -> None:
        self.front: dict[K, V] = {}
        self.back = back

    def get(self, key: K, default: V) -> V:
        found = self.front.get(key, _MISSING)
        if found is _MISSING:
            return self.back.get(key, default)
        return found  # type: ignore[return-value]

    def __getitem__(self, key: K) -> V:
        found = self.front.get(key, _MISSING)
        if found is _MISSING:
            return self.back[key]
        return found  # type: ignore[return-value]

    def __setitem__(self, key: K, value: V) -> None:
        self.front[key] = value
