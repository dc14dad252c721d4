"""Operator API: /v1/admin/…"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from api.auth import Admin, admin_guard
from api.controllers.hooks import to_card_transaction
from api.deps import DbConn
from api.dto import (
    AdjustmentIn,
    AdjustmentOut,
    AuditOut,
    AuditPage,
    BalanceSummary,
    CampaignStatsOut,
    DrawCampaignIn,
    DrawCampaignOut,
    DrawCampaignPage,
    EarnRuleIn,
    EarnRuleOut,
    EarnRulePage,
    EarnRulePatch,
    HookTransaction,
    LiabilityDayOut,
    LiabilityOut,
    MemberOut,
    MemberPut,
    MerchantCreate,
    MerchantCreated,
    MerchantOut,
    MerchantPage,
    ProgramIn,
    RevealOut,
    TransactionOut,
    TransactionResult,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from db.audit import list_entries as audit_entries
from offers import merchants
from rewards import ledger, members, programs, transactions
from rewards.campaigns import DrawCampaign
from rewards.credentials import ID_PATTERN
from rewards.earning import EarnRule
from rewards.models import Member, Merchant
from rewards.program import Program


def merchant_out(merchant: Merchant) -> MerchantOut:
    return MerchantOut(merchant.merchant_id, merchant.name, merchant.category, merchant.created_at)


def member_out(member: Member, balance: BalanceSummary) -> MemberOut:
    return MemberOut(
        member.member_id,
        member.tier,
        member.segments,
        member.card_products,
        member.referral_code_used,
        balance,
        member.created_at,
    )


class AdminController(Controller):
    """The program operator of one tenant (admin API key)."""

    path = "/v1/admin"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @post("/merchants", status_code=201, summary="Create a merchant; its API key is shown once")
    async def create_merchant(
        self,
        data: JSONBody[MerchantCreate],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MerchantCreated:
        created = await merchants.create_merchant(
            conn, caller.tenant_id, caller.actor, data.id, data.name, data.category
        )
        m = created.merchant
        return MerchantCreated(m.merchant_id, m.name, m.category, m.created_at, created.api_key)

    @get("/merchants", summary="List merchants")
    async def list_merchants(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MerchantPage:
        after = decode_cursor(cursor, str)
        found = await merchants.list_merchants(conn, caller.tenant_id, after, limit)
        return MerchantPage(
            [merchant_out(m) for m in found], next_cursor([m.merchant_id for m in found], limit)
        )

    @get("/merchants/{merchant_id:str}", summary="One merchant")
    async def get_merchant(
        self,
        merchant_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MerchantOut:
        return merchant_out(await merchants.get_merchant(conn, caller.tenant_id, merchant_id))

    @put("/members/{member_id:str}", summary="Create or update a member's attributes")
    async def put_member(
        self,
        member_id: Annotated[str, PathParameter(pattern=ID_PATTERN)],
        data: JSONBody[MemberPut],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MemberOut:
        member = await members.update(
            conn,
            caller.tenant_id,
            caller.actor,
            member_id,
            data.tier,
            data.segments,
            data.card_products,
            data.referral_code_used,
        )
        found = await ledger.balance(conn, caller.tenant_id, member_id)
        return member_out(member, BalanceSummary(found.available, found.pending))

    @get("/members/{member_id:str}", summary="A member with its balance")
    async def get_member(
        self,
        member_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MemberOut:
        member = await members.get(conn, caller.tenant_id, member_id)
        found = await ledger.balance(conn, caller.tenant_id, member_id)
        return member_out(member, BalanceSummary(found.available, found.pending))

    @get("/transactions/{transaction_id:str}", summary="A hook transaction and its result")
    async def get_transaction(
        self,
        transaction_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> TransactionOut:
        r = await transactions.get_record(conn, caller.tenant_id, transaction_id)
        return TransactionOut(
            r.transaction_id,
            r.kind,
            r.member_id,
            r.original_id,
            r.amount_minor,
            r.currency,
            r.occurred_at,
            r.body,
            r.response,
            r.created_at,
        )

    # --- program -----------------------------------------------------------------------

    @put("/program", summary="Set the program's settings")
    async def put_program(
        self, data: JSONBody[ProgramIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> ProgramIn:
        program = msgspec.convert(msgspec.to_builtins(data), Program)
        await programs.put_program(conn, caller.tenant_id, caller.actor, program)
        return data

    @get("/program", summary="The program's settings")
    async def get_program(self, caller: NamedDependency[Admin], conn: DbConn) -> ProgramIn:
        program = await programs.get_program(conn, caller.tenant_id)
        return msgspec.convert(msgspec.to_builtins(program), ProgramIn)

    @post(
        "/transactions/simulate",
        status_code=200,
        summary="What the hook would answer for this transaction, without writing anything",
    )
    async def simulate(
        self, data: JSONBody[HookTransaction], caller: NamedDependency[Admin], conn: DbConn
    ) -> TransactionResult:
        outcome = await transactions.simulate(conn, caller.tenant_id, to_card_transaction(data))
        return msgspec.convert(outcome, TransactionResult)

    # --- earn rules ----------------------------------------------------------------------

    @post("/earn-rules", status_code=201, summary="Create an earn rule")
    async def create_rule(
        self, data: JSONBody[EarnRuleIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> EarnRuleOut:
        rule = msgspec.convert(msgspec.to_builtins(data), EarnRule)
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

    @get("/earn-rules/{rule_id:str}", summary="One earn rule")
    async def get_rule(
        self, rule_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> EarnRuleOut:
        return rule_out(await programs.get_rule(conn, caller.tenant_id, rule_id))

    @patch("/earn-rules/{rule_id:str}", summary="Change some fields of an earn rule")
    async def patch_rule(
        self,
        rule_id: FromPath[str],
        data: JSONBody[EarnRulePatch],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> EarnRuleOut:
        changes = msgspec.to_builtins(data)
        stored = await programs.patch_rule(conn, caller.tenant_id, caller.actor, rule_id, changes)
        return rule_out(stored)

    @delete("/earn-rules/{rule_id:str}", status_code=204, summary="Delete an earn rule")
    async def delete_rule(
        self, rule_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> None:
        await programs.delete_rule(conn, caller.tenant_id, caller.actor, rule_id)

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

    @get("/draw-campaigns/{campaign_id:str}", summary="A draw campaign with its stats")
    async def get_campaign(
        self, campaign_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> DrawCampaignOut:
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

    # --- ledger ----------------------------------------------------------------------------

    @post(
        "/members/{member_id:str}/adjustments",
        status_code=201,
        summary="A goodwill credit or debit of points (audited)",
    )
    async def adjust(
        self,
        member_id: FromPath[str],
        data: JSONBody[AdjustmentIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> AdjustmentOut:
        done = await ledger.adjust(
            conn, caller.tenant_id, caller.actor, member_id, data.points, data.reason
        )
        return AdjustmentOut(
            done.member_id, done.points, done.reason, BalanceSummary(**done.balance)
        )

    @get("/reports/liability", summary="Outstanding points and daily movements")
    async def liability(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> LiabilityOut:
        report = await ledger.liability(conn, caller.tenant_id, from_, to)
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

    @get("/audit-log", summary="Every change an operator or merchant made, newest first")
    async def audit_log(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> AuditPage:
        entries = await audit_entries(conn, caller.tenant_id, decode_cursor(cursor, int), limit)
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


def rule_out(stored: programs.StoredRule) -> EarnRuleOut:
    r = msgspec.to_builtins(stored.rule)
    return EarnRuleOut(
        r["id"],
        r["name"],
        r["effect"],
        r.get("conditions", {}),
        stored.rule.stacking,
        r.get("caps", {}),
        stored.rule.active,
        stored.budget_used,
    )


def campaign_out(view: programs.CampaignView) -> DrawCampaignOut:
    c = view.campaign
    stats = view.stats
    return DrawCampaignOut(
        c.id,
        c.name,
        [{"multiplier": p.multiplier, "weight": p.weight} for p in c.prizes],
        msgspec.to_builtins(c.conditions),
        msgspec.to_builtins(c.budget),
        c.starts_at,
        c.ends_at,
        view.commitment,
        view.created_at,
        None if stats is None else CampaignStatsOut(**msgspec.to_builtins(stats)),
    )
