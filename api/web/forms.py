"""Forms to the API's input types, with the API's validation and messages in plain words.

A form's fields are named by the path of the API field they fill (``reward.value``), so
that an error the API would report for that path is shown next to that field. Money is
typed in major units (``200.50``) and sent to the API in minor units.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from api.request import validation_error
from api.web.i18n import N_, Text
from rewards.core.errors import ValidationFailed

T = TypeVar("T")

#: field path -> message, as shown next to each field.
Errors = dict[str, str]


class FormErrors(Exception):
    """Fields the form could not turn into the API's input (before the API's own checks)."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


#: The API's messages in plain words; ``%(n)s`` is the pattern's first group.
_IN_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Expected `str` of length >= 1$"), N_("Enter a value.")),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), N_("Use at most %(n)s characters.")),
    (
        re.compile(r"^Expected `(?:int|float)` >= (\S+?)(?:\.0)?$"),
        N_("Enter a number of at least %(n)s."),
    ),
    (
        re.compile(r"^Expected `(?:int|float)` <= (\S+?)(?:\.0)?$"),
        N_("Enter a number of at most %(n)s."),
    ),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), N_("Choose at most %(n)s.")),
    (re.compile(r"^Expected `array` of length >= 1$"), N_("Choose at least one.")),
    (
        re.compile(r"^Expected `str` matching regex '\^\[A-Za-z0-9\._:-\]\{1,64\}.*$"),
        N_("Use 1 to 64 letters, digits or . _ : - (no spaces)."),
    ),
    (
        re.compile(r"^Expected `str` matching regex '\^https\?://.*$"),
        N_("Enter an http(s) address."),
    ),
    (re.compile(r"^Object missing required field `(.+)`$"), N_("Enter a value.")),
    (re.compile(r"^Invalid enum value '(.*)'$"), N_("Choose one of the listed values.")),
    (re.compile(r"^Expected `(?:int|float)`, got `str`$"), N_("Enter a number.")),
)


def in_words(message: str) -> str:
    """The API's message, said the way a merchant would understand it (or as it is: the
    service's own words, in English)."""
    for pattern, words in _IN_WORDS:
        found = pattern.match(message.strip())
        if found:
            assert isinstance(words, Text)
            return N_(words.message, n=found.group(1)) if found.groups() else words
    return message[:1].upper() + message[1:] if message else N_("Not valid.")


def api_errors(exc: ValidationFailed, fields: Iterable[str] = ()) -> Errors:
    """The API's field errors as the form shows them: an error inside a field that the form
    edits as a whole (``tiers[1].name`` in a ``tiers`` box) is shown next to that field."""
    found: Errors = {}
    whole = sorted(fields, key=len, reverse=True)
    for field, message in exc.errors or [("form", str(exc))]:
        name = re.sub(r"\[\d+\]$", "", field.removeprefix("$").lstrip(".")) or "form"
        for candidate in whole:
            if name == candidate or name.startswith((f"{candidate}.", f"{candidate}[")):
                if name != candidate:
                    message = N_(
                        "%(field)s: %(problem)s",
                        field=name.removeprefix(candidate).lstrip("."),
                        problem=in_words(message),
                    )
                name = candidate
                break
        found.setdefault(name, in_words(message))
    return found


def typed(form: Any, *lists: str) -> dict[str, Any]:
    """What was typed in a refused form, to show again next to its errors (the fields named
    in ``lists``, ticked boxes, as lists)."""
    values: dict[str, Any] = {k: str(v) for k, v in form.items()}
    for name in lists:
        values[name] = form.getall(name, [])
    return values


def errors_of(exc: FormErrors | ValidationFailed, fields: Iterable[str] = ()) -> Errors:
    """A refused form's errors by field: those the form found reading it, or the API's
    (shown next to ``fields`` as :func:`api_errors` does)."""
    return exc.errors if isinstance(exc, FormErrors) else api_errors(exc, fields)


def convert(data: dict[str, Any], kind: type[T]) -> T:
    """``data`` as the API's input type, checked as the API checks a JSON body."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None


# --- reading fields -------------------------------------------------------------------------


class Reader:
    """Reads a submitted form field by field, collecting what cannot be read."""

    def __init__(self, form: Mapping[str, Any], getall: Any) -> None:
        self._form = form
        self._getall = getall
        self.errors: Errors = {}

    def text(self, name: str) -> str:
        value = self._form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def optional_text(self, name: str) -> str | None:
        return self.text(name) or None

    def many(self, name: str) -> list[str]:
        return [v for v in self._getall(name, []) if isinstance(v, str) and v]

    def words(self, name: str) -> list[str] | None:
        """A comma-separated list (``car-owner, platinum``); None when empty."""
        items = [w.strip() for w in self.text(name).split(",") if w.strip()]
        return items or None

    def integer(self, name: str) -> int | None:
        raw = self.text(name).replace(",", "")
        if not raw:
            return None
        if not re.fullmatch(r"-?\d{1,15}", raw):
            self.errors[name] = N_("Enter a whole number, like 4.")
            return None
        return int(raw)

    def number(self, name: str) -> float | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            self.errors[name] = N_("Enter a number, like %(example)s.", example="22.5431")
            return None
        return value

    def money(self, name: str, exponent: int) -> int | None:
        """An amount in major units (``200.50``) as minor units (20050)."""
        raw = self.text(name).replace(",", "")
        if not raw:
            return None
        decimals = rf"(\.\d{{1,{exponent}}})?" if exponent else ""
        if not re.fullmatch(rf"-?\d{{1,13}}{decimals}", raw):
            self.errors[name] = (
                N_("Enter an amount like 200.")
                if exponent == 0
                else N_("Enter an amount like 200 or 200.50.")
            )
            return None
        try:
            return int(Decimal(raw).scaleb(exponent))
        except InvalidOperation:
            self.errors[name] = N_("Enter an amount.")
            return None

    def decimal_text(self, name: str) -> str | None:
        """A decimal typed as text (a percentage, a multiplier), sent as the API's string."""
        raw = self.text(name)
        if raw and not re.fullmatch(r"\d{1,9}(\.\d{1,6})?", raw):
            self.errors[name] = N_("Enter a number, like 12 or 1.5.")
            return None
        return raw or None

    def local_time(self, name: str, zone: ZoneInfo) -> datetime | None:
        """A moment field (``2027-01-31 18:00``), read in the program's time zone."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            self.errors[name] = N_(
                "Enter a date and time, like %(example)s.", example="2027-01-31 18:00"
            )
            return None
        return value.replace(tzinfo=zone) if value.tzinfo is None else value

    def json(self, name: str) -> Any:
        raw = self.text(name)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            self.errors[name] = N_(
                "Enter valid JSON (%(problem)s, line %(line)s).", problem=exc.msg, line=exc.lineno
            )
            return None

    def done(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def major(minor: int | None, exponent: int) -> str:
    """Minor units as the amount a form shows (20050 -> ``200.50``)."""
    if minor is None:
        return ""
    if exponent == 0:
        return str(minor)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def local_input(moment: datetime | str | None, zone: ZoneInfo) -> str:
    """A stored time as a moment field's value (``2027-01-31 18:00``) in the program's
    time zone."""
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
