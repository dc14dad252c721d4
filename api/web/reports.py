"""What the portal's stats and the console's reports share: the program's units and zone,
the chosen range of days, and a report's rows laid out one per day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import msgspec
from litestar import Request

from api.web.i18n import N_
from api.web.words import OFFER_STATES
from db.types import Conn
from rewards.core.program import CompiledProgram
from rewards.program.service import compiled_for

MAX_RANGE_DAYS = 366

STATUS_WORDS = OFFER_STATES


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
            errors[name] = N_("Enter a date, like %(example)s.", example="2027-01-31")
            chosen[name] = None
    last = chosen["to"] or today
    first = chosen["from"] or last - timedelta(days=29)
    if first > last:
        errors["from"] = N_("The first day must not be after the last.")
    elif (last - first).days >= MAX_RANGE_DAYS:
        errors["from"] = N_("Choose at most %(days)s days.", days=MAX_RANGE_DAYS)
    return first, last, errors


D = TypeVar("D", bound=Dated)

#: A change an audit entry records: the field (dotted path), what it was, what it became
#: (None where it was not there).
Change = tuple[str, str | None, str | None]


def differences(before: Any, after: Any) -> list[Change]:
    """What an audit entry changed, field by field (objects compared key by key, down to
    values that are not objects), in field order."""
    found: list[Change] = []

    def shown(value: Any) -> str:
        return clipped(value if isinstance(value, str) else msgspec.json.encode(value).decode())

    def walk(path: str, old: Any, new: Any) -> None:
        if old == new:
            return
        objects = [v for v in (old, new) if v is not _GONE]
        if objects and all(isinstance(v, dict) for v in objects):
            old, new = ({} if old is _GONE else old), ({} if new is _GONE else new)
            for key in sorted(set(old) | set(new)):
                walk(f"{path}.{key}" if path else key, old.get(key, _GONE), new.get(key, _GONE))
            return
        found.append(
            (
                path or "—",
                None if old is _GONE else shown(old),
                None if new is _GONE else shown(new),
            )
        )

    walk("", _GONE if before is None else before, _GONE if after is None else after)
    return found


_GONE: Any = object()
#: The most of a value a table cell shows (the API has it whole).
CLIPPED = 160


def clipped(text: str) -> str:
    return text if len(text) <= CLIPPED else text[: CLIPPED - 1] + "…"


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
