"""Operator API: /v1/admin/…"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto import (
    BalanceSummary,
    MemberOut,
    MemberPut,
    MerchantCreate,
    MerchantCreated,
    MerchantOut,
    MerchantPage,
    TransactionOut,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from offers import merchants
from rewards import members, transactions
from rewards.credentials import ID_PATTERN
from rewards.models import Member, Merchant


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
        member_id: Annotated[str, Parameter(pattern=ID_PATTERN)],
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
        return member_out(member, BalanceSummary(0, 0))

    @get("/members/{member_id:str}", summary="A member with its balance")
    async def get_member(
        self,
        member_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> MemberOut:
        member = await members.get(conn, caller.tenant_id, member_id)
        return member_out(member, BalanceSummary(0, 0))

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
