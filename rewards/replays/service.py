"""Use case: replays — what a draft of the rules would have cost over real history, and
whether the engine replays that history faithfully.

``start`` queues a replay as a job (``rewards.jobs``); :func:`run` is its handler, run by
whichever serving process takes the job (or by ``rewards replay``). It reads the window's
hook transactions in the order they were recorded, in one REPEATABLE READ snapshot, and plans
each batch twice with the hook's planner (:mod:`rewards.core.replay`): under the
configuration in force when it was recorded (the baseline, compared with what the ledger
recorded, transaction by transaction) and with the draft laid over it. Nothing is written
but the job's own rows.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from db.pool import acquire
from db.types import Conn
from rewards.core.answers import Answer
from rewards.core.campaigns import DrawCampaign, validate_campaign
from rewards.core.card_linked import CardLinkedHistory
from rewards.core.earning import EarnRule, validate_rule
from rewards.core.errors import NotFound, RewardsError, ValidationFailed
from rewards.core.program import CompiledProgram, Program, validate_program
from rewards.core.referrals import PendingReferral
from rewards.core.replay import (
    Config,
    Draft,
    DrawSamples,
    History,
    ReplayItem,
    Side,
    Start,
    Totals,
    Version,
    award_of,
    batches,
)
from rewards.core.transactions import CardTransaction
from rewards.hook import service as hook
from rewards.jobs import service as jobs
from rewards.program import service as programs
from rewards.replays import repository as replay_db

KIND = "replay"
CHUNK = 5000  # transactions read (and reported) at a time
BATCH = 500  # transactions planned at a time
SHOWN_DIFFERENCES = 10

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


class _Attrs:
    """Members' attributes over time: what each transaction saw of its member."""

    def __init__(self, changes: Iterable[replay_db.Change]) -> None:
        self.by_member: dict[str, tuple[list[datetime], list[replay_db.Change]]] = {}
        for c in changes:
            times, kept = self.by_member.setdefault(c.member_id, ([], []))
            times.append(c.changed_at)
            kept.append(c)

    def at(self, member_id: str, moment: datetime) -> replay_db.Change | None:
        """The member's attributes at a moment (None: the defaults)."""
        found = self.by_member.get(member_id)
        if found is None:
            return None
        times, kept = found
        n = bisect.bisect_right(times, moment)
        return kept[n - 1] if n else None


_tx = msgspec.json.Decoder(CardTransaction)
_encoder = msgspec.json.Encoder()


async def _items(conn: Conn, tenant_id: str, rows: Sequence[replay_db.Row]) -> list[ReplayItem]:
    members = sorted({r.fields["member_id"] for r in rows})
    attrs = _Attrs(
        await replay_db.member_changes(conn, tenant_id, members, max(r.recorded_at for r in rows))
    )
    items = []
    for r in rows:
        tx = msgspec.convert(r.fields, CardTransaction)
        c = attrs.at(tx.member_id, r.recorded_at)
        items.append(
            ReplayItem(
                tx,
                r.seq,
                r.recorded_at,
                r.version,
                c.tier if c else None,
                c.segments if c else (),
                c.card_products if c else (),
                replay_db.decode_answer(r.answer),
                c.changed_at if c else None,
            )
        )
    return items


