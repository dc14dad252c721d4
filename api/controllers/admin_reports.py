"""What the operator watches: liability, risk events, outbound events, audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, PathParameter, QueryParameter

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.admin import (
    AuditOut,
    AuditPage,
    EventOut,
    EventPage,
    EventTypeName,
    LiabilityDayOut,
    LiabilityOut,
    RiskEventOut,
    RiskEventPage,
)
from api.dto.settlement import BacktestOut, BreakageCohortOut, BreakageOut
from api.paging import CursorParam, Limit, decode_cursor, moment, moment_param, next_cursor
from api.presenters import (
    event_out,
)
from rewards.abuse import service as abuse
from rewards.audit import service as audit
from rewards.breakage import service as breakage
from rewards.core.breakage import Report
from rewards.core.credentials import ID_PATTERN
from rewards.events import service as events
from rewards.ledger import service as ledger


class AdminReportsController(Controller):
    """Reports, risk events, outbound events and the audit log."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get("/reports/liability", summary="Outstanding points and daily movements")
    async def liability(
        self,
        caller: NamedDependency[Admin],
        read_conn: DbConn,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> LiabilityOut:
        report = await ledger.liability(read_conn, caller.tenant_id, from_, to)
        return LiabilityOut(
            report.outstanding,
            report.ledger_outstanding,
            report.reconciled,
            report.members_with_points,
            [
                LiabilityDayOut(**(msgspec.to_builtins(d) | {"day": d.day.isoformat()}))
                for d in report.days
            ],
        )

    @get(
        "/reports/breakage",
        summary="Points by the month they were earned, and the share never to be redeemed",
        description="Cohorts by month earned, developed by the chain ladder; `as_of` (a past "
        "day; default today) counts the complete months before it, so the same day always "
        "gives the same report.",
    )
    async def breakage(
        self,
        caller: NamedDependency[Admin],
        read_conn: DbConn,
        as_of: FromQuery[date | None] = None,
        value_per_point_minor: Annotated[int, QueryParameter(ge=0, le=10**6)] = 1,
    ) -> BreakageOut:
        day, report = await breakage.report(read_conn, caller.tenant_id, as_of)
        return breakage_out(day, report, value_per_point_minor)

    @get(
        "/risk-events",
        summary="Every refusal or cap the abuse limits made, newest first",
        description="Filter by member, by reason (device_limit, claim_rate, daily_points_cap, "
        "referral_ring) and by time: `from` (inclusive) and `to` (exclusive), RFC 3339.",
    )
    async def risk_events(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        member_id: Annotated[str | None, QueryParameter(pattern=ID_PATTERN)] = None,
        reason: Annotated[str | None, QueryParameter(max_length=64)] = None,
        from_: Annotated[str | None, moment_param("from")] = None,
        to: Annotated[str | None, moment_param("to")] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> RiskEventPage:
        found = await abuse.risk_events(
            conn,
            caller.tenant_id,
            member_id,
            reason,
            moment("from", from_),
            moment("to", to),
            decode_cursor(cursor, int),
            limit,
        )
        return RiskEventPage(
            [
                RiskEventOut(
                    str(e.event_id),
                    e.member_id,
                    e.device.hex() if e.device is not None else None,
                    e.reason,
                    e.detail,
                    e.occurred_at,
                )
                for e in found
            ],
            next_cursor([e.event_id for e in found], limit),
        )

    @get(
        "/events",
        summary="Outbound events, newest first, with their delivery state",
        description="Filter by `status` (pending, delivered, failed) and `type`. Each event "
        "shows its attempts, the last error and when it is due again.",
    )
    async def list_events(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        status: Annotated[
            Literal["pending", "delivered", "failed"] | None, QueryParameter()
        ] = None,
        type_: Annotated[EventTypeName | None, QueryParameter(name="type")] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> EventPage:
        found = await events.events(
            conn, caller.tenant_id, status, type_, decode_cursor(cursor, int), limit
        )
        return EventPage(
            [event_out(e) for e in found], next_cursor([e.sequence for e in found], limit)
        )

    @post(
        "/events/{event_id:str}/redeliver",
        status_code=200,
        summary="Send an event again now (with 72 more hours of retries)",
    )
    async def redeliver_event(
        self,
        event_id: Annotated[str, PathParameter(pattern=ID_PATTERN)],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> EventOut:
        return event_out(await events.redeliver(conn, caller.tenant_id, event_id))

    @get("/audit-log", summary="Every change an operator or merchant made, newest first")
    async def audit_log(
        self,
        caller: NamedDependency[Admin],
        read_conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> AuditPage:
        entries = await audit.entries(
            read_conn, caller.tenant_id, decode_cursor(cursor, int), limit
        )
        return AuditPage(
            [
                AuditOut(
                    str(e.audit_id),
                    e.actor,
                    e.action,
                    e.entity_type,
                    e.entity_id,
                    e.before,
                    e.after,
                    e.at,
                )
                for e in entries
            ],
            next_cursor([e.audit_id for e in entries], limit),
        )


def breakage_out(as_of: date, r: Report, value_per_point_minor: int) -> BreakageOut:
    return BreakageOut(
        as_of.isoformat(),
        f"{r.through:%Y-%m}" if r.through else None,
        [
            BreakageCohortOut(
                f"{c.cohort:%Y-%m}",
                c.issued,
                c.redeemed,
                c.expired,
                c.outstanding,
                c.projected_redemption,
            )
            for c in r.cohorts
        ],
        r.development_factors,
        r.ultimate_redemption_rate,
        r.breakage_rate,
        r.outstanding,
        r.expected_redemptions,
        round(1 - r.expected_redemptions / r.outstanding, 6) if r.outstanding > 0 else None,
        value_per_point_minor,
        r.expected_redemptions * value_per_point_minor,
        BacktestOut(r.holdout_months, r.mape),
    )
