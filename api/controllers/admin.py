"""Operator API: /v1/admin/…"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from api.auth import Admin, admin_guard
from api.controllers.hooks import to_card_transaction
from api.deps import DbConn
from api.dto.admin import (
    AdjustmentIn,
    AdjustmentOut,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeyPage,
    AuditOut,
    AuditPage,
    CampaignStatsOut,
    CatalogItemIn,
    CatalogItemPage,
    CatalogItemPatch,
    CodesAdded,
    CodesIn,
    DrawCampaignIn,
    DrawCampaignOut,
    DrawCampaignPage,
    EarnRuleIn,
    EarnRuleOut,
    EarnRulePage,
    EarnRulePatch,
    EventOut,
    EventPage,
    EventTypeName,
    LiabilityDayOut,
    LiabilityOut,
    MemberOut,
    MemberPage,
    MemberPut,
    MerchantCreate,
    MerchantCreated,
    MerchantPage,
    ProgramIn,
    ProgramPatch,
    ProgramReplaced,
    RejectIn,
    RevealOut,
    RiskEventOut,
    RiskEventPage,
    TransactionOut,
)
from api.dto.common import (
    BalanceSummary,
    CatalogItemOut,
    HookTransaction,
    MerchantOut,
    OfferOut,
    OfferPage,
)
from api.paging import CursorParam, Limit, decode_cursor, moment, moment_param, next_cursor
from api.presenters import item_out, merchant_out, offer_out
from offers.core.offers import Status
from offers.merchants import service as merchants
from offers.publishing import service as publishing
from rewards.abuse import service as abuse
from rewards.audit import service as audit
from rewards.catalog import service as redemptions
from rewards.core.campaigns import DrawCampaign
from rewards.core.catalog import CatalogItem
from rewards.core.credentials import ID_PATTERN
from rewards.core.earning import EarnRule
from rewards.core.errors import ValidationFailed
from rewards.core.planner import Answer
from rewards.core.program import Program
from rewards.core.records import ApiKey, Member, NewApiKey
from rewards.events import delivery
from rewards.events import service as events
from rewards.hook import service as transactions
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.program import service as programs
from rewards.tenants import keys


def member_out(member: Member, balance: BalanceSummary) -> MemberOut:
    return MemberOut(
        member.member_id,
        member.tier,
        member.segments,
        member.card_products,
        member.referral_code_used,
        member.referral_code,
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

    # --- API keys -------------------------------------------------------------------------

    @post("/keys", status_code=201, summary="Issue an admin API key (shown once)")
    async def create_admin_key(
        self, data: JSONBody[ApiKeyCreate], caller: NamedDependency[Admin], conn: DbConn
    ) -> ApiKeyCreated:
        made = await keys.issue_key(conn, caller.tenant_id, "admin", None, data.label, caller.actor)
        return key_created(made)

    @get("/keys", summary="Live admin API keys: id, prefix, created, last used")
    async def list_admin_keys(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ApiKeyPage:
        found = await keys.list_keys(
            conn, caller.tenant_id, None, decode_cursor(cursor, str), limit
        )
        return ApiKeyPage(
            [key_out(k) for k in found], next_cursor([k.key_id for k in found], limit)
        )

    @delete(
        "/keys/{key_id:str}",
        status_code=204,
        summary="Revoke an admin API key (409 for the tenant's last one)",
    )
    async def revoke_admin_key(
        self, key_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn, state: State
    ) -> None:
        key_hash = await keys.revoke_key(conn, caller.tenant_id, caller.actor, key_id, None)
        state.credentials.forget_key(key_hash)

    @post(
        "/merchants/{merchant_id:str}/keys",
        status_code=201,
        summary="Issue an API key for a merchant (shown once)",
    )
    async def create_merchant_key(
        self,
        merchant_id: FromPath[str],
        data: JSONBody[ApiKeyCreate],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> ApiKeyCreated:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        made = await keys.issue_key(
            conn, caller.tenant_id, "merchant", merchant_id, data.label, caller.actor
        )
        return key_created(made)

    @get("/merchants/{merchant_id:str}/keys", summary="A merchant's live API keys")
    async def list_merchant_keys(
        self,
        merchant_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ApiKeyPage:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        found = await keys.list_keys(
            conn, caller.tenant_id, merchant_id, decode_cursor(cursor, str), limit
        )
        return ApiKeyPage(
            [key_out(k) for k in found], next_cursor([k.key_id for k in found], limit)
        )

    @delete(
        "/merchants/{merchant_id:str}/keys/{key_id:str}",
        status_code=204,
        summary="Revoke one of a merchant's API keys",
    )
    async def revoke_merchant_key(
        self,
        merchant_id: FromPath[str],
        key_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        state: State,
    ) -> None:
        await merchants.get_merchant(conn, caller.tenant_id, merchant_id)
        key_hash = await keys.revoke_key(conn, caller.tenant_id, caller.actor, key_id, merchant_id)
        state.credentials.forget_key(key_hash)

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

    @get("/members", summary="Members, by id; filter by tier and segment")
    async def list_members(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        tier: Annotated[str | None, QueryParameter(max_length=64)] = None,
        segment: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> MemberPage:
        found = await members.list_members(
            conn, caller.tenant_id, tier, segment, decode_cursor(cursor, str), limit
        )
        return MemberPage(
            [member_out(m.member, BalanceSummary(m.balance - m.pending, m.pending)) for m in found],
            next_cursor([m.member.member_id for m in found], limit),
        )

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
        await check_webhook(program.webhook_url, state)
        # Which settings the body named (it decoded as an object, so this cannot fail).
        given = set(msgspec.json.decode(await request.body(), type=dict[str, Any]))
        reset = await programs.replace_program(conn, caller.tenant_id, caller.actor, program, given)
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
        if isinstance(data.webhook_url, str):
            await check_webhook(data.webhook_url, state)
        program = await programs.patch_program(
            conn, caller.tenant_id, caller.actor, msgspec.to_builtins(data)
        )
        return msgspec.convert(msgspec.to_builtins(program), ProgramIn)

    @get("/program", summary="The program's settings")
    async def get_program(self, caller: NamedDependency[Admin], conn: DbConn) -> ProgramIn:
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
        answer = await transactions.simulate(conn, caller.tenant_id, to_card_transaction(data))
        return Response(answer, media_type=MediaType.JSON)

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
            done.member_id,
            done.points,
            done.reason,
            BalanceSummary(done.balance.available, done.balance.pending),
        )

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


async def check_webhook(url: str | None, state: State) -> None:
    """A webhook_url must be https and resolve to public addresses only (unless the server
    allows private ones, REWARDS_WEBHOOK_ALLOW_PRIVATE=1)."""
    if url is None:
        return
    try:
        await delivery.check_destination(url, allow_private=state.settings.webhook_allow_private)
    except delivery.UnsafeAddress as exc:
        raise ValidationFailed(
            f"webhook_url: {exc}", errors=[("webhook_url", "not a public address")]
        ) from None


def event_out(e: events.StoredEvent) -> EventOut:
    return EventOut(
        e.event_id,
        e.sequence,
        e.type,  # type: ignore[arg-type]
        e.member_id,
        e.status,  # type: ignore[arg-type]
        e.attempts,
        e.last_error,
        e.occurred_at,
        e.next_attempt_at if e.status == "pending" else None,
        e.delivered_at,
        msgspec.Raw(msgspec.json.encode(e.data)),
    )


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        key.key_id,
        key.prefix,
        key.label,
        key.role,
        key.merchant_id,
        key.created_at,
        key.last_used_at,
    )


def key_created(made: NewApiKey) -> ApiKeyCreated:
    k = made.key
    return ApiKeyCreated(
        k.key_id,
        k.prefix,
        k.label,
        k.role,
        k.merchant_id,
        k.created_at,
        k.last_used_at,
        made.api_key,
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


class CatalogAdminController(Controller):
    """The operator's benefit catalog."""

    path = "/v1/admin/catalog"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @post("/items", status_code=201, summary="Create a catalog item (pool items with codes)")
    async def create_item(
        self, data: JSONBody[CatalogItemIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> CatalogItemOut:
        document = msgspec.to_builtins(data)
        codes = document.pop("codes", [])
        item = msgspec.convert(document, CatalogItem)
        return item_out(
            await redemptions.create_item(conn, caller.tenant_id, caller.actor, item, codes)
        )

    @get("/items", summary="List catalog items")
    async def list_items(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        category: FromQuery[str | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> CatalogItemPage:
        views = await redemptions.list_items(
            conn, caller.tenant_id, category, decode_cursor(cursor, str), limit
        )
        return CatalogItemPage(
            [item_out(v) for v in views], next_cursor([v.item.sku for v in views], limit)
        )

    @get("/items/{sku:str}", summary="One catalog item with its stock")
    async def get_item(
        self, sku: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> CatalogItemOut:
        return item_out(await redemptions.get_item(conn, caller.tenant_id, sku))

    @patch("/items/{sku:str}", summary="Change a catalog item")
    async def patch_item(
        self,
        sku: FromPath[str],
        data: JSONBody[CatalogItemPatch],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> CatalogItemOut:
        changes = msgspec.to_builtins(data)
        return item_out(
            await redemptions.patch_item(conn, caller.tenant_id, caller.actor, sku, changes)
        )

    @post("/items/{sku:str}/codes", status_code=201, summary="Add codes to a pool item")
    async def add_codes(
        self,
        sku: FromPath[str],
        data: JSONBody[CodesIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> CodesAdded:
        added, left = await redemptions.add_codes(
            conn, caller.tenant_id, caller.actor, sku, data.codes
        )
        return CodesAdded(sku, added, left)


class AdminOffersController(Controller):
    """The operator's review of offers."""

    path = "/v1/admin/offers"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get("", summary="Offers, by status (e.g. pending_review)")
    async def list_offers(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        status: FromQuery[Status | None] = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> OfferPage:
        found = await publishing.list_for_review(
            conn, caller.tenant_id, status, decode_cursor(cursor, str), limit
        )
        return OfferPage(
            [offer_out(o) for o in found], next_cursor([o.offer.id for o in found], limit)
        )

    @post("/{offer_id:str}/approve", status_code=200, summary="Approve an offer: it goes live")
    async def approve(
        self, offer_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(conn, caller.tenant_id, caller.actor, offer_id, "approve")
        )

    @post("/{offer_id:str}/reject", status_code=200, summary="Reject an offer, with a reason")
    async def reject(
        self,
        offer_id: FromPath[str],
        data: JSONBody[RejectIn],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> OfferOut:
        return offer_out(
            await publishing.transition(
                conn, caller.tenant_id, caller.actor, offer_id, "reject", reason=data.reason
            )
        )
