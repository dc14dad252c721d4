"""The merchant portal's statements: each month's totals, what the merchant owes, and the
lines as CSV (the same bytes, and digest, as /v1/merchant/statements/{period}/lines)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.response import Stream

from api.controllers.settlement import Period, csv_stream
from api.deps import DbConn
from api.web.i18n import N_
from api.web.pages import PORTAL, render
from api.web.portal_forms import caller_of
from api.web.sign_in import AreaPages
from offers.settlement import service as settlement


class PortalStatementsController(AreaPages):
    """The portal's statements page and its downloads."""

    path = "/portal"
    opt = {"area": PORTAL}  # noqa: RUF012

    @get("/statements")
    async def statements(self, request: Request[Any, Any, Any], conn: DbConn) -> Response[str]:
        caller = caller_of(request)
        found = await settlement.statements_of_merchant(conn, caller.tenant_id, caller.merchant_id)
        return render(request, "portal/statements.html", title=N_("Statements"), found=found)

    @get("/statements/{period:str}/lines", media_type="text/csv")
    async def lines(self, request: Request[Any, Any, Any], period: Period, state: State) -> Stream:
        caller = caller_of(request)
        return await csv_stream(state, caller.tenant_id, caller.merchant_id, period)
