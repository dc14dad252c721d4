"""The words the pages use for the API's codes (statuses, kinds, outcomes, reasons): every
template has them, in its language."""

from __future__ import annotations

from typing import Any

from api.web.i18n import C_, N_, Text, translate, translations

#: An offer's state.
OFFER_STATES = {
    "pending_review": N_("Waiting for review"),
    "active": N_("Active"),
    "paused": N_("Paused"),
    "exhausted": N_("Budget spent"),
    "ended": N_("Ended"),
    "rejected": N_("Rejected"),
}
#: A job's status.
JOB_STATES = {
    "queued": N_("Queued"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}
JOB_KINDS = {
    "import": N_("Member import"),
    "segment": N_("Segment load"),
    "exclusions": N_("Exclusion list load"),
    "member_status": N_("Member status of a segment"),
    "grant": N_("Grant"),
    "replay": N_("Replay"),
    "settlement_close": N_("Close of a month's statements"),
}
#: What a job counted.
JOB_COUNTS = {
    "created": N_("created"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
    "failed": N_("failed"),
    "added": N_("added"),
    "removed": N_("removed"),
    "members": N_("members"),
    "duplicates": N_("duplicates"),
    "granted": N_("granted"),
    "entries": N_("entries"),
    "changed": N_("changed"),
    "forfeited": N_("points forfeited"),
    "already": N_("granted before"),
    "points": N_("points"),
    "statements": N_("statements"),
    "lines": N_("lines"),
}
RISK_REASONS = {
    "device_limit": N_("Too many members on one device"),
    "claim_rate": N_("Claims too fast"),
    "daily_points_cap": N_("Daily points cap reached"),
    "referral_ring": N_("Referral ring"),
}
REFERRAL_STATES = {
    "pending": N_("Waiting for a first purchase"),
    "rewarded": N_("Rewarded"),
    "refused": N_("Refused"),
    "clawed_back": N_("Clawed back"),
    "imported": N_("Imported"),
}
OUTCOMES = {
    "applied": N_("applied"),
    "not_matched": N_("not matched"),
    "not_active": N_("not active"),
    "outranked": N_("outranked"),
    "capped": N_("capped"),
    "budget_exhausted": N_("budget spent"),
    "not_claimed": N_("not claimed"),
    "limit_reached": N_("limit reached"),
    "min_spend": N_("below the minimum spend"),
    "not_targeted": N_("not targeted"),
    "other_store": N_("another store"),
    "out_of_schedule": N_("out of schedule"),
}
CAPS = {
    "daily_points": N_("Member's daily points cap"),
    "member_status": N_("Member suspended or closed"),
    "excluded": N_("On an exclusion list"),
    "held": N_("Held on the risk score"),
    "per_transaction": N_("Cap per transaction"),
    "per_member_per_day": N_("Cap per member per day"),
    "per_member_per_month": N_("Cap per member per month"),
}
TRANSACTION_KINDS = {
    "purchase": N_("Purchase"),
    "refund": N_("Refund"),
    "reversal": N_("Reversal"),
}
#: The parts of a transaction's points (replays, explanations).
POINT_PARTS = (
    ("base", N_("base")),
    ("rules", N_("rules")),
    ("draw", N_("draw")),
    ("offers", N_("offers")),
    ("referral", N_("referral")),
    ("total", N_("total")),
)
RULE_KINDS = {
    "earn_rule": N_("earn rule"),
    "draw_campaign": N_("draw campaign"),
    "offer": N_("offer"),
}
ACTIVATIONS = {
    "claim": N_("claimed in the app first"),
    "auto": N_("applies to every matching purchase"),
}

#: A ledger movement from the member's side.
MOVES = {
    "earn": N_("Earned"),
    "draw": N_("Lucky draw"),
    "offer": N_("Merchant offer"),
    "clawback": N_("Taken back (refund)"),
    "referral": N_("Referral"),
    "redemption": N_("Redeemed for a benefit"),
    "redemption_cancel": N_("Redemption cancelled"),
    "adjustment": N_("Adjustment"),
    "expiry": N_("Expired"),
    "grant": N_("Grant"),
    "opening": N_("Opening balance"),
    "forfeit": N_("Forfeited (account closed)"),
    "release": N_("Held points released"),
}
MEMBER_STATES = {
    "active": C_("member", "Active"),
    "suspended": C_("member", "Suspended"),
    "closed": C_("member", "Closed"),
}
HOLD_STATES = {
    "held": N_("Held"),
    "released": N_("Released"),
    "voided": N_("Voided"),
    "refunded": N_("Refunded while held"),
}
APPROVAL_STATES = {
    "pending_approval": N_("Waiting for approval"),
    "approved": N_("Approved"),
    "rejected": C_("change", "Rejected"),
}
#: What a change waiting for approval is.
APPROVAL_KINDS = {
    "adjustment": N_("Adjustment"),
    "earn_rule.create": N_("New earn rule"),
    "earn_rule.update": N_("Earn rule change"),
    "earn_rule.delete": N_("Earn rule deleted"),
    "grant": N_("Grant"),
}
#: What an exclusion list matches purchases by.
EXCLUSION_MATCHES = {
    "merchant_id": N_("Merchant id"),
    "merchant_name_contains": N_("Part of the merchant's name"),
    "acquirer_id": N_("Acquirer id"),
}
#: A statement's (or a month's) state.
SETTLEMENT_STATES = {
    "open": C_("statement", "Open"),
    "closing": N_("Closing"),
    "closed": C_("statement", "Closed"),
}
EVENT_STATES = {
    "pending": N_("Waiting to be sent"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
}

#: What went wrong, by the API's problem type (its detail, in the service's words, follows).
PROBLEMS = {
    "not_found": N_("Not found"),
    "already_exists": N_("It exists already"),
    "conflict": N_("This cannot be done now"),
    "last_admin_key": N_("This is the last admin key: issue another one first"),
    "insufficient_points": N_("Not enough points"),
    "codes_not_taken": N_("This benefit makes its own codes"),
    "campaign_not_ended": N_("The campaign has not ended"),
    "offer_state_conflict": N_("The offer cannot change that way now"),
    "segment_busy": N_("The segment is being loaded or granted"),
    "job_not_running": N_("The job is not running"),
    "validation_error": N_("Some of what you entered is not valid"),
    "forbidden": N_("You may not do this"),
    "limit_reached": N_("A limit was reached"),
    "out_of_stock": N_("Out of stock"),
    "not_active": N_("Not active"),
    "budget_contention": N_("Busy: please try again"),
    "stock_contention": N_("Busy: please try again"),
    "form_refused": N_("This form has expired"),
    "hold_decided": N_("The hold was decided already"),
    "approval_decided": N_("The change was approved or rejected already"),
    "own_change": N_("Another admin key must approve this change"),
    "exclusions_busy": N_("The list is being loaded"),
    "exclusion_match_fixed": N_("A list keeps what it matches by: make another list"),
    "member_suspended": N_("The member's account is suspended or closed"),
    "period_not_ready": N_("The month cannot be closed yet"),
    "period_closed": N_("The month is closed or being closed"),
    "earlier_period_open": N_("Close the earlier month first"),
}

_GLOBALS: dict[str, Any] = {
    "offer_words": OFFER_STATES,
    "job_words": JOB_STATES,
    "job_kind_words": JOB_KINDS,
    "count_words": JOB_COUNTS,
    "reason_words": RISK_REASONS,
    "referral_words": REFERRAL_STATES,
    "outcome_words": OUTCOMES,
    "cap_words": CAPS,
    "transaction_words": TRANSACTION_KINDS,
    "parts": POINT_PARTS,
    "kind_words": RULE_KINDS,
    "activation_words": ACTIVATIONS,
    "move_words": MOVES,
    "member_words": MEMBER_STATES,
    "event_words": EVENT_STATES,
    "hold_words": HOLD_STATES,
    "approval_words": APPROVAL_STATES,
    "approval_kind_words": APPROVAL_KINDS,
    "match_words": EXCLUSION_MATCHES,
    "settlement_words": SETTLEMENT_STATES,
}


def in_language(locale: str) -> dict[str, Any]:
    """Every vocabulary, in ``locale``: the templates' globals."""
    said = translations(locale)
    return {name: translate(words, said) for name, words in _GLOBALS.items()}


def all_words() -> list[Text]:
    """Every word here (a test checks that each is in the catalogs)."""
    found: list[Text] = []
    for words in _GLOBALS.values():
        values = words.values() if isinstance(words, dict) else (w for _, w in words)
        found.extend(values)
    return found
