"""The operator's program: settings, simulation, earn rules, draw campaigns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from api.auth import Admin, admin_guard
from api.controllers.admin_controls import PENDING, gated
from api.controllers.hooks import to_card_transaction
from api.deps import DbConn
from api.dto.admin import (
    DrawCampaignIn,
    DrawCampaignOut,
    DrawCampaignPage,
    EarnRuleIn,
    EarnRuleOut,
    EarnRulePage,
    EarnRulePatch,
    ProgramIn,
    ProgramPatch,
    ProgramReplaced,
    RevealOut,
)
from api.dto.common import (
    HookTransaction,
)
from api.paging import CursorParam, Limit, decode_cursor, moment, moment_param, next_cursor
from api.presenters import (
    campaign_out,
    rule_out,
)
from rewards.core.campaigns import DrawCampaign
from rewards.core.earning import EarnRule
from rewards.core.errors import NotFound
from rewards.core.planner import Answer
from rewards.core.program import Program
from rewards.hook import service as hook
from rewards.program import service as programs

#: A past moment to read the configuration at (RFC 3339 with its offset).
AsOf = Annotated[str | None, moment_param("as_of")]


class AdminProgramController(Controller):
    """The program, its earn rules and its draw campaigns."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    # --- program -----------------------------------------------------------------------

    @put(
        "/program",
        summary="Replace the program's settings (fields left out go back to their defaults)",
    )
    async def put_program(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ProgramIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
    ) -> ProgramReplaced:
        program = msgspec.convert(msgspec.to_builtins(data), Program)
        # Which settings the body named (it decoded as an object, so this cannot fail).
        given = set(msgspec.json.decode(await request.body(), type=dict[str, Any]))
        reset = await programs.replace_program(
            conn,
            caller.tenant_id,
            caller.actor,
            program,
            given,
            allow_private=state.settings.webhook_allow_private,
        )
        return msgspec.convert(
            msgspec.to_builtins(data) | {"reset_to_defaults": reset}, ProgramReplaced
        )

    @patch("/program", summary="Change the settings given; the others stay as they are")
    async def patch_program(
        self,
        data: JSONBody[ProgramPatch],
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
    ) -> ProgramIn:
        program = await programs.patch_program(
            conn,
            caller.tenant_id,
            caller.actor,
            msgspec.to_builtins(data),
            allow_private=state.settings.webhook_allow_private,
        )
        return msgspec.convert(msgspec.to_builtins(program), ProgramIn)

    @get("/program", summary="The program's settings, now or at a past moment (as_of)")
    async def get_program(
        self, caller: NamedDependency[Admin], conn: DbConn, as_of: AsOf = None
    ) -> ProgramIn:
        at = moment("as_of", as_of)
        if at is not None:
            then = await programs.as_of(conn, caller.tenant_id, "program", caller.tenant_id, at)
            return msgspec.convert(then.document, ProgramIn)
        program = await programs.get_program(conn, caller.tenant_id)
        return msgspec.convert(msgspec.to_builtins(program), ProgramIn)

    @post(
        "/transactions/simulate",
        status_code=200,
        summary="What the hook would answer for this transaction, without writing anything",
        responses={200: ResponseSpec(Answer, description="The answer the hook would give")},
    )
    async def simulate(
        self, data: JSONBody[HookTransaction], caller: NamedDependency[Admin], conn: DbConn
    ) -> Response[bytes]:
        answer = await hook.simulate(conn, caller.tenant_id, to_card_transaction(data))
        return Response(answer, media_type=MediaType.JSON)

    # --- earn rules ----------------------------------------------------------------------

    @post("/earn-rules", status_code=201, summary="Create an earn rule", responses=PENDING)
    async def create_rule(
        self, data: JSONBody[EarnRuleIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> EarnRuleOut:
        rule = msgspec.convert(msgspec.to_builtins(data), EarnRule)
        document = msgspec.to_builtins(rule)
        waits = await gated(
            conn, caller, "earn_rule.create", {"rule": document}, {"rule_id": rule.id}
        )
        if waits is not None:
            return cast(EarnRuleOut, waits)  # the 202 (PENDING), sent as it is
        return rule_out(await programs.create_rule(conn, caller.tenant_id, caller.actor, rule))

    @get("/earn-rules", summary="List earn rules")
    async def list_rules(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> EarnRulePage:
        found = await programs.list_rules(conn, caller.tenant_id, decode_cursor(cursor, str), limit)
        return EarnRulePage(
            [rule_out(r) for r in found], next_cursor([r.rule.id for r in found], limit)
        )

    @get(
        "/earn-rules/{rule_id:str}",
        summary="One earn rule, now or as it stood at a past moment (as_of)",
        description="With `as_of`, the rule's definition in force then (404 if it did not "
        "exist or had been deleted); `budget_used` is always what its budget has paid by now.",
    )
    async def get_rule(
        self,
        rule_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        as_of: AsOf = None,
    ) -> EarnRuleOut:
        current = await programs.get_rule_or_deleted(conn, caller.tenant_id, rule_id)
        at = moment("as_of", as_of)
        if at is None:
            if current is None:
                raise NotFound(f"no earn rule {rule_id}")
            return rule_out(current)
        then = await programs.as_of(conn, caller.tenant_id, "earn_rule", rule_id, at)
        rule = msgspec.convert(then.document, EarnRule)
        return rule_out(programs.StoredRule(rule, current.budget_used if current else 0))

    @patch(
        "/earn-rules/{rule_id:str}",
        summary="Change some fields of an earn rule",
        responses=PENDING,
    )
    async def patch_rule(
        self,
        rule_id: FromPath[str],
        data: JSONBody[EarnRulePatch],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> EarnRuleOut:
        changes = msgspec.to_builtins(data)
        waits = await gated(
            conn,
            caller,
            "earn_rule.update",
            {"rule_id": rule_id, "changes": changes},
            {"rule_id": rule_id, "fields": sorted(changes)},
        )
        if waits is not None:
            return cast(EarnRuleOut, waits)  # the 202 (PENDING), sent as it is
        stored = await programs.patch_rule(conn, caller.tenant_id, caller.actor, rule_id, changes)
        return rule_out(stored)

    @delete(
        "/earn-rules/{rule_id:str}",
        status_code=204,
        summary="Delete an earn rule",
        responses=PENDING,
    )
    async def delete_rule(
        self, rule_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> None:
        change = {"rule_id": rule_id}
        waits = await gated(conn, caller, "earn_rule.delete", change, change)
        if waits is not None:
            return cast(None, waits)  # the 202 (PENDING), sent as it is
        await programs.delete_rule(conn, caller.tenant_id, caller.actor, rule_id)
        return None

    # --- draw campaigns ------------------------------------------------------------------

    @post("/draw-campaigns", status_code=201, summary="Create a draw campaign (with commitment)")
    async def create_campaign(
        self, data: JSONBody[DrawCampaignIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> DrawCampaignOut:
        campaign = msgspec.convert(msgspec.to_builtins(data), DrawCampaign)
        view = await programs.create_campaign(conn, caller.tenant_id, caller.actor, campaign)
        return campaign_out(view)

    @get("/draw-campaigns", summary="List draw campaigns")
    async def list_campaigns(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> DrawCampaignPage:
        found = await programs.list_campaigns(
            conn, caller.tenant_id, decode_cursor(cursor, str), limit
        )
        return DrawCampaignPage(
            [campaign_out(v) for v in found], next_cursor([v.campaign.id for v in found], limit)
        )

    @get(
        "/draw-campaigns/{campaign_id:str}",
        summary="A draw campaign with its stats (as_of: 404 if it did not exist then)",
    )
    async def get_campaign(
        self,
        campaign_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        as_of: AsOf = None,
    ) -> DrawCampaignOut:
        at = moment("as_of", as_of)
        if at is not None:
            await programs.as_of(conn, caller.tenant_id, "draw_campaign", campaign_id, at)
        return campaign_out(await programs.get_campaign(conn, caller.tenant_id, campaign_id))

    @post(
        "/draw-campaigns/{campaign_id:str}/reveal",
        status_code=200,
        summary="The campaign's secret, once it has ended (409 before)",
    )
    async def reveal_campaign(
        self, campaign_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> RevealOut:
        view, secret = await programs.reveal_campaign(
            conn, caller.tenant_id, caller.actor, campaign_id, datetime.now(UTC)
        )
        return RevealOut(view.campaign.id, secret.hex(), view.commitment)
