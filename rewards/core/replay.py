"""Replays (pure): recorded hook transactions planned again, in the order they were
recorded, under the configuration in force at each one (the *baseline*) or with a draft laid
over it — with every budget, cap, limit and tier binding as it did, and nothing written.

A :class:`Side` is one such run. It keeps in memory what the hook keeps in tables — rule
caps and budgets, campaign budgets, members' daily points, referrals waiting for a first
purchase, the awards refunds take back — starting from where they stood when the replay's
window opened, and plans each batch with the hook's own planner
(:func:`rewards.core.planner.plan_batch`); merchant offers come through an
:class:`~rewards.core.card_linked.MatchTimeline`. What a side paid is summed in
:class:`Totals`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from rewards.core.answers import Answer
from rewards.core.awards import Original
from rewards.core.budgets import CampaignBudget, Usage
from rewards.core.card_linked import MatchTimeline
from rewards.core.errors import RewardsError
from rewards.core.locking import batch_facts
from rewards.core.lots import MemberState
from rewards.core.plan import BatchPlan
from rewards.core.planner import plan_batch
from rewards.core.referrals import PendingReferral, ReferralBook
from rewards.core.replay_config import Changes as Changes
from rewards.core.replay_config import Config as Config
from rewards.core.replay_config import Draft as Draft
from rewards.core.replay_config import History as History
from rewards.core.replay_config import Version as Version
from rewards.core.replay_totals import DrawSamples as DrawSamples
from rewards.core.replay_totals import Totals as Totals
from rewards.core.transactions import CardTransaction


class ReplayItem(msgspec.Struct, frozen=True):
    """A recorded hook transaction: what was posted, when and under which program version it
    was planned, what the member's attributes were then, and the answer it got."""

    tx: CardTransaction
    seq: int
    recorded_at: datetime
    version: int | None
    tier: str | None
    segments: tuple[str, ...]
    card_products: tuple[str, ...]
    recorded: Answer
    attributes_since: datetime | None = None  # when the member's attributes last changed
    status: str = "active"  # the member's status then


# --- one run ---------------------------------------------------------------------------------


class Start(msgspec.Struct, frozen=True):
    """Where caps, budgets, referrals and refundable purchases stood when the window opened."""

    usage: Mapping[tuple[str, str, str], int] = {}  # (member, rule, period) -> points
    rule_budgets: Mapping[str, int] = {}
    day_points: Mapping[tuple[str, date], int] = {}
    campaign_totals: Mapping[str, int] = {}
    campaign_days: Mapping[tuple[str, date], int] = {}
    pending: Mapping[str, PendingReferral] = {}  # referee -> referral waiting for a purchase
    attached: Mapping[str, datetime] = {}  # referee -> when the referral was attached
    rewarded: Mapping[str, int] = {}  # referrer -> referees rewarded so far
    originals: Mapping[str, Original] = {}  # purchases before the window refunded in it


def same_award(answer: Answer, recorded: Answer) -> bool:
    """Whether two answers say a transaction earned or gave back the same, part by part
    (the balance after it aside): :func:`award_of` compared, at C speed."""
    return (
        answer.points == recorded.points
        and answer.rules_applied == recorded.rules_applied
        and answer.draws == recorded.draws
        and answer.offers_applied == recorded.offers_applied
        and answer.forgiven == recorded.forgiven
    )


def award_of(answer: Answer) -> tuple[Any, ...]:
    """What an answer says a transaction earned or gave back, part by part (not the balance
    after it, which other use cases move): what a replay is compared by."""
    p = answer.points
    return (
        (p.base, p.rules, p.draw, p.offers, p.referral, p.total, p.capped),
        tuple((r.rule_id, r.points) for r in answer.rules_applied),
        tuple((d.campaign_id, d.multiplier, d.points) for d in answer.draws),
        tuple((o.offer_id, o.reward_minor, o.points) for o in answer.offers_applied),
        answer.forgiven,
    )


