"""An uploaded body cut into numbered lines as it streams in, in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

#: The longest line kept (a longer one is kept without its bytes: a line error).
MAX_LINE_BYTES = 1 << 20


class Counted:
    """How many lines went by (the job's total), known once the body has been read."""

    def __init__(self) -> None:
        self.lines = 0
        self.last = 0


async def numbered_lines(
    chunks: AsyncIterable[bytes], counted: Counted, max_line: int = MAX_LINE_BYTES
) -> AsyncIterator[tuple[int, bytes | None]]:
    """Lines numbered from 1 as in the file (``\\n`` or ``\\r\\n`` ends one); blank lines are
    skipped but counted. A line longer than ``max_line`` bytes is yielded as None, its bytes
    dropped as they arrive, so memory stays bounded by ``max_line`` plus one chunk."""
    number = 0
    pending = bytearray()
    too_long = False
    async for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not too_long:
                    pending += chunk[start:]
                    if len(pending) > max_line:
                        # Carriage returns at the end may yet end the line: only the bytes
                        # before them count, and one more than fits of them decides as well.
                        if len(pending.rstrip(b"\r")) > max_line:
                            too_long = True
                            pending.clear()
                        else:
                            del pending[max_line + 1 :]
                break
            number += 1
            if too_long:
                yield number, None
                counted.lines += 1
            else:
                pending += chunk[start:end]
                body = bytes(pending).rstrip(b"\r")
                if len(body) > max_line:
                    yield number, None
                    counted.lines += 1
                elif body.strip():
                    yield number, body
                    counted.lines += 1
            counted.last = number
            pending.clear()
            too_long = False
            start = end + 1
    if too_long or pending.strip():
        number += 1
        yield number, None if too_long else bytes(pending).rstrip(b"\r")
        counted.lines += 1
        counted.last = number