class _Run:
    """The two runs of a replay and what they found, chunk by chunk."""

    def __init__(self, baseline: Side, draft: Side, samplers: Mapping[str, DrawSamples]) -> None:
        self.baseline = baseline
        self.draft = draft
        self.samplers = samplers
        self.differences = 0
        self.shown: list[dict[str, Any]] = []
        # Seconds spent on each part of the work: what the result reports as "timings".
        self.timings = dict.fromkeys(("start", "read", "baseline", "draft", "compare"), 0.0)

    def batch(
        self, items: Sequence[ReplayItem], base: Config, drafted: Config
    ) -> list[tuple[str, bytes | None, bytes | None]]:
        """Plan a batch both ways; what to keep of transactions that gave something else."""
        began = time.perf_counter()
        seen = self.baseline.plan(items, base)
        planned = time.perf_counter()
        tried = self.draft.plan(items, drafted)
        drafted_at = time.perf_counter()
        self.timings["baseline"] += planned - began
        self.timings["draft"] += drafted_at - planned
        kept = []
        for item, b, d in zip(items, seen, tried, strict=True):
            recorded = award_of(item.recorded)
            b_award = award_of(b) if isinstance(b, Answer) else None
            d_award = award_of(d) if isinstance(d, Answer) else None
            if b_award != recorded:
                self.differences += 1
                if len(self.shown) < SHOWN_DIFFERENCES:
                    self.shown.append(
                        {
                            "transaction_id": item.tx.id,
                            "ledger": msgspec.to_builtins(item.recorded.points),
                            "baseline": _problem_or_points(b),
                        }
                    )
            if b_award != recorded or d_award != recorded:
                kept.append(
                    (
                        item.tx.id,
                        _answer_bytes(b) if b_award != recorded else None,
                        _answer_bytes(d) if d_award != recorded else None,
                    )
                )
            if isinstance(d, Answer):
                self._sample(item.tx, d, drafted.program)
        self.timings["compare"] += time.perf_counter() - drafted_at
        return kept

    def _sample(self, tx: CardTransaction, answer: Answer, program: CompiledProgram) -> None:
        for draw in answer.draws:
            sampler = self.samplers.get(draw.campaign_id)
            if sampler is not None:
                sampler.draw(
                    tx.id,
                    program.base_points(tx.amount_minor, tx.mcc),
                    program.local_date(tx.occurred_at),
                )


def _problem_or_points(result: Answer | RewardsError) -> Any:
    if isinstance(result, RewardsError):
        return {"problem": result.type, "detail": result.detail}
    return msgspec.to_builtins(result.points)


def _answer_bytes(result: Answer | RewardsError) -> bytes:
    if isinstance(result, RewardsError):
        return _encoder.encode({"problem": result.type, "detail": result.detail})
    return _encoder.encode(result)


async def run(work: jobs.Work, *, chunk: int = CHUNK) -> jobs.Outcome:
    """The replay job: both runs over the window, the result document, the differences.
    ``chunk``: transactions read, and progress reported, at a time."""
    request = msgspec.convert(work.params, ReplayRequest)
    tenant_id = work.tenant_id
    began = time.perf_counter()
    async with acquire(work.pool) as conn:
        await replay_db.clear_differences(conn, tenant_id, work.job.job_id)
        async with conn.transaction(isolation="repeatable_read"):
            w = await replay_db.window(conn, tenant_id, request.from_, request.to)
            await work.progress(0, w.total)
            versions = [
                Version(v.kind, v.object_id, v.version, v.valid_from, v.document)
                for v in await programs.versions_upto(conn, tenant_id, 2**62)
            ]
            secrets = await programs.campaign_secrets(conn, tenant_id)
            fresh = {
                doc["id"]: [os.urandom(32) for _ in range(request.draw_samples)]
                for doc in request.draft.draw_campaigns.upsert
                if doc["id"] not in secrets
            }
            base_history = History(versions, secrets)
            draft_history = History(
                versions, secrets, request.draft, {c: s[0] for c, s in fresh.items()}
            )
            start_state, keep = await _start(conn, tenant_id, w, base_history, request)
            baseline = Side(
                start_state, offers=await _timeline(conn, tenant_id, w, request, None), keep=keep
            )
            draft = Side(
                start_state,
                offers=await _timeline(conn, tenant_id, w, request, request.draft),
                keep=keep,
            )
            samplers = {
                c: DrawSamples(msgspec.convert(doc, DrawCampaign), fresh[c])
                for doc in request.draft.draw_campaigns.upsert
                if (c := doc["id"]) in fresh
            }
            found = _Run(baseline, draft, samplers)
            found.timings["start"] = time.perf_counter() - began
            done = 0
            reading = time.perf_counter()
            async for rows in replay_db.transactions(
                conn, tenant_id, w, request.from_, request.to, chunk
            ):
                kept = []
                items = await _items(conn, tenant_id, rows)
                found.timings["read"] += time.perf_counter() - reading
                for batch in batches(items, BATCH):
                    first = batch[0]
                    kept += found.batch(
                        batch,
                        base_history.at(first.version, first.recorded_at),
                        draft_history.at(first.version, first.recorded_at),
                    )
                done += len(rows)
                async with acquire(work.pool) as other:
                    await replay_db.save_differences(other, tenant_id, work.job.job_id, kept)
                await work.progress(done, w.total, counts={"differences": found.differences})
                reading = time.perf_counter()
    result = _result(work.job.job_id, request, w, found)
    return jobs.Outcome(_encoder.encode(result), {"differences": found.differences})


