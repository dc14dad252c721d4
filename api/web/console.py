"""The operator console: /console/… — offer review, the program, liability, audit, risk.

Each page calls the same use cases as /v1/admin/…, with the tenant of the session.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.auth import Admin
from api.controllers.admin import check_webhook
from api.deps import DbConn
from api.dto.admin import ProgramPatch, RejectIn
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, svg
from api.web.pages import CONSOLE, PAGE_SIZE, holder_of, page_link, redirect, render
from api.web.reports import STATUS_WORDS, Daily, date_range, program_of
from api.web.sign_in import AreaController
from offers.publishing import service as publishing
from rewards.abuse import service as abuse
from rewards.audit import service as audit
from rewards.core.errors import ValidationFailed
from rewards.core.program import Program
from rewards.ledger import service as ledger
from rewards.program import service as programs
from rewards.referrals import service as referrals

NOTICES = {
    "approved": "The offer was approved: it is live.",
    "rejected": "The offer was rejected; the merchant sees your reason.",
    "program-saved": "The program's settings were saved.",
}
RISK_REASONS = ("device_limit", "claim_rate", "daily_points_cap", "referral_ring")
PROGRAM_FIELDS = (
    "currency",
    "time_zone",
    "base_rate",
    "mcc_rates",
    "excluded_mccs",
    "expiry_months",
    "pending_days",
    "refund_policy",
    "tiers",
    "referral",
    "abuse",
    "webhook_url",
)


def _caller(request: Request[Any, Any, Any]) -> Admin:
    return Admin(holder_of(request).tenant_id)


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done or "")


# --- the program form ------------------------------------------------------------------------


def program_values(program: Program, exponent: int) -> dict[str, Any]:
    """The program as its form shows it."""
    referral, limits = program.referral, program.abuse

    def number(value: int | None) -> str:
        return "" if value is None else str(value)

    return {
        "currency": program.currency,
        "time_zone": program.time_zone,
        "base_rate": program.base_rate,
        "mcc_rates": "\n".join(
            f"{mcc} = {rate}" for mcc, rate in sorted(program.mcc_rates.items())
        ),
        "excluded_mccs": ", ".join(program.excluded_mccs),
        "expiry_months": number(program.expiry_months),
        "pending_days": str(program.pending_days),
        "refund_policy": program.refund_policy,
        "tiers": "\n".join(
            f"{t.name} = {forms.major(t.min_spend_minor_12m, exponent)}" for t in program.tiers
        ),
        "referral.on": "on" if referral else "",
        "referral.referrer_points": number(referral.referrer_points) if referral else "",
        "referral.referee_points": number(referral.referee_points) if referral else "",
        "referral.min_first_purchase_minor": (
            forms.major(referral.min_first_purchase_minor, exponent) if referral else ""
        ),
        "referral.max_per_referrer": number(referral.max_per_referrer) if referral else "",
        "abuse.on": "on" if limits else "",
        "abuse.max_members_per_device": number(limits.max_members_per_device) if limits else "",
        "abuse.max_claims_per_member_per_hour": (
            number(limits.max_claims_per_member_per_hour) if limits else ""
        ),
        "abuse.max_points_per_member_per_day": (
            number(limits.max_points_per_member_per_day) if limits else ""
        ),
        "webhook_url": program.webhook_url or "",
    }


def _pairs(r: forms.Reader, name: str) -> list[tuple[str, str]]:
    """Lines of ``key = value``."""
    found = []
    for n, line in enumerate(r.text(name).splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            r.errors[name] = f"Line {n}: write it as 'name = value'."
            continue
        found.append((key.strip(), value.strip()))
    return found


def read_program(form: Any, exponent: int) -> dict[str, Any]:
    """The form as the body of PATCH /v1/admin/program (every setting it shows)."""
    r = forms.Reader(form, form.getall)
    tiers = []
    for name, amount in _pairs(r, "tiers"):
        minor = forms.Reader({"x": amount}, lambda _, default: default).money("x", exponent)
        if minor is None:
            r.errors["tiers"] = f"{name}: enter the yearly spend as an amount, like 50000."
        tiers.append({"name": name, "min_spend_minor_12m": minor})
    body: dict[str, Any] = {
        "currency": r.text("currency"),
        "time_zone": r.text("time_zone"),
        "base_rate": r.text("base_rate"),
        "mcc_rates": dict(_pairs(r, "mcc_rates")),
        "excluded_mccs": r.words("excluded_mccs") or [],
        "expiry_months": r.integer("expiry_months"),
        "pending_days": r.integer("pending_days") or 0,
        "refund_policy": r.text("refund_policy"),
        "tiers": tiers,
        "webhook_url": r.optional_text("webhook_url"),
        "referral": None,
        "abuse": None,
    }
    if r.text("referral.on"):
        referral = {
            "referrer_points": r.integer("referral.referrer_points") or 0,
            "referee_points": r.integer("referral.referee_points") or 0,
            "min_first_purchase_minor": r.money("referral.min_first_purchase_minor", exponent) or 0,
            "max_per_referrer": r.integer("referral.max_per_referrer"),
        }
        body["referral"] = referral
    if r.text("abuse.on"):
        body["abuse"] = {
            name: r.integer(f"abuse.{name}")
            for name in (
                "max_members_per_device",
                "max_claims_per_member_per_hour",
                "max_points_per_member_per_day",
            )
        }
    r.done()
    return body


class ConsoleController(AreaController):
    """The operator console's pages."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/")
    async def home(self) -> Response[str]:
        return redirect("/console/overview")

    @get("/overview")
    async def overview(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = _caller(request)
        pending = await publishing.list_for_review(
            conn, caller.tenant_id, "pending_review", None, 100
        )
        week_ago = datetime.now(UTC) - timedelta(days=7)
        report = await ledger.liability(conn, caller.tenant_id, None, None)
        return render(
            request,
            "console/overview.html",
            title="Overview",
            pending=len(pending),
            pending_more=len(pending) == 100,
            liability=report,
            referrals=await referrals.figures(conn, caller.tenant_id),
            risks=await abuse.counts_since(conn, caller.tenant_id, week_ago),
            reasons=RISK_REASONS,
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
        caller = _caller(request)
        found = await publishing.list_for_review(
            conn, caller.tenant_id, "pending_review", decode_cursor(cursor, str), PAGE_SIZE
        )
        program = await program_of(conn, caller.tenant_id)
        more = next_cursor([o.offer.id for o in found], PAGE_SIZE)
        return render(
            request,
            "console/review.html",
            status=status,
            title="Offers waiting for review",
            offers=found,
            errors=errors,
            failed=failed,
            exponent=program.exponent,
            currency=program.program.currency,
            major=forms.major,
            next_page=page_link(request, more),
            notice=_notice(done),
        )

    @get("/offers/{offer_id:str}")
    async def offer(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = _caller(request)
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
        caller = _caller(request)
        await publishing.transition(conn, caller.tenant_id, caller.actor, offer_id, "approve")
        return redirect("/console/review", done="approved")

    @post("/offers/{offer_id:str}/reject")
    async def reject(
        self, request: Request[Any, Any, Any], offer_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = _caller(request)
        form = await request.form()
        reason = form.get("reason")
        try:
            data = forms.convert(
                {"reason": reason.strip() if isinstance(reason, str) else ""}, RejectIn
            )
        except ValidationFailed:
            errors = {"reason": "Write the reason the merchant will see."}
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
        caller = _caller(request)
        compiled = await program_of(conn, caller.tenant_id)
        values = program_values(
            await programs.get_program(conn, caller.tenant_id), compiled.exponent
        )
        return _program_page(request, values, {}, 200, _notice(done))

    @post("/program")
    async def save_program(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = _caller(request)
        form = await request.form()
        compiled = await program_of(conn, caller.tenant_id)
        try:
            data = forms.convert(read_program(form, compiled.exponent), ProgramPatch)
            if isinstance(data.webhook_url, str):
                await check_webhook(data.webhook_url, request.app.state)
            async with conn.transaction():
                await programs.patch_program(
                    conn, caller.tenant_id, caller.actor, msgspec.to_builtins(data)
                )
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = (
                exc.errors
                if isinstance(exc, forms.FormErrors)
                else forms.api_errors(exc, PROGRAM_FIELDS)
            )
            values = {k: str(v) for k, v in form.items()}
            return _program_page(request, values, errors, 422, None)
        return redirect("/console/program", done="program-saved")

    # --- reports --------------------------------------------------------------------------

    @get("/liability")
    async def liability(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = _caller(request)
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
        caller = _caller(request)
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
        caller = _caller(request)
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


def _program_page(
    request: Request[Any, Any, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
    notice: str | None,
) -> Response[str]:
    return render(
        request,
        "console/program.html",
        status=status,
        title="Program settings",
        values=values,
        errors=errors,
        notice=notice,
    )
