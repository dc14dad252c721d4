"""Use case: replays — what a draft of the rules would have cost over real history, and
whether the engine replays that history faithfully.

``start`` queues a replay as a job (``rewards.jobs``); :func:`run` is its handler, run by
whichever serving process takes the job (or by ``rewards replay``). It hands the two runs
(:mod:`rewards.replays.runs`) — the baseline, under the configuration in force when each
transaction was recorded and compared with the ledger, and the draft laid over it — to
itself and to a child process, one core each, and puts what they found together. Nothing is
written but the job's own rows.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any

import msgspec

from db.pool import acquire
from db.types import Conn
from rewards.core.campaigns import DrawCampaign, validate_campaign
from rewards.core.card_linked import CardLinkedHistory
from rewards.core.earning import EarnRule, validate_rule
from rewards.core.errors import NotFound, RewardsError, ValidationFailed
from rewards.core.program import Program, validate_program
from rewards.core.replay import (
    Draft,
)
from rewards.jobs import service as jobs
from rewards.program import service as programs
from rewards.replays import repository as replay_db
from rewards.replays import runs

_encoder = msgspec.json.Encoder()

KIND = "replay"
CHUNK = 5000  # transactions read (and reported) at a time

#: Merchant offers, as the composition root wires them in (rewards imports nothing of
#: offers): without them, a replay matches no offer.
_offers: CardLinkedHistory | None = None


def use_offer_history(port: CardLinkedHistory | None) -> None:
    global _offers
    _offers = port


def offer_history() -> CardLinkedHistory | None:
    """The offers' port, as wired in."""
    return _offers


class ReplayRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    from_: datetime = msgspec.field(name="from")
    to: datetime
    draft: Draft = Draft()
    draw_samples: int = 100


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", errors=[(field, message)])


async def start(conn: Conn, tenant_id: str, actor: str, request: ReplayRequest) -> jobs.Job:
    """Check a replay's request and queue it.

    Raises:
        ValidationFailed: an empty or reversed window, a draft that cannot be applied.
    """
    if request.from_.tzinfo is None or request.to.tzinfo is None:
        raise _invalid("from", "times carry their offset (RFC 3339)")
    if request.from_ >= request.to:
        raise _invalid("to", "must be after from")
    if not 1 <= request.draw_samples <= 1000:
        raise _invalid("draw_samples", "from 1 to 1000")
    current = await programs.get_program(conn, tenant_id)
    check_draft(request.draft, current)
    if _offers is not None:
        _offers.check(request.draft.offers.upsert)
    return await jobs.submit(conn, tenant_id, actor, KIND, msgspec.to_builtins(request))


def check_draft(draft: Draft, current: Program) -> None:
    """Every part of a draft must be something the operator could have stored."""
    try:
        program = msgspec.convert(msgspec.to_builtins(current) | draft.program, Program)
    except msgspec.ValidationError as exc:
        raise _invalid("draft.program", str(exc)) from None
    validate_program(program)
    for n, doc in enumerate(draft.earn_rules.upsert):
        try:
            validate_rule(msgspec.convert(doc, EarnRule))
        except msgspec.ValidationError as exc:
            raise _invalid(f"draft.earn_rules.upsert[{n}]", str(exc)) from None
    for n, doc in enumerate(draft.draw_campaigns.upsert):
        try:
            validate_campaign(msgspec.convert(doc, DrawCampaign))
        except msgspec.ValidationError as exc:
            raise _invalid(f"draft.draw_campaigns.upsert[{n}]", str(exc)) from None


# --- the job ---------------------------------------------------------------------------------


class ReplayFailed(RewardsError):
    status = 500
    type = "replay_failed"
    title = "The replay failed"


#: The command that does a replay's draft run in a process of its own, as the composition
#: root names it (``api/wiring.py``): with it, the baseline and the draft are planned on two
#: cores at once. Without it (or with one process), one process does both.
_draft_command: list[str] | None = None


def use_draft_process(command: list[str] | None) -> None:
    global _draft_command
    _draft_command = command


async def run(work: jobs.Work, *, chunk: int = CHUNK, processes: int = 2) -> jobs.Outcome:
    """The replay job: both runs over the window (the draft's in a child process when
    ``processes`` is 2), the result document, the transactions that differ.
    ``chunk``: transactions read, and progress reported, at a time."""
    request = msgspec.convert(work.params, ReplayRequest)
    tenant_id, job_id = work.tenant_id, work.job.job_id
    async with acquire(work.pool) as conn:
        await replay_db.clear_differences(conn, tenant_id, job_id)
        w = await replay_db.window(conn, tenant_id, request.from_, request.to)
        secrets = await programs.campaign_secrets(conn, tenant_id)
    await work.progress(0, w.total)
    given = runs.Assignment(
        tenant_id,
        job_id,
        request.from_,
        request.to,
        w.first_seq,
        w.last_seq,
        w.total,
        w.opens_history,
        request.draft,
        {
            doc["id"]: [os.urandom(32) for _ in range(request.draw_samples)]
            for doc in request.draft.draw_campaigns.upsert
            if doc["id"] not in secrets
        },
        chunk,
        (runs.BASELINE, runs.DRAFT),
    )
    child = None
    if processes > 1 and _draft_command is not None and work.dsn is not None and w.total:
        child = await _start_draft(given, work.dsn)
        given = msgspec.structs.replace(given, runs=(runs.BASELINE,))

    async def progress(done: int) -> None:
        await work.progress(done, w.total)

    try:
        found = {f.run: f for f in await runs.run(work.pool, given, _offers, progress)}
        if child is not None:
            found[runs.DRAFT] = await _finish_draft(child)
    finally:
        if child is not None and child.process.returncode is None:
            child.process.kill()
            await child.process.wait()
    base = found[runs.BASELINE]
    result = _result(job_id, request, w, base, found[runs.DRAFT])
    return jobs.Outcome(_encoder.encode(result), {"differences": base.differences})


