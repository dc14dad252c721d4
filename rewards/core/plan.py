"""What planning a batch of hook transactions comes to: its answers and every write."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from rewards.core.abuse import RiskRecord
from rewards.core.answers import Answer
from rewards.core.awards import Original
from rewards.core.budgets import Reservation
from rewards.core.campaign_draws import DrawRecord
from rewards.core.card_linked import MatchEffects
from rewards.core.errors import RewardsError
from rewards.core.ledger import LotWrite, MemberWrite, TransferPlan
from rewards.core.referrals import ReferralWrite
from rewards.core.rule_caps import UsageWrite


class OriginalWrite(msgspec.Struct, frozen=True):
    transaction_id: str
    refunded_minor: int
    reversed: bool


class SpendRow(msgspec.Struct, frozen=True):
    """Card spend a batch adds to a member's month (refunds negative, in the purchase's
    month): what tiers are computed from."""

    member_id: str
    month: date
    amount_minor: int


class HoldPlan(msgspec.Struct, frozen=True):
    """A purchase's points held on its risk score: what each account paid of them."""

    transaction_id: str
    member_id: str
    points: int
    parts: dict[str, int]
    score: int
    source: str | None
    expires_at: datetime | None
    remaining: int  # what refunds later in the same batch left held


class HoldChange(msgspec.Struct, frozen=True):
    """What a refund left held of a purchase's points."""

    transaction_id: str
    remaining: int


class BatchPlan(msgspec.Struct, frozen=True):
    """Everything one batch answers and writes, each change said as it is to be written."""

    answers: tuple[Answer | RewardsError, ...]
    transfers: tuple[TransferPlan, ...] = ()
    lots: tuple[LotWrite, ...] = ()
    members: tuple[MemberWrite, ...] = ()
    learned: tuple[tuple[str, str], ...] = ()  # (member, card product) first seen paying
    usage: tuple[UsageWrite, ...] = ()
    reservations: tuple[Reservation, ...] = ()  # rules, campaigns, their days, offers
    draws: tuple[DrawRecord, ...] = ()
    originals: tuple[OriginalWrite, ...] = ()
    spend: tuple[SpendRow, ...] = ()
    offers: MatchEffects | None = None  # what the merchant offers' side writes itself
    referrals: tuple[ReferralWrite, ...] = ()
    day_points: tuple[tuple[str, date, int], ...] = ()  # (member, day, points): absolute
    risk: tuple[RiskRecord, ...] = ()
    kept: tuple[Original, ...] = ()  # the awards the caller asked to keep (``keep``)
    holds: tuple[HoldPlan, ...] = ()
    hold_changes: tuple[HoldChange, ...] = ()

    @property
    def rule_budgets(self) -> tuple[tuple[str, int], ...]:
        """(rule, points reserved; < 0 released): the rules' share of the reservations."""
        return tuple((r.key, r.amount) for r in self.reservations if r.budget == "rule")

    @property
    def campaign_budgets(self) -> tuple[tuple[str, int], ...]:
        return tuple((r.key, r.amount) for r in self.reservations if r.budget == "campaign")

    @property
    def campaign_days(self) -> tuple[tuple[str, date, int], ...]:
        return tuple(
            (r.key, r.day, r.amount)
            for r in self.reservations
            if r.budget == "campaign_day" and r.day is not None
        )
