"""Nearby search and claims, without a database: what is refused before anything is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from offers.core.offers import Offer, OfferReward, StoredOffer
from offers.nearby import service as nearby
from offers.publishing import service as publishing
from rewards.core.errors import NotFound, ValidationFailed
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("lat", "lng", "radius_m"), [(95, 0, 100), (0, -190, 100), (0, 0, 0), (0, 0, 10**6)]
)
async def test_a_search_off_the_globe_or_of_no_radius_reads_nothing(
    lat: float, lng: float, radius_m: float
) -> None:
    with pytest.raises(ValidationFailed):
        await nearby.nearby(CONN, nearby.Indexes(), "t", "m-1", lat, lng, radius_m, None, 10)


@pytest.mark.parametrize("status", ["pending_review", "rejected"])
async def test_an_offer_not_yet_approved_cannot_be_claimed(
    monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    offer = Offer("o-1", "Offer", "fuel", OfferReward("amount_off", 100))
    calls = Calls()
    fake(
        monkeypatch,
        publishing,
        calls,
        get_offer=StoredOffer(offer, "shell", status, 0, 0, None, NOW),
    )
    with pytest.raises(NotFound):
        await nearby.claim(CONN, "t", "m-1", "o-1", None)
    assert calls.names() == ["get_offer"]


async def test_the_offers_upkeep_forgets_changes_older_than_a_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, nearby, calls, prune_changes=None)
    await nearby.upkeep(CONN, NOW)
    assert calls.of("prune_changes") == [(NOW - nearby.OFFER_CHANGES_KEEP,)]
