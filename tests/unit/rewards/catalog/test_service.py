"""The catalog's use cases, without a database: items checked before they are stored,
cancels refused outside their window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.audit import service as audit
from rewards.catalog import repository as catalog_db
from rewards.catalog import service as catalog
from rewards.catalog.repository import RedemptionRow, StoredItem
from rewards.core.catalog import CancelRefused, CatalogItem
from rewards.core.errors import AlreadyExists, NotFound, ValidationFailed
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)
ITEM = CatalogItem("vip", "VIP month", "video", 800)


async def test_an_item_is_stored_once_with_its_codes_and_audited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    pool = CatalogItem("codes", "Voucher", "dining", 900, fulfilment="pool")
    stored = StoredItem(pool, 2, 0, True, NOW)
    fake(monkeypatch, catalog_db, calls, insert_item=True, add_codes=2, get_item=stored)
    fake(monkeypatch, audit, calls, record=None)
    assert await catalog.create_item(CONN, "t", "admin", pool, ["A", "B", "A"]) == stored
    assert calls.of("insert_item") == [("t", pool, 0)]  # a pool's stock is its codes
    assert calls.of("record")[0][6]["codes_added"] == 2


async def test_a_bad_or_taken_item_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, catalog_db, calls, insert_item=False)
    with pytest.raises(ValidationFailed):
        await catalog.create_item(CONN, "t", "admin", CatalogItem("x", "X", "v", 0), [])
    assert calls.log == []
    with pytest.raises(AlreadyExists):
        await catalog.create_item(CONN, "t", "admin", ITEM, [])


def redemption(status: str, cancel_until: datetime | None) -> RedemptionRow:
    return RedemptionRow(
        "rd_1", "m-1", "vip", 1, 800, 0, [], [(7, 800)], status, NOW, cancel_until, None
    )


@pytest.mark.parametrize(
    "found",
    [
        redemption("cancelled", NOW + timedelta(hours=1)),
        redemption("created", None),
        redemption("created", NOW - timedelta(seconds=1)),
    ],
)
async def test_a_cancel_twice_or_after_the_window_is_refused(
    monkeypatch: pytest.MonkeyPatch, found: RedemptionRow
) -> None:
    calls = Calls()
    fake(monkeypatch, catalog_db, calls, redemption_for_update=found)
    with pytest.raises(CancelRefused):
        await catalog.cancel(CONN, "t", "m-1", "rd_1")
    assert calls.names() == ["redemption_for_update"]


async def test_another_members_redemption_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, catalog_db, Calls(), redemption_for_update=None, get_item=None)
    with pytest.raises(NotFound):
        await catalog.cancel(CONN, "t", "m-2", "rd_1")
    with pytest.raises(NotFound):
        await catalog.get_item(CONN, "t", "nope")
