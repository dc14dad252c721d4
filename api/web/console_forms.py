"""What the operator console's pages share: who is signed in, the notices, whether a change
waits for a second key, and the program form (the program as the form shows it, the form
read back, the page)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from api.auth import Admin
from api.web import forms, words
from api.web.i18n import N_
from api.web.pages import holder_of, render
from db.types import Conn
from rewards.approvals import service as approvals
from rewards.core.program import Program

NOTICES = {
    "approved": N_("The offer was approved: it is live."),
    "rejected": N_("The offer was rejected; the merchant sees your reason."),
    "program-saved": N_("The program's settings were saved."),
    "replay-cancelled": N_("The replay was cancelled."),
    "job-cancelled": N_("The job was cancelled; what it applied before stays."),
    "segment-saved": N_("The segment was saved."),
    "rule-saved": N_("The earn rule was saved."),
    "rule-on": N_("The earn rule is on."),
    "rule-off": N_("The earn rule is off: purchases no longer earn by it."),
    "adjusted": N_("The balance was adjusted; the member's activity and the audit log show why."),
    "stock-set": N_("The stock was set."),
    "member-active": N_("The member is active: their purchases earn from now on."),
    "member-suspended": N_(
        "The member is suspended: their purchases earn nothing until reinstated."
    ),
    "member-closed": N_("The member's account is closed: their available points were forfeited."),
    "codes-added": N_("The codes were added to the pool."),
    "key-revoked": N_("The key was revoked: it no longer works, and its sessions are closed."),
    "event-redelivered": N_("The event is sent again now, with 72 more hours of retries."),
    "approval-pending": N_(
        "The change waits for another admin key's approval: it is applied when approved."
    ),
    "approved-change": N_("The change was approved and applied."),
    "rejected-change": N_("The change was rejected: nothing of it was applied."),
    "hold-released": N_("The held points were released: they are the member's now."),
    "hold-voided": N_("The held points were voided: they went back to those who paid them."),
    "exclusion-saved": N_("The exclusion list was saved."),
    "exclusion-deleted": N_("The exclusion list was deleted: it excludes nothing now."),
}
RISK_REASONS = tuple(words.RISK_REASONS)
PROGRAM_FIELDS = (
    "currency",
    "time_zone",
    "locale",
    "base_rate",
    "mcc_rates",
    "excluded_mccs",
    "expiry_months",
    "pending_days",
    "refund_policy",
    "tiers",
    "referral",
    "abuse",
    "webhook_url",
)


def caller_of(request: Request[Any, Any, Any]) -> Admin:
    holder = holder_of(request)
    return Admin(holder.tenant_id, holder.named, holder.key_id)


async def waits(
    conn: Conn,
    caller: Admin,
    kind: approvals.Kind,
    change: dict[str, Any],
    summary: dict[str, Any],
    points: int | None = None,
) -> bool:
    """Whether the change now waits for another admin key (the program's ``approvals``):
    then it is parked, and the caller applies nothing."""
    pending = await approvals.gate(
        conn, caller.tenant_id, caller.actor, caller.key_id, kind, change, summary, points
    )
    return pending is not None


def notice_of(done: str | None) -> str | None:
    return NOTICES.get(done or "")


# --- the program form ------------------------------------------------------------------------


def program_values(program: Program, exponent: int) -> dict[str, Any]:
    """The program as its form shows it."""
    referral, limits = program.referral, program.abuse

    def number(value: int | None) -> str:
        return "" if value is None else str(value)

    return {
        "currency": program.currency,
        "time_zone": program.time_zone,
        "locale": program.locale,
        "base_rate": program.base_rate,
        "mcc_rates": "\n".join(
            f"{mcc} = {rate}" for mcc, rate in sorted(program.mcc_rates.items())
        ),
        "excluded_mccs": ", ".join(program.excluded_mccs),
        "expiry_months": number(program.expiry_months),
        "pending_days": str(program.pending_days),
        "refund_policy": program.refund_policy,
        "tiers": "\n".join(
            f"{t.name} = {forms.major(t.min_spend_minor_12m, exponent)}" for t in program.tiers
        ),
        "referral.on": "on" if referral else "",
        "referral.referrer_points": number(referral.referrer_points) if referral else "",
        "referral.referee_points": number(referral.referee_points) if referral else "",
        "referral.min_first_purchase_minor": (
            forms.major(referral.min_first_purchase_minor, exponent) if referral else ""
        ),
        "referral.max_per_referrer": number(referral.max_per_referrer) if referral else "",
        "abuse.on": "on" if limits else "",
        "abuse.max_members_per_device": number(limits.max_members_per_device) if limits else "",
        "abuse.max_claims_per_member_per_hour": (
            number(limits.max_claims_per_member_per_hour) if limits else ""
        ),
        "abuse.max_points_per_member_per_day": (
            number(limits.max_points_per_member_per_day) if limits else ""
        ),
        "webhook_url": program.webhook_url or "",
    }


def _pairs(r: forms.Reader, name: str) -> list[tuple[str, str]]:
    """Lines of ``key = value``."""
    found = []
    for n, line in enumerate(r.text(name).splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            r.errors[name] = N_("Line %(line)s: write it as 'name = value'.", line=n)
            continue
        found.append((key.strip(), value.strip()))
    return found


def read_program(form: Any, exponent: int) -> dict[str, Any]:
    """The form as the body of PATCH /v1/admin/program (every setting it shows)."""
    r = forms.Reader(form, form.getall)
    tiers = []
    for name, amount in _pairs(r, "tiers"):
        minor = forms.Reader({"x": amount}, lambda _, default: default).money("x", exponent)
        if minor is None:
            r.errors["tiers"] = N_(
                "%(tier)s: enter the yearly spend as an amount, like 50000.", tier=name
            )
        tiers.append({"name": name, "min_spend_minor_12m": minor})
    body: dict[str, Any] = {
        "currency": r.text("currency"),
        "time_zone": r.text("time_zone"),
        "locale": r.text("locale") or "zh-CN",
        "base_rate": r.text("base_rate"),
        "mcc_rates": dict(_pairs(r, "mcc_rates")),
        "excluded_mccs": r.words("excluded_mccs") or [],
        "expiry_months": r.integer("expiry_months"),
        "pending_days": r.integer("pending_days") or 0,
        "refund_policy": r.text("refund_policy"),
        "tiers": tiers,
        "webhook_url": r.optional_text("webhook_url"),
        "referral": None,
        "abuse": None,
    }
    if r.text("referral.on"):
        referral = {
            "referrer_points": r.integer("referral.referrer_points") or 0,
            "referee_points": r.integer("referral.referee_points") or 0,
            "min_first_purchase_minor": r.money("referral.min_first_purchase_minor", exponent) or 0,
            "max_per_referrer": r.integer("referral.max_per_referrer"),
        }
        body["referral"] = referral
    if r.text("abuse.on"):
        body["abuse"] = {
            name: r.integer(f"abuse.{name}")
            for name in (
                "max_members_per_device",
                "max_claims_per_member_per_hour",
                "max_points_per_member_per_day",
            )
        }
    r.done()
    return body


def program_page(
    request: Request[Any, Any, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int,
    notice: str | None,
) -> Response[str]:
    return render(
        request,
        "console/program.html",
        status=status,
        title=N_("Program settings"),
        values=values,
        errors=errors,
        notice=notice,
    )
