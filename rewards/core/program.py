"""The program's settings and the arithmetic of base points."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import msgspec

from rewards.core.errors import ValidationFailed

# ISO 4217 minor-unit exponents that are not 2.
_EXPONENTS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}

RefundPolicy = Literal["allow_negative", "within_balance"]
DEFAULT_TIME_ZONE = "Asia/Shanghai"
#: The languages the pages are written in (BCP 47), Chinese first.
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


class Tier(msgspec.Struct, frozen=True):
    name: str
    min_spend_minor_12m: int


class Referral(msgspec.Struct, frozen=True):
    referrer_points: int = 0
    referee_points: int = 0
    min_first_purchase_minor: int = 0
    max_per_referrer: int | None = None


class AbuseLimits(msgspec.Struct, frozen=True):
    max_members_per_device: int | None = None
    max_claims_per_member_per_hour: int | None = None
    max_points_per_member_per_day: int | None = None
    #: A purchase whose risk score is above this earns as usual, its points held.
    hold_above_score: int | None = None


class Approvals(msgspec.Struct, frozen=True):
    """Four eyes: changes made with one admin key that wait for a second key."""

    adjustment_points_over: int | None = None
    rule_changes: bool = False
    grants_over_points: int | None = None


class Settlement(msgspec.Struct, frozen=True):
    """Merchant statements: a month may be closed this many days after it ends (refunds
    come in meanwhile)."""

    return_days: int = 30


class Program(msgspec.Struct, frozen=True, omit_defaults=False):
    """The document of PUT /v1/admin/program."""

    currency: str = "CNY"
    time_zone: str = DEFAULT_TIME_ZONE
    base_rate: str = "1"
    mcc_rates: dict[str, str] = {}
    excluded_mccs: list[str] = []
    expiry_months: int | None = 24
    pending_days: int = 0
    refund_policy: RefundPolicy = "allow_negative"
    tiers: list[Tier] = []
    referral: Referral | None = None
    abuse: AbuseLimits | None = None
    approvals: Approvals | None = None
    settlement: Settlement | None = None
    webhook_url: str | None = None
    #: The language of the program's console and portal pages (a person may switch).
    locale: str = DEFAULT_LOCALE


def parse_rate(text: str, field: str) -> Fraction:
    """A decimal string as an exact fraction; refuse floats' cousins (exponents, NaN)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(
            f"{field} must be a decimal string", errors=[(field, "not a decimal number")]
        ) from None
    if not value.is_finite() or value < 0 or "e" in text.lower():
        raise ValidationFailed(
            f"{field} must be a non-negative decimal", errors=[(field, "not allowed")]
        )
    return Fraction(value)


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names this machine knows (the OpenAPI document lists them)."""
    return frozenset(available_timezones())


def validate_program(program: Program) -> None:
    """Refuse a program document that makes no sense (422)."""
    errors: list[tuple[str, str]] = []
    if program.time_zone not in time_zones():
        errors.append(("time_zone", "not an IANA time zone"))
    if program.locale not in LOCALES:
        errors.append(("locale", f"one of {', '.join(LOCALES)}"))
    for field, text in [("base_rate", program.base_rate)] + [
        (f"mcc_rates.{mcc}", rate) for mcc, rate in program.mcc_rates.items()
    ]:
        try:
            parse_rate(text, field)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    for mcc in [*program.mcc_rates, *program.excluded_mccs]:
        if not (len(mcc) == 4 and mcc.isdigit()):
            errors.append(("mcc", f"{mcc!r} is not a 4-digit MCC"))
    if program.expiry_months is not None and not 1 <= program.expiry_months <= 120:
        errors.append(("expiry_months", "between 1 and 120, or null for no expiry"))
    if program.settlement is not None and not 0 <= program.settlement.return_days <= 365:
        errors.append(("settlement.return_days", "between 0 and 365"))
    if not 0 <= program.pending_days <= 365:
        errors.append(("pending_days", "between 0 and 365"))
    names = [t.name for t in program.tiers]
    if len(set(names)) != len(names):
        errors.append(("tiers", "tier names must be unique"))
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


class CompiledProgram(msgspec.Struct, frozen=True):
    """A program with its rates parsed, ready for the earning arithmetic."""

    program: Program
    zone: ZoneInfo
    exponent: int
    base_rate: Fraction
    mcc_rates: dict[str, Fraction]
    excluded: frozenset[str]

    @classmethod
    def of(cls, program: Program) -> CompiledProgram:
        return cls(
            program=program,
            zone=ZoneInfo(program.time_zone),
            exponent=_EXPONENTS.get(program.currency, 2),
            base_rate=parse_rate(program.base_rate, "base_rate"),
            mcc_rates={m: parse_rate(r, f"mcc_rates.{m}") for m, r in program.mcc_rates.items()},
            excluded=frozenset(program.excluded_mccs),
        )

    def base_points(self, amount_minor: int, mcc: str | None) -> int:
        """floor(amount / 10^exponent × rate), exactly; excluded MCCs earn nothing."""
        if mcc is not None and mcc in self.excluded:
            return 0
        rate = self.mcc_rates.get(mcc, self.base_rate) if mcc else self.base_rate
        points: int = (amount_minor * rate.numerator) // (rate.denominator * 10**self.exponent)
        return points

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def expiry_of(self, earned_at: datetime) -> datetime | None:
        """End of the month ``expiry_months`` after the month of earning (program time)."""
        months = self.program.expiry_months
        if months is None:
            return None
        first = add_months(earned_at.astimezone(self.zone).date(), months + 1)
        return datetime(first.year, first.month, 1, tzinfo=self.zone)

    def available_at(self, now: datetime) -> datetime:
        """When points earned now may be spent: at once, or after ``pending_days`` (start of
        that local day). Immediate points share one marker time so that lots merge."""
        if self.program.pending_days == 0:
            return IMMEDIATE
        local = (now.astimezone(self.zone) + timedelta(days=self.program.pending_days)).date()
        return datetime(local.year, local.month, local.day, tzinfo=self.zone)


IMMEDIATE = datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))


def tier_window_start(today: date) -> date:
    """First day of the 12-month window that ends with ``today``'s month."""
    return add_months(today, -11)


def month_of(day: date) -> date:
    return day.replace(day=1)


def month_index(day: date) -> int:
    """The month of ``day`` as a number: the difference of two is the months between."""
    return day.year * 12 + day.month - 1


def month_at(index: int) -> date:
    """The first day of the month ``month_index`` numbers."""
    return date(index // 12, index % 12 + 1, 1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s (before it, when negative)."""
    return month_at(month_index(day) + months)
