"""What the portal's stats and the console's reports share: the program's units and zone,
the chosen range of days, and a report's rows laid out one per day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from litestar import Request

from db.types import Conn
from rewards.core.program import CompiledProgram
from rewards.program.service import compiled_for

MAX_RANGE_DAYS = 366

STATUS_WORDS = {
    "pending_review": "Waiting for review",
    "active": "Active",
    "paused": "Paused",
    "exhausted": "Budget spent",
    "ended": "Ended",
    "rejected": "Rejected",
}


class Dated(Protocol):
    @property
    def day(self) -> date: ...


async def program_of(conn: Conn, tenant_id: str) -> CompiledProgram:
    """The tenant's program: its currency's minor units and its time zone."""
    return (await compiled_for(conn, tenant_id)).program


def date_range(
    request: Request[Any, Any, Any], program: CompiledProgram
) -> tuple[date, date, dict[str, str]]:
    """The ``from`` and ``to`` of a report page: the last 30 days (program time zone) unless
    the form chose others; at most a year."""
    errors: dict[str, str] = {}
    today = datetime.now(program.zone).date()
    chosen: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = (request.query_params.get(name) or "").strip()
        try:
            chosen[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = "Enter a date, like 2027-01-31."
            chosen[name] = None
    last = chosen["to"] or today
    first = chosen["from"] or last - timedelta(days=29)
    if first > last:
        errors["from"] = "The first day must not be after the last."
    elif (last - first).days >= MAX_RANGE_DAYS:
        errors["from"] = f"Choose at most {MAX_RANGE_DAYS} days."
    return first, last, errors


D = TypeVar("D", bound=Dated)


class Daily(Generic[D]):
    """A report's rows, one per day from ``first`` to ``last`` (None where nothing happened);
    no day at all when the report could not be made (``found`` None)."""

    def __init__(self, first: date, last: date, found: Sequence[D] | None) -> None:
        by_day = {row.day: row for row in found or ()}
        days = (
            [] if found is None else [first + timedelta(n) for n in range((last - first).days + 1)]
        )
        self.labels = [d.isoformat() for d in days]
        self.rows: list[D | None] = [by_day.get(d) for d in days]

    def column(self, name: str) -> list[int]:
        return [getattr(row, name) if row else 0 for row in self.rows]
