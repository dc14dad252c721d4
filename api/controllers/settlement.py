"""Statements of merchant-funded offers: the merchant's (/v1/merchant/statements) and the
operator's (/v1/admin/settlements), the close of a month included."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter
from litestar.response import Stream

from api.auth import Admin, MerchantCaller, admin_guard, merchant_guard
from api.controllers.admin_jobs import job_out
from api.deps import DbConn
from api.dto.jobs import JobOut
from api.dto.settlement import SettlementsOut, StatementList, StatementOut
from api.paging import CursorParam, Limit, decode_cursor, next_cursor
from db.pool import acquire
from offers.core.settlement import PERIOD_PATTERN, parse_period, period_text
from offers.settlement import service as settlement

Period = Annotated[str, PathParameter(pattern=PERIOD_PATTERN, description="a month: YYYY-MM")]


def statement_out(s: settlement.Statement) -> StatementOut:
    return StatementOut(
        period_text(s.period),
        s.merchant_id,
        s.status,
        s.lines,
        s.reward_minor,
        s.merchant_due_minor,
        s.program_due_minor,
        s.fees_minor,
        s.sha256,
        s.closed_at,
    )


async def csv_stream(state: State, tenant_id: str, merchant_id: str, period: str) -> Stream:
    """A statement's lines as CSV, read through in a snapshot of a connection of its own
    that is let go when the last byte is sent (or the client goes)."""
    stack = contextlib.AsyncExitStack()
    conn = await stack.enter_async_context(acquire(state.pool))
    await stack.enter_async_context(conn.transaction(isolation="repeatable_read", readonly=True))
    try:
        body = await settlement.statement_csv(conn, tenant_id, merchant_id, parse_period(period))
    except BaseException:
        await stack.aclose()
        raise

    async def chunks() -> AsyncIterator[bytes]:
        async with stack:
            async for chunk in body:
                yield chunk

    name = f"statement-{merchant_id}-{period}.csv"
    return Stream(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class MerchantStatementsController(Controller):
    """A merchant's monthly statements of its funded offers."""

    path = "/v1/merchant/statements"
    guards = [merchant_guard]  # noqa: RUF012
    security = [{"MerchantKey": []}]  # noqa: RUF012
    tags = ["merchant"]  # noqa: RUF012

    @get("", summary="The merchant's statements, newest first")
    async def list_statements(
        self, caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> StatementList:
        found = await settlement.statements_of_merchant(conn, caller.tenant_id, caller.merchant_id)
        return StatementList([statement_out(s) for s in found])

    @get("/{period:str}", summary="One statement: its totals and the digest of its lines")
    async def get_statement(
        self, period: Period, caller: NamedDependency[MerchantCaller], conn: DbConn
    ) -> StatementOut:
        found = await settlement.statement(
            conn, caller.tenant_id, caller.merchant_id, parse_period(period)
        )
        return statement_out(found)

    @get(
        "/{period:str}/lines",
        summary="A statement's lines as CSV: one a match or clawback",
        media_type="text/csv",
    )
    async def statement_lines(
        self, period: Period, caller: NamedDependency[MerchantCaller], state: State
    ) -> Stream:
        return await csv_stream(state, caller.tenant_id, caller.merchant_id, period)


class AdminSettlementsController(Controller):
    """Every merchant's statements, and the close of a month."""

    path = "/v1/admin/settlements"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get("", summary="Every merchant's statement of a period, by merchant")
    async def list_settlements(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        period: Annotated[str, QueryParameter(pattern=PERIOD_PATTERN, description="YYYY-MM")],
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> SettlementsOut:
        found = await settlement.settlements(
            conn, caller.tenant_id, parse_period(period), decode_cursor(cursor, str), limit
        )
        return SettlementsOut(
            period,
            found.status,
            [statement_out(s) for s in found.items],
            next_cursor([s.merchant_id for s in found.items], limit),
        )

    @post(
        "/{period:str}/close",
        status_code=202,
        summary="Close a period once its return days are over, as a job",
    )
    async def close_period(
        self, period: Period, caller: NamedDependency[Admin], conn: DbConn
    ) -> JobOut:
        job = await settlement.start_close(
            conn, caller.tenant_id, caller.actor, parse_period(period)
        )
        return job_out(job)