async def _timeline(
    conn: Conn, tenant_id: str, w: replay_db.Window, request: ReplayRequest, draft: Draft | None
) -> Any:
    if _offers is None:
        return None
    offers = draft.offers if draft is not None else None
    return await _offers.timeline(
        conn,
        tenant_id,
        request.from_,
        w.first_seq,
        offers.upsert if offers else [],
        offers.remove if offers else [],
    )


async def _start(
    conn: Conn,
    tenant_id: str,
    w: replay_db.Window,
    history: History,
    request: ReplayRequest,
) -> tuple[Start, frozenset[str]]:
    """Where caps, budgets, referrals and the refundable purchases stood when the window
    opened: the figures now, less what the transactions recorded since have counted."""
    before, inside = await replay_db.refunded_originals(conn, tenant_id, w)
    config = history.at(None, request.from_)
    originals = await _originals(conn, tenant_id, before, w.first_seq, list(history.secrets))
    pending, rewarded = await _referrals(conn, tenant_id, w.first_seq)
    if w.opens_history:
        return Start(pending=pending, originals=originals), frozenset(inside)
    zone_day = request.from_.astimezone(config.program.zone).date()
    since_day = zone_day - timedelta(days=40)
    periods = _periods(since_day, zone_day + timedelta(days=1))
    usage = await replay_db.rule_usage(conn, tenant_id, periods)
    budgets = await replay_db.rule_budgets(conn, tenant_id)
    totals = await replay_db.campaign_budgets(conn, tenant_id)
    days = await replay_db.campaign_days(conn, tenant_id, since_day)
    day_points = await replay_db.day_points(conn, tenant_id, since_day)
    async for s in replay_db.answers_since(conn, tenant_id, w.first_seq):
        _take_back(s, config.program, usage, budgets, totals, days, day_points)
    return (
        Start(
            usage={k: v for k, v in usage.items() if v > 0},
            rule_budgets={k: max(v, 0) for k, v in budgets.items()},
            day_points={k: v for k, v in day_points.items() if v > 0},
            campaign_totals={k: max(v, 0) for k, v in totals.items()},
            campaign_days={k: v for k, v in days.items() if v > 0},
            pending=pending,
            rewarded=rewarded,
            originals=originals,
        ),
        frozenset(inside),
    )


