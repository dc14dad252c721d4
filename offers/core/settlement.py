"""Settlement of merchant-funded offers (pure): periods, when one may close, what a
statement adds up to.

A statement is one merchant's calendar month in the program's time zone: the offer records
(matches and clawbacks) of purchases made that month, plus, in the first period still open,
those that came after their own month had closed (a refund after the close). Closing a
period settles its records once; a closed statement never changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

from rewards.core.errors import Conflict, ValidationFailed
from rewards.core.program import add_months

#: The first line of every statement's CSV.
HEADER = (
    "transaction_id,original_id,offer_id,store_id,occurred_at,kind,spend_minor,"
    "reward_minor,points,merchant_share_minor,fee_minor\n"
)
_PERIOD = re.compile(r"(2\d{3})-(\d{2})")
PERIOD_PATTERN = r"^2\d{3}-(0[1-9]|1[0-2])$"


class PeriodNotReady(Conflict):
    type = "period_not_ready"
    title = "The period cannot be closed yet"


class PeriodClosed(Conflict):
    type = "period_closed"
    title = "The period is closed or being closed"


class EarlierPeriodOpen(Conflict):
    type = "earlier_period_open"
    title = "An earlier period with records is still open"


def parse_period(text: str) -> date:
    """``YYYY-MM`` as the first day of that month.

    Raises:
        ValidationFailed: not a month.
    """
    found = _PERIOD.fullmatch(text)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ValidationFailed(f"{text!r} is not a period", errors=[("period", "a month: YYYY-MM")])
    return date(int(found[1]), int(found[2]), 1)


def period_text(period: date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


def closable_at(period: date, zone: ZoneInfo, return_days: int) -> datetime:
    """When a period may be closed: its end in the program's zone, plus the return days."""
    return datetime.combine(add_months(period, 1), time(), zone) + timedelta(days=return_days)


def first_open(closed: Iterable[date]) -> date | None:
    """The period after the latest closed one (None when none is closed): its statements
    also carry the records that came after their own period closed."""
    latest = max(closed, default=None)
    return add_months(latest, 1) if latest is not None else None


def close_refusal(
    period: date,
    now: datetime,
    zone: ZoneInfo,
    return_days: int,
    taken: bool,
    earlier_open: bool,
) -> Conflict | None:
    """Why the period may not be closed now, if it may not."""
    if taken:
        return PeriodClosed(f"{period_text(period)} is closed or being closed")
    ready = closable_at(period, zone, return_days)
    if now < ready:
        return PeriodNotReady(
            f"{period_text(period)} may be closed from {ready.isoformat()} "
            f"(its end plus settlement.return_days = {return_days})"
        )
    if earlier_open:
        return EarlierPeriodOpen(
            f"close the periods before {period_text(period)} first: one has records still open"
        )
    return None


class Totals(msgspec.Struct):
    """What a statement adds up to: the merchant owes ``merchant_due_minor`` plus
    ``fees_minor``; the program pays ``program_due_minor``; the two dues make the rewards."""

    lines: int = 0
    reward_minor: int = 0
    merchant_due_minor: int = 0
    program_due_minor: int = 0
    fees_minor: int = 0

    def add(self, reward_minor: int, merchant_share_minor: int, fee_minor: int) -> None:
        self.lines += 1
        self.reward_minor += reward_minor
        self.merchant_due_minor += merchant_share_minor
        self.program_due_minor += reward_minor - merchant_share_minor
        self.fees_minor += fee_minor


class Tally:
    """A statement's totals and the SHA-256 of its CSV (header first), line by line: the
    same digest whether made at the close or as the lines are downloaded."""

    def __init__(self) -> None:
        self.totals = Totals()
        self._digest = hashlib.sha256(HEADER.encode())

    def add(self, line: str, reward_minor: int, merchant_share_minor: int, fee_minor: int) -> None:
        self.totals.add(reward_minor, merchant_share_minor, fee_minor)
        self._digest.update(line.encode())

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()
