"""Dates for tests, computed from the moment the test run starts, never from the calendar.

A test that needs "a purchase two days ago", "the start of last month" or "a campaign that
has ended" asks here, so that the suite passes on any day: a month end, a year end, a leap
day. Times are in China Standard Time (+08:00), the tests' program time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))

#: The moment the test run started, in program time. Fixed for the run so that two calls
#: in one test never straddle midnight.
NOW = datetime.now(CST).replace(microsecond=0)


def days_ago(days: int, hour: int = 8, minute: int = 30) -> datetime:
    """``days`` days before today (program time), at ``hour:minute``."""
    day = NOW.date() - timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CST)


def month_start(months: int, now: datetime = NOW) -> datetime:
    """Midnight (program time) of the first day of the month ``months`` from ``now``'s month
    (negative: earlier)."""
    index = now.year * 12 + now.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=CST)


def iso(moment: datetime | date) -> str:
    """RFC 3339 (a datetime) or ISO 8601 (a date), as the API writes them."""
    return moment.isoformat()


def utc_z(moment: datetime) -> str:
    """A moment in UTC with a ``Z``, as the API answers timestamps."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: When the default test purchase happened: two days ago, 08:30 program time, so that "the
#: next day" is still in the past.
PURCHASE_AT = days_ago(2)
