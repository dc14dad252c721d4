"""The synthetic city the nearby benchmarks search: stores spread over a Shenzhen-sized box."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from db.queries import parse_queries
from offers.core.offers import Store

QUERIES = parse_queries((Path(__file__).parent / "nearby.sql").read_text(), "nearby.sql")
# Shenzhen, roughly: about 2,000 km².
BOX = ((22.45, 22.80), (113.75, 114.35))
STORES_PER_MERCHANT = 5


def city_stores(count: int, chunk: int = 10_000) -> Iterator[list[Store]]:
    """``count`` stores in chunks, the same for every run: store ``s<n>`` belongs to merchant
    ``m<n // 5>``."""
    rng = random.Random(1)
    for start in range(0, count, chunk):
        yield [
            Store(
                f"s{n}",
                f"m{n // STORES_PER_MERCHANT}",
                f"store {n}",
                "",
                rng.uniform(*BOX[0]),
                rng.uniform(*BOX[1]),
            )
            for n in range(start, min(count, start + chunk))
        ]
