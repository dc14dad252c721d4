"""Replays (pure): recorded hook transactions planned again, in the order they were
recorded, under the configuration in force at each one (the *baseline*) or with a draft laid
over it — with every budget, cap, limit and tier binding as it did, and nothing written.

A :class:`Side` is one such run. It keeps in memory what the hook keeps in tables — rule
caps and budgets, campaign budgets, members' daily points, referrals waiting for a first
purchase, the awards refunds take back — starting from where they stood when the replay's
window opened, and plans each batch with the hook's own planner
(:func:`rewards.core.planner.plan_batch`); merchant offers come through an
:class:`~rewards.core.card_linked.OfferReplay`. What a side paid is summed in
:class:`Totals`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from rewards.core.answers import Answer
from rewards.core.awards import Original
from rewards.core.budgets import CampaignBudget, Usage
from rewards.core.campaigns import DrawCampaign
from rewards.core.card_linked import OfferReplay
from rewards.core.draw import affordable_multiplier, draw_proof, prize_index
from rewards.core.earning import EarnRule, RuleSet
from rewards.core.errors import RewardsError, ValidationFailed
from rewards.core.locking import batch_facts, lock_plan
from rewards.core.lots import MemberState
from rewards.core.plan import BatchPlan
from rewards.core.planner import plan_batch
from rewards.core.program import CompiledProgram, Program
from rewards.core.referrals import PendingReferral, ReferralBook
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


# --- configuration: the versions in force, and a draft laid over them ---------------------


class Changes(msgspec.Struct, frozen=True, omit_defaults=True):
    upsert: list[dict[str, Any]] = []
    remove: list[str] = []


class Draft(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a replay lays over the configuration in force: program settings (as a PATCH),
    and rules, campaigns and offers added, replaced or removed."""

    program: dict[str, Any] = {}
    earn_rules: Changes = Changes()
    draw_campaigns: Changes = Changes()
    offers: Changes = Changes()

    @property
    def empty(self) -> bool:
        return self == Draft()


class Version(msgspec.Struct, frozen=True):
    """One version of the program, a rule or a campaign (None: deleted)."""

    kind: str
    object_id: str
    version: int | None
    valid_from: datetime
    document: dict[str, Any] | None


class Config:
    """A configuration compiled for planning: the program, its rules and its campaigns."""

    def __init__(
        self,
        program: Program,
        rules: Iterable[EarnRule],
        campaigns: Iterable[tuple[DrawCampaign, bytes]],
    ) -> None:
        self.program = CompiledProgram.of(program)
        self.rules = RuleSet(list(rules))
        self.campaigns = {c.id: (c, secret) for c, secret in campaigns}


def _convert(document: Mapping[str, Any], kind: type[Any], where: str) -> Any:
    try:
        return msgspec.convert(document, kind)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(f"{where}: {exc}", errors=[(where, str(exc))]) from None


class History:
    """The configurations in force over a replay's window: by program version (what each
    transaction recorded it was planned under), or by time for transactions recorded
    without one; each with the draft laid over it when there is one."""

    def __init__(
        self,
        versions: Sequence[Version],
        secrets: Mapping[str, bytes],
        draft: Draft | None = None,
        fresh: Mapping[str, bytes] | None = None,
    ) -> None:
        self.versions = sorted(versions, key=lambda v: (v.version or 0, v.valid_from))
        self.by_time = sorted(versions, key=lambda v: v.valid_from)
        self.secrets = dict(secrets) | dict(fresh or {})
        self.draft = draft
        self._cache: dict[tuple[str, Any], Config] = {}

    def at(self, version: int | None, moment: datetime) -> Config:
        key: tuple[str, Any] = ("v", version) if version is not None else ("t", moment)
        found = self._cache.get(key)
        if found is None:
            if version is not None:
                chosen = [
                    v for v in self.versions if v.version is not None and v.version <= version
                ]
            else:
                chosen = [v for v in self.by_time if v.valid_from <= moment]
            found = self._cache[key] = self._compile(chosen)
        return found

    def _compile(self, chosen: Sequence[Version]) -> Config:
        docs: dict[tuple[str, str], dict[str, Any] | None] = {}
        for v in chosen:
            docs[(v.kind, v.object_id)] = v.document
        program_doc = next((d for (k, _), d in docs.items() if k == "program" and d), None)
        program = dict(program_doc or msgspec.to_builtins(Program()))
        rules = {i: d for (k, i), d in docs.items() if k == "earn_rule" and d is not None}
        campaigns = {i: d for (k, i), d in docs.items() if k == "draw_campaign" and d is not None}
        draft = self.draft
        if draft is not None:
            program |= draft.program
            _lay_over(rules, draft.earn_rules)
            _lay_over(campaigns, draft.draw_campaigns)
        compiled_campaigns = []
        for campaign_id, doc in sorted(campaigns.items()):
            campaign = _convert(doc, DrawCampaign, f"draw_campaigns.{campaign_id}")
            secret = self.secrets.get(campaign_id)
            if secret is not None:
                compiled_campaigns.append((campaign, secret))
        return Config(
            _convert(program, Program, "program"),
            [_convert(d, EarnRule, f"earn_rules.{i}") for i, d in sorted(rules.items())],
            compiled_campaigns,
        )


