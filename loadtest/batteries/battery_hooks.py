"""schemathesis hooks of the API battery (loaded by `schemathesis run` through
SCHEMATHESIS_HOOKS): the hook calls are signed over their exact body bytes, as the card
processor signs them, and a few rules that no schema can state are kept in the requests
schemathesis means to be valid.

The rules kept (only in requests generated as valid; invalid ones go out untouched):
- a list's `cursor` is one the list handed out: an opaque cursor cannot be generated, so a
  valid request goes without one;
- `from` is not after `to` (two query parameters; a schema describes each alone);
- a transaction's `currency` is the program's, and the program keeps the currency the
  battery's tenant was created with (CNY): state, not shape;
- tier names differ (objects in a list told apart by one field);
- an offer's stores are the merchant's, and a patch's `ends_at` is after the stored
  `starts_at` (state);
- a webhook URL points at a public https host (which hosts are private is the deployment's
  setting, and DNS's);
- an `ends_at` is after its `starts_at` (two fields compared);
- an H3 cell is a real cell (a checksum-like structure no pattern spells);
- an offer's reward value fits its kind (a percentage, a whole number, a multiplier above
  1: one field read through another);
- the member's referral setting names a program with referrals, and a referral code is one
  a member holds (state).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

import requests
import schemathesis

from rewards.core.credentials import hook_signature

UNSIGNED = "unsigned"
PROGRAM_CURRENCY = "CNY"
_SECRET = os.environ.get("BATTERY_HOOK_SECRET", "")
REFERRAL_CODE = os.environ.get("BATTERY_REFERRAL_CODE", "")
REFERRER = "m-referrer"
REFERRAL = {"referrer_points": 500, "referee_points": 200}


class Signed(requests.auth.AuthBase):
    """Replace the placeholder signature with one over the body as it goes on the wire;
    a request whose signature schemathesis left out or changed is sent as it is."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.headers.get("X-Rewards-Signature") == UNSIGNED:
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else bytes(body)
            request.headers["X-Rewards-Signature"] = hook_signature(_SECRET, int(time.time()), raw)
        return request


def _in_currency(transaction: Any) -> None:
    if isinstance(transaction, dict) and "currency" in transaction:
        transaction["currency"] = PROGRAM_CURRENCY


A_CELL = "8831aa5029fffff"  # Futian, Shenzhen, resolution 8
# What `value` holds for each `kind` of an offer's reward and of a rule's effect.
VALUES: dict[str, str | int] = {
    "percent_off": "12",
    "amount_off": 500,
    "points_multiplier": "2",
    "bonus_points": 100,
    "multiplier": "2",
    "fixed": 100,
}
# A public address: no DNS to resolve, and nothing is delivered during the battery.
WEBHOOK_URL = "https://8.8.8.8/rewards"


def _in_order(value: Any) -> None:
    """Walk a body: times in order, real H3 cells, reward values that fit their kind."""
    if isinstance(value, list):
        for item in value:
            _in_order(item)
        return
    if not isinstance(value, dict):
        return
    start, end = value.get("starts_at"), value.get("ends_at")
    if isinstance(start, str) and isinstance(end, str):
        value["ends_at"] = _after(start, end)
    elif isinstance(end, str) and "starts_at" not in value:
        value.pop("ends_at")  # a patch's end against the stored start (state)
    if isinstance(value.get("tiers"), list):
        value["tiers"] = list({tier.get("name"): tier for tier in value["tiers"]}.values())
    if isinstance(value.get("store_ids"), list):
        value["store_ids"] = []  # the merchant's stores (state)
    if isinstance(value.get("h3_cells"), list):
        value["h3_cells"] = [A_CELL]
    kind = value.get("kind")
    if "value" in value and isinstance(kind, str) and kind in VALUES:
        value["value"] = VALUES[kind]
    for item in value.values():
        _in_order(item)


def _after(start: str, end: str) -> str:
    """``end``, or a day after ``start`` when ``end`` is not after it."""
    try:
        begins = datetime.fromisoformat(start)
        if begins < datetime.fromisoformat(end):
            return end
        return (begins + timedelta(days=1)).isoformat()
    except (ValueError, OverflowError):
        return end  # not a time, or the last day there is: the server's to judge


def _query_in_order(query: dict[str, Any]) -> None:
    query.pop("cursor", None)
    start, end = query.get("from"), query.get("to")
    if isinstance(start, str) and end is None:
        query["to"] = end = start  # `to` defaults to today (the clock's)
    if isinstance(start, str) and isinstance(end, str) and start > end:
        query["from"], query["to"] = end, start


def _body_in_state(case: Any, body: dict[str, Any]) -> None:
    """What the battery's tenant holds: its program's referral setting and currency, its
    items' prices, its members' codes."""
    path: str = case.operation.path
    if isinstance(body.get("webhook_url"), str):
        body["webhook_url"] = WEBHOOK_URL
    # A PUT resets what it leaves out: the referral setting stays on either way.
    if path == "/v1/admin/program" and ("referral" in body or case.method.upper() == "PUT"):
        body["referral"] = REFERRAL
    # The stored item's other price may be 0: a patch keeps a points price.
    if (
        path == "/v1/admin/catalog/items/{sku}"
        and body.get("points_price") == 0
        and not body.get("cash_price_minor")
    ):
        body["points_price"] = 100
    if path == "/v1/me/referral/apply" and "code" in body:
        body["code"] = REFERRAL_CODE
    if isinstance(body.get("referral_code_used"), str):
        if (case.path_parameters or {}).get("member_id") == REFERRER:
            body.pop("referral_code_used")  # a member's own code is refused
        else:
            body["referral_code_used"] = REFERRAL_CODE
    if path in ("/v1/hooks/transactions", "/v1/admin/transactions/simulate", "/v1/admin/program"):
        _in_currency(body)
    elif path == "/v1/hooks/transactions/batch":
        for item in body.get("transactions") or []:
            _in_currency(item)


def _keep_valid(case: Any) -> None:
    if isinstance(case.query, dict):
        _query_in_order(case.query)
    _in_order(case.body)
    if isinstance(case.body, dict):
        _body_in_state(case, case.body)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    kwargs["auth"] = Signed()
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_negative:
        _keep_valid(case)
