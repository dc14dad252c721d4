"""The console's money pages: every merchant's statement of a month (and its close), and
the breakage report beside the liability.

Each page calls the same use cases as /v1/admin/settlements and
/v1/admin/reports/breakage.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.console_forms import caller_of, notice_of
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, problem, redirect, render, translator
from api.web.reports import program_of
from api.web.sign_in import AreaPages
from offers.core.settlement import parse_period, period_text
from offers.settlement import service as settlement
from rewards.breakage import service as breakage
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.program import add_months


class ConsoleSettlementController(AreaPages):
    """Settlements and breakage in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/settlements")
    async def settlements_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        period: FromQuery[str | None] = None,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._settlements(request, conn, period, cursor, notice_of(done), None, 200)

    async def _settlements(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        period: str | None,
        cursor: str | None,
        notice: str | None,
        failure: str | None,
        code: int,
    ) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        errors: dict[str, str] = {"form": failure} if failure else {}
        chosen = add_months(datetime.now(program.zone).date(), -1)
        try:
            chosen = parse_period(period.strip()) if period else chosen
        except ValidationFailed:
            errors["period"] = N_("Enter a month, like %(example)s.", example="2027-01")
            code = 422
        found = await settlement.settlements(
            conn, caller.tenant_id, chosen, decode_cursor(cursor, str), PAGE_SIZE
        )
        more = next_cursor([s.merchant_id for s in found.items], PAGE_SIZE)
        return render(
            request,
            "console/settlements.html",
            status=code,
            title=N_("Settlements"),
            period=period_text(chosen),
            found=found,
            next_page=page_link(request, more),
            notice=notice,
            errors=errors,
        )

    @post("/settlements/{period:str}/close")
    async def close_period(
        self, request: Request[Any, Any, Any], period: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        try:
            async with conn.transaction():
                job = await settlement.start_close(
                    conn, caller.tenant_id, caller.actor, parse_period(period)
                )
        except RewardsError as exc:
            return await self._settlements(
                request, conn, period, None, None, problem(exc), exc.status
            )
        return redirect(f"/console/jobs/{job.job_id}")

    @get("/breakage")
    async def breakage_page(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        as_of: FromQuery[str | None] = None,
        value: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        errors: dict[str, str] = {}
        day = None
        try:
            day = date.fromisoformat(as_of.strip()) if as_of and as_of.strip() else None
        except ValueError:
            errors["as_of"] = N_("Enter a date, like %(example)s.", example="2027-01-31")
        worth = 1
        try:
            worth = int(value) if value else 1
            if not 0 <= worth <= 10**6:
                raise ValueError(worth)
        except ValueError:
            errors["value"] = N_("A whole number of minor units, 0 or more.")
        report, shown = None, day
        if not errors:
            try:
                shown, report = await breakage.report(conn, caller.tenant_id, day)
            except ValidationFailed as exc:
                errors = forms.api_errors(exc)
        said = translator(request)
        labels = [f"{c.cohort:%Y-%m}" for c in report.cohorts] if report else []
        chart = svg.bar_chart(
            said(N_("Points issued, redeemed and projected to be redeemed, by month earned")),
            labels,
            [
                (said(N_("issued")), [c.issued for c in report.cohorts] if report else []),
                (said(N_("redeemed")), [c.redeemed for c in report.cohorts] if report else []),
                (
                    said(N_("projected")),
                    [c.projected_redemption for c in report.cohorts] if report else [],
                ),
            ],
            label=lambda month: month[2:],
        )
        return render(
            request,
            "console/breakage.html",
            status=422 if errors else 200,
            title=N_("Breakage"),
            report=report,
            as_of=shown.isoformat() if shown else "",
            value=worth,
            errors=errors,
            chart=chart,
        )
