"""Lines of an uploaded body (pure): what a line says, or why it cannot be applied."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from rewards.core.credentials import is_id


class LineProblem(msgspec.Struct, frozen=True):
    """A line (or item) a job could not apply, and why."""

    line: int
    item_id: str | None
    problem: str


TOO_LONG = "the line is longer than 1 MiB"


def text_of(body: bytes | None) -> tuple[str | None, str | None]:
    """A line's text, or why it has none: (text, None) or (None, problem)."""
    if body is None:
        return None, TOO_LONG
    if b"\x00" in body:
        return None, "the line holds a NUL byte"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"the line is not valid UTF-8 (byte {exc.start + 1})"
    return text.lstrip("\ufeff").strip(), None


class IdChunk(msgspec.Struct, frozen=True):
    """A chunk of member-id lines: the ids (each once, in file order), the lines that are
    not ids, and how many ids repeated one earlier in the chunk."""

    ids: list[str]
    problems: list[LineProblem]
    repeated: int


def member_id_lines(lines: Sequence[tuple[int, bytes | None]]) -> IdChunk:
    """Member ids one a line (a first line ``member_id`` is a CSV header and skipped)."""
    ids: list[str] = []
    seen: set[str] = set()
    problems: list[LineProblem] = []
    repeated = 0
    for number, body in lines:
        text, problem = text_of(body)
        if text is None:
            problems.append(LineProblem(number, None, problem or TOO_LONG))
            continue
        text = text.strip('"')
        if number == 1 and text == "member_id":
            continue
        if not is_id(text):
            shown = text if len(text) <= 80 else text[:80] + "…"
            problems.append(
                LineProblem(number, None, f"{shown!r} is not a member id ([A-Za-z0-9._:-]{{1,64}})")
            )
        elif text in seen:
            repeated += 1
        else:
            seen.add(text)
            ids.append(text)
    return IdChunk(ids, problems, repeated)


# --- steps beside each other -----------------------------------------------------------------


class Spans(msgspec.Struct, frozen=True):
    """Where a job whose steps run beside each other got to: every line up to ``line`` is
    done, and so are the spans (after, last] of ``ahead``; ``done`` lines, ``counts``."""

    line: int = 0
    ahead: tuple[tuple[int, int], ...] = ()
    done: int = 0
    counts: dict[str, int] = {}


def add_span(spans: Spans, after: int, last: int, lines: int, counts: dict[str, int]) -> Spans:
    """The spans once the lines (after, last] are done, with their counts added."""
    ahead = sorted([*spans.ahead, (after, last)])
    line = spans.line
    while ahead and ahead[0][0] <= line:
        line = max(line, ahead.pop(0)[1])
    summed = dict(spans.counts)
    for key, value in counts.items():
        summed[key] = summed.get(key, 0) + value
    return Spans(line, tuple(ahead), spans.done + lines, summed)


def next_read(spans: Spans, after: int) -> tuple[int, int | None]:
    """Where to read next from ``after`` on: (after, upto), skipping the spans done ahead
    (upto: the start of the next one, None: none)."""
    for start, end in spans.ahead:
        if start <= after < end:
            after = end
    upcoming = [start for start, _ in spans.ahead if start >= after]
    return after, (min(upcoming) if upcoming else None)
