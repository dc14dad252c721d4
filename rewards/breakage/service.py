"""Use case: the breakage report — the points liability by the month points were earned,
what of it the program expects never to be redeemed, and that estimate's backtest.

The report as of a day counts the complete months before it (in the program's time zone),
from transfers recorded before that month ended: the same day gives the same report, today
or later.
"""

from __future__ import annotations

from datetime import date, datetime, time

from db.types import Conn
from rewards.breakage import repository as breakage_db
from rewards.core.breakage import Report, estimate
from rewards.core.errors import ValidationFailed
from rewards.core.program import add_months
from rewards.program.service import compiled_for

HOLDOUT_MONTHS = 6


async def report(conn: Conn, tenant_id: str, as_of: date | None = None) -> tuple[date, Report]:
    """The report as of a day (default: today in the program's zone).

    Raises:
        ValidationFailed: a day still to come (its report could still change).
    """
    program = (await compiled_for(conn, tenant_id)).program
    today = datetime.now(program.zone).date()
    if as_of is not None and as_of > today:
        raise ValidationFailed(
            f"as_of {as_of.isoformat()} is still to come", errors=[("as_of", "today or before")]
        )
    as_of = as_of or today
    first = as_of.replace(day=1)  # the month as_of is in is not complete: it does not count
    before = datetime.combine(first, time(), program.zone)
    zone = program.program.time_zone
    issued = await breakage_db.issued(conn, tenant_id, before, zone)
    flows = await breakage_db.flows(conn, tenant_id, before, zone)
    through = add_months(first, -1) if issued else None
    return as_of, estimate(issued, flows, through, program.program.expiry_months, HOLDOUT_MONTHS)
