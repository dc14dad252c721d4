"""The console's earn rules and draw campaigns: rules listed, made and changed with form
fields, switched on and off; campaigns made, their stats, and their secret revealed once
they ended, with the page recomputing the commitment and a sample of the draws from it.

Each page calls the same use cases as /v1/admin/earn-rules and /v1/admin/draw-campaigns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from api.deps import DbConn
from api.dto.admin import DrawCampaignIn, EarnRuleIn, EarnRulePatch
from api.paging import CursorParam, decode_cursor, next_cursor
from api.web import forms, rule_forms
from api.web.console_forms import caller_of, notice_of, waits
from api.web.i18n import N_
from api.web.pages import CONSOLE, PAGE_SIZE, page_link, redirect, render
from api.web.reports import program_of
from api.web.sign_in import AreaPages
from rewards.core.campaigns import DrawCampaign
from rewards.core.draw import Prize, commitment_of, draw_proof, prize_index
from rewards.core.earning import EarnRule
from rewards.core.errors import ValidationFailed
from rewards.program import service as programs

SAMPLE = 20
BLANK_RULE = {
    "id": "",
    "name": "",
    "effect": {"kind": "multiplier", "value": "2"},
    "stacking": True,
    "active": True,
}


class ConsoleRulesController(AreaPages):
    """Earn rules and draw campaigns in the console."""

    path = "/console"
    opt = {"area": CONSOLE}  # noqa: RUF012

    @get("/earn-rules")
    async def rules(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: CursorParam = None,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await programs.list_rules(
            conn, caller.tenant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        return render(
            request,
            "console/rules.html",
            title=N_("Earn rules"),
            rules=found,
            next_page=page_link(request, next_cursor([r.rule.id for r in found], PAGE_SIZE)),
            notice=notice_of(done),
        )

    @get("/earn-rules/new")
    async def new_rule(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        program = await program_of(conn, caller_of(request).tenant_id)
        values = rule_forms.rule_values(BLANK_RULE, program.zone, program.exponent)
        return _rule_page(request, None, values, {}, 200)

    @post("/earn-rules")
    async def create_rule(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        form = await request.form()
        try:
            body = rule_forms.read_rule(form, program.zone, program.exponent, with_id=True)
            data = forms.convert(body, EarnRuleIn)
            rule = msgspec.convert(msgspec.to_builtins(data), EarnRule)
            change = {"rule": msgspec.to_builtins(rule)}
            async with conn.transaction():
                pending = await waits(
                    conn, caller, "earn_rule.create", change, {"rule_id": rule.id}
                )
                if not pending:
                    await programs.create_rule(conn, caller.tenant_id, caller.actor, rule)
        except (forms.FormErrors, ValidationFailed) as exc:
            return _rule_page(
                request,
                None,
                forms.typed(form, "conditions.days_of_week"),
                forms.errors_of(exc, rule_forms.RULE_FIELDS),
                422,
            )
        if pending:
            return redirect("/console/approvals", done="approval-pending")
        return redirect(f"/console/earn-rules/{rule.id}", done="rule-saved")

    @get("/earn-rules/{rule_id:str}")
    async def rule(
        self,
        request: Request[Any, Any, Any],
        rule_id: FromPath[str],
        conn: DbConn,
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        stored = await programs.get_rule(conn, caller.tenant_id, rule_id)
        document = msgspec.to_builtins(stored.rule)
        values = rule_forms.rule_values(document, program.zone, program.exponent)
        return _rule_page(request, stored, values, {}, 200, notice_of(done))

    @post("/earn-rules/{rule_id:str}")
    async def save_rule(
        self, request: Request[Any, Any, Any], rule_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        stored = await programs.get_rule(conn, caller.tenant_id, rule_id)
        form = await request.form()
        try:
            body = rule_forms.read_rule(form, program.zone, program.exponent, with_id=False)
            data = forms.convert(body, EarnRulePatch)
            changes = msgspec.to_builtins(data)
            change = {"rule_id": rule_id, "changes": changes}
            summary = {"rule_id": rule_id, "fields": sorted(changes)}
            async with conn.transaction():
                pending = await waits(conn, caller, "earn_rule.update", change, summary)
                if not pending:
                    await programs.patch_rule(
                        conn, caller.tenant_id, caller.actor, rule_id, changes
                    )
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, rule_forms.RULE_FIELDS)
            return _rule_page(
                request,
                stored,
                forms.typed(form, "conditions.days_of_week") | {"id": rule_id},
                errors,
                422,
            )
        if pending:
            return redirect("/console/approvals", done="approval-pending")
        return redirect(f"/console/earn-rules/{rule_id}", done="rule-saved")

    @post("/earn-rules/{rule_id:str}/active")
    async def switch_rule(
        self, request: Request[Any, Any, Any], rule_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        form = await request.form()
        active = form.get("active") == "on"
        change = {"rule_id": rule_id, "changes": {"active": active}}
        summary = {"rule_id": rule_id, "fields": ["active"]}
        async with conn.transaction():
            pending = await waits(conn, caller, "earn_rule.update", change, summary)
            if not pending:
                await programs.patch_rule(
                    conn, caller.tenant_id, caller.actor, rule_id, {"active": active}
                )
        if pending:
            return redirect("/console/approvals", done="approval-pending")
        return redirect("/console/earn-rules", done="rule-on" if active else "rule-off")

    # --- draw campaigns -------------------------------------------------------------------

    @get("/draw-campaigns")
    async def campaigns(
        self, request: Request[Any, Any, Any], conn: DbConn, cursor: CursorParam = None
    ) -> Response[str]:
        values = {"prizes": "1 = 700\n2 = 200\n5 = 80\n10 = 20"}
        return await self._campaigns(request, conn, cursor, values, {}, 200)

    async def _campaigns(
        self,
        request: Request[Any, Any, Any],
        conn: DbConn,
        cursor: str | None,
        values: dict[str, Any],
        errors: forms.Errors,
        status: int,
    ) -> Response[str]:
        caller = caller_of(request)
        found = await programs.list_campaigns(
            conn, caller.tenant_id, decode_cursor(cursor, str), PAGE_SIZE
        )
        return render(
            request,
            "console/campaigns.html",
            status=status,
            title=N_("Draw campaigns"),
            campaigns=found,
            values=values,
            errors=errors,
            next_page=page_link(request, next_cursor([c.campaign.id for c in found], PAGE_SIZE)),
        )

    @post("/draw-campaigns")
    async def create_campaign(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        program = await program_of(conn, caller.tenant_id)
        form = await request.form()
        try:
            body = rule_forms.read_campaign(form, program.zone, program.exponent)
            data = forms.convert(body, DrawCampaignIn)
            campaign = msgspec.convert(msgspec.to_builtins(data), DrawCampaign)
            async with conn.transaction():
                await programs.create_campaign(conn, caller.tenant_id, caller.actor, campaign)
        except (forms.FormErrors, ValidationFailed) as exc:
            errors = forms.errors_of(exc, rule_forms.CAMPAIGN_FIELDS)
            return await self._campaigns(
                request, conn, None, forms.typed(form, "conditions.days_of_week"), errors, 422
            )
        return redirect(f"/console/draw-campaigns/{campaign.id}")

    @get("/draw-campaigns/{campaign_id:str}")
    async def campaign(
        self, request: Request[Any, Any, Any], campaign_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        return await self._campaign(request, conn, campaign_id, None)

    @post("/draw-campaigns/{campaign_id:str}/reveal")
    async def reveal(
        self, request: Request[Any, Any, Any], campaign_id: FromPath[str], conn: DbConn
    ) -> Response[str]:
        caller = caller_of(request)
        async with conn.transaction():
            _, secret = await programs.reveal_campaign(
                conn, caller.tenant_id, caller.actor, campaign_id, datetime.now(UTC)
            )
        return await self._campaign(request, conn, campaign_id, secret)

    async def _campaign(
        self, request: Request[Any, Any, Any], conn: DbConn, campaign_id: str, secret: bytes | None
    ) -> Response[str]:
        caller = caller_of(request)
        view = await programs.get_campaign(conn, caller.tenant_id, campaign_id)
        checked = None
        if secret is not None:
            prizes = [Prize(p.multiplier, p.weight) for p in view.campaign.prizes]
            draws = []
            for d in await programs.sample_draws(conn, caller.tenant_id, campaign_id, SAMPLE):
                proof = draw_proof(secret, campaign_id, d.transaction_id)
                drawn = prizes[prize_index(proof, prizes)].multiplier
                draws.append((d, proof.hex() == d.proof and drawn == d.drawn, drawn))
            checked = {
                "secret": secret.hex(),
                "commitment": commitment_of(secret),
                "matches": commitment_of(secret) == view.commitment,
                "draws": draws,
            }
        ended = view.campaign.ends_at is not None and view.campaign.ends_at <= datetime.now(UTC)
        return render(
            request,
            "console/campaign.html",
            title=view.campaign.name,
            view=view,
            ended=ended,
            checked=checked,
        )


def _rule_page(
    request: Request[Any, Any, Any],
    stored: programs.StoredRule | None,
    values: dict[str, Any],
    errors: forms.Errors,
    status: int,
    notice: str | None = None,
) -> Response[str]:
    return render(
        request,
        "console/rule.html",
        status=status,
        title=stored.rule.name if stored else N_("New earn rule"),
        stored=stored,
        values=values,
        errors=errors,
        notice=notice,
    )
