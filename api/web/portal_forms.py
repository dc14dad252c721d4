"""What the merchant portal's pages share: who is signed in, the notices, and the offer
form (an offer as the form shows it, and the form read back into the API's input)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from api.auth import MerchantCaller
from api.web import forms
from api.web.i18n import N_
from api.web.pages import holder_of
from offers.core.offers import StoredOffer
from rewards.core.errors import ValidationFailed
from rewards.core.program import CompiledProgram

REWARD_KINDS = (
    ("percent_off", N_("Percent off the purchase")),
    ("amount_off", N_("Amount off the purchase")),
    ("points_multiplier", N_("Points multiplier (× base points)")),
    ("bonus_points", N_("Bonus points")),
)
NOTICES = {
    "store-added": N_("The store was added."),
    "store-saved": N_("The store was saved."),
    "store-deleted": N_("The store was deleted."),
    "offer-created": N_(
        "The offer was created. It goes live once the program operator approves it."
    ),
    "offer-saved": N_("The offer was saved. It goes back to review before it goes live again."),
    "offer-paused": N_("The offer is paused: no purchase matches it until you resume it."),
    "offer-resumed": N_("The offer is live again."),
}
OTHER_CONDITIONS = "targeting.more"


def caller_of(request: Request[Any, Any, Any]) -> MerchantCaller:
    holder = holder_of(request)
    assert holder.merchant_id is not None
    return MerchantCaller(holder.tenant_id, holder.merchant_id)


def notice_of(done: str | None) -> str | None:
    return NOTICES.get(done or "")


# --- offers: the form and back ------------------------------------------------------------


def offer_values(stored: StoredOffer, program: CompiledProgram) -> dict[str, Any]:
    """An offer as its form shows it."""
    o, exp, zone = stored.offer, program.exponent, program.zone
    value = o.reward.value
    targeting = msgspec.to_builtins(o.targeting)
    shown = ("card_product_in", "tier_in", "segment_in", "mcc_in", "channel")
    more = {k: v for k, v in targeting.items() if k not in shown}
    return {
        "id": o.id,
        "title": o.title,
        "category": o.category,
        "description": o.description,
        "reward.kind": o.reward.kind,
        "reward.value": forms.major(int(value), exp)
        if o.reward.kind == "amount_off"
        else str(value),
        "reward.max_reward_minor": forms.major(o.reward.max_reward_minor, exp),
        "min_spend_minor": forms.major(o.min_spend_minor, exp),
        "store_ids": list(o.store_ids),
        "geofence_radius_m": str(o.geofence_radius_m),
        "targeting.card_product_in": ", ".join(o.targeting.card_product_in or []),
        "targeting.tier_in": ", ".join(o.targeting.tier_in or []),
        "targeting.segment_in": ", ".join(o.targeting.segment_in or []),
        "targeting.mcc_in": ", ".join(o.targeting.mcc_in or []),
        "targeting.channel": o.targeting.channel or "",
        OTHER_CONDITIONS: msgspec.json.encode(more).decode() if more else "",
        "schedule.starts_at": forms.local_input(o.schedule.starts_at, zone),
        "schedule.ends_at": forms.local_input(o.schedule.ends_at, zone),
        "schedule.days_of_week": [str(d) for d in (o.schedule.days_of_week or [])],
        "budget.max_redemptions": ""
        if o.budget.max_redemptions is None
        else str(o.budget.max_redemptions),
        "budget.max_reward_minor": forms.major(o.budget.max_reward_minor, exp),
        "per_member_limit": "" if o.per_member_limit is None else str(o.per_member_limit),
        "activation": o.activation,
    }


def blank_offer() -> dict[str, Any]:
    return {
        "id": "",
        "title": "",
        "category": "",
        "description": "",
        "reward.kind": "percent_off",
        "reward.value": "",
        "reward.max_reward_minor": "",
        "min_spend_minor": "",
        "store_ids": [],
        "geofence_radius_m": "500",
        "targeting.card_product_in": "",
        "targeting.tier_in": "",
        "targeting.segment_in": "",
        "targeting.mcc_in": "",
        "targeting.channel": "",
        OTHER_CONDITIONS: "",
        "schedule.starts_at": "",
        "schedule.ends_at": "",
        "schedule.days_of_week": [],
        "budget.max_redemptions": "",
        "budget.max_reward_minor": "",
        "per_member_limit": "",
        "activation": "claim",
    }


def submitted_offer(form: Any) -> dict[str, Any]:
    """What the merchant typed, to show again next to the errors."""
    values = blank_offer()
    for name in values:
        if name in ("store_ids", "schedule.days_of_week"):
            values[name] = [v for v in form.getall(name, []) if isinstance(v, str)]
        elif isinstance(form.get(name), str):
            values[name] = form.get(name)
    return values


def read_offer(form: Any, program: CompiledProgram, *, with_id: bool) -> dict[str, Any]:
    """The form as the body of POST (``with_id``) or PATCH /v1/merchant/offers.

    Raises:
        forms.FormErrors: a field could not be read (a number that is not one, bad JSON).
    """
    r, exp = forms.Reader(form, form.getall), program.exponent
    kind = r.text("reward.kind")
    value: int | str | None
    if kind == "amount_off":
        value = r.money("reward.value", exp)
    elif kind == "bonus_points":
        value = r.integer("reward.value")
    else:
        value = r.decimal_text("reward.value")
    reward: dict[str, Any] = {"kind": kind}
    if value is not None:
        reward["value"] = value
    elif "reward.value" not in r.errors:
        r.errors["reward.value"] = N_("Enter the reward.")
    if (cap := r.money("reward.max_reward_minor", exp)) is not None:
        reward["max_reward_minor"] = cap
    targeting: dict[str, Any] = {}
    for name in ("card_product_in", "tier_in", "segment_in", "mcc_in"):
        if (words := r.words(f"targeting.{name}")) is not None:
            targeting[name] = words
    if channel := r.text("targeting.channel"):
        targeting["channel"] = channel
    more = r.json(OTHER_CONDITIONS)
    if more is not None and not isinstance(more, dict):
        r.errors[OTHER_CONDITIONS] = N_(
            "Enter a JSON object, like %(example)s.", example='{"days_of_week": [6, 7]}'
        )
    elif more:
        twice = sorted(set(more) & set(targeting))
        if twice:
            r.errors[OTHER_CONDITIONS] = N_(
                "Set %(fields)s in its own field above.", fields=", ".join(twice)
            )
        targeting |= more
    schedule: dict[str, Any] = {}
    for name in ("starts_at", "ends_at"):
        if (moment := r.local_time(f"schedule.{name}", program.zone)) is not None:
            schedule[name] = moment
    days = r.many("schedule.days_of_week")
    if days:
        schedule["days_of_week"] = [int(d) if d.isdigit() else d for d in days]
    budget: dict[str, Any] = {}
    if (most := r.integer("budget.max_redemptions")) is not None:
        budget["max_redemptions"] = most
    if (spend := r.money("budget.max_reward_minor", exp)) is not None:
        budget["max_reward_minor"] = spend
    body: dict[str, Any] = {
        "title": r.text("title"),
        "category": r.text("category"),
        "description": r.text("description"),
        "reward": reward,
        "min_spend_minor": r.money("min_spend_minor", exp) or 0,
        "store_ids": r.many("store_ids"),
        "geofence_radius_m": r.integer("geofence_radius_m") or 0,
        "targeting": targeting,
        "schedule": schedule,
        "budget": budget,
        "per_member_limit": r.integer("per_member_limit"),
        "activation": r.text("activation"),
    }
    if with_id:
        body["id"] = r.text("id")
    r.done()
    return body


def errors_of(exc: Exception) -> dict[str, str]:
    if isinstance(exc, forms.FormErrors):
        return exc.errors
    if isinstance(exc, ValidationFailed):
        return forms.api_errors(exc)
    return {"form": forms.in_words(str(exc))}
