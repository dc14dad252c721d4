"""The regions the app watches: the nearest geofences of offers the member may use now,
exact against a brute-force haversine list over the demo city, in the same order, and a
refresh radius no usable fence left out is nearer than."""

from __future__ import annotations

import math
import random
import time

import asyncpg

from api.demo import (
    DEMO_TENANT_ID,
    FUEL_88,
    FUTIAN,
    NANSHAN,
    city_plan,
    create_or_refresh_demo,
)
from offers.core.offers import Store
from rewards.core.conditions import Conditions
from rewards.core.credentials import encode_member_token
from tests.integration.http import AppClient
from tests.integration.test_nearby import reference_distance

REACH_M = 5000


def brute_force(lat: float, lng: float) -> list[tuple[float, str, str]]:
    """Every (distance, store, offer) of an offer for everyone within reach, ordered as the
    search orders them: by distance, then store id, then offer id."""
    stores, _, offers = city_plan()
    shell = Store("shell-futian-01", "shell-futian", "", "", 22.5431, 114.0579)
    by_merchant: dict[str, list[Store]] = {}
    for s in [*stores, shell]:
        by_merchant.setdefault(s.merchant_id, []).append(s)
    pairs = []
    for offer in [*offers, FUEL_88]:
        if offer.targeting != Conditions():  # the fuel offers are for car owners only
            continue
        merchant = "shell-futian" if offer is FUEL_88 else offer.id.removesuffix("-offer")
        for store in by_merchant.get(merchant, []):
            if offer.store_ids and store.store_id not in offer.store_ids:
                continue
            d = reference_distance(lat, lng, store.lat, store.lng)
            if d <= REACH_M:
                pairs.append((d, store.store_id, offer.id))
    return sorted(pairs)


async def test_the_nearest_fences_are_exactly_the_brute_force_ones(
    client: AppClient, conn: asyncpg.Connection
) -> None:
    async with conn.transaction():
        demo = await create_or_refresh_demo(conn)
    token = encode_member_token(
        demo.member_token_secret, sub="m-walker", tid=DEMO_TENANT_ID, exp=int(time.time()) + 3600
    )
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(34)
    misses = 0
    for n in range(60):
        (lat0, lat1), (lng0, lng1) = FUTIAN if n % 2 else NANSHAN
        lat, lng = rng.uniform(lat0 - 0.02, lat1 + 0.02), rng.uniform(lng0 - 0.02, lng1 + 0.02)
        count = (20, 5, 100)[n % 3]
        response = await client.get(
            "/v1/me/geofences",
            params={"lat": repr(lat), "lng": repr(lng), "max": count},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        expected = brute_force(lat, lng)
        got = [(f["store_id"], f["offer_id"]) for f in body["items"]]
        misses += len({(s, o) for _, s, o in expected[:count]} - set(got))
        assert got == [(s, o) for _, s, o in expected[:count]]
        for fence in body["items"]:
            assert fence["fence_id"] == f"{fence['offer_id']}/{fence['store_id']}"
            assert fence["radius_m"] >= 10
        left_out = expected[count:]
        if left_out:
            assert body["refresh_radius_m"] == math.floor(left_out[0][0])
        else:
            assert body["refresh_radius_m"] == REACH_M
        assert all(d >= body["refresh_radius_m"] for d, _, _ in left_out)
    assert misses == 0
    for params in ({"lat": 91, "lng": 0}, {"lat": 0, "lng": 0, "max": 101}, {"lat": 0}):
        bad = await client.get("/v1/me/geofences", params=params, headers=headers)
        assert bad.status_code in (400, 422), bad.text
