"""Wire types of background jobs, replays and explanations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from api.dto.common import Input, Output

Status = Literal["queued", "running", "done", "failed", "cancelled"]


class Progress(Output):
    done: int
    total: int | None


class JobOut(Output):
    """A background job: what it is doing, how far it got, what it counted."""

    id: str
    job_id: str
    kind: str
    status: Status
    progress: Progress
    counts: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None = None


class JobPage(Output):
    items: list[JobOut]
    next_cursor: str | None


class JobErrorOut(Output):
    line: int
    id: str | None
    problem: str


class JobErrorPage(Output):
    items: list[JobErrorOut]
    next_cursor: str | None


# --- replays ---------------------------------------------------------------------------------


class ChangesIn(Input):
    upsert: Annotated[list[dict[str, Any]], Meta(max_length=1000)] = []
    remove: Annotated[list[str], Meta(max_length=1000)] = []


class DraftIn(Input):
    """What to lay over the configuration in force: program settings (as a PATCH) and
    rules, draw campaigns and offers added or replaced (``upsert``) or ``remove``d."""

    program: dict[str, Any] = {}
    earn_rules: ChangesIn = msgspec.field(default_factory=ChangesIn)
    draw_campaigns: ChangesIn = msgspec.field(default_factory=ChangesIn)
    offers: ChangesIn = msgspec.field(default_factory=ChangesIn)


class ReplayIn(Input):
    """Replay the hook transactions recorded in [from, to) under the configuration then in
    force (the baseline) and with the draft laid over it."""

    from_: datetime = msgspec.field(name="from")
    to: datetime
    draft: DraftIn = msgspec.field(default_factory=DraftIn)
    draw_samples: Annotated[int, Meta(ge=1, le=1000)] = 100


class PointsTotals(Output):
    base: int
    rules: int
    draw: int
    offers: int
    referral: int
    total: int


class RunTotals(Output):
    points: PointsTotals
    offer_reward_minor: int


class Fidelity(Output):
    baseline_equals_ledger: bool
    differences: int
    first_differences: list[dict[str, Any]] = []


class RuleTotalsOut(Output):
    rule_id: str
    kind: Literal["earn_rule", "draw_campaign", "offer"]
    baseline_points: int
    draft_points: int
    transactions: int
    members: int
    budget_exhausted_at: datetime | None
    baseline_transactions: int = 0
    baseline_members: int = 0
    baseline_budget_exhausted_at: datetime | None = None
    baseline_reward_minor: int = 0
    draft_reward_minor: int = 0


class DayTotalsOut(Output):
    date: str
    baseline_points: int
    draft_points: int


class DrawCostOut(Output):
    campaign_id: str
    p50_points: int
    p95_points: int


class ReplayOut(Output):
    """A replay: its progress while it runs; its totals, fidelity, rules and days when done."""

    id: str
    job_id: str
    status: Status
    progress: Progress
    from_: datetime = msgspec.field(name="from")
    to: datetime | None = None
    draw_samples: int = 100
    created_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    transactions: int | None = None
    baseline: RunTotals | None = None
    draft: RunTotals | None = None
    fidelity: Fidelity | None = None
    by_rule: list[RuleTotalsOut] | None = None
    by_day: list[DayTotalsOut] | None = None
    draws: list[DrawCostOut] | None = None
    timings: dict[str, float] | None = None  # seconds: start, read, baseline, draft, compare


class ReplayPage(Output):
    items: list[ReplayOut]
    next_cursor: str | None


# --- explanations ----------------------------------------------------------------------------


class BaseOut(Output):
    rate: str
    points: int
    excluded: bool


class RuleOutcomeOut(Output):
    rule_id: str
    name: str
    outcome: Literal[
        "applied", "not_matched", "capped", "budget_exhausted", "outranked", "not_active"
    ]
    failed_condition: str | None
    detail: str
    points: int


class DrawOutcomeOut(Output):
    campaign_id: str
    name: str
    outcome: str
    failed_condition: str | None
    detail: str
    multiplier: int
    drawn_multiplier: int | None
    points: int


class OfferOutcomeOut(Output):
    offer_id: str
    title: str
    outcome: str
    failed_condition: str | None
    detail: str
    reward_minor: int
    points: int
    claimed: bool


class CapOut(Output):
    cap: str
    detail: str
    points: int


class ExplanationOut(Output):
    """Why a recorded transaction earned what it did, from the configuration in force when
    it was processed."""

    transaction_id: str
    kind: str
    occurred_at: datetime
    member_id: str
    points: int
    base: BaseOut
    rules: list[RuleOutcomeOut]
    draws: list[DrawOutcomeOut]
    offers: list[OfferOutcomeOut]
    caps: list[CapOut]
    referral: int = 0


class ComparedOut(Output):
    """One transaction in a replay: why the ledger recorded what it did, and what the
    baseline and the draft gave (the ledger's answer where they gave the same)."""

    transaction_id: str
    explanation: ExplanationOut
    ledger: dict[str, Any]
    baseline: dict[str, Any]
    draft: dict[str, Any]
    baseline_differs: bool
    draft_differs: bool


class MemberLineOut(Output):
    kind: Literal["base", "promotion", "draw", "offer", "cap", "referral"]
    outcome: str
    title: str
    message: str
    points: int


class MemberExplanationOut(Output):
    """Why one of the member's purchases earned what it did, in plain words."""

    transaction_id: str
    occurred_at: datetime
    points: int
    lines: list[MemberLineOut]


# --- bulk work -------------------------------------------------------------------------------


class SegmentIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    description: Annotated[str, Meta(max_length=2000)] = ""


class SegmentStatusIn(Input):
    """A member status for every member of the segment (closing forfeits their points)."""

    status: Literal["active", "suspended", "closed"]


class SegmentOut(Output):
    id: str
    name: str
    description: str
    members: int
    created_at: datetime
    updated_at: datetime


class SegmentPage(Output):
    items: list[SegmentOut]
    next_cursor: str | None


class AudienceIn(Input):
    """Who gets a grant: the members of a segment, or a list of member ids."""

    segment: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    member_ids: (
        Annotated[
            list[Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}(?!\n)$")]],
            Meta(min_length=1, max_length=100_000),
        ]
        | None
    ) = None


class GrantIn(Input):
    id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}(?!\n)$")]
    audience: AudienceIn
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
    points: Annotated[int, Meta(ge=1, le=10**9)] | None = None
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None
    offer_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}(?!\n)$")] | None = None


class GrantOut(Output):
    id: str
    job_id: str
    audience: dict[str, Any]
    points: int | None
    expires_at: datetime | None
    offer_id: str | None
    reason: str
    created_at: datetime
    job: JobOut


class ExclusionIn(Input):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    match: Literal["merchant_id", "merchant_name_contains", "acquirer_id"]


class ExclusionOut(Output):
    id: str
    name: str
    match: str
    entries: int
    created_at: datetime
    updated_at: datetime


class ExclusionPage(Output):
    items: list[ExclusionOut]
    next_cursor: str | None
