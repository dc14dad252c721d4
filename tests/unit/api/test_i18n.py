"""The pages' two languages: every message in both catalogs (translated in Chinese, with
the same values named), no page text outside them, the language a request gets, and money,
numbers and times as Babel formats them in the program's time zone."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from api.web import i18n, words
from api.web.reports import differences

WEB = Path(i18n.__file__).parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


Key = tuple[str | None, str]  # (context, message)


def catalog(locale: str) -> dict[Key, tuple[str, bool]]:
    path = i18n.CATALOGS / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        found = read_po(po, locale=locale)
    return {(m.context, m.id): (m.string, m.fuzzy) for m in found if m.id and isinstance(m.id, str)}


def extracted() -> set[Key]:
    return {(m.context, m.id) for m in i18n.extracted() if m.id and isinstance(m.id, str)}


def test_every_message_is_in_both_catalogs_and_translated_in_chinese() -> None:
    messages = extracted()
    assert len(messages) > 300  # the pages' messages were found
    for locale in i18n.LOCALES:
        missing = messages - set(catalog(locale))
        assert not missing, f"not in the {locale} catalog (python -m api.web.i18n): {missing}"
    chinese = catalog("zh_CN")
    untranslated = [m for m in messages if not chinese[m][0] or chinese[m][1]]
    assert not untranslated, f"not translated into Chinese: {untranslated}"
    for key in messages:
        said, message = chinese[key][0], key[1]
        assert set(PLACEHOLDER.findall(message)) == set(PLACEHOLDER.findall(said)), message
        assert not re.search(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", said)) or _names_code(said), (
            f"English left in the Chinese of {message!r}: {said!r}"
        )


def _names_code(said: str) -> bool:
    """Chinese that names what is not translated: an API path, a field, a product name."""
    return bool(re.search(r"<code>|API|JSON|PATCH|Webhook|merchant_id|MCC|App|https?|ISO|H3", said))


def test_the_words_for_the_apis_codes_are_messages() -> None:
    assert {(w.context, w.message) for w in words.all_words()} <= extracted()


# --- no page text outside the catalogs ---------------------------------------------------------

JINJA = re.compile(r"\{#.*?#\}|\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-label"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_data(self, data: str) -> None:
        if re.search(r"[A-Za-z\u4e00-\u9fff]", data):
            self.found.append(data.strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and re.search(r"[A-Za-z\u4e00-\u9fff]", value):
                self.found.append(f"{name}={value}")


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(WEB).as_posix() for p in (WEB / "templates").rglob("*.html"))
)
def test_templates_say_nothing_outside_the_catalogs(template: str) -> None:
    source = (WEB / template).read_text()
    parser = _Text()
    parser.feed(JINJA.sub(" ", source))
    assert parser.found == [], f"{template} has text outside _() and trans: {parser.found}"


def _prose(text: str) -> bool:
    """A string a person reads: words with a space, or a capitalised word."""
    return bool(re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}|^[A-Z][a-z]+[.!]?$", text))


_NOT_PAGE_TEXT = {
    "_log",  # the server's log
    "Text",
    "Cookie",
    "redirect",
    "NotFound",  # with N_ inside
}


def test_the_pages_code_says_nothing_outside_the_catalogs() -> None:
    """Strings of api/web/*.py a page could show are messages (``N_``): docstrings, log
    lines, markup and header values are not page text."""
    found = []
    for path in sorted(WEB.glob("*.py")):
        tree = ast.parse(path.read_text())
        skip: set[int] = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                skip.add(id(body[0].value))  # a docstring
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else None
                name = name or (node.func.id if isinstance(node.func, ast.Name) else None)
                owner = node.func.value if isinstance(node.func, ast.Attribute) else None
                logged = isinstance(owner, ast.Name) and owner.id == "_log"
                if name in ("N_", "C_", "translated", "compile") or logged:
                    skip.update(id(n) for n in ast.walk(node))
            if isinstance(node, ast.JoinedStr):
                skip.update(id(v) for v in node.values)
                literal = "".join(
                    v.value for v in node.values if isinstance(v, ast.Constant)
                ).strip()
                if _prose(literal) and not literal.startswith(("<", "#")):
                    found.append(f"{path.name}:{node.lineno}: f-string {literal!r}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and _prose(node.value)
                and not node.value.lstrip().startswith(("<", "#", "default-src"))
            ):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    allowed = {f for f in found if any(word in f for word in _ALLOWED)}
    assert sorted(set(found) - allowed) == []


#: Strings of the pages' code that are not page text to translate: a header's name, the
#: reason a sign-in is refused inside its own handler (the page says its own words), and the
#: switch naming each language in itself.
_ALLOWED = ("'Location'", "'enter your key'", "'English'")


# --- the language of a request ---------------------------------------------------------------


def test_the_switch_comes_first_then_the_browser_then_the_program() -> None:
    assert i18n.choose("en", "zh-CN,zh;q=0.9", "zh-CN") == "en"
    assert i18n.choose("zh_CN", "en-US,en;q=0.9", "en") == "zh_CN"
    assert i18n.choose(None, "en-US,en;q=0.9", "zh-CN") == "en"
    assert i18n.choose(None, "fr;q=0.4, zh-CN;q=0.8, en;q=0.5", "en") == "zh_CN"
    assert i18n.choose(None, "zh-TW", "en") == "zh_CN"  # Chinese reads Chinese
    assert i18n.choose(None, "en-GB", "zh-CN") == "en"
    assert i18n.choose(None, "fr-FR,de;q=0.8", "en") == "en"  # neither: the program's
    assert i18n.choose(None, None, "zh-CN") == "zh_CN"
    assert i18n.choose("xx", "q=;;,,", None) == "zh_CN"  # nonsense: the default


def test_money_numbers_and_times_are_the_languages_in_the_programs_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    zh = i18n.Formats("zh_CN", shanghai, "CNY", 2)
    en = i18n.Formats("en", shanghai, "CNY", 2)
    assert zh.money(123456) == "¥1,234.56"
    assert en.money(123456) == "CN¥1,234.56"
    assert zh.amount(2000) == "20.00"
    assert zh.number(3725) == "3,725" == en.number(3725)
    assert zh.signed(-1525) == "−1,525"
    assert zh.signed(20) == "+20"
    moment = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 07:30 the next day in Shanghai
    assert "2026年11月22日" in zh.when(moment)
    assert "07:30" in zh.when(moment)
    assert "Nov 22, 2026" in en.when(moment)
    assert zh.day(date(2027, 1, 31)) == "2027年1月31日"
    assert next(d for _, d in zh.weekdays()) == "周一"
    assert i18n.Formats("en", shanghai, "JPY", 0).money(1500) == "¥1,500"


def test_a_message_is_translated_with_its_values() -> None:
    zh = i18n.translations("zh_CN")
    assert i18n.N_("Job %(id)s", id="j-1").translated(zh) == "任务 j-1"
    inner = i18n.N_("Enter a value.")
    said = i18n.translate({"x": i18n.N_("%(field)s: %(problem)s", field="a", problem=inner)}, zh)
    assert said == {"x": "a：请填写此项。"}
    assert str(i18n.N_("Job %(id)s", id="j-1")) == "Job j-1"  # English where a string is used


def test_an_audit_entry_reads_as_the_fields_it_changed() -> None:
    before = {"base_rate": "1", "tiers": [], "abuse": {"max_members_per_device": 3}}
    after = {"base_rate": "2", "tiers": [], "abuse": {"max_members_per_device": 5}, "x": None}
    assert differences(before, after) == [
        ("abuse.max_members_per_device", "3", "5"),
        ("base_rate", "1", "2"),
        ("x", None, "null"),
    ]
    assert differences(None, {"a": 1}) == [("a", None, "1")]
    assert differences({"a": 1}, None) == [("a", "1", None)]
    assert differences("x", "x") == []
