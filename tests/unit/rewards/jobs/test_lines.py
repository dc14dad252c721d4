"""An uploaded body cut into numbered lines, whatever the chunks it arrives in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from rewards.jobs.lines import Counted, numbered_lines


async def _collect(chunks: list[bytes], limit: int) -> tuple[list[tuple[int, bytes | None]], int]:
    async def source() -> AsyncIterator[bytes]:
        for c in chunks:
            yield c

    counted = Counted()
    found = [x async for x in numbered_lines(source(), counted, limit)]
    return found, counted.lines


def expected(body: bytes, limit: int) -> list[tuple[int, bytes | None]]:
    parts = body.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    out: list[tuple[int, bytes | None]] = []
    for n, part in enumerate(parts, 1):
        part = part.rstrip(b"\r")
        if len(part) > limit:
            out.append((n, None))
        elif part.strip():
            out.append((n, part))
    return out


@given(
    st.lists(
        st.sampled_from([b"a", b"bb", b"\n", b"\r\n", b" ", b"ccccccccccc", b"\xff"]), max_size=40
    ),
    st.lists(st.integers(1, 7), min_size=1, max_size=10),
)
def test_lines_do_not_depend_on_how_the_body_was_cut(pieces: list[bytes], cuts: list[int]) -> None:
    body = b"".join(pieces)
    chunks, i, k = [], 0, 0
    while i < len(body):
        size = cuts[k % len(cuts)]
        chunks.append(body[i : i + size])
        i, k = i + size, k + 1
    found, count = asyncio.run(_collect(chunks, 8))
    assert found == expected(body, 8)
    assert count == len(found)
