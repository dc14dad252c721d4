"""Use case: grants — points (from the ``grants`` account, with an expiry) and/or a merchant
offer claimed, given to every member of a segment or of a list, by a background job.

The grant id and the member are the key: each member gets a grant once, whatever retries,
concurrent workers or a worker killed mid-job do. A segment's members are those of the
generation current when the grant was made, as they stood then; a list is stored with the
grant. ``points.awarded`` events of kind ``grant`` go to the program's webhook."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.bulk import LineProblem, Spans, member_id_lines
from rewards.core.card_linked import GrantedClaims
from rewards.core.errors import IdempotencyConflict, NotFound, ValidationFailed
from rewards.core.events import NewEvent
from rewards.core.ledger import GRANTS_ACCOUNT, Credit, CreditLot
from rewards.core.program import IMMEDIATE
from rewards.events import service as events
from rewards.grants import repository as grant_db
from rewards.jobs import service as jobs
from rewards.ledger import service as ledger
from rewards.program.service import compiled_for
from rewards.segments import service as segments

KIND = "grant"
CHUNK = 5_000
Grant = grant_db.GrantRow
ZERO = {"granted": 0, "already": 0, "failed": 0, "points": 0}


class GrantRequest(msgspec.Struct, frozen=True):
    id: str
    reason: str
    segment: str | None = None
    member_ids: list[str] | None = None
    points: int | None = None
    expires_at: datetime | None = None
    offer_id: str | None = None


_offers: GrantedClaims | None = None


def use_offer_grants(port: GrantedClaims) -> None:
    """Give grants the offers they claim (``api/wiring.py``)."""
    global _offers
    _offers = port


def _hash(request: GrantRequest) -> bytes:
    return hashlib.sha256(msgspec.json.encode(request)).digest()


async def start(conn: Conn, tenant_id: str, actor: str, request: GrantRequest) -> jobs.Job:
    """Make a grant and queue its job; the same grant again answers its job.

    Raises:
        ValidationFailed: nothing to give, no audience or both, an expiry in the past.
        NotFound: no such segment or offer.
        IdempotencyConflict: a grant of this id exists with other terms.
    """
    body_hash = _hash(request)
    existing = await grant_db.get(conn, tenant_id, request.id)
    if existing is not None:
        return await _same(conn, tenant_id, existing, body_hash)
    now = datetime.now(UTC)
    if request.points is None and request.offer_id is None:
        raise ValidationFailed(
            "a grant gives points, an offer, or both",
            errors=[("points", "give points or an offer_id")],
        )
    if (request.segment is None) == (request.member_ids is None):
        raise ValidationFailed(
            "the audience is a segment or a list of member ids",
            errors=[("audience", "name a segment or member_ids, not both")],
        )
    if request.expires_at is not None and request.expires_at <= now:
        raise ValidationFailed(
            "the points would expire before they are granted",
            errors=[("expires_at", "must be in the future")],
        )
    expires_at = request.expires_at
    if request.points is not None and expires_at is None:
        expires_at = (await compiled_for(conn, tenant_id)).program.expiry_of(now)
    if request.offer_id is not None:
        assert _offers is not None, "grants were not given the offers (api/wiring.py)"
        await _offers.check_claimable(conn, tenant_id, request.offer_id)
    params: dict[str, Any] = {"grant_id": request.id, "as_of": now.isoformat()}
    total = None
    if request.segment is not None:
        segment = await segments.get(conn, tenant_id, request.segment)
        params |= {"segment": segment.segment_id, "generation": segment.generation}
        total = segment.members
        audience: dict[str, Any] = {"segment": segment.segment_id}
    else:
        assert request.member_ids is not None
        audience = {"member_ids": len(request.member_ids)}
    # The grant's row first: the same grant posted at the same time waits here for the
    # first to commit, then answers its job.
    job_id = jobs.new_job_id()
    if not await grant_db.insert(
        conn,
        tenant_id,
        request.id,
        job_id,
        body_hash,
        audience,
        request.points,
        expires_at,
        request.offer_id,
        request.reason,
        actor,
    ):
        found = await grant_db.get(conn, tenant_id, request.id)
        assert found is not None
        return await _same(conn, tenant_id, found, body_hash)
    await jobs.submit(conn, tenant_id, actor, KIND, params, job_id=job_id, total=total)
    if request.member_ids is not None:
        await jobs.store_lines(conn, tenant_id, job_id, _one("\n".join(request.member_ids)))
    await audit.record(
        conn,
        tenant_id,
        actor,
        "grant.create",
        "grant",
        request.id,
        None,
        {
            "audience": audience,
            "points": request.points,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "offer_id": request.offer_id,
            "reason": request.reason,
            "job_id": job_id,
        },
    )
    return await jobs.get(conn, tenant_id, job_id)


async def _same(conn: Conn, tenant_id: str, existing: Grant, body_hash: bytes) -> jobs.Job:
    """The job of a grant made already with the same terms (409 with other terms)."""
    if existing.body_hash != body_hash:
        raise IdempotencyConflict(f"grant {existing.grant_id} exists with other terms")
    return await jobs.get(conn, tenant_id, existing.job_id)


async def _one(text: str) -> Any:
    yield text.encode()


async def get(conn: Conn, tenant_id: str, grant_id: str) -> Grant:
    found = await grant_db.get(conn, tenant_id, grant_id)
    if found is None:
        raise NotFound(f"no grant {grant_id}")
    return found


class _Chunk(msgspec.Struct, frozen=True):
    """Lines (after, last] of the audience: the member ids, and the lines that are not."""

    after: int
    last: int
    lines: int
    ids: list[str]
    repeated: int
    problems: list[LineProblem]
    members: frozenset[str]


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """The grant's job: a segment's audience is first listed as the job's lines (as it stood
    when the grant was made), then the lines are granted chunk by chunk, two steps at a
    time."""
    tenant_id, params = work.tenant_id, work.params
    async with jobs.connection(work) as conn:
        grant = await get(conn, tenant_id, params["grant_id"])
    if work.checkpoint is None and "segment" in params:
        await _list_segment(work, chunk)
    spans = msgspec.convert(work.checkpoint or {}, Spans)

    async def read(after: int) -> _Chunk | None:
        got = await jobs.read_beside(work, spans, after, chunk)
        if got is None:
            return None
        start, last, lines = got
        found = member_id_lines(lines)
        return _Chunk(
            start,
            last,
            len(lines),
            found.ids,
            found.repeated,
            found.problems,
            frozenset(found.ids),
        )

    await jobs.work_beside(work, read, functools.partial(_apply, work, grant=grant), spans.line)
    return jobs.Outcome(counts={**ZERO, **work.counts})


async def _list_segment(work: jobs.Work, chunk: int) -> None:
    """The segment's members when the grant was made, stored as the job's lines in one
    step (its checkpoint says they are)."""
    params = work.params
    as_of = datetime.fromisoformat(params["as_of"])

    async def pages() -> AsyncIterator[bytes]:
        after: str | None = None
        while True:
            async with jobs.connection(work) as conn:
                ids = await segments.member_ids(
                    conn,
                    work.tenant_id,
                    params["segment"],
                    params["generation"],
                    as_of,
                    after,
                    chunk * 10,
                )
            if not ids:
                return
            after = ids[-1]
            yield ("\n".join(ids) + "\n").encode()

    async with work.step() as step:
        total = await jobs.store_lines(step.conn, work.tenant_id, work.job.job_id, pages())
        step.progress(0, total, checkpoint=msgspec.to_builtins(Spans()))


async def _apply(work: jobs.Work, read: _Chunk, *, grant: Grant) -> None:
    tenant_id = work.tenant_id
    async with work.span_step(read.after, read.last, read.lines) as step:
        conn = step.conn
        ids = read.ids
        granted = await grant_db.mark_granted(
            conn, tenant_id, grant.grant_id, ids, grant.points or 0, grant.offer_id is not None
        )
        if grant.points:
            lot = (CreditLot(grant.points, datetime.now(UTC), IMMEDIATE, grant.expires_at),)
            detail = {"grant_id": grant.grant_id, "reason": grant.reason}
            await ledger.credit_many(
                conn,
                tenant_id,
                GRANTS_ACCOUNT,
                "grant",
                [Credit(m, lot, detail) for m in granted],
            )
            await events.emit(
                conn,
                tenant_id,
                [
                    NewEvent(
                        "points.awarded",
                        m,
                        {
                            "kind": "grant",
                            "grant_id": grant.grant_id,
                            "member_id": m,
                            "points": grant.points,
                            "expires_at": grant.expires_at,
                            "reason": grant.reason,
                        },
                    )
                    for m in granted
                ],
            )
        if grant.offer_id is not None and granted:
            assert _offers is not None, "grants were not given the offers (api/wiring.py)"
            await _offers.claim_many(conn, tenant_id, grant.offer_id, granted)
        step.counts = {
            "granted": len(granted),
            "already": len(ids) - len(granted),
            "failed": len(read.problems),
            "points": len(granted) * (grant.points or 0),
        }
        step.errors = read.problems
