"""The ledger's vocabulary (pure): accounts, transfers, and what a change of lots writes.

Every movement of points is a transfer between two accounts; member balances and lots are
kept beside the transfers in the same statement. Cores say what to write in these terms and
the ledger's repository writes exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec

from rewards.core.lots import MemberState

PROGRAM_ACCOUNT = "program"
ADJUSTMENTS_ACCOUNT = "adjustments"
EXPIRED_ACCOUNT = "expired"
REDEEMED_ACCOUNT = "redeemed"
REFERRALS_ACCOUNT = "referrals"
OPENING_BALANCES_ACCOUNT = "opening_balances"  # balances moved in from another system
GRANTS_ACCOUNT = "grants"
FORFEITED_ACCOUNT = "forfeited"  # the available points of a member whose account closed
HELD_ACCOUNT = "held"  # points of purchases held on a risk score, until released or voided
VOIDED_ACCOUNT = "voided"  # what voided holds gave back (their parts return to their payers)


def member_account(member_id: str) -> str:
    return f"member:{member_id}"


def campaign_account(campaign_id: str) -> str:
    return f"campaign:{campaign_id}"


def merchant_account(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


class TransferPlan(msgspec.Struct, frozen=True):
    """One transfer to write: ``amount`` points from ``debit`` to ``credit``."""

    debit: str
    credit: str
    amount: int
    kind: str
    member_id: str
    transaction_id: str | None
    detail: dict[str, Any]


class CreditLot(msgspec.Struct, frozen=True):
    """Points of one credit that expire (and become available) together."""

    points: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None


class Credit(msgspec.Struct, frozen=True):
    """Points credited to one member in bulk (an opening balance, a grant): one transfer,
    its lots, and what the transfer's detail says."""

    member_id: str
    lots: tuple[CreditLot, ...]
    detail: dict[str, Any]

    @property
    def points(self) -> int:
        return sum(lot.points for lot in self.lots)


class LotWrite(msgspec.Struct, frozen=True):
    """A lot to insert (``lot_id`` None) or to update to these figures."""

    member_id: str
    lot_id: int | None
    amount: int
    remaining: int
    expires_at: datetime | None
    available_at: datetime


class MemberWrite(msgspec.Struct, frozen=True):
    """A member's balance and lifetime earnings after the change."""

    member_id: str
    balance: int
    lifetime_earned: int


class BalanceSummary(msgspec.Struct, frozen=True):
    available: int
    pending: int


def balance_summary(member: MemberState, now: datetime) -> BalanceSummary:
    """Available and pending points; a member in debt has a negative available balance."""
    pending = sum(lot.remaining for lot in member.lots if lot.available_at > now)
    return BalanceSummary(member.balance - pending, pending)


def member_writes(
    members: Iterable[MemberState],
) -> tuple[tuple[LotWrite, ...], tuple[MemberWrite, ...]]:
    """What to write of members worked on: their new and changed lots (a lot remembers the
    figures it was loaded with), and their balances."""
    members = list(members)
    lots = tuple(
        LotWrite(
            member.member_id,
            lot.lot_id,
            lot.amount,
            lot.remaining,
            lot.expires_at,
            lot.available_at,
        )
        for member in members
        for lot in member.lots
        if (lot.amount > 0 if lot.lot_id is None else lot.changed)
    )
    balances = tuple(MemberWrite(m.member_id, m.balance, m.lifetime_earned) for m in members)
    return lots, balances