def _periods(first: date, last: date) -> list[str]:
    found: set[str] = set()
    day = first
    while day <= last:
        found.update((f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"))
        day += timedelta(days=1)
    return sorted(found)


def _take_back(
    s: replay_db.Since,
    program: CompiledProgram,
    usage: dict[tuple[str, str, str], int],
    budgets: dict[str, int],
    totals: dict[str, int],
    days: dict[tuple[str, date], int],
    day_points: dict[tuple[str, date], int],
) -> None:
    """Take what one later transaction counted off the figures as they are now."""
    answer = s.answer
    day = program.local_date(s.original_at or s.occurred_at)
    for rule in answer.rules_applied:
        for period in (f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"):
            key = (s.member_id, rule.rule_id, period)
            if key in usage:
                usage[key] -= rule.points
        if rule.rule_id in budgets:
            budgets[rule.rule_id] -= rule.points
    for d in answer.draws:
        if d.campaign_id in totals:
            totals[d.campaign_id] -= d.points
        if (d.campaign_id, day) in days:
            days[(d.campaign_id, day)] -= d.points
    p = answer.points
    member_day = (s.member_id, day)
    if member_day in day_points:
        day_points[member_day] -= p.base + p.rules + p.draw + p.offers


async def _originals(
    conn: Conn, tenant_id: str, ids: list[str], first_seq: int, campaigns: list[str]
) -> dict[str, Any]:
    """Purchases recorded before the window that its refunds take back from, as they stood
    when it opened."""
    if not ids:
        return {}
    found = await hook.awards(conn, tenant_id, ids, sorted(campaigns))
    refunded = await replay_db.refunded_before(conn, tenant_id, ids, first_seq)
    return {
        tx_id: msgspec.structs.replace(
            original,
            refunded_minor=original.amount_minor
            if refunded.get(tx_id, (0, False))[1]
            else refunded.get(tx_id, (0, False))[0],
            reversed=refunded.get(tx_id, (0, False))[1],
        )
        for tx_id, original in found.items()
    }


async def _referrals(
    conn: Conn, tenant_id: str, first_seq: int
) -> tuple[dict[str, PendingReferral], dict[str, int]]:
    rows = await replay_db.referrals(conn, tenant_id, first_seq)
    pending = {
        r.referee_id: PendingReferral(
            r.referee_id,
            r.referrer_id,
            b"ring" if r.status == "refused" and r.reason == "referral_ring" else None,
        )
        for r in rows
    }
    return pending, await replay_db.referrers_rewarded(conn, tenant_id, first_seq)


def _result(
    job_id: str, request: ReplayRequest, w: replay_db.Window, found: _Run
) -> dict[str, Any]:
    b, d = found.baseline.totals, found.draft.totals
    return {
        "id": job_id,
        "from": request.from_,
        "to": request.to,
        "transactions": w.total,
        "baseline": _points(b),
        "draft": _points(d),
        "fidelity": {
            "baseline_equals_ledger": found.differences == 0,
            "differences": found.differences,
            "first_differences": found.shown,
        },
        "by_rule": _by_rule(b, d),
        "by_day": [
            {
                "date": day.isoformat(),
                "baseline_points": b.by_day.get(day, 0),
                "draft_points": d.by_day.get(day, 0),
            }
            for day in sorted(set(b.by_day) | set(d.by_day))
        ],
        "draws": [
            {"campaign_id": c, "p50_points": p50, "p95_points": p95}
            for c, s in sorted(found.samplers.items())
            for p50, p95 in [s.percentiles()]
        ],
        "timings": {k: round(v, 3) for k, v in found.timings.items()},
    }


def _points(t: Totals) -> dict[str, Any]:
    return {"points": dict(t.points), "offer_reward_minor": t.offer_reward_minor}


def _by_rule(b: Totals, d: Totals) -> list[dict[str, Any]]:
    rows = []
    for kind, rule_id in sorted(set(b.by_rule) | set(d.by_rule)):
        seen, tried = b.by_rule.get((kind, rule_id)), d.by_rule.get((kind, rule_id))
        exhausted = d.exhausted.get((kind, rule_id))
        was = b.exhausted.get((kind, rule_id))
        rows.append(
            {
                "rule_id": rule_id,
                "kind": kind,
                "baseline_points": seen.points if seen else 0,
                "draft_points": tried.points if tried else 0,
                "transactions": tried.transactions if tried else 0,
                "members": len(tried.members) if tried else 0,
                "budget_exhausted_at": exhausted,
                "baseline_transactions": seen.transactions if seen else 0,
                "baseline_members": len(seen.members) if seen else 0,
                "baseline_budget_exhausted_at": was,
                "baseline_reward_minor": seen.reward_minor if seen else 0,
                "draft_reward_minor": tried.reward_minor if tried else 0,
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


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["NotFound", "Replay", "ReplayRequest", "cancel", "get", "list_replays", "run", "start"]
