"""The runs of a replay: read the window's transactions in the order they were recorded, in
one REPEATABLE READ snapshot, and plan them with the hook's planner
(:mod:`rewards.core.replay`) — as the baseline, compared with the ledger, and with a draft
laid over it. Each run can be done by a process of its own (the draft by a child process,
``rewards.replays.service``), since each reads the same immutable history and computes where
caps and budgets stood when the window opened from one consistent snapshot of its own.
"""

from __future__ import annotations

import bisect
import gc
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from db.pool import acquire
from db.types import Conn
from rewards.core.answers import Answer
from rewards.core.campaigns import DrawCampaign
from rewards.core.card_linked import CardLinkedHistory
from rewards.core.errors import RewardsError
from rewards.core.program import CompiledProgram
from rewards.core.referrals import PendingReferral
from rewards.core.replay import (
    Draft,
    DrawSamples,
    History,
    ReplayItem,
    Side,
    Start,
    Totals,
    batches,
    same_award,
)
from rewards.core.transactions import CardTransaction
from rewards.hook import service as hook
from rewards.program import service as programs
from rewards.replays import repository as replay_db

BATCH = 500  # transactions planned at a time
SHOWN_DIFFERENCES = 10
BASELINE, DRAFT = "baseline", "draft"

_encoder = msgspec.json.Encoder()


class Assignment(msgspec.Struct, frozen=True):
    """What a run is given (a child process reads it as JSON): the window as the job found
    it, the draft, the fresh secrets of its new draw campaigns, which runs to do."""

    tenant_id: str
    job_id: str
    opens: datetime
    closes: datetime
    first_seq: int
    last_seq: int
    total: int
    opens_history: bool
    draft: Draft
    fresh: dict[str, list[bytes]]  # new campaign -> secrets (the first drawn with)
    chunk: int
    runs: tuple[str, ...]

    @property
    def window(self) -> replay_db.Window:
        return replay_db.Window(self.first_seq, self.last_seq, self.total, self.opens_history)


class RuleFigures(msgspec.Struct, frozen=True):
    kind: str
    rule_id: str
    points: int
    reward_minor: int
    transactions: int
    members: int
    exhausted_at: datetime | None


class Found(msgspec.Struct):
    """What one run found (a child process writes it as JSON)."""

    run: str
    points: dict[str, int]
    offer_reward_minor: int
    by_rule: list[RuleFigures]
    by_day: dict[str, int]
    differences: int
    shown: list[dict[str, Any]]
    draws: list[tuple[str, int, int]]
    timings: dict[str, float]


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


def _items(
    rows: Sequence[replay_db.Row],
    attrs: _Attrs,
    spans: Mapping[str, Sequence[replay_db.Span]],
) -> list[ReplayItem]:
    """The rows as the planner takes them, each with its member's attributes at the time."""
    items = []
    decode = replay_db.decode_answer
    segments_at = replay_db.segments_at
    for r in rows:
        member = r.tx.member_id
        c = attrs.at(member, r.recorded_at)
        segments = segments_at(c.segments if c else (), spans.get(member, ()), r.recorded_at)
        if c is None:
            items.append(
                ReplayItem(
                    r.tx, r.seq, r.recorded_at, r.version, None, segments, (), decode(r.answer)
                )
            )
        else:
            items.append(
                ReplayItem(
                    r.tx,
                    r.seq,
                    r.recorded_at,
                    r.version,
                    c.tier,
                    segments,
                    c.card_products,
                    decode(r.answer),
                    c.changed_at,
                    c.status,
                )
            )
    return items


class _Run:
    """One run of a replay and what it found, batch by batch."""

    def __init__(
        self, name: str, side: Side, history: History, samplers: Mapping[str, DrawSamples]
    ) -> None:
        self.name = name
        self.side = side
        self.history = history
        self.samplers = samplers
        self.differences = 0
        self.shown: list[dict[str, Any]] = []
        self.seconds = 0.0

    def batch(self, items: Sequence[ReplayItem]) -> list[tuple[str, bytes]]:
        """Plan a batch; the answers of transactions that gave other than the ledger."""
        began = time.perf_counter()
        first = items[0]
        config = self.history.at(first.version, first.recorded_at)
        answers = self.side.plan(items, config)
        kept = []
        for item, answer in zip(items, answers, strict=True):
            if not isinstance(answer, Answer) or not same_award(answer, item.recorded):
                kept.append((item.tx.id, _answer_bytes(answer)))
                if self.name == BASELINE:
                    self.differences += 1
                    if len(self.shown) < SHOWN_DIFFERENCES:
                        self.shown.append(
                            {
                                "transaction_id": item.tx.id,
                                "ledger": msgspec.to_builtins(item.recorded.points),
                                "baseline": _problem_or_points(answer),
                            }
                        )
            if self.samplers and isinstance(answer, Answer):
                self._sample(item.tx, answer, config.program)
        self.seconds += time.perf_counter() - began
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

    def found(self, timings: dict[str, float]) -> Found:
        t: Totals = self.side.totals
        return Found(
            self.name,
            dict(t.points),
            t.offer_reward_minor,
            [
                RuleFigures(
                    kind,
                    rule_id,
                    r.points,
                    r.reward_minor,
                    r.transactions,
                    len(r.members),
                    t.exhausted.get((kind, rule_id)),
                )
                for (kind, rule_id), r in sorted(t.by_rule.items())
            ],
            {day.isoformat(): points for day, points in sorted(t.by_day.items())},
            self.differences,
            self.shown,
            [(c, *s.percentiles()) for c, s in sorted(self.samplers.items())],
            timings
            | {
                self.name: round(self.seconds, 3),
                f"{self.name}_planner": round(self.side.planning, 3),
            },
        )


