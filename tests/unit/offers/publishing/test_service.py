"""Stores and offers, without a database: coordinates and stores checked, offers reviewed,
each transition from the right state only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from offers.core.offers import Offer, OfferReward, Store, StoredOffer
from offers.publishing import repository as offer_db
from offers.publishing import service as publishing
from rewards.audit import service as audit
from rewards.core.errors import AlreadyExists, NotFound, ValidationFailed
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)
FUEL = Offer("fuel-88", "12% off fuel", "fuel", OfferReward("percent_off", 12), store_ids=["s-1"])


def stored(status: str) -> StoredOffer:
    return StoredOffer(FUEL, "shell", status, 0, 0, None, NOW)


@pytest.mark.parametrize(("lat", "lng"), [(91, 0), (0, 181), (-90.5, -180.5)])
async def test_a_store_off_the_globe_is_refused(
    monkeypatch: pytest.MonkeyPatch, lat: float, lng: float
) -> None:
    calls = Calls()
    fake(monkeypatch, offer_db, calls, insert_store=True)
    with pytest.raises(ValidationFailed):
        await publishing.create_store(CONN, "t", "m", Store("", "shell", "S", "", lat, lng))
    assert calls.log == []


async def test_a_store_gets_an_id_and_a_taken_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, offer_db, calls, insert_store=True)
    fake(monkeypatch, audit, calls, record=None)
    made = await publishing.create_store(CONN, "t", "m", Store("", "shell", "S", "", 22.5, 114))
    assert made.store_id.startswith("st_")
    fake(monkeypatch, offer_db, calls, insert_store=False)
    with pytest.raises(AlreadyExists):
        await publishing.create_store(CONN, "t", "m", made)


async def test_an_offer_may_name_only_the_merchants_own_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(monkeypatch, offer_db, calls, stores_of_merchant=set(), insert_offer=True)
    with pytest.raises(ValidationFailed) as refused:
        await publishing.create_offer(CONN, "t", "m", "shell", FUEL)
    assert refused.value.errors == [("store_ids", "s-1 is not one of your stores")]
    assert "insert_offer" not in calls.names()


async def test_a_new_offer_waits_for_review(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        offer_db,
        calls,
        stores_of_merchant={"s-1"},
        insert_offer=True,
        get_offer=stored("pending_review"),
    )
    fake(monkeypatch, audit, calls, record=None)
    made = await publishing.create_offer(CONN, "t", "m", "shell", FUEL)
    assert made.status == "pending_review"


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        ("pending_review", "approve", True),
        ("active", "approve", False),
        ("active", "pause", True),
        ("paused", "resume", True),
        ("active", "resume", False),
    ],
)
async def test_transitions_go_from_their_states_only(
    monkeypatch: pytest.MonkeyPatch, status: str, action: str, allowed: bool
) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        offer_db,
        calls,
        get_offer=stored(status),
        set_status=allowed,
        reserve_budgets=None,
    )
    fake(monkeypatch, audit, calls, record=None)
    if allowed:
        await publishing.transition(CONN, "t", "m", "fuel-88", action)
        assert calls.of("record")[0][2] == f"offer.{action}"
        assert ("reserve_budgets" in calls.names()) == (action == "resume")
    else:
        with pytest.raises(publishing.OfferStateConflict):
            await publishing.transition(CONN, "t", "m", "fuel-88", action)
        assert "record" not in calls.names()


async def test_another_merchants_offer_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, offer_db, Calls(), get_offer=stored("active"))
    with pytest.raises(NotFound):
        await publishing.get_offer(CONN, "t", "fuel-88", merchant_id="sinopec")
