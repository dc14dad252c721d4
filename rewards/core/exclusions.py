"""Exclusion lists (pure): which lists a purchase matches by its merchant's id, its
merchant's name or its acquirer's id. A purchase that matches any earns nothing and matches
no offer."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from rewards.core.bulk import TOO_LONG, LineProblem, text_of
from rewards.core.credentials import is_id

Match = Literal["merchant_id", "merchant_name_contains", "acquirer_id"]
MATCHES: tuple[str, ...] = get_args(Match)

#: The longest name substring an entry may be (and the longest merchant name read).
MAX_NAME = 200


def name_key(text: str) -> str:
    """A name as it is compared: NFKC (full-width letters and digits as ASCII), case folded,
    spaces at its ends dropped."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


class ExclusionSet:
    """The entries of a tenant's lists as of one version, indexed for the hook: ids by
    value, name substrings by value and by length (a name is matched by looking each of its
    substrings of an entry's length up)."""

    __slots__ = ("_acquirers", "_lengths", "_merchants", "_names", "size", "version")

    def __init__(self, version: int, entries: Iterable[tuple[str, str, str]]) -> None:
        self.version = version
        # Values map to the ids of their lists joined by a NUL (ids never hold one): strings
        # only, so that the collector does not walk 100,000 tuples of each serving process.
        self._merchants: dict[str, str] = {}
        self._acquirers: dict[str, str] = {}
        self._names: dict[str, str] = {}
        by = {
            "merchant_id": self._merchants,
            "acquirer_id": self._acquirers,
            "merchant_name_contains": self._names,
        }
        size = 0
        for list_id, match, value in entries:
            index = by[match]
            known = index.get(value)
            index[value] = list_id if known is None else f"{known}\x00{list_id}"
            size += 1
        self.size = size
        self._lengths = tuple(sorted({len(v) for v in self._names}))

    def match(
        self, merchant_id: str | None, merchant_name: str | None, acquirer_id: str | None
    ) -> tuple[str, ...]:
        """The ids of the lists a purchase matches, sorted (none: it is not excluded)."""
        if not self.size:
            return ()
        found: set[str] = set()
        if merchant_id is not None and (lists := self._merchants.get(merchant_id)):
            found.update(lists.split("\x00"))
        if acquirer_id is not None and (lists := self._acquirers.get(acquirer_id)):
            found.update(lists.split("\x00"))
        if merchant_name and self._names:
            name = name_key(merchant_name[:MAX_NAME])
            names, size = self._names, len(name)
            for length in self._lengths:
                if length > size:
                    break
                for start in range(size - length + 1):
                    lists = names.get(name[start : start + length])
                    if lists is not None:
                        found.update(lists.split("\x00"))
        return tuple(sorted(found))


EMPTY = ExclusionSet(0, ())


class EntryChunk:
    """A chunk of an uploaded list's lines: the values (each once, in file order), the
    lines that are not values, and how many values repeated one earlier in the chunk."""

    __slots__ = ("problems", "repeated", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.problems: list[LineProblem] = []
        self.repeated = 0


#: A first line with one of these is a CSV header, skipped.
_HEADERS = frozenset({"value", "entry", *MATCHES, "merchant_name"})


def entry_lines(lines: Sequence[tuple[int, bytes | None]], match: str) -> EntryChunk:
    """Entries one a line: ids as they are, name substrings as :func:`name_key` makes them."""
    chunk = EntryChunk()
    seen: set[str] = set()
    for number, body in lines:
        text, problem = text_of(body)
        if text is None:
            chunk.problems.append(LineProblem(number, None, problem or TOO_LONG))
            continue
        text = text.strip('"')
        if number == 1 and text.lower() in _HEADERS:
            continue
        if match == "merchant_name_contains":
            value = name_key(text)
            ok = 0 < len(value) <= MAX_NAME
            why = f"a name's part is 1 to {MAX_NAME} characters"
        else:
            value = text
            ok = is_id(value)
            why = "an id is 1 to 64 of [A-Za-z0-9._:-]"
        if not ok:
            shown = text if len(text) <= 80 else text[:80] + "…"
            chunk.problems.append(LineProblem(number, None, f"{shown!r}: {why}"))
        elif value in seen:
            chunk.repeated += 1
        else:
            seen.add(value)
            chunk.values.append(value)
    return chunk
