"""An import's lines and what a chunk of them does (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from rewards.core.bulk import LineProblem, member_id_lines
from rewards.core.imports import Parsed, Prior, csv_header, parse, plan_chunk

EARNED = "2026-01-05T10:00:00+08:00"


def line(**fields: object) -> bytes:
    return msgspec.json.encode({"member_id": "m-1"} | fields)


def parsed(number: int, **fields: object) -> Parsed:
    found = parse(number, line(**fields), None)
    assert isinstance(found, Parsed), found
    return found


def test_the_same_line_in_other_words_has_the_same_digest() -> None:
    a = parsed(1, segments=["b", "a"], opening_lots=[{"points": 5, "earned_at": EARNED}])
    b = parse(
        7,
        b'{"opening_lots": [{"earned_at": "2026-01-05T02:00:00Z", "points": 5}],'
        b' "segments": ["a", "b", "a"], "member_id": "m-1"}',
        None,
    )
    assert isinstance(b, Parsed)
    assert (a.digest, a.lots_digest) == (b.digest, b.lots_digest)
    assert parsed(1, tier="gold").digest != parsed(1).digest


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (None, "1 MiB"),
        (b'{"member_id": "a\x00"}', "NUL"),
        (b'{"member_id": "\xc3\x28"}', "UTF-8"),
        (b"[1, 2]", "Expected `object`"),
        (b'{"member_id": "m 1"}', "member_id"),
        (b'{"member_id": "m-1", "x": 1}', "unknown field"),
        (line(opening_lots=[{"points": 0, "earned_at": EARNED}]), "points"),
        (line(opening_lots=[{"points": 5, "earned_at": "2026-01-05T10:00:00"}]), "timezone"),
        (line(opening_lots=[{"points": 5, "earned_at": EARNED, "expires_at": EARNED}]), "before"),
        (line(referred_by="m-1"), "themself"),
        (line(status="frozen"), "status"),
    ],
)
def test_a_bad_line_says_why(body: bytes | None, says: str) -> None:
    found = parse(3, body, None)
    assert isinstance(found, LineProblem), found
    assert found.line == 3
    assert says.lower() in found.problem.lower(), found.problem


def test_csv_rows_read_as_their_header_says() -> None:
    header = csv_header(b"member_id,tier,segments,opening_lots")
    assert isinstance(header, list)
    row = parse(2, f"m-1,gold,a;b,5/{EARNED}/".encode(), header)
    assert isinstance(row, Parsed), row
    assert (row.member.tier, row.member.segments) == ("gold", ["a", "b"])
    assert row.member.opening_lots[0].expires_at is None
    assert isinstance(csv_header(b"id,tier"), LineProblem)
    assert isinstance(parse(3, b"m-1,gold", header), LineProblem)


def test_a_chunk_creates_updates_leaves_and_refuses() -> None:
    lots = [{"points": 5, "earned_at": EARNED}]
    first = parsed(1, opening_lots=lots)
    prior = Prior("job_old", 9, first.digest, first.lots_digest)
    items: list[Parsed | LineProblem] = [
        first,
        parse(2, line(member_id="m-2", tier="gold", opening_lots=lots), None),  # type: ignore[list-item]
        parse(3, line(member_id="m-3", opening_lots=[{"points": 6, "earned_at": EARNED}]), None),  # type: ignore[list-item]
        parse(4, line(member_id="m-2"), None),  # type: ignore[list-item]
        LineProblem(5, None, "not JSON"),
        parse(6, line(member_id="m-4", referred_by="m-9"), None),  # type: ignore[list-item]
    ]
    m3 = Prior("job_old", 2, b"x", parsed(3, opening_lots=lots).lots_digest)
    plan = plan_chunk(
        "job_new", items, {"m-1", "m-3", "m-4"}, {"m-1": prior, "m-3": m3}, {"m-4": "m-8"}
    )
    assert plan.counts == {"created": 1, "updated": 0, "unchanged": 1, "failed": 4}
    assert [p.member.member_id for p in plan.applied] == ["m-2"]
    assert [p.member.member_id for p in plan.recorded] == ["m-1", "m-2"]
    assert [c.member_id for c in plan.credits] == ["m-2"]
    problems = {p.line: p.problem for p in plan.problems}
    assert problems[3].startswith("409")
    assert "line 2" in problems[4]
    assert "referred by m-8" in problems[6]
    assert 5 in problems


def test_member_id_lines_skip_a_header_and_count_repeats() -> None:
    found = member_id_lines([(1, b"member_id"), (2, b"a"), (3, b'"b"'), (4, b"a"), (5, b"x y")])
    assert found.ids == ["a", "b"]
    assert found.repeated == 1
    assert [p.line for p in found.problems] == [5]
    assert datetime.now(UTC)  # nothing above depends on today


def test_spans_done_beside_each_other_add_up_whichever_commits_first() -> None:
    from rewards.core.bulk import Spans, add_span, next_read

    start = Spans()
    later_first = add_span(start, 10, 20, 10, {"created": 10})
    assert (later_first.line, later_first.ahead) == (0, ((10, 20),))
    both = add_span(later_first, 0, 10, 10, {"created": 9, "failed": 1})
    assert (both.line, both.ahead, both.done) == (20, (), 20)
    assert both.counts == {"created": 19, "failed": 1}
    in_order = add_span(
        add_span(start, 0, 10, 10, {"created": 9, "failed": 1}), 10, 20, 10, {"created": 10}
    )
    assert in_order == both
    # A worker taking the job up reads what is not done: before the span done ahead, then
    # after it.
    assert next_read(later_first, 0) == (0, 10)
    assert next_read(later_first, 10) == (20, None)
    assert next_read(Spans(5, ((10, 20), (30, 40))), 20) == (20, 30)
