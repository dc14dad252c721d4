"""The pages' languages: gettext catalogs kept with Babel (``zh_CN``, ``en``), the language
a request is shown in, and money, numbers and times formatted by Babel for that language
in the program's time zone.

The catalogs are the ``.po`` files under ``locale/``; they are compiled in memory when a
process first shows a page. ``python -m api.web.i18n`` extracts the messages of the
templates and of the pages' code and merges them into both catalogs (a test fails while
any message is missing from either, or untranslated in Chinese).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_datetime, get_day_names
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

#: The catalogs, Chinese first: a request that says nothing is shown in the program's.
LOCALES = ("zh_CN", "en")
#: The program setting ``locale`` (a BCP 47 tag) to its catalog.
PROGRAM_LOCALES = {"zh-CN": "zh_CN", "en": "en"}
DEFAULT_LOCALE = "zh_CN"
CATALOGS = Path(__file__).parent / "locale"
DOMAIN = "messages"
#: The language a person chose with the switch on every page (both areas).
LANGUAGE_COOKIE = "rewards_language"

#: Where messages are found: the templates, and ``N_(...)`` in the pages' code.
_SOURCES = Path(__file__).parent
_METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
_KEYWORDS = {"N_": None, "C_": ((1, "c"), 2), "_": None, "gettext": None, "ngettext": (1, 2)}
_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


class Text(str):
    """A message of a page in English (its catalog id), with the values it names
    (``%(name)s``); translated when the page is rendered, English where it is used as a
    string."""

    message: str
    params: Mapping[str, Any]
    context: str | None

    def __new__(cls, message: str, params: Mapping[str, Any], context: str | None = None) -> Text:
        made = super().__new__(cls, message % params if params else message)
        made.message = message
        made.params = params
        made.context = context
        return made

    def translated(self, translations: Translations) -> str:
        said = str(
            translations.pgettext(self.context, self.message)
            if self.context
            else translations.gettext(self.message)
        )
        if not self.params:
            return said
        return said % {
            k: v.translated(translations) if isinstance(v, Text) else v
            for k, v in self.params.items()
        }


def N_(message: str, **params: Any) -> Text:
    """A page message, translated where it is shown."""
    return Text(message, params)


def C_(context: str, message: str) -> Text:
    """A page message whose words depend on what it is said of (``C_("member", "Active")``:
    a member in good standing, not an offer that is live)."""
    return Text(message, {}, context)


@cache
def translations(locale: str) -> Translations:
    """The catalog of ``locale``, compiled in memory."""
    with (CATALOGS / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def translate(value: Any, said: Translations) -> Any:
    """``value`` with its messages translated: a message, or messages in a dict, list or
    tuple (a form's errors, a list of choices)."""
    if isinstance(value, Text):
        return value.translated(said)
    if isinstance(value, dict):
        return {k: translate(v, said) for k, v in value.items()}
    if isinstance(value, list | tuple) and any(isinstance(v, Text | list | tuple) for v in value):
        return type(value)(translate(v, said) for v in value)
    return value


def _preferred(accept_language: str) -> Iterator[str]:
    """The languages of an ``Accept-Language`` header, most wanted first."""
    weighed = []
    for n, part in enumerate(accept_language.split(",")[:20]):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if tag and tag != "*" and weight > 0:
            weighed.append((-weight, n, tag.replace("-", "_")))
    return (tag for _, _, tag in sorted(weighed))


def choose(chosen: str | None, accept_language: str | None, program_locale: str | None) -> str:
    """The language of a page: the switch's cookie, else the browser's languages, else the
    program's setting."""
    if chosen in LOCALES:
        return chosen
    if accept_language:
        found = negotiate_locale(list(_preferred(accept_language)), list(LOCALES))
        if found is None:
            # A browser in zh-TW or en-GB still reads one of ours better than the default.
            languages = {Locale.parse(c).language: c for c in LOCALES}
            for tag in _preferred(accept_language):
                language = tag.split("_")[0].lower()
                if language in languages:
                    return languages[language]
        elif found in LOCALES:
            return found
    return PROGRAM_LOCALES.get(program_locale or "", DEFAULT_LOCALE)


class Formats:
    """Money, numbers, days and times as a page in ``locale`` shows them, in the program's
    currency and time zone."""

    def __init__(self, locale: str, zone: ZoneInfo, currency: str, exponent: int) -> None:
        self.locale = locale
        self.zone = zone
        self.currency = currency
        self.exponent = exponent

    @property
    def zone_name(self) -> str:
        return self.zone.key

    def money(self, minor: int | None) -> str:
        """An amount in minor units with its currency: ``¥1,234.56``."""
        if minor is None:
            return ""
        return format_currency(
            Decimal(minor).scaleb(-self.exponent), self.currency, locale=self.locale
        )

    def amount(self, minor: int | None) -> str:
        """An amount in minor units without its currency (a column that names it)."""
        if minor is None:
            return ""
        value = Decimal(minor).scaleb(-self.exponent)
        places = "0" * self.exponent
        pattern = f"#,##0.{places}" if places else "#,##0"
        return format_decimal(value, pattern, locale=self.locale)

    def number(self, value: int | float | Decimal | str | None) -> str:
        """A number grouped as the language groups it (``1,525``)."""
        if value is None or value == "":
            return ""
        return format_decimal(Decimal(str(value)), locale=self.locale)

    def percent(self, share: float | None) -> str:
        """A share as the language writes a percentage (``72.1%``)."""
        if share is None:
            return ""
        return format_percent(share, "#,##0.0%", locale=self.locale)

    def signed(self, value: int) -> str:
        """A change: ``+1,525``, ``−20``."""
        shown = self.number(abs(value))
        return f"+{shown}" if value > 0 else f"−{shown}" if value < 0 else shown

    def when(self, moment: datetime | str | None) -> str:
        """A moment in the program's time zone."""
        if moment is None or moment == "":
            return ""
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return format_datetime(value, "medium", tzinfo=self.zone, locale=self.locale)

    def weekdays(self) -> list[tuple[int, str]]:
        """The days of the week (1 Monday to 7 Sunday) as the language shortens them."""
        names = get_day_names("abbreviated", locale=self.locale)
        return [(n + 1, names[n]) for n in range(7)]

    def day(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        found = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(found, "medium", locale=self.locale)


# --- keeping the catalogs ---------------------------------------------------------------------


def extracted() -> Catalog:
    """Every message of the pages, as the templates and the code say them."""
    catalog = Catalog(domain=DOMAIN, project="rewards-engine", charset="utf-8")
    found = extract_from_dir(
        _SOURCES, _METHODS, keywords=_KEYWORDS, options_map=_OPTIONS, comment_tags=("i18n:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    return catalog


def update() -> list[str]:
    """Merge the extracted messages into every catalog (new ones untranslated, gone ones
    dropped); the catalogs written."""
    template = extracted()
    written = []
    for locale in LOCALES:
        path = CATALOGS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=locale, domain=DOMAIN)
        else:
            catalog = Catalog(
                locale=locale,
                domain=DOMAIN,
                project="rewards-engine",
                header_comment=f"# The pages of the rewards engine: {locale}.",
            )
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, omit_header=False, sort_output=True, include_lineno=False)
        written.append(str(path))
    return written


if __name__ == "__main__":
    for path in update():
        print(path, file=sys.stdout)