def _lay_over(current: dict[str, dict[str, Any]], changes: Changes) -> None:
    for doc in changes.upsert:
        current[str(doc["id"])] = doc
    for object_id in changes.remove:
        current.pop(object_id, None)


# --- one run ---------------------------------------------------------------------------------


class Start(msgspec.Struct, frozen=True):
    """Where caps, budgets, referrals and refundable purchases stood when the window opened."""

    usage: Mapping[tuple[str, str, str], int] = {}  # (member, rule, period) -> points
    rule_budgets: Mapping[str, int] = {}
    day_points: Mapping[tuple[str, date], int] = {}
    campaign_totals: Mapping[str, int] = {}
    campaign_days: Mapping[tuple[str, date], int] = {}
    pending: Mapping[str, PendingReferral] = {}  # referee -> referral waiting for a purchase
    rewarded: Mapping[str, int] = {}  # referrer -> referees rewarded so far
    originals: Mapping[str, Original] = {}  # purchases before the window refunded in it


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


class RuleTotal:
    """What one rule, campaign or offer paid over a run."""

    __slots__ = ("members", "points", "reward_minor", "transactions")

    def __init__(self) -> None:
        self.points = 0
        self.reward_minor = 0
        self.transactions = 0
        self.members: set[str] = set()


class Totals:
    """What a run paid: by part, by rule, campaign and offer, by day, and when budgets ran
    out."""

    PARTS = ("base", "rules", "draw", "offers", "referral", "total")

    def __init__(self) -> None:
        self.points = dict.fromkeys(self.PARTS, 0)
        self.offer_reward_minor = 0
        self.by_rule: dict[tuple[str, str], RuleTotal] = {}
        self.by_day: dict[date, int] = {}
        self.exhausted: dict[tuple[str, str], datetime] = {}
        self.transactions = 0

    def _rule(self, kind: str, key: str) -> RuleTotal:
        found = self.by_rule.get((kind, key))
        if found is None:
            found = self.by_rule[(kind, key)] = RuleTotal()
        return found

    def count(self, tx: CardTransaction, answer: Answer, day: date) -> None:
        p = answer.points
        for part, value in zip(
            self.PARTS, (p.base, p.rules, p.draw, p.offers, p.referral, p.total), strict=True
        ):
            self.points[part] += value
        self.by_day[day] = self.by_day.get(day, 0) + p.total
        self.transactions += 1
        member = tx.member_id
        for r in answer.rules_applied:
            self._paid(self._rule("earn_rule", r.rule_id), r.points, 0, member)
        for d in answer.draws:
            if d.points:
                self._paid(self._rule("draw_campaign", d.campaign_id), d.points, 0, member)
        for o in answer.offers_applied:
            self.offer_reward_minor += o.reward_minor
            self._paid(self._rule("offer", o.offer_id), o.points, o.reward_minor, member)

    @staticmethod
    def _paid(total: RuleTotal, points: int, reward: int, member: str) -> None:
        total.points += points
        total.reward_minor += reward
        if points > 0 or reward > 0:
            total.transactions += 1
            total.members.add(member)


