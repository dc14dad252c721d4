"""Before a batch is planned: what conditions see of each purchase, and which budget and
cap rows the batch may touch (locked and loaded in a fixed order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import msgspec

from rewards.core.awards import Original
from rewards.core.campaigns import CampaignState, DrawBudget, DrawCampaign
from rewards.core.conditions import Facts
from rewards.core.earning import RuleSet
from rewards.core.lots import MemberState
from rewards.core.program import CompiledProgram
from rewards.core.transactions import CardTransaction


def batch_facts(
    transactions: Sequence[CardTransaction],
    members: Mapping[str, MemberState],
    program: CompiledProgram,
) -> tuple[Facts | None, ...]:
    """What conditions see of each purchase of a batch (None for refunds and for purchases
    the program refuses), computed once for the lock plan and the planner: the card product
    of the transaction (or else the member's, with those learned from earlier purchases of
    the batch), the member's tier and segments, local time in the program's zone."""
    learned: dict[str, set[str]] = {}
    found: list[Facts | None] = []
    for tx in transactions:
        member = members.get(tx.member_id)
        if tx.kind != "purchase" or member is None or tx.currency != program.program.currency:
            found.append(None)
            continue
        known = learned.setdefault(tx.member_id, set(member.card_products))
        found.append(
            Facts(
                amount_minor=tx.amount_minor,
                occurred_at=tx.occurred_at,
                local=tx.occurred_at.astimezone(program.zone),
                mcc=tx.mcc,
                merchant_id=tx.merchant_id,
                channel=tx.channel,
                card_products=frozenset([tx.card_product] if tx.card_product else known),
                tier=member.tier,
                segments=frozenset(member.segments),
                lat=tx.lat,
                lng=tx.lng,
                risk_score=tx.risk.score if tx.risk is not None else None,
            )
        )
        if tx.card_product:
            known.add(tx.card_product)
    return tuple(found)


class LockPlan(msgspec.Struct, frozen=True):
    """The budget rows a batch may touch: locked and loaded before it is planned."""

    budget_rules: list[str]
    capped: list[tuple[str, str]]  # (member, rule) with a per-member cap
    periods: list[str]
    campaigns: list[str]
    days: list[date]


def lock_plan(
    transactions: Sequence[CardTransaction],
    *,
    program: CompiledProgram,
    rules: RuleSet,
    campaigns: Sequence[DrawCampaign],
    members: Mapping[str, MemberState],
    originals: Mapping[str, Original],
    facts: Sequence[Facts | None],
) -> LockPlan:
    """Which rules with a budget, which member caps and which budgeted campaigns the batch
    may touch, so that exactly those rows are locked (in a fixed order) and loaded."""
    budget_rules: set[str] = set()
    capped: set[tuple[str, str]] = set()
    periods: set[str] = set()
    budgeted: set[str] = set()
    days: set[date] = set()
    by_id = {c.id: c for c in campaigns}
    budgeted_states = [CampaignState(c, b"", 0) for c in campaigns if c.budget != DrawBudget()]
    for tx, seen in zip(transactions, facts, strict=True):
        if tx.member_id not in members:
            continue
        if seen is not None:
            matched = [r.id for r in rules.matching(seen)]
            when = tx.occurred_at
            eligible = [c.id for c in budgeted_states if c.eligible(seen)]
        elif tx.kind == "purchase":
            continue  # refused before planning (another currency)
        else:
            original = originals.get(tx.original_id or "")
            if original is None:
                continue
            matched = [rule_id for rule_id, _ in original.award.rules]
            when = original.occurred_at
            eligible = [
                d.campaign_id
                for d in original.award.draws
                if d.campaign_id in by_id and by_id[d.campaign_id].budget != DrawBudget()
            ]
        day = program.local_date(when)
        for rule_id in matched:
            caps = rules.by_id[rule_id].caps if rule_id in rules.by_id else None
            if caps is None:
                continue
            if caps.budget_points is not None:
                budget_rules.add(rule_id)
            if caps.per_member_per_day is not None or caps.per_member_per_month is not None:
                capped.add((tx.member_id, rule_id))
                periods.update((f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"))
        if eligible:
            budgeted.update(eligible)
            days.add(day)
    return LockPlan(
        sorted(budget_rules), sorted(capped), sorted(periods), sorted(budgeted), sorted(days)
    )