class Side:
    """One run of a replay (the baseline, or the draft): its own caps, budgets, referrals
    and awards, moved batch by batch as the hook would have moved them."""

    def __init__(
        self,
        start: Start,
        *,
        offers: MatchTimeline | None = None,
        keep: frozenset[str] = frozenset(),
    ) -> None:
        self.usage = dict(start.usage)
        self.rule_budgets = dict(start.rule_budgets)
        self.day_points = dict(start.day_points)
        self.campaign_totals = dict(start.campaign_totals)
        self.campaign_days = dict(start.campaign_days)
        self.pending = dict(start.pending)
        self.attached = dict(start.attached)
        self.rewarded = dict(start.rewarded)
        self.originals = dict(start.originals)
        self.offers = offers
        self.keep = keep
        self.delta: dict[str, int] = {}  # member -> points this run paid beyond the ledger
        self.planning = 0.0  # seconds in the planner itself (the rest is this run's keeping)
        # member -> card products this run saw them pay with, and when (the hook learns
        # them at the end of its batch, which need not end where this run's batch does)
        self.learned: dict[str, dict[str, datetime]] = {}
        self.totals = Totals()

    def plan(self, items: Sequence[ReplayItem], config: Config) -> list[Answer | RewardsError]:
        """Plan a batch (no member twice with other attributes), count what it paid, and
        move this run's state as the hook's write would have moved the tables."""
        program = config.program
        txs = [i.tx for i in items]
        members = self._members(items, config)
        originals = {
            tx.original_id: self.originals[tx.original_id]
            for tx in txs
            if tx.original_id and tx.original_id in self.originals
        }
        for o in originals.values():
            if o.award.referral is not None:
                members.setdefault(
                    o.award.referral.referrer_id, _stranger(o.award.referral.referrer_id)
                )
        facts_began = time.perf_counter()
        facts = batch_facts(txs, members, program)
        self.planning += time.perf_counter() - facts_began
        # Every figure is handed over as it stands: the planner counts in front of them
        # without copying, so there is no need to pick the rows a batch may touch.
        usage = Usage(self.usage, self.rule_budgets, self.day_points)
        budgets = {
            campaign.id: CampaignBudget(
                campaign,
                secret,
                self.campaign_totals.get(campaign.id, 0),
                {d: used for (c, d), used in self.campaign_days.items() if c == campaign.id},
            )
            for campaign, secret in config.campaigns.values()
        }
        # A referral counts from when it was attached: a purchase before that settles none.
        buyers = {i.tx.member_id: i.recorded_at for i in reversed(items) if i.tx.kind == "purchase"}
        pending = {
            b: self.pending[b]
            for b, at in buyers.items()
            if b in self.pending and (b not in self.attached or self.attached[b] <= at)
        }
        referrers = {p.referrer_id for p in pending.values()} | {
            o.award.referral.referrer_id for o in originals.values() if o.award.referral
        }
        for referrer in referrers:
            members.setdefault(referrer, _stranger(referrer))
        book = ReferralBook(pending, {r: self.rewarded.get(r, 0) for r in referrers})
        ids = {tx.id for tx in txs}
        before = self._budget_marks(config)
        began = time.perf_counter()
        plan = plan_batch(
            txs,
            program=program,
            rules=config.rules,
            campaigns=budgets,
            members=members,
            originals=originals,
            usage=usage,
            now=items[-1].recorded_at,
            offers=(
                self.offers.matcher(txs, originals, items[0].recorded_at) if self.offers else None
            ),
            facts=facts,
            referrals=book,
            keep=self.keep & ids,
            # Exclusion lists as they were: what each purchase matched is in its answer.
            excluded={i.tx.id: i.recorded.excluded_by for i in items if i.recorded.excluded_by},
        )
        self.planning += time.perf_counter() - began
        self._absorb(plan)
        at = {i.tx.member_id: i.recorded_at for i in items}
        for member_id, product in plan.learned:
            self.learned.setdefault(member_id, {}).setdefault(product, at[member_id])
        self._count(items, plan.answers, config, before)
        return list(plan.answers)

    def _members(self, items: Sequence[ReplayItem], config: Config) -> dict[str, MemberState]:
        members: dict[str, MemberState] = {}
        within_balance = config.program.program.refund_policy == "within_balance"
        for item in items:
            member_id = item.tx.member_id
            if member_id in members:
                continue
            balance = 0
            if within_balance:
                seen = item.recorded
                before = seen.balance.available + seen.balance.pending - seen.points.total
                balance = before + self.delta.get(member_id, 0)
            products = list(item.card_products)
            since = item.attributes_since
            for product, at in self.learned.get(member_id, {}).items():
                if product not in products and (since is None or at > since):
                    products.append(product)
            members[member_id] = MemberState(
                member_id, item.tier, list(item.segments), products, balance, 0, [], item.status
            )
        return members

    def _absorb(self, plan: BatchPlan) -> None:
        """Move this run's state by what the plan would have written."""
        for w in plan.usage:
            self.usage[(w.member_id, w.rule_id, w.period)] = w.points
        for r in plan.reservations:
            if r.budget == "rule":
                self.rule_budgets[r.key] = self.rule_budgets.get(r.key, 0) + r.amount
            elif r.budget == "campaign":
                self.campaign_totals[r.key] = self.campaign_totals.get(r.key, 0) + r.amount
            elif r.budget == "campaign_day" and r.day is not None:
                key = (r.key, r.day)
                self.campaign_days[key] = self.campaign_days.get(key, 0) + r.amount
        for member_id, day, points in plan.day_points:
            self.day_points[(member_id, day)] = points
        self._absorb_refunds(plan)
        if self.offers is not None and plan.offers is not None:
            self.offers.absorb(plan.offers)

    def _absorb_refunds(self, plan: BatchPlan) -> None:
        """Purchases kept for their refunds, what refunds took, referrals settled."""
        for original in plan.kept:
            self.originals[original.transaction_id] = original
        for write in plan.originals:
            found = self.originals.get(write.transaction_id)
            if found is not None:
                self.originals[write.transaction_id] = msgspec.structs.replace(
                    found, refunded_minor=write.refunded_minor, reversed=write.reversed
                )
        for change in plan.hold_changes:
            found = self.originals.get(change.transaction_id)
            if found is not None:
                self.originals[change.transaction_id] = msgspec.structs.replace(
                    found, held=change.remaining
                )
        for r in plan.referrals:
            if r.status in ("rewarded", "refused"):
                self.pending.pop(r.referee_id, None)
            if r.status == "rewarded":
                self.rewarded[r.referrer_id] = self.rewarded.get(r.referrer_id, 0) + 1
            elif r.status == "clawed_back":
                self.rewarded[r.referrer_id] = max(self.rewarded.get(r.referrer_id, 0) - 1, 0)

    def _budget_marks(self, config: Config) -> dict[tuple[str, str], tuple[int, int]]:
        """(used, budget) of each budgeted rule and campaign before the batch."""
        marks: dict[tuple[str, str], tuple[int, int]] = {}
        for rule in config.rules.by_id.values():
            if rule.caps.budget_points is not None:
                used = self.rule_budgets.get(rule.id, 0)
                marks[("earn_rule", rule.id)] = (used, rule.caps.budget_points)
        for campaign, _ in config.campaigns.values():
            if campaign.budget.total_points is not None:
                used = self.campaign_totals.get(campaign.id, 0)
                marks[("draw_campaign", campaign.id)] = (used, campaign.budget.total_points)
        return marks

    def _count(
        self,
        items: Sequence[ReplayItem],
        answers: Sequence[Answer | RewardsError],
        config: Config,
        marks: dict[tuple[str, str], tuple[int, int]],
    ) -> None:
        running = {k: used for k, (used, _) in marks.items()}
        totals = self.totals
        for item, answer in zip(items, answers, strict=True):
            if isinstance(answer, RewardsError):
                continue
            tx = item.tx
            totals.count(tx, answer, config.program.local_date(tx.occurred_at))
            delta = answer.points.total - item.recorded.points.total
            if delta:
                self.delta[tx.member_id] = self.delta.get(tx.member_id, 0) + delta
            if running:
                self._run_out(tx, answer, running, marks)

    def _run_out(
        self,
        tx: CardTransaction,
        answer: Answer,
        running: dict[tuple[str, str], int],
        marks: dict[tuple[str, str], tuple[int, int]],
    ) -> None:
        """Note when a budget ran out: the first transaction after which it was used up."""
        paid = [(("earn_rule", r.rule_id), r.points) for r in answer.rules_applied]
        paid += [(("draw_campaign", d.campaign_id), d.points) for d in answer.draws]
        exhausted = self.totals.exhausted
        for key, points in paid:
            if key in running:
                running[key] += points
                if running[key] >= marks[key][1] and key not in exhausted:
                    exhausted[key] = tx.occurred_at


def _stranger(member_id: str) -> MemberState:
    """A member the batch pays or charges without planning a transaction of theirs (a
    referrer): only their points move."""
    return MemberState(member_id, None, [], [], 0, 0, [])


def batches(items: Sequence[ReplayItem], size: int) -> list[list[ReplayItem]]:
    """Cut transactions into batches the planner sees as the hook did: one program version
    a batch, and a member twice only when nothing the hook reads of them changed between."""
    out: list[list[ReplayItem]] = []
    current: list[ReplayItem] = []
    seen: dict[str, ReplayItem] = {}
    for item in items:
        member = item.tx.member_id
        prior = seen.get(member)
        if current and (
            len(current) >= size
            or item.version != current[0].version
            or (item.version is None and item.recorded_at != current[0].recorded_at)
            or (
                prior is not None
                and (
                    (prior.tier, prior.segments, prior.card_products, prior.status)
                    != (item.tier, item.segments, item.card_products, item.status)
                    or item.tx.kind != "purchase"
                )
            )
        ):
            out.append(current)
            current, seen = [], {}
        current.append(item)
        seen[member] = item
    if current:
        out.append(current)
    return out
