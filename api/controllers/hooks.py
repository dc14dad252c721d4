"""Card processor hook: /v1/hooks/…"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from api.auth import HookCaller, hook_guard
from api.deps import DbConn
from api.dto.common import HookTransaction
from api.dto.hooks import HookBatch
from api.problems import FieldError, Problem, request_id_of
from api.request import decode_strict
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.planner import Answer
from rewards.hook import gathering
from rewards.hook import service as hook

SINGLE_HOOK_MAX_BYTES = 65_536


def to_card_transaction(item: HookTransaction) -> hook.CardTransaction:
    """The use case's input; a purchase or refund without ``amount_minor`` is a 422 (a
    reversal needs none: it voids whatever is left of its original)."""
    if item.amount_minor is None and item.kind != "reversal":
        raise ValidationFailed(
            f"a {item.kind} needs amount_minor", errors=[("amount_minor", "required")]
        )
    return hook.CardTransaction(
        id=item.id,
        kind=item.kind,
        member_id=item.member_id,
        amount_minor=item.amount_minor or 0,
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
        acquirer_id=item.acquirer_id,
        merchant_name=item.merchant_name,
        risk=hook.Risk(item.risk.score, item.risk.source) if item.risk else None,
    )


_encode = msgspec.json.Encoder().encode


class BatchResults(msgspec.Struct, frozen=True):
    """One entry per input, in order: an answer, or a problem document."""

    results: list[
        Annotated[
            dict[str, Any],
            msgspec.Meta(description="An Answer, or an RFC 9457 problem object."),
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
        responses={200: ResponseSpec(Answer, description="The transaction's answer")},
    )
    async def transaction(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[HookTransaction],
        caller: NamedDependency[HookCaller],
    ) -> Response[bytes]:
        # Written with the worker's other concurrent single hooks of the tenant, as one batch
        # (group commit, rewards.hook.gathering). The answer's bytes are the ones stored for
        # a repeat delivery: one type from the plan to here.
        hooks: gathering.Gatherer = request.app.state.hooks
        answer = await hooks.process(caller.tenant_id, to_card_transaction(data))
        return Response(answer, media_type=MediaType.JSON)

    @post(
        "/transactions/batch",
        status_code=200,
        summary="Up to 1,000 transactions at once",
        responses={200: ResponseSpec(BatchResults, description="One result per input")},
    )
    async def batch(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[HookBatch],
        caller: NamedDependency[HookCaller],
        plain_conn: DbConn,
    ) -> Response[bytes]:
        """Each item is processed as if posted alone: one bad item gets a problem object in
        its place and does not fail the others."""
        request_id = request_id_of(request)
        results: list[bytes | None] = [None] * len(data.transactions)
        valid: list[tuple[int, hook.CardTransaction]] = []
        for n, raw in enumerate(data.transactions):
            try:
                item = to_card_transaction(decode_strict(bytes(raw), HookTransaction))
            except RewardsError as exc:
                results[n] = _problem(exc, n, request_id)
                continue
            valid.append((n, item))
        answers = await hook.process_batch(plain_conn, caller.tenant_id, [tx for _, tx in valid])
        for (n, _), answer in zip(valid, answers, strict=True):
            results[n] = (
                _problem(answer, n, request_id) if isinstance(answer, RewardsError) else answer
            )
        body = b'{"results":[' + b",".join(r for r in results if r is not None) + b"]}"
        return Response(body, media_type=MediaType.JSON)


def _problem(exc: RewardsError, index: int, request_id: str | None) -> bytes:
    errors = [FieldError(f"transactions[{index}].{f}", m) for f, m in exc.errors] or None
    return _encode(Problem(exc.type, exc.title, exc.status, exc.detail, errors, request_id))
