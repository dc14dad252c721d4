"""Nearby search returns exactly the stores within the radius: compared with a brute-force
haversine over every store, at random points and radii, on the radius boundary to the
centimetre, near the poles and across the antimeridian."""

from __future__ import annotations

import asyncio
import math
import random
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from api.app import create_app
from api.settings import Settings
from db.pool import connect
from offers.core.offers import Offer, OfferReward, Store
from offers.publishing import repository as offer_db
from rewards.core.credentials import encode_member_token
from rewards.tenants.service import create_tenant

CLUSTERS = [
    (22.5431, 114.0579),  # Futian, Shenzhen
    (89.995, 10.0),  # next to the North Pole
    (-89.99, -120.0),  # next to the South Pole
    (10.0, 179.995),  # on the antimeridian
    (-33.86, -179.99),
]


def reference_distance(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine on the sphere of 6,371,008.8 m, written independently (atan2 form)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * r * math.atan2(math.sqrt(a), math.sqrt(1 - a))


def make_stores() -> list[Store]:
    rng = random.Random(11)
    stores = []
    for c, (lat, lng) in enumerate(CLUSTERS):
        for n in range(60):
            la = max(-90.0, min(90.0, lat + rng.uniform(-0.04, 0.04)))
            lo = (lng + rng.uniform(-0.06, 0.06) + 180) % 360 - 180
            stores.append(Store(f"s{c}-{n}", "everywhere", f"store {c}-{n}", "", la, lo))
    return stores


async def seed(dsn: str, stores: list[Store]) -> tuple[str, str]:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            tenant = await create_tenant(conn, "Geo Bank")
            await offer_db.insert_stores(conn, tenant.tenant_id, stores)
            offer = Offer(
                "everywhere-5",
                "5 points everywhere",
                "misc",
                OfferReward("bonus_points", 5),
                activation="auto",
                geofence_radius_m=300,
            )
            await offer_db.insert_offer(conn, tenant.tenant_id, "everywhere", offer)
            await offer_db.set_status(
                conn, tenant.tenant_id, offer.id, "active", None, ["pending_review"]
            )
        return tenant.tenant_id, tenant.member_token_secret
    finally:
        await conn.close()


def test_nearby_matches_a_brute_force_haversine_everywhere(database: str) -> None:
    stores = make_stores()
    tenant_id, secret = asyncio.run(seed(database, stores))
    token = encode_member_token(secret, sub="m-1", tid=tenant_id, exp=int(time.time()) + 3600)
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(Settings(database_url=database, access_log=False, expiry_interval_seconds=0))

    with TestClient(app, base_url="http://rewards.local") as client:

        def ask(lat: float, lng: float, radius: float) -> list[dict[str, object]]:
            response = client.get(
                "/v1/me/offers/nearby",
                params={"lat": repr(lat), "lng": repr(lng), "radius_m": repr(radius), "limit": 500},
                headers=headers,
            )
            assert response.status_code == 200, response.text
            items: list[dict[str, object]] = response.json()["items"]
            return items

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(
            cluster=st.sampled_from(CLUSTERS),
            dlat=st.floats(-0.05, 0.05),
            dlng=st.floats(-0.08, 0.08),
            radius=st.floats(0.5, 5000),
        )
        def agrees(cluster: tuple[float, float], dlat: float, dlng: float, radius: float) -> None:
            lat = max(-90.0, min(90.0, cluster[0] + dlat))
            lng = (cluster[1] + dlng + 180) % 360 - 180
            items = ask(lat, lng, radius)
            got = [item["store"]["id"] for item in items]  # type: ignore[index]
            expected = {
                s.store_id for s in stores if reference_distance(lat, lng, s.lat, s.lng) <= radius
            }
            assert set(got) == expected
            distances = [item["distance_m"] for item in items]
            assert distances == sorted(distances)  # type: ignore[type-var]
            for item in items:
                store = item["store"]
                exact = reference_distance(lat, lng, store["lat"], store["lng"])  # type: ignore[index]
                assert item["distance_m"] == round(exact)
                assert item["inside_geofence"] is (exact <= 300)

        agrees()

        # On the boundary, to the centimetre, including at the poles and the antimeridian.
        rng = random.Random(3)
        for store in rng.sample(stores, 40):
            lat = store.lat + rng.uniform(-0.01, 0.01)
            lat = max(-90.0, min(90.0, lat))
            lng = (store.lng + rng.uniform(-0.01, 0.01) + 180) % 360 - 180
            d = reference_distance(lat, lng, store.lat, store.lng)
            if d + 0.01 > 5000:
                continue
            inside = {i["store"]["id"] for i in ask(lat, lng, d + 0.01)}  # type: ignore[index]
            assert store.store_id in inside
            if d > 0.02:
                outside = {i["store"]["id"] for i in ask(lat, lng, d - 0.01)}  # type: ignore[index]
                assert store.store_id not in outside

        for params in (
            {"lat": 91, "lng": 0},
            {"lat": 0, "lng": 181},
            {"lat": 0, "lng": 0, "radius_m": 5001},
            {"lat": 0, "lng": 0, "radius_m": 0},
            {"lat": "north", "lng": 0},
        ):
            response = client.get("/v1/me/offers/nearby", params=params, headers=headers)
            assert response.status_code == 422, (params, response.text)