class Side:
    """One run of a replay (the baseline, or the draft): its own caps, budgets, referrals
    and awards, moved batch by batch as the hook would have moved them."""

    def __init__(
        self,
        start: Start,
        *,
        offers: OfferReplay | None = None,
        keep: frozenset[str] = frozenset(),
    ) -> None:
        self.usage = dict(start.usage)
        self.rule_budgets = dict(start.rule_budgets)
        self.day_points = dict(start.day_points)
        self.campaign_totals = dict(start.campaign_totals)
        self.campaign_days = dict(start.campaign_days)
        self.pending = dict(start.pending)
        self.rewarded = dict(start.rewarded)
        self.originals = dict(start.originals)
        self.offers = offers
        self.keep = keep
        self.delta: dict[str, int] = {}  # member -> points this run paid beyond the ledger
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
        facts = batch_facts(txs, members, program)
        campaigns = [c for c, _ in config.campaigns.values()]
        locks = lock_plan(
            txs,
            program=program,
            rules=config.rules,
            campaigns=campaigns,
            members=members,
            originals=originals,
            facts=facts,
        )
        usage = self._usage(txs, originals, program, locks.capped, locks.periods)
        budgets = {
            campaign.id: CampaignBudget(
                campaign,
                secret,
                self.campaign_totals.get(campaign.id, 0),
                {d: self.campaign_days.get((campaign.id, d), 0) for d in locks.days},
            )
            for campaign, secret in config.campaigns.values()
        }
        buyers = {tx.member_id for tx in txs if tx.kind == "purchase"}
        pending = {b: self.pending[b] for b in buyers if b in self.pending}
        referrers = {p.referrer_id for p in pending.values()} | {
            o.award.referral.referrer_id for o in originals.values() if o.award.referral
        }
        for referrer in referrers:
            members.setdefault(referrer, _stranger(referrer))
        book = ReferralBook(pending, {r: self.rewarded.get(r, 0) for r in referrers})
        ids = {tx.id for tx in txs}
        before = self._budget_marks(config)
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
        )
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
                member_id, item.tier, list(item.segments), products, balance, 0, []
            )
        return members

    def _usage(
        self,
        txs: Sequence[CardTransaction],
        originals: Mapping[str, Original],
        program: CompiledProgram,
        capped: Sequence[tuple[str, str]],
        periods: Sequence[str],
    ) -> Usage:
        member_period = {
            (m, r, p): self.usage[(m, r, p)]
            for m, r in capped
            for p in periods
            if (m, r, p) in self.usage
        }
        days = {program.local_date(tx.occurred_at) for tx in txs}
        days |= {program.local_date(o.occurred_at) for o in originals.values()}
        day_points = {
            (tx.member_id, d): self.day_points[(tx.member_id, d)]
            for tx in txs
            for d in days
            if (tx.member_id, d) in self.day_points
        }
        return Usage(member_period, dict(self.rule_budgets), day_points)

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
            paid = [(("earn_rule", r.rule_id), r.points) for r in answer.rules_applied]
            paid += [(("draw_campaign", d.campaign_id), d.points) for d in answer.draws]
            for key, points in paid:
                if key not in running:
                    continue
                running[key] += points
                if running[key] >= marks[key][1] and key not in totals.exhausted:
                    totals.exhausted[key] = tx.occurred_at


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
                    (prior.tier, prior.segments, prior.card_products)
                    != (item.tier, item.segments, item.card_products)
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


# --- a new draw campaign's cost over many secrets -------------------------------------------


class DrawSamples:
    """What a draft's new draw campaign would have cost with each of many fresh secrets:
    every purchase it drew for is drawn again with each secret, within its budgets."""

    def __init__(self, campaign: DrawCampaign, secrets: Sequence[bytes]) -> None:
        self.campaign = campaign
        self.secrets = list(secrets)
        self.totals = [0] * len(secrets)
        self.days: list[dict[date, int]] = [{} for _ in secrets]

    def draw(self, tx_id: str, base: int, day: date) -> None:
        prizes = self.campaign.prizes
        budget = self.campaign.budget
        for n, secret in enumerate(self.secrets):
            rooms = []
            if budget.total_points is not None:
                rooms.append(budget.total_points - self.totals[n])
            if budget.daily_points is not None:
                rooms.append(budget.daily_points - self.days[n].get(day, 0))
            room = max(min(rooms), 0) if rooms else None
            drawn = prizes[prize_index(draw_proof(secret, self.campaign.id, tx_id), prizes)]
            paid = affordable_multiplier(prizes, drawn.multiplier, base, room)
            points = base * (paid - 1)
            self.totals[n] += points
            self.days[n][day] = self.days[n].get(day, 0) + points

    def percentiles(self) -> tuple[int, int]:
        """P50 and P95 of the cost over the secrets."""
        if len(self.totals) == 1:
            return self.totals[0], self.totals[0]
        cuts = statistics.quantiles(self.totals, n=100, method="inclusive")
        return round(statistics.median(self.totals)), round(cuts[94])
