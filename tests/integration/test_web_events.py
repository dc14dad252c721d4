"""Outbound events in the console, delivered to a receiver on loopback: listed by status,
and sent again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant, purchase
from tests.integration.receiver import Receiver, receiving
from tests.integration.test_events import until, webhook


@pytest.fixture
async def app(database: str) -> Litestar:
    return create_app(
        Settings(
            database_url=database,
            access_log=False,
            webhook_allow_private=True,
            webhook_retry_base_seconds=0.2,
            webhook_timeout_seconds=1.5,
        )
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


async def test_events_are_listed_by_status_and_sent_again(
    tenant: Tenant, web: Any, receiver: Receiver
) -> None:
    await webhook(tenant, receiver.url + "/ok")
    assert (await tenant.hook(purchase("t-1", "m-1", mcc="5812"))).status_code == 200

    async def listed() -> list[dict[str, Any]]:
        page = await tenant.client.get("/v1/admin/events", headers=tenant.admin)
        found: list[dict[str, Any]] = page.json()["items"]
        return found

    async def delivered() -> bool:
        return bool(await listed()) and all(e["status"] == "delivered" for e in await listed())

    await until(delivered)
    first = (await listed())[0]
    admin = await web("console", tenant.admin_key)
    page = (await admin.get("/console/events", params={"status": "delivered"})).text
    assert first["id"] in page
    assert first["id"] not in (await admin.get("/console/events?status=failed")).text
    sent = await admin.submit(f"/console/events/{first['id']}/redeliver", {}, "/console/events")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/console/events?done=event-redelivered"

    async def sent_again() -> bool:
        now = next(e for e in await listed() if e["id"] == first["id"])
        return bool(now["status"] == "delivered" and now["attempts"] > first["attempts"])

    await until(sent_again)
    assert (await admin.get("/console/events", params={"status": "nonsense"})).status_code == 200
