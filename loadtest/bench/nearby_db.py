"""Nearby searched in PostgreSQL (H3 covering cells, then the exact haversine): what the
in-memory index is measured against."""

from __future__ import annotations

from db.types import Conn
from loadtest.bench.city import QUERIES
from offers.core.geo import covering
from offers.core.offers import Store, store_of


def sql(name: str) -> str:
    return QUERIES[name]


async def stores_in_cells(
    conn: Conn,
    tenant_id: str,
    resolution: int,
    cells: list[int],
    lat: float,
    lng: float,
    radius_m: float,
) -> list[tuple[float, Store]]:
    """(distance, store) of the stores in these cells within the radius of the point."""
    rows = await conn.fetch(
        sql(f"stores_in_cells_r{resolution}"), tenant_id, cells, lat, lng, radius_m
    )
    return [(r["distance"], store_of(r)) for r in rows]


async def stores_within(
    conn: Conn, tenant_id: str, lat: float, lng: float, radius_m: float
) -> list[tuple[float, Store]]:
    """Exactly the stores whose haversine distance is at most ``radius_m``, nearest first:
    the H3 cells covering the circle narrow the search, the distance decides."""
    resolution, cells = covering(lat, lng, radius_m)
    found = await stores_in_cells(conn, tenant_id, resolution, cells, lat, lng, radius_m)
    found.sort(key=lambda item: (item[0], item[1].store_id))
    return found
