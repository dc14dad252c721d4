"""Geofences with H3 (pure): store cells, the cells that cover a search circle, and exact
haversine distances."""

from __future__ import annotations

import math

import h3

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
    """Grid rings around the centre cell that contain every point within ``radius_m``.

    Crossing one cell moves at least twice its inradius (√3 × edge); with the smallest
    possible edge and one ring for the centre cell's own extent this never misses a cell.
    """
    edge = h3.average_hexagon_edge_length(resolution, "m") * _EDGE_SAFETY
    rings: int = math.ceil(radius_m / (math.sqrt(3) * edge)) + 1
    return rings


MAX_RINGS = 7  # 169 cells: one indexed look-up each


def choose_resolution(radius_m: float) -> int:
    """The finest resolution whose covering needs at most seven rings (169 cells).

    Finer cells hug the circle more closely (fewer stores to measure) but need more cells to
    cover it; seven rings keeps the index look-ups bounded while the covered area stays a
    small multiple of the circle's.
    """
    for res in sorted(RESOLUTIONS, reverse=True):
        if rings_for(radius_m, res) <= MAX_RINGS:
            return res
    return min(RESOLUTIONS)


def covering(lat: float, lng: float, radius_m: float) -> tuple[int, list[int]]:
    """(resolution, cells) whose union contains the whole circle around the point."""
    res = choose_resolution(radius_m)
    centre = h3.latlng_to_cell(lat, lng, res)
    cells = h3.grid_disk(centre, rings_for(radius_m, res))
    return res, sorted(h3.str_to_int(c) for c in cells)
