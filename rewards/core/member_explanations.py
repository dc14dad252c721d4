"""A member's own view of why a purchase earned what it did (pure): in plain words, with a
stable code for each line; no budget figures, no other member, no id they have not seen."""

from __future__ import annotations

from datetime import datetime

import msgspec

from rewards.core.explanations import Explanation


class MemberLine(msgspec.Struct, frozen=True):
    kind: str  # base | promotion | draw | offer | cap | referral
    outcome: str
    title: str
    message: str
    points: int


class MemberExplanation(msgspec.Struct, frozen=True):
    transaction_id: str
    occurred_at: datetime
    points: int
    lines: tuple[MemberLine, ...]


_MESSAGES = {
    "applied": "Applied to this purchase.",
    "capped": "You had reached the limit for this promotion.",
    "budget_exhausted": "This promotion had been used up.",
    "outranked": "A better promotion applied instead; they do not combine.",
    "not_claimed": "You had not claimed this offer before the purchase.",
    "limit_reached": "You had already used this offer as often as it allows.",
    "min_spend": "The purchase was below the offer's minimum spend.",
    "out_of_schedule": "The offer was not valid at the time of the purchase.",
    "other_store": "The offer is valid at other stores of this merchant.",
    "not_targeted": "The offer was not available to you for this purchase.",
}


def for_member(e: Explanation) -> MemberExplanation:
    """The member's view: what they earned and why in plain words; no budget figures, no
    other member, no id they have not seen (rules and campaigns by their names, offers only
    those they claimed or got)."""
    lines = [
        MemberLine(
            "base",
            "not_matched" if e.base.excluded else "applied",
            "Base points",
            "Purchases of this kind earn no points."
            if e.base.excluded
            else f"{e.base.rate} point(s) per yuan spent.",
            e.base.points,
        )
    ]
    refund = e.kind != "purchase"
    for r in e.rules:
        if r.outcome in ("not_matched", "not_active"):
            continue
        message = "Taken back with the refund." if refund else _MESSAGES[r.outcome]
        lines.append(MemberLine("promotion", r.outcome, r.name or "Promotion", message, r.points))
    for d in e.draws:
        if d.outcome in ("not_matched", "not_active"):
            continue
        message = (
            "Taken back with the refund."
            if refund
            else f"You drew ×{d.multiplier}."
            if d.outcome == "applied"
            else "The draw's prize pool could only pay part of what you drew."
        )
        lines.append(MemberLine("draw", d.outcome, d.name or "Lucky draw", message, d.points))
    for o in e.offers:
        if o.outcome != "applied" and not o.claimed:
            continue
        message = _MESSAGES.get(o.outcome, "The offer did not apply.")
        lines.append(MemberLine("offer", o.outcome, o.title, message, o.points))
    if e.referral:
        lines.append(
            MemberLine(
                "referral",
                "applied",
                "Referral bonus",
                "Your first qualifying purchase after joining by referral.",
                e.referral,
            )
        )
    for c in e.caps:
        lines.append(
            MemberLine(
                "cap",
                "capped",
                "Daily points limit",
                "You reached the daily points limit; some points were not awarded.",
                -c.points,
            )
        )
    return MemberExplanation(e.transaction_id, e.occurred_at, e.points, tuple(lines))