def _problem_or_points(result: Answer | RewardsError) -> Any:
    if isinstance(result, RewardsError):
        return {"problem": result.type, "detail": result.detail}
    return msgspec.to_builtins(result.points)


def _answer_bytes(result: Answer | RewardsError) -> bytes:
    if isinstance(result, RewardsError):
        return _encoder.encode({"problem": result.type, "detail": result.detail})
    return _encoder.encode(result)


Progress = Callable[[int], Awaitable[None]]


async def run(
    pool: asyncpg.Pool,
    given: Assignment,
    offers: CardLinkedHistory | None,
    progress: Progress,
) -> list[Found]:
    """Do the runs assigned, side by side over one read of the window; what each found.
    Each run's answers that differ from the ledger are kept (``replay_transactions``)."""
    began = time.perf_counter()
    tenant_id, w = given.tenant_id, given.window
    async with acquire(pool) as conn, conn.transaction(isolation="repeatable_read"):
        versions = await programs.versions_upto(conn, tenant_id, 2**62)
        secrets = await programs.campaign_secrets(conn, tenant_id)
        baseline_history = History(versions, secrets)
        state, keep = await _start(conn, tenant_id, w, baseline_history, given.opens)
        runs = []
        for name in given.runs:
            draft = given.draft if name == DRAFT else None
            history = (
                History(versions, secrets, draft, {c: s[0] for c, s in given.fresh.items()})
                if draft is not None
                else baseline_history
            )
            timeline = await _timeline(conn, offers, tenant_id, w, draft)
            samplers = {
                c: DrawSamples(msgspec.convert(doc, DrawCampaign), given.fresh[c])
                for doc in (draft.draw_campaigns.upsert if draft else [])
                if (c := doc["id"]) in given.fresh
            }
            runs.append(_Run(name, Side(state, offers=timeline, keep=keep), history, samplers))
        attrs = _Attrs(await replay_db.window_member_changes(conn, tenant_id, given.closes))
        timings = {"start": time.perf_counter() - began, "read": 0.0}
        done = 0
        reading = time.perf_counter()
        try:
            async for rows in replay_db.transactions(
                conn, tenant_id, w, given.opens, given.closes, given.chunk
            ):
                spans = await replay_db.segment_spans(
                    conn, tenant_id, sorted({r.tx.member_id for r in rows}), given.closes
                )
                items = _items(rows, attrs, spans)
                timings["read"] += time.perf_counter() - reading
                kept: dict[str, list[tuple[str, bytes]]] = {r.name: [] for r in runs}
                for batch in batches(items, BATCH):
                    for r in runs:
                        kept[r.name] += r.batch(batch)
                done += len(rows)
                async with acquire(pool) as other:
                    for name, rows_kept in kept.items():
                        await replay_db.save_differences(
                            other, tenant_id, given.job_id, name, rows_kept
                        )
                await progress(done)
                # What the runs keep (caps, budgets, awards for refunds) only grows: the
                # collector is told to leave it alone, so that a full collection does not
                # walk millions of live objects again and again.
                gc.freeze()
                reading = time.perf_counter()
        finally:
            gc.unfreeze()
    rounded = {k: round(v, 3) for k, v in timings.items()}
    return [r.found(rounded) for r in runs]


async def _timeline(
    conn: Conn,
    offers: CardLinkedHistory | None,
    tenant_id: str,
    w: replay_db.Window,
    draft: Draft | None,
) -> Any:
    if offers is None:
        return None
    changes = draft.offers if draft is not None else None
    return await offers.timeline(
        conn,
        tenant_id,
        w.first_seq,
        changes.upsert if changes else [],
        changes.remove if changes else [],
    )


async def _start(
    conn: Conn,
    tenant_id: str,
    w: replay_db.Window,
    history: History,
    opens: datetime,
) -> tuple[Start, frozenset[str]]:
    """Where caps, budgets, referrals and the refundable purchases stood when the window
    opened: the figures now, less what the transactions recorded since have counted."""
    before, inside = await replay_db.refunded_originals(conn, tenant_id, w)
    config = history.at(None, opens)
    originals = await _originals(conn, tenant_id, before, w.first_seq, list(history.secrets))
    pending, attached, rewarded = await _referrals(conn, tenant_id, w.first_seq)
    if w.opens_history:
        return Start(pending=pending, attached=attached, originals=originals), frozenset(inside)
    zone_day = opens.astimezone(config.program.zone).date()
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
            attached=attached,
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
) -> tuple[dict[str, PendingReferral], dict[str, datetime], dict[str, int]]:
    """Referrals waiting when the window opened or attached in it (a ring refused then is
    refused again: the devices the members shared are as recorded), when each was
    attached, and how many referees each referrer had had rewarded."""
    rows = await replay_db.referrals(conn, tenant_id, first_seq)
    pending = {
        r.referee_id: PendingReferral(
            r.referee_id,
            r.referrer_id,
            b"ring" if r.status == "refused" and r.reason == "referral_ring" else None,
        )
        for r in rows
    }
    attached = {r.referee_id: r.attached_at for r in rows}
    return pending, attached, await replay_db.referrers_rewarded(conn, tenant_id, first_seq)
