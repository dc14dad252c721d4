"""The in-memory offer index: nearest-first search against a brute force over every store,
and merchant-by-merchant replacement."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from offers.core.geo import haversine_m, store_cells
from offers.core.index import OfferIndex, StoreRow
from offers.core.offers import Offer, OfferReward, OfferState, Store

CENTRE = (22.5431, 114.0579)


def row(store_id: str, merchant_id: str, lat: float, lng: float) -> StoreRow:
    cells = tuple(store_cells(lat, lng).values())
    assert len(cells) == 5
    return StoreRow(Store(store_id, merchant_id, store_id, "", lat, lng), cells)


def offer(
    offer_id: str, merchant_id: str, category: str, stores: tuple[str, ...] = ()
) -> OfferState:
    o = Offer(offer_id, offer_id, category, OfferReward("bonus_points", 1), store_ids=list(stores))
    return OfferState(o, merchant_id, frozenset(stores), 0, 0)


def brute_force(
    rows: list[StoreRow],
    offers: list[OfferState],
    lat: float,
    lng: float,
    radius: float,
    category: str | None,
    hidden: frozenset[str],
    limit: int,
) -> list[tuple[float, str, str]]:
    pairs = []
    for r in rows:
        d = haversine_m(lat, lng, r.store.lat, r.store.lng)
        if d > radius:
            continue
        for o in offers:
            reaches = not o.stores or r.store.store_id in o.stores
            wanted = category is None or o.offer.category == category
            shown = o.offer.id not in hidden
            if o.merchant_id == r.store.merchant_id and reaches and wanted and shown:
                pairs.append((d, r.store.store_id, o.offer.id))
    return sorted(pairs)[:limit]


points = st.tuples(
    st.floats(CENTRE[0] - 0.012, CENTRE[0] + 0.012),
    st.floats(CENTRE[1] - 0.012, CENTRE[1] + 0.012),
)


@settings(max_examples=150, deadline=None)
@given(
    stores=st.lists(st.tuples(points, st.integers(0, 4)), min_size=0, max_size=120),
    query=points,
    radius=st.one_of(st.floats(1, 1500), st.floats(1, 5000)),
    limit=st.integers(1, 30),
    category=st.sampled_from([None, "fuel", "dining"]),
    hidden=st.frozensets(st.sampled_from(["o0", "o1", "o2", "o3", "o4", "s0"])),
)
def test_search_is_the_brute_force_nearest_first(
    stores: list[tuple[tuple[float, float], int]],
    query: tuple[float, float],
    radius: float,
    limit: int,
    category: str | None,
    hidden: frozenset[str],
) -> None:
    rows = [row(f"st{n:02d}", f"m{m}", lat, lng) for n, ((lat, lng), m) in enumerate(stores)]
    # Duplicated coordinates give exact ties, decided by store id then offer id.
    rows += [
        row(f"tw{n}", r.store.merchant_id, r.store.lat, r.store.lng) for n, r in enumerate(rows[:5])
    ]
    offers = [offer(f"o{m}", f"m{m}", "fuel" if m % 2 else "dining") for m in range(5)]
    offers.append(offer("s0", "m0", "fuel", tuple(r.store.store_id for r in rows[::3])))
    index = OfferIndex(0)
    index.replace([], offers, rows, 1)
    got = index.search(*query, radius, category, lambda o: o.offer.id not in hidden, limit)
    expected = brute_force(rows, offers, *query, radius, category, hidden, limit)
    assert [(h.distance, h.store.store_id, h.offer.offer.id) for h in got] == expected


def test_replacing_a_merchant_drops_its_old_stores_and_offers() -> None:
    index = OfferIndex(0)
    near = row("a1", "a", *CENTRE)
    index.replace(
        [], [offer("oa", "a", "fuel"), offer("ob", "b", "fuel")], [near, row("b1", "b", *CENTRE)], 1
    )
    assert len(index) == 2
    moved = row("a1", "a", CENTRE[0] + 1, CENTRE[1])
    index.replace(["a"], [offer("oa", "a", "fuel")], [moved], 2)
    found = index.search(*CENTRE, 1000, None, lambda _: True, 10)
    assert [(h.store.store_id, h.offer.offer.id) for h in found] == [("b1", "ob")]
    index.replace(["a"], [], [near], 3)  # no active offer left: the store is not indexed
    assert len(index) == 1
    assert index.version == 3
    far = index.search(CENTRE[0] + 1, CENTRE[1], 1000, None, lambda _: True, 10)
    assert far == []
    assert math.isclose(found[0].distance, 0.0, abs_tol=1e-6)
