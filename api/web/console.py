"""The operator console: /console/… — the overview, offer review and the program (here);
liability, the audit log and risk events in api/web/console_reports.py.

Each page calls the same use cases as /v1/admin/…, with the tenant of the session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.dto.admin import ProgramPatch, RejectIn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, words
from api.web.console_forms import (
    PROGRAM_FIELDS,
    RISK_REASONS,
    caller_of,
    notice_of,
    program_page,
    program_values,
    read_program,
)
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, redirect, render
from api.web.reports import STATUS_WORDS, program_of
from api.web.sign_in import AreaController
from offers.publishing import service as publishing
from rewards.abuse import service as abuse
from rewards.core.errors import ValidationFailed
from rewards.ledger import service as ledger
from rewards.program import service as programs
from rewards.referrals import service as referrals


class ConsoleController(AreaController):
    """The operator console's pages."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/")
    async def home(self) -> Response[str]:
        return redirect("/console/overview")

    @get("/overview")
    async def overview(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        pending = await publishing.list_for_review(
            conn, caller.tenant_id, "pending_review", None, 100
        )
        week_ago = datetime.now(UTC) - timedelta(days=7)
        report = await ledger.liability(conn, caller.tenant_id, None, None)
        return render(
            request,
            "console/overview.html",
            title=N_("Overview"),
            pending=len(pending),
            pending_more=len(pending) == 100,
            liability=report,
            referrals=await referrals.figures(conn, caller.tenant_id),
            risks=await abuse.counts_since(conn, caller.tenant_id, week_ago),
            reasons=[(r, words.RISK_REASONS[r]) for r in RISK_REASONS],
        )

    # --- offer review ---------------------------------------------------------------------

    @get("/review")
    async def review(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        return await self._review(request, conn, cursor, {}, None, 200, done)

    async def _review(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: str | None,
        errors: dict[str, str],
        failed: str | None,
        status: int,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await publishing.list_for_review(
            conn, caller.tenant_id, "pending_review", decode_cursor(cursor, str), PAGE_SIZE
        )
        program = await program_of(conn, caller.tenant_id)
        more = next_cursor([o.offer.id for o in found], PAGE_SIZE)
        return render(
            request,
            "console/review.html",
            status=status,
            title=N_("Offers waiting for review"),
            offers=found,
            errors=errors,
            failed=failed,
            exponent=program.exponent,
            currency=program.program.currency,
            major=forms.major,
            next_page=page_link(request, more),
            notice=notice_of(done),
        )

    @get("/offers/{offer_id:str}")
    async def offer(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        stored = await publishing.get_offer(conn, caller.tenant_id, offer_id)
        return render(
            request,
            "console/offer.html",
            title=stored.offer.title,
            stored=stored,
            state=publishing.status_of(stored),
            words=STATUS_WORDS,
            definition=msgspec.json.format(msgspec.json.encode(stored.offer), indent=2).decode(),
            errors={},
        )

    @post("/offers/{offer_id:str}/approve")
    async def approve(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        await publishing.transition(conn, caller.tenant_id, caller.actor, offer_id, "approve")
        return redirect("/console/review", done="approved")

    @post("/offers/{offer_id:str}/reject")
    async def reject(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        reason = form.get("reason")
        try:
            data = forms.convert(
                {"reason": reason.strip() if isinstance(reason, str) else ""}, RejectIn
            )
        except ValidationFailed:
            errors: forms.Errors = {"reason": N_("Write the reason the merchant will see.")}
            return await self._review(request, conn, None, errors, offer_id, 422)
        await publishing.transition(
            conn, caller.tenant_id, caller.actor, offer_id, "reject", reason=data.reason
        )
        return redirect("/console/review", done="rejected")

    # --- the program ----------------------------------------------------------------------

    @get("/program")
    async def program(
        self, request: Request[Any, Any, Any], conn: DbConn, done: FromQuery[str | None] = None
    ) -> Response[str]:
        caller = caller_of(request)
        compiled = await program_of(conn, caller.tenant_id)
        values = program_values(
            await programs.get_program(conn, caller.tenant_id), compiled.exponent
        )
        return program_page(request, values, {}, 200, notice_of(done))

    @post("/program")
    async def save_program(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        compiled = await program_of(conn, caller.tenant_id)
        try:
            data = forms.convert(read_program(form, compiled.exponent), ProgramPatch)
            async with conn.transaction():
                await programs.patch_program(
                    conn,
                    caller.tenant_id,
                    caller.actor,
                    msgspec.to_builtins(data),
                    allow_private=request.app.state.settings.webhook_allow_private,
                )
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, PROGRAM_FIELDS)
            values = forms.typed(form)
            return program_page(request, values, errors, 422, None)
        return redirect("/console/program", done="program-saved")
