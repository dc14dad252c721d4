"""The operator console's reports: liability, the audit log, risk events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromQuery

from api.deps import DbConn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg, words
from api.web.console_forms import (
    RISK_REASONS,
    caller_of,
)
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, render, translator
from api.web.reports import Daily, clipped, date_range, differences, program_of
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
        names = (
            ("issued", N_("issued")),
            ("redeemed", N_("redeemed")),
            ("expired", N_("expired")),
            ("clawed_back", N_("clawed back")),
        )
        said = translator(request)

        return render(
            request,
            "console/liability.html",
            status=422 if errors else 200,
            title=N_("Points liability"),
            report=report,
            first=first.isoformat(),
            last=last.isoformat(),
            errors=errors,
            rows=list(zip(labels, rows, strict=True)),
            chart=svg.bar_chart(
                said(N_("Points issued, redeemed, expired and clawed back per day")),
                labels,
                [(said(name), column(n)) for n, name in names],
            ),
        )

    @get("/audit")
    async def audit_log(
        self, request: Request[Any, Any, Any], conn: DbConn, cursor: CursorParam = None
    ) -> Response[str]:
        caller = caller_of(request)
        entries = await audit.entries(conn, caller.tenant_id, decode_cursor(cursor, int), PAGE_SIZE)
        more = next_cursor([e.audit_id for e in entries], PAGE_SIZE)

        return render(
            request,
            "console/audit.html",
            title=N_("Audit log"),
            entries=[(e, differences(e.before, e.after)) for e in entries],
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
            title=N_("Risk events"),
            events=found,
            reasons=[(r, words.RISK_REASONS[r]) for r in RISK_REASONS],
            chosen=chosen or "",
            compact=lambda value: clipped(msgspec.json.encode(value).decode()),
            next_page=page_link(request, more),
        )
