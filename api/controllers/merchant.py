"""Merchant portal API: /v1/merchant/…"""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth import MerchantCaller, merchant_guard
from api.controllers.admin import merchant_out
from api.deps import DbConn
from api.dto import MerchantOut
from offers.merchants import service as merchants


class MerchantController(Controller):
    """The portal of one merchant (merchant API key)."""

    path = "/v1/merchant"
    guards = [merchant_guard]  # noqa: RUF012
    security = [{"MerchantKey": []}]  # noqa: RUF012
    tags = ["merchant"]  # noqa: RUF012

    @get("/profile", summary="The merchant this key belongs to")
    async def profile(self, caller: NamedDependency[MerchantCaller], conn: DbConn) -> MerchantOut:
        return merchant_out(
            await merchants.get_merchant(conn, caller.tenant_id, caller.merchant_id)
        )
