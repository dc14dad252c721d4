"""The operator console's reports: liability, the audit log, risk events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromQuery

from api.deps import DbConn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.console_forms import (
    RISK_REASONS,
    caller_of,
)
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, render
from api.web.reports import Daily, date_range, program_of
from api.web.sign_in import AreaPages
from rewards.abuse import service as abuse
from rewards.audit import service as audit
from rewards.core.errors import ValidationFailed
from rewards.ledger import service as ledger


class ConsoleReportsController(AreaPages):
    """The console's report pages."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    # --- reports --------------------------------------------------------------------------

    @get("/liability")
    async def liability(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        first, last, errors = date_range(request, program)
        report = None
        if not errors:
            try:
                report = await ledger.liability(conn, caller.tenant_id, first, last)
            except ValidationFailed as exc:
                errors = forms.api_errors(exc)
        daily = Daily(
            first, last if report else first - timedelta(days=1), report.days if report else []
        )
        rows, labels, column = daily.rows, daily.labels, daily.column
        names = ("issued", "redeemed", "expired", "clawed_back")

        return render(
            request,
            "console/liability.html",
            status=422 if errors else 200,
            title="Points liability",
            report=report,
            first=first.isoformat(),
            last=last.isoformat(),
            errors=errors,
            rows=list(zip(labels, rows, strict=True)),
            chart=svg.bar_chart(
                "Points issued, redeemed, expired and clawed back per day",
                labels,
                [(n.replace("_", " "), column(n)) for n in names],
            ),
        )

    @get("/audit")
    async def audit_log(
        self, request: Request[Any, Any, Any], conn: DbConn, cursor: CursorParam = None
    ) -> Response[str]:
        caller = caller_of(request)
        entries = await audit.entries(conn, caller.tenant_id, decode_cursor(cursor, int), PAGE_SIZE)
        more = next_cursor([e.audit_id for e in entries], PAGE_SIZE)

        def compact(value: Any) -> str:
            return "" if value is None else msgspec.json.encode(value).decode()

        return render(
            request,
            "console/audit.html",
            title="Audit log",
            entries=entries,
            compact=compact,
            next_page=page_link(request, more),
        )

    @get("/risk")
    async def risk(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        reason: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        chosen = reason if reason in RISK_REASONS else None
        found = await abuse.risk_events(
            conn, caller.tenant_id, None, chosen, None, None, decode_cursor(cursor, int), PAGE_SIZE
        )
        more = next_cursor([e.event_id for e in found], PAGE_SIZE)
        return render(
            request,
            "console/risk.html",
            title="Risk events",
            events=found,
            reasons=RISK_REASONS,
            chosen=chosen or "",
            compact=lambda value: msgspec.json.encode(value).decode(),
            next_page=page_link(request, more),
        )
