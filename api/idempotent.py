"""Idempotency-Key on the mobile app's writes: the first answer, replayed byte for byte."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from api.problems import PROBLEM_JSON, Problem, request_id_of
from db.types import Conn
from rewards.core.errors import RewardsError
from rewards.idempotency.service import answer_of, once, once_committed

T = TypeVar("T", bound=msgspec.Struct)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=255,
        description="The same key with the same request answers the first answer again "
        "(status and body) and does nothing twice; with another request, 409. Kept 48 hours.",
    ),
]


async def respond_once(
    request: Request[Any, Any, Any],
    conn: Conn,
    tenant_id: str,
    member_id: str,
    key: str | None,
    status: int,
    kind: type[T],
    action: Callable[[], Awaitable[T | RewardsError]],
) -> Response[Any]:
    """Run a member's write once per Idempotency-Key. The request is identified by its path
    and body, so a key reused on another write is a conflict too. A refusal the action
    returns (instead of raising) keeps what it wrote, such as its risk event."""

    request_id = request_id_of(request)

    async def run() -> tuple[int, Any]:
        return answer_of(status, await action(), request_id)  # stored under a key as JSON

    scope = f"member:{member_id}"
    identity = await _identity(request, key)
    code, body = await once(conn, tenant_id, scope, key, identity, run, request_id)
    return _answer(request, code, body, kind)


async def respond_once_committed(
    request: Request[Any, Any, Any],
    conn: Conn,
    tenant_id: str,
    member_id: str,
    key: str | None,
    status: int,
    kind: type[T],
    action: Callable[[bool], Awaitable[T | RewardsError]],
) -> Response[Any]:
    """``respond_once`` for a write that opens and commits its own transaction on a plain
    connection (``once_committed``); ``action`` is told whether to lock what it claims."""

    request_id = request_id_of(request)

    async def run(locked: bool) -> tuple[int, Any]:
        return answer_of(status, await action(locked), request_id)  # stored as JSON

    scope = f"member:{member_id}"
    identity = await _identity(request, key)
    code, body = await once_committed(conn, tenant_id, scope, key, identity, run, request_id)
    return _answer(request, code, body, kind)


async def _identity(request: Request[Any, Any, Any], key: str | None) -> bytes:
    """What a key is bound to: the request's path and the meaning of its body — its JSON with
    keys in order and no spacing, so that the same request re-indented or with its keys in
    another order is the same request (nothing without a key)."""
    if key is None:
        return b""
    body = await request.body()
    try:
        meaning = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
    except msgspec.DecodeError:  # no body (a claim, a cancel), or not JSON: as it came
        meaning = body
    return request.url.path.encode() + b"\n" + meaning


def _answer(request: Request[Any, Any, Any], code: int, body: Any, kind: type[T]) -> Response[Any]:
    """The response to an answer: as made, or as stored under its key (JSON). A problem
    carries the id of the request it first answered (one stored before problems kept it:
    this request's)."""
    if isinstance(body, kind):
        return Response(body, status_code=code)
    if code < 400:
        return Response(msgspec.convert(body, kind), status_code=code)
    problem = msgspec.convert(body, Problem)
    if problem.request_id is None:
        problem = msgspec.structs.replace(problem, request_id=request_id_of(request))
    headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after else None
    return Response(problem, status_code=code, media_type=PROBLEM_JSON, headers=headers)
