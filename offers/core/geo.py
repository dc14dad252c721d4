"""Geofences with H3 (pure): store cells, the cells that cover a search circle, and exact
haversine distances."""

from __future__ import annotations

import math
from functools import lru_cache

import h3
import h3.api.basic_int as h3i

EARTH_RADIUS_M = 6_371_008.8
RESOLUTIONS = (6, 7, 8, 9, 10)
MAX_RADIUS_M = 5000
# Smallest cells of a resolution have edges well above half the average (pentagons
# included); using half keeps every covering conservative.
_EDGE_SAFETY = 0.5


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres on a sphere of radius 6,371,008.8 m."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def store_cells(lat: float, lng: float) -> dict[int, int]:
    """The store's cell at every indexed resolution, as 64-bit integers."""
    return {res: h3.str_to_int(h3.latlng_to_cell(lat, lng, res)) for res in RESOLUTIONS}


def rings_for(radius_m: float, resolution: int) -> int:
    """Grid rings around the centre cell that contain every point within ``radius_m``,
    from a conservative bound of the cell size (half the average edge; crossing a cell
    moves at least √3 × its edge). Used to pick a resolution; :func:`covering` then trims."""
    edge = h3.average_hexagon_edge_length(resolution, "m") * _EDGE_SAFETY
    rings: int = math.ceil(radius_m / (math.sqrt(3) * edge)) + 1
    return rings


@lru_cache(maxsize=262_144)
def _circumradius_m(cell: str) -> float:
    """Largest distance from the cell's centre to its boundary (cells never change)."""
    lat, lng = h3.cell_to_latlng(cell)
    return max(haversine_m(lat, lng, vlat, vlng) for vlat, vlng in h3.cell_to_boundary(cell))


def _ring_is_outside(lat: float, lng: float, radius_m: float, ring: list[str]) -> bool:
    """Whether no point of these cells is within ``radius_m``: every point of a cell lies
    within its circumradius of its centre, so its distance from the query point is at
    least (distance to the centre − circumradius)."""
    for cell in ring:
        clat, clng = h3.cell_to_latlng(cell)
        if haversine_m(lat, lng, clat, clng) - _circumradius_m(cell) <= radius_m:
            return False
    return True


MAX_RINGS = 7  # at most 169 cells: one indexed look-up each


def choose_resolution(radius_m: float) -> int:
    """The finest resolution whose conservative covering needs at most seven rings."""
    for res in sorted(RESOLUTIONS, reverse=True):
        if rings_for(radius_m, res) <= MAX_RINGS:
            return res
    return min(RESOLUTIONS)


def covering(lat: float, lng: float, radius_m: float) -> tuple[int, list[int]]:
    """(resolution, cells) whose union contains the whole circle around the point.

    Starts from the centre cell and adds rings until the next ring lies wholly outside the
    circle (a proof per query, so the disk is as small as the cells around this point
    allow). Since the disk of k rings holds every cell within k steps, and any path from
    the centre to a cell beyond it crosses ring k + 1, no cell beyond can reach the circle.
    """
    res = choose_resolution(radius_m)
    centre = h3.latlng_to_cell(lat, lng, res)
    limit = rings_for(radius_m, res)
    k = 0
    while k < limit and not _ring_is_outside(lat, lng, radius_m, h3.grid_ring(centre, k + 1)):
        k += 1
    cells = h3.grid_disk(centre, k)
    return res, sorted(h3.str_to_int(c) for c in cells)


@lru_cache(maxsize=262_144)
def cell_disc(cell: int) -> tuple[float, float, float]:
    """(latitude, longitude, circumradius in metres) of a cell given as an integer: every
    point of the cell is within the circumradius of that centre."""
    lat, lng = h3i.cell_to_latlng(cell)
    radius = max(haversine_m(lat, lng, vlat, vlng) for vlat, vlng in h3i.cell_to_boundary(cell))
    return lat, lng, radius


SEARCH_RINGS = 10


def search_resolution(radius_m: float) -> int:
    """The finest resolution that reaches ``radius_m`` within ten rings: fine cells let a
    nearest-first search stop after a few of them in a dense city, and ten rings bound
    the cells a sparse one enumerates."""
    for res in sorted(RESOLUTIONS, reverse=True):
        if rings_for(radius_m, res) <= SEARCH_RINGS:
            return res
    return min(RESOLUTIONS)
