"""Why a recorded transaction earned what it did (pure): each rule, draw campaign and cap
against the transaction, under the configuration in force when it was processed, agreeing
with the answer it got — and the member's own view of it, in plain words.

An outcome is ``applied``; ``not_matched`` with the first condition that failed;
``not_active``; ``outranked`` (an exclusive rule with a larger bonus won); ``capped`` (a
per-transaction, per-member or daily points cap left nothing); ``budget_exhausted``.
Merchant offers are explained on their side (``offers.core.explanations``) and passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from rewards.core.answers import Answer
from rewards.core.conditions import Conditions, Facts, Matcher
from rewards.core.earning import NO_ROOM_LIMIT, CapRoom, CompiledRule, capped_bonus, choose_bonuses
from rewards.core.explanation_outcomes import BaseOutcome as BaseOutcome
from rewards.core.explanation_outcomes import CapOutcome as CapOutcome
from rewards.core.explanation_outcomes import DrawOutcome as DrawOutcome
from rewards.core.explanation_outcomes import Explanation as Explanation
from rewards.core.explanation_outcomes import MatchOutcome as MatchOutcome
from rewards.core.explanation_outcomes import RuleOutcome as RuleOutcome
from rewards.core.explanation_outcomes import said_caps
from rewards.core.program import CompiledProgram
from rewards.core.replay import Config
from rewards.core.transactions import CardTransaction


def _listed(values: list[str] | list[int] | None) -> str:
    return ", ".join(str(v) for v in values or [])


def _local_time(c: Conditions, f: Facts) -> str:
    at = f"{f.minute_of_day // 60:02d}:{f.minute_of_day % 60:02d}"
    window = f"{c.local_time.from_}–{c.local_time.to}" if c.local_time else ""
    return f"local time {at} is outside {window}"


#: Each condition that failed, in words, with what the transaction had.
_WHY_NOT: dict[str, Callable[[Conditions, Facts], str]] = {
    "mcc_in": lambda c, f: f"MCC {f.mcc or 'none'} is not one of {_listed(c.mcc_in)}",
    "merchant_in": lambda c, f: (
        f"merchant {f.merchant_id or 'none'} is not one of {_listed(c.merchant_in)}"
    ),
    "channel": lambda c, f: f"channel {f.channel or 'unknown'} is not {c.channel}",
    "card_product_in": lambda c, f: (
        f"paid with {', '.join(sorted(f.card_products)) or 'no known card product'}; "
        f"the condition wants {_listed(c.card_product_in)}"
    ),
    "tier_in": lambda c, f: f"tier {f.tier or 'none'} is not one of {_listed(c.tier_in)}",
    "segment_in": lambda c, f: f"the member is in none of the segments {_listed(c.segment_in)}",
    "min_amount_minor": lambda c, f: f"amount {f.amount_minor} is below {c.min_amount_minor}",
    "days_of_week": lambda c, f: (
        f"ISO weekday {f.day_of_week} is not one of {_listed(c.days_of_week)}"
    ),
    "local_time": _local_time,
    "starts_at": lambda c, f: f"before the start, {c.starts_at.isoformat() if c.starts_at else ''}",
    "ends_at": lambda c, f: f"after the end, {c.ends_at.isoformat() if c.ends_at else ''}",
    "h3_cells": lambda c, f: "the purchase's location is outside the area",
}


def why_not(field: str, c: Conditions, facts: Facts) -> str:
    """A condition that failed, in words, with what the transaction had."""
    found = _WHY_NOT.get(field)
    return found(c, facts) if found else f"{field} does not hold"


def periods_of(program: CompiledProgram, moment: datetime) -> tuple[str, str]:
    day = program.local_date(moment)
    return f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"


def explain(
    tx: CardTransaction,
    facts: Facts | None,
    config: Config,
    answer: Answer,
    used: Mapping[tuple[str, str], int],
    offers: Sequence[MatchOutcome] = (),
) -> Explanation:
    """Explain a recorded transaction's answer.

    Args:
        tx: The transaction as posted.
        facts: What conditions saw of it (None for a refund or reversal).
        config: The configuration in force when it was processed.
        answer: What it was answered.
        used: What each rule had paid the member before it, by (rule, period): the per-member
            caps' figures (``d:YYYY-MM-DD``, ``m:YYYY-MM``).
        offers: The merchant offers' outcomes.
    """
    program = config.program
    rate = program.program.mcc_rates.get(tx.mcc or "", program.program.base_rate)
    excluded = tx.mcc is not None and tx.mcc in program.excluded
    base = BaseOutcome(rate, answer.points.base, excluded)
    caps = said_caps(answer)
    if facts is None or answer.points.withheld or answer.excluded_by:
        rules = tuple(
            RuleOutcome(
                r.rule_id,
                _rule_name(config, r.rule_id),
                "applied",
                None,
                "taken back in proportion to the amount refunded",
                r.points,
            )
            for r in answer.rules_applied
        )
        draws = tuple(
            DrawOutcome(
                d.campaign_id,
                _campaign_name(config, d.campaign_id),
                "applied",
                None,
                "taken back in proportion to the amount refunded",
                d.multiplier,
                d.drawn_multiplier,
                d.points,
            )
            for d in answer.draws
        )
        return Explanation(
            tx.id,
            tx.kind,
            tx.occurred_at,
            tx.member_id,
            answer.points.total,
            base,
            rules,
            draws,
            tuple(offers),
            tuple(caps),
            answer.points.referral,
        )
    earned_base = program.base_points(tx.amount_minor, tx.mcc)
    rules = _rules(
        config, facts, answer, earned_base, excluded, used, periods_of(program, tx.occurred_at)
    )
    draws = _draws(config, facts, answer, excluded)
    return Explanation(
        tx.id,
        tx.kind,
        tx.occurred_at,
        tx.member_id,
        answer.points.total,
        base,
        rules,
        draws,
        tuple(offers),
        tuple(caps),
        answer.points.referral,
    )


def _rule_name(config: Config, rule_id: str) -> str:
    rule = config.rules.by_id.get(rule_id)
    return rule.rule.name if rule is not None else ""


def _campaign_name(config: Config, campaign_id: str) -> str:
    found = config.campaigns.get(campaign_id)
    return found[0].name if found is not None else ""


def _room(
    rule: CompiledRule, used: Mapping[tuple[str, str], int], periods: tuple[str, str]
) -> CapRoom:
    caps = rule.caps
    day, month = periods
    return CapRoom(
        per_day=None
        if caps.per_member_per_day is None
        else caps.per_member_per_day - used.get((rule.id, day), 0),
        per_month=None
        if caps.per_member_per_month is None
        else caps.per_member_per_month - used.get((rule.id, month), 0),
    )


def _rules(
    config: Config,
    facts: Facts,
    answer: Answer,
    base: int,
    excluded: bool,
    used: Mapping[tuple[str, str], int],
    periods: tuple[str, str],
) -> tuple[RuleOutcome, ...]:
    paid = {r.rule_id: r.points for r in answer.rules_applied}
    matched = [r for r in config.rules.by_id.values() if r.rule.active and r.matcher(facts)]
    # What each matching rule could pay with the member's caps as they stood (not budgets,
    # which the answer shows by leaving a rule out): the exclusive rule that won among them.
    candidates = [(r, capped_bonus(r, base, _room(r, used, periods))) for r in matched]
    winner = next((r.id for r, _ in candidates if not r.stacking and r.id in paid), None)
    if winner is None:  # no exclusive rule was paid: the one that would have won, if any
        winner = next(
            (i for i, _ in choose_bonuses([(r, b) for r, b in candidates if not r.stacking])),
            None,
        )
    outcomes = []
    for rule in sorted(config.rules.by_id.values(), key=lambda r: r.id):
        name = rule.rule.name
        if rule.id in paid:
            raw = rule.raw_bonus(base)
            detail = "paid in full" if paid[rule.id] >= raw else f"paid {paid[rule.id]} of {raw}"
            outcomes.append(RuleOutcome(rule.id, name, "applied", None, detail, paid[rule.id]))
            continue
        if not rule.rule.active:
            outcomes.append(RuleOutcome(rule.id, name, "not_active", None, "the rule is off", 0))
            continue
        failed = rule.matcher.first_failure(facts)
        if failed is not None:
            detail = why_not(failed, rule.rule.conditions, facts)
            outcomes.append(RuleOutcome(rule.id, name, "not_matched", failed, detail, 0))
            continue
        if excluded:
            outcomes.append(
                RuleOutcome(
                    rule.id,
                    name,
                    "not_matched",
                    "mcc_excluded",
                    "purchases with this MCC earn nothing",
                    0,
                )
            )
            continue
        outcomes.append(_unpaid(rule, base, used, periods, answer, winner))
    return tuple(outcomes)


def _unpaid(
    rule: CompiledRule,
    base: int,
    used: Mapping[tuple[str, str], int],
    periods: tuple[str, str],
    answer: Answer,
    winner: str | None,
) -> RuleOutcome:
    """Why a rule whose conditions all held paid nothing."""
    name = rule.rule.name
    raw = capped_bonus(rule, base, NO_ROOM_LIMIT)
    if raw <= 0:
        return RuleOutcome(rule.id, name, "capped", None, "its bonus on this purchase is 0", 0)
    room = capped_bonus(rule, base, _room(rule, used, periods))
    if room <= 0:
        return RuleOutcome(
            rule.id, name, "capped", None, "the member's cap for this rule was reached", 0
        )
    if not rule.stacking and winner is not None and winner != rule.id:
        return RuleOutcome(
            rule.id, name, "outranked", None, f"the exclusive rule {winner} paid more", 0
        )
    if rule.caps.budget_points is not None:
        return RuleOutcome(
            rule.id, name, "budget_exhausted", None, "the rule's budget had run out", 0
        )
    if answer.points.capped:
        return RuleOutcome(
            rule.id, name, "capped", None, "the member's daily points cap was reached", 0
        )
    return RuleOutcome(rule.id, name, "capped", None, "a cap left nothing to pay", 0)


def _draws(config: Config, facts: Facts, answer: Answer, excluded: bool) -> tuple[DrawOutcome, ...]:
    drawn = {d.campaign_id: d for d in answer.draws}
    outcomes = []
    for campaign_id, (campaign, _) in sorted(config.campaigns.items()):
        d = drawn.get(campaign_id)
        if d is not None:
            if d.drawn_multiplier is not None and d.drawn_multiplier > d.multiplier:
                outcome, detail = (
                    "budget_exhausted",
                    f"drew ×{d.drawn_multiplier}; the budget paid ×{d.multiplier}",
                )
            else:
                outcome, detail = "applied", f"drew ×{d.multiplier}"
            outcomes.append(
                DrawOutcome(
                    campaign_id,
                    campaign.name,
                    outcome,
                    None,
                    detail,
                    d.multiplier,
                    d.drawn_multiplier,
                    d.points,
                )
            )
            continue
        if (campaign.starts_at is not None and facts.occurred_at < campaign.starts_at) or (
            campaign.ends_at is not None and facts.occurred_at >= campaign.ends_at
        ):
            outcomes.append(
                DrawOutcome(
                    campaign_id,
                    campaign.name,
                    "not_active",
                    None,
                    "outside the campaign's dates",
                    1,
                    None,
                    0,
                )
            )
            continue
        failed = Matcher(campaign.conditions).first_failure(facts)
        detail = why_not(failed, campaign.conditions, facts) if failed else "no draw"
        if failed is None and excluded:
            failed, detail = "mcc_excluded", "purchases with this MCC earn nothing"
        outcomes.append(
            DrawOutcome(
                campaign_id,
                campaign.name,
                "not_matched",
                failed,
                detail,
                1,
                None,
                0,
            )
        )
    return tuple(outcomes)
