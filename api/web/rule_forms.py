"""The console's forms for earn rules and draw campaigns: their conditions, caps, budgets
and prizes as fields (money in yuan, times in the program's zone), read back into the
API's input."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from api.web import forms
from api.web.i18n import N_

#: The conditions the form has a field for; any others are kept in "other conditions".
LISTS = ("mcc_in", "merchant_in", "card_product_in", "tier_in", "segment_in")
SHOWN = (*LISTS, "channel", "min_amount_minor", "days_of_week", "local_time")
CAPS = ("per_transaction", "per_member_per_day", "per_member_per_month", "budget_points")
_CONDITION_FIELDS = (
    *(f"conditions.{n}" for n in (*SHOWN, "starts_at", "ends_at")),
    "conditions",
)
#: The fields an error the API reports is shown next to (the longest that matches).
RULE_FIELDS = (
    "id",
    "name",
    "effect.kind",
    "effect.value",
    "effect",
    "stacking",
    "active",
    *(f"caps.{n}" for n in CAPS),
    *_CONDITION_FIELDS,
)
CAMPAIGN_FIELDS = (
    "id",
    "name",
    "prizes",
    "budget.daily_points",
    "budget.total_points",
    "starts_at",
    "ends_at",
    *_CONDITION_FIELDS,
)


def condition_values(conditions: dict[str, Any], zone: ZoneInfo, exponent: int) -> dict[str, Any]:
    """Conditions as the form shows them."""
    values: dict[str, Any] = {f"conditions.{n}": ", ".join(conditions.get(n) or []) for n in LISTS}
    values["conditions.channel"] = conditions.get("channel") or ""
    values["conditions.min_amount_minor"] = forms.major(
        conditions.get("min_amount_minor"), exponent
    )
    values["conditions.days_of_week"] = [str(d) for d in conditions.get("days_of_week") or []]
    local = conditions.get("local_time") or {}
    values["conditions.local_time.from"] = local.get("from", "")
    values["conditions.local_time.to"] = local.get("to", "")
    for name in ("starts_at", "ends_at"):
        values[f"conditions.{name}"] = forms.local_input(conditions.get(name), zone)
    more = {
        k: v for k, v in conditions.items() if k not in SHOWN and k not in ("starts_at", "ends_at")
    }
    values["conditions.more"] = msgspec.json.encode(more).decode() if more else ""
    return values


def read_conditions(r: forms.Reader, zone: ZoneInfo, exponent: int) -> dict[str, Any]:
    """The conditions fields as the API's ``conditions``."""
    found: dict[str, Any] = {}
    for name in LISTS:
        if (items := r.words(f"conditions.{name}")) is not None:
            found[name] = items
    if channel := r.text("conditions.channel"):
        found["channel"] = channel
    if (least := r.money("conditions.min_amount_minor", exponent)) is not None:
        found["min_amount_minor"] = least
    if days := r.many("conditions.days_of_week"):
        found["days_of_week"] = [int(d) if d.isdigit() else d for d in days]
    opens, closes = r.text("conditions.local_time.from"), r.text("conditions.local_time.to")
    if opens or closes:
        found["local_time"] = {"from": opens or "00:00", "to": closes or "24:00"}
    for name in ("starts_at", "ends_at"):
        if (moment := r.local_time(f"conditions.{name}", zone)) is not None:
            found[name] = moment
    more = r.json("conditions.more")
    if more is not None and not isinstance(more, dict):
        r.errors["conditions.more"] = N_(
            "Enter a JSON object, like %(example)s.", example='{"h3_cells": ["8840a6a6dbfffff"]}'
        )
    elif more:
        found |= more
    return found


def rule_values(rule: dict[str, Any], zone: ZoneInfo, exponent: int) -> dict[str, Any]:
    """An earn rule as its form shows it."""
    caps = rule.get("caps") or {}
    return {
        "id": rule["id"],
        "name": rule["name"],
        "effect.kind": rule["effect"]["kind"],
        "effect.value": str(rule["effect"]["value"]),
        "stacking": "on" if rule.get("stacking", True) else "",
        "active": "on" if rule.get("active", True) else "",
        **{f"caps.{n}": "" if caps.get(n) is None else str(caps[n]) for n in CAPS},
        **condition_values(rule.get("conditions") or {}, zone, exponent),
    }


def read_rule(form: Any, zone: ZoneInfo, exponent: int, *, with_id: bool) -> dict[str, Any]:
    """The rule form as the body of POST (``with_id``) or PATCH /v1/admin/earn-rules."""
    r = forms.Reader(form, form.getall)
    kind = r.text("effect.kind")
    value: Any = r.integer("effect.value") if kind == "fixed" else r.decimal_text("effect.value")
    if value is None and "effect.value" not in r.errors:
        r.errors["effect.value"] = N_("Enter the multiplier or the points.")
    body: dict[str, Any] = {
        "name": r.text("name"),
        "effect": {"kind": kind, "value": value},
        "stacking": bool(r.text("stacking")),
        "active": bool(r.text("active")),
        "caps": {n: r.integer(f"caps.{n}") for n in CAPS},
        "conditions": read_conditions(r, zone, exponent),
    }
    if with_id:
        body["id"] = r.text("id")
    r.done()
    return body


def read_campaign(form: Any, zone: ZoneInfo, exponent: int) -> dict[str, Any]:
    """The campaign form as the body of POST /v1/admin/draw-campaigns. Prizes are lines of
    ``multiplier = weight``."""
    r = forms.Reader(form, form.getall)
    prizes = []
    for n, line in enumerate(r.text("prizes").splitlines(), start=1):
        if not line.strip():
            continue
        multiplier, sep, weight = line.partition("=")
        if not (sep and multiplier.strip().isdigit() and weight.strip().isdigit()):
            r.errors["prizes"] = N_(
                "Line %(line)s: write it as 'multiplier = weight', like 2 = 200.", line=n
            )
            continue
        prizes.append({"multiplier": int(multiplier), "weight": int(weight)})
    body: dict[str, Any] = {
        "id": r.text("id"),
        "name": r.text("name"),
        "prizes": prizes,
        "budget": {
            "daily_points": r.integer("budget.daily_points"),
            "total_points": r.integer("budget.total_points"),
        },
        "starts_at": r.local_time("starts_at", zone),
        "ends_at": r.local_time("ends_at", zone),
        "conditions": read_conditions(r, zone, exponent),
    }
    r.done()
    return body