class _Child(msgspec.Struct):
    process: asyncio.subprocess.Process
    output: asyncio.Task[tuple[bytes, bytes]]


async def _start_draft(given: runs.Assignment, dsn: str) -> _Child:
    """The draft run in a child process, given its assignment on stdin."""
    assert _draft_command is not None
    process = await asyncio.create_subprocess_exec(
        *_draft_command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ | {"DATABASE_URL": dsn, "REWARDS_LOG_LEVEL": "WARNING"},
    )
    assert process.stdin is not None
    process.stdin.write(_encoder.encode(msgspec.structs.replace(given, runs=(runs.DRAFT,))))
    await process.stdin.drain()
    process.stdin.close()
    return _Child(process, asyncio.create_task(process.communicate()))


async def _finish_draft(child: _Child) -> runs.Found:
    out, err = await child.output
    if child.process.returncode != 0:
        last = (err.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise ReplayFailed(f"the draft run failed: {last}")
    (found,) = msgspec.json.decode(out, type=list[runs.Found])
    return found


def _result(
    job_id: str,
    request: ReplayRequest,
    w: replay_db.Window,
    base: runs.Found,
    draft: runs.Found,
) -> dict[str, Any]:
    return {
        "id": job_id,
        "from": request.from_,
        "to": request.to,
        "transactions": w.total,
        "baseline": {"points": base.points, "offer_reward_minor": base.offer_reward_minor},
        "draft": {"points": draft.points, "offer_reward_minor": draft.offer_reward_minor},
        "fidelity": {
            "baseline_equals_ledger": base.differences == 0,
            "differences": base.differences,
            "first_differences": base.shown,
        },
        "by_rule": _by_rule(base, draft),
        "by_day": [
            {
                "date": day,
                "baseline_points": base.by_day.get(day, 0),
                "draft_points": draft.by_day.get(day, 0),
            }
            for day in sorted(set(base.by_day) | set(draft.by_day))
        ],
        "draws": [
            {"campaign_id": c, "p50_points": p50, "p95_points": p95} for c, p50, p95 in draft.draws
        ],
        # Seconds each run spent: starting, reading, in all (and in the planner itself).
        "timings": {
            **{
                k if k.startswith(runs.BASELINE) else f"baseline_{k}": v
                for k, v in base.timings.items()
            },
            **{
                k if k.startswith(runs.DRAFT) else f"draft_{k}": v for k, v in draft.timings.items()
            },
        },
    }


def _by_rule(base: runs.Found, draft: runs.Found) -> list[dict[str, Any]]:
    seen = {(r.kind, r.rule_id): r for r in base.by_rule}
    tried = {(r.kind, r.rule_id): r for r in draft.by_rule}
    rows = []
    for key in sorted(set(seen) | set(tried)):
        b, d = seen.get(key), tried.get(key)
        rows.append(
            {
                "rule_id": key[1],
                "kind": key[0],
                "baseline_points": b.points if b else 0,
                "draft_points": d.points if d else 0,
                "transactions": d.transactions if d else 0,
                "members": d.members if d else 0,
                "budget_exhausted_at": d.exhausted_at if d else None,
                "baseline_transactions": b.transactions if b else 0,
                "baseline_members": b.members if b else 0,
                "baseline_budget_exhausted_at": b.exhausted_at if b else None,
                "baseline_reward_minor": b.reward_minor if b else 0,
                "draft_reward_minor": d.reward_minor if d else 0,
            }
        )
    return rows


# --- reading replays -------------------------------------------------------------------------


class Replay(msgspec.Struct, frozen=True):
    job: jobs.Job
    request: ReplayRequest
    result: dict[str, Any] | None


def _replay(job: jobs.Job) -> Replay:
    result = msgspec.json.decode(job.result) if job.result else None
    return Replay(job, msgspec.convert(job.params, ReplayRequest), result)


async def get(conn: Conn, tenant_id: str, replay_id: str) -> Replay:
    return _replay(await jobs.get(conn, tenant_id, replay_id, KIND))


async def list_replays(
    conn: Conn, tenant_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Replay]:
    return [_replay(j) for j in await jobs.list_jobs(conn, tenant_id, KIND, after, limit)]


async def cancel(conn: Conn, tenant_id: str, replay_id: str) -> Replay:
    return _replay(await jobs.cancel(conn, tenant_id, replay_id, KIND))


async def compared(
    conn: Conn, tenant_id: str, replay_id: str, transaction_id: str
) -> tuple[Replay, bytes | None, bytes | None]:
    """A replay and what one transaction gave in it where that differs from the ledger
    (baseline, draft: None where the run gave what the ledger recorded)."""
    replay = await get(conn, tenant_id, replay_id)
    found = await replay_db.difference(conn, tenant_id, replay_id, transaction_id)
    return (replay, *(found or (None, None)))


__all__ = ["NotFound", "Replay", "ReplayRequest", "cancel", "get", "list_replays", "run", "start"]
