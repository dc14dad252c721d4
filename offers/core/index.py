"""A tenant's active offers and the stores they reach, indexed by H3 cell (pure).

Each API process keeps one per tenant in memory, so that a nearby search reads nothing but
the member's own standing from the database. The index is patched one merchant at a time:
when a merchant's offers or stores change, all of that merchant's entries are replaced.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Iterable
from typing import NamedTuple

import h3.api.basic_int as h3i

from offers.core.geo import EARTH_RADIUS_M, RESOLUTIONS, cell_disc, haversine_m, search_resolution
from offers.core.offers import OfferState, Store


class StoreRow(NamedTuple):
    """A store as loaded, with its cell at each indexed resolution (6 to 10)."""

    store: Store
    cells: tuple[int, int, int, int, int]


class IndexedStore(NamedTuple):
    store: Store
    cells: tuple[int, int, int, int, int]
    offers: tuple[OfferState, ...]  # the active offers that reach it, by offer id
    lat_rad: float  # the store's latitude in radians, and its cosine: the haversine's
    cos_lat: float  # per-store terms, worked out once


class Hit(NamedTuple):
    distance: float
    store: Store
    offer: OfferState


class OfferIndex:
    """Active offers by the cells of the stores they reach."""

    def __init__(self, version: int) -> None:
        self.version = version
        self._by_merchant: dict[str, list[IndexedStore]] = {}
        self._cells: dict[int, dict[int, dict[str, IndexedStore]]] = {r: {} for r in RESOLUTIONS}
        self._pairs = 0  # (store, offer) pairs indexed: the most any search can return

    def __len__(self) -> int:
        """Indexed stores."""
        return sum(len(stores) for stores in self._by_merchant.values())

    def replace(
        self,
        merchant_ids: Iterable[str],
        offers: Iterable[OfferState],
        stores: Iterable[StoreRow],
        version: int,
    ) -> None:
        """Replace everything indexed for these merchants by their active ``offers`` and
        their ``stores`` (a store no active offer reaches is left out)."""
        for merchant_id in merchant_ids:
            for old in self._by_merchant.pop(merchant_id, ()):
                for res, cell in zip(RESOLUTIONS, old.cells, strict=True):
                    bucket = self._cells[res][cell]
                    del bucket[old.store.store_id]
                    if not bucket:
                        del self._cells[res][cell]
                self._pairs -= len(old.offers)
        by_merchant: dict[str, list[OfferState]] = {}
        for offer in sorted(offers, key=lambda o: o.offer.id):
            by_merchant.setdefault(offer.merchant_id, []).append(offer)
        for row in stores:
            store = row.store
            reaching = tuple(
                o
                for o in by_merchant.get(store.merchant_id, ())
                if not o.stores or store.store_id in o.stores
            )
            if not reaching:
                continue
            lat_rad = math.radians(store.lat)
            entry = IndexedStore(store, row.cells, reaching, lat_rad, math.cos(lat_rad))
            self._by_merchant.setdefault(store.merchant_id, []).append(entry)
            self._pairs += len(reaching)
            for res, cell in zip(RESOLUTIONS, row.cells, strict=True):
                self._cells[res].setdefault(cell, {})[store.store_id] = entry
        self.version = version

    def search(
        self,
        lat: float,
        lng: float,
        radius_m: float,
        category: str | None,
        usable: Callable[[OfferState], bool],
        limit: int,
    ) -> list[Hit]:
        """Up to ``limit`` (store, offer) pairs with the store within ``radius_m`` (exact
        haversine) and the offer ``usable``, nearest first; ties by store id, then offer id.

        Nearest first, cell by cell: cells wait in a queue by the least distance any of
        their points can have (distance to the centre − circumradius), rings of cells are
        added around the centre as the search reaches them, and a store is final once no
        queued cell and no ring not yet added can hold anything nearer. Every cell outside
        the rings added so far lies beyond the next ring (any path from the centre crosses
        it), so the next ring's least distance bounds them all.

        Distances are ``haversine_m`` to the last bit: the same operations in the same order,
        with the store's terms worked out once. A store whose latitude alone puts it beyond
        the radius (plus a millimetre, far above rounding) is passed over without one. A
        limit the index cannot reach stops nothing early: then every cell is searched first
        and the stores found are ordered once.
        """
        res = search_resolution(radius_m)
        search = _Search(self._cells[res], lat, lng, radius_m, category, usable, limit)
        return search.run(h3i.latlng_to_cell(lat, lng, res), exhaustive=limit > self._pairs)


class _Search:
    """One nearby search's state (see :meth:`OfferIndex.search`)."""

    def __init__(
        self,
        by_cell: dict[int, dict[str, IndexedStore]],
        lat: float,
        lng: float,
        radius_m: float,
        category: str | None,
        usable: Callable[[OfferState], bool],
        limit: int,
    ) -> None:
        self.by_cell = by_cell
        self.lat, self.lng, self.radius_m = lat, lng, radius_m
        self.category, self.usable, self.limit = category, usable, limit
        self.cells: list[tuple[float, int]] = []
        # Stores found and not yet final, sorted when a bound is reached (the ones left over
        # are in order already, so each sort merges one new run into them).
        self.found: list[tuple[float, str, IndexedStore]] = []
        self.lat_rad = math.radians(lat)
        self.cos_lat = math.cos(self.lat_rad)
        self.lat_reach = (radius_m + 0.001) / EARTH_RADIUS_M
        self.decided: dict[str, bool] = {}
        self.hits: list[Hit] = []

    def run(self, centre: int, *, exhaustive: bool) -> list[Hit]:
        cells, radius_m = self.cells, self.radius_m
        frontier = self.ring(centre, 0)
        k = 0
        while True:
            if frontier <= radius_m and (not cells or frontier < cells[0][0]):
                k += 1
                frontier = self.ring(centre, k)
                continue
            bound = min(cells[0][0] if cells else math.inf, frontier)
            # Unless the limit cannot be reached, nothing is final before the end.
            if (bound > radius_m or not exhaustive) and self.settle(bound):
                return self.hits
            if not cells:
                return self.hits
            self.scan(heapq.heappop(cells)[1])

    def ring(self, centre: int, k: int) -> float:
        """Queue ring k's cells that can reach the circle; the least distance of any."""
        least = math.inf
        for cell in h3i.grid_ring(centre, k) if k else (centre,):
            clat, clng, circumradius = cell_disc(cell)
            bound = haversine_m(self.lat, self.lng, clat, clng) - circumradius
            least = min(least, bound)
            if bound <= self.radius_m and cell in self.by_cell:
                heapq.heappush(self.cells, (bound, cell))
        return least

    def settle(self, bound: float) -> bool:
        """Hits from the stores no queued cell can beat; True once there are enough."""
        found, hits, decided, category = self.found, self.hits, self.decided, self.category
        found.sort()
        final = len(found) if bound > self.radius_m else bisect.bisect_left(found, (bound,))
        for distance, _, entry in found[:final]:
            for offer in entry.offers:
                if category is not None and offer.offer.category != category:
                    continue
                ok = decided.get(offer.offer.id)
                if ok is None:
                    ok = decided[offer.offer.id] = self.usable(offer)
                if ok:
                    hits.append(Hit(distance, entry.store, offer))
                    if len(hits) == self.limit:
                        return True
        del found[:final]
        return False

    def scan(self, cell: int) -> None:
        """The cell's stores within the radius, with their exact distances: ``haversine_m``
        to the last bit (the same operations in the same order, the store's terms worked out
        once); a store whose latitude alone puts it beyond the radius is passed over."""
        sin, asin, sqrt, radians = math.sin, math.asin, math.sqrt, math.radians
        lat_rad, cos_lat, lat_reach, lng = self.lat_rad, self.cos_lat, self.lat_reach, self.lng
        radius_m, found = self.radius_m, self.found
        diameter = 2 * EARTH_RADIUS_M
        for entry in self.by_cell[cell].values():
            dp = entry.lat_rad - lat_rad
            if abs(dp) > lat_reach:
                continue
            s = entry.store
            a = sin(dp / 2) ** 2 + cos_lat * entry.cos_lat * sin(radians(s.lng - lng) / 2) ** 2
            distance = diameter * asin(min(1.0, sqrt(a)))
            if distance <= radius_m:
                found.append((distance, s.store_id, entry))
