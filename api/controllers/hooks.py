"""Card processor hook: /v1/hooks/…"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.auth import HookCaller, hook_guard
from api.deps import DbConn
from api.dto import HookBatch, HookTransaction, TransactionResult
from api.problems import FieldError, Problem
from api.request import decode_strict
from rewards import transactions
from rewards.errors import RewardsError

SINGLE_HOOK_MAX_BYTES = 65_536


def to_card_transaction(item: HookTransaction) -> transactions.CardTransaction:
    return transactions.CardTransaction(
        id=item.id,
        kind=item.kind,
        member_id=item.member_id,
        amount_minor=item.amount_minor,
        currency=item.currency,
        occurred_at=item.occurred_at,
        card_product=item.card_product,
        mcc=item.mcc,
        merchant_id=item.merchant_id,
        store_id=item.store_id,
        channel=item.channel,
        original_id=item.original_id,
        lat=item.location.lat if item.location else None,
        lng=item.location.lng if item.location else None,
    )


class BatchResults(msgspec.Struct, frozen=True):
    """One entry per input, in order: a transaction result, or a problem document."""

    results: list[
        Annotated[
            dict[str, Any],
            msgspec.Meta(description="A TransactionResult, or an RFC 9457 problem object."),
        ]
    ]


class HooksController(Controller):
    """The card processor of one tenant (signed requests)."""

    path = "/v1/hooks"
    guards = [hook_guard]  # noqa: RUF012
    security = [{"HookSignature": [], "HookTenant": []}]  # noqa: RUF012
    tags = ["hooks"]  # noqa: RUF012

    @post(
        "/transactions",
        status_code=200,
        summary="One card transaction; its id is the idempotency key",
        request_max_body_size=SINGLE_HOOK_MAX_BYTES,
    )
    async def transaction(
        self,
        data: JSONBody[HookTransaction],
        caller: NamedDependency[HookCaller],
        conn: DbConn,
    ) -> TransactionResult:
        outcome = await transactions.process(conn, caller.tenant_id, to_card_transaction(data))
        return msgspec.convert(outcome, TransactionResult)

    @post("/transactions/batch", status_code=200, summary="Up to 1,000 transactions at once")
    async def batch(
        self,
        data: JSONBody[HookBatch],
        caller: NamedDependency[HookCaller],
        conn: DbConn,
    ) -> BatchResults:
        results: list[Any] = []
        for raw in data.transactions:
            try:
                item = decode_strict(bytes(raw), HookTransaction)
                async with conn.transaction():
                    outcome = await transactions.process(
                        conn, caller.tenant_id, to_card_transaction(item)
                    )
                results.append(outcome)
            except RewardsError as exc:
                problem = Problem(
                    exc.type,
                    exc.title,
                    exc.status,
                    exc.detail,
                    [FieldError(f, m) for f, m in exc.errors] or None,
                )
                results.append(msgspec.to_builtins(problem))
        return BatchResults(results)
