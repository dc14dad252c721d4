"""Exclusion lists (pure): a purchase matches exactly the lists a brute-force scan finds,
and uploaded lines become entries or line errors."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rewards.core.exclusions import ExclusionSet, entry_lines, name_key

LETTERS = st.text(alphabet="ab还款Ｃc ", min_size=1, max_size=6)


def brute(
    entries: list[tuple[str, str, str]],
    merchant: str | None,
    name: str | None,
    acquirer: str | None,
) -> tuple[str, ...]:
    found = set()
    for list_id, match, value in entries:
        by_id = (match == "merchant_id" and merchant == value) or (
            match == "acquirer_id" and acquirer == value
        )
        by_name = match == "merchant_name_contains" and bool(name) and value in name_key(name or "")
        if by_id or by_name:
            found.add(list_id)
    return tuple(sorted(found))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["l1", "l2", "l3"]),
            st.sampled_from(["merchant_id", "acquirer_id", "merchant_name_contains"]),
            LETTERS,
        ),
        max_size=30,
    ),
    st.one_of(st.none(), LETTERS),
    st.one_of(st.none(), st.text(alphabet="ab还款ＣcC ", max_size=20)),
    st.one_of(st.none(), LETTERS),
)
def test_a_purchase_matches_exactly_the_lists_a_scan_finds(
    raw: list[tuple[str, str, str]], merchant: str | None, name: str | None, acquirer: str | None
) -> None:
    # Entries as a list stores them: names by their key, each value once a list.
    entries = sorted(
        {
            (list_id, match, name_key(value) if match == "merchant_name_contains" else value)
            for list_id, match, value in raw
            if name_key(value) or match != "merchant_name_contains"
        }
    )
    lists = ExclusionSet(1, entries)
    assert lists.match(merchant, name, acquirer) == brute(entries, merchant, name, acquirer)


def test_names_compare_by_width_and_case() -> None:
    lists = ExclusionSet(1, [("cash", "merchant_name_contains", name_key("Cash Out"))])
    assert lists.match(None, "ＣＡＳＨ ＯＵＴ Ltd", None) == ("cash",)
    assert lists.match(None, "Cashout", None) == ()


def test_lines_become_entries_or_errors() -> None:
    chunk = entry_lines(
        [(1, b"merchant_id"), (2, b"shell"), (3, b"shell"), (4, b"bad id!"), (5, b"\xff")],
        "merchant_id",
    )
    assert chunk.values == ["shell"]
    assert chunk.repeated == 1
    assert [p.line for p in chunk.problems] == [4, 5]
    names = entry_lines([(1, b"  Cash OUT "), (2, b"x" * 201)], "merchant_name_contains")
    assert names.values == ["cash out"]
    assert [p.line for p in names.problems] == [2]
