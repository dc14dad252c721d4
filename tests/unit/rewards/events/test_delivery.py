"""Where an event may be sent: public addresses only, judged by the IPv4 address an IPv6
one carries, and connected to exactly as checked (a name that resolves differently the
second time cannot steer the delivery)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rewards.core.credentials import verify_hook_signature
from rewards.core.errors import Unauthenticated
from rewards.core.events import address_allowed, signed_headers
from rewards.events import delivery
from rewards.events.repository import Leased


@pytest.mark.parametrize(
    "address",
    [
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "2002:0a00:0001::",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
        "2001:0:7f00:1:8000:63bf:3fff:fdd2",  # Teredo, server 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::c0a8:1",  # local-use NAT64 of 192.168.0.1
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "127.0.0.1",
        "169.254.169.254",
        "10.1.2.3",
        "::1",
        "fe80::1",
        "fc00::1",
    ],
)
def test_addresses_that_reach_inside_are_refused(address: str) -> None:
    assert not address_allowed(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "2002:808:808::", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address)


class _Flipping:
    """A resolver that answers a public address first and loopback after that."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, host: str) -> list[str]:
        self.calls += 1
        return ["93.184.216.34"] if self.calls == 1 else ["127.0.0.1"]


def _event(url: str) -> Leased:
    now = datetime.now(UTC)
    return Leased(
        tenant_id="t-1",
        sequence=7,
        type="points.awarded",
        data={"points": 1},
        answer=None,
        occurred_at=now,
        attempts=1,
        give_up_at=now + timedelta(hours=72),
        url=url,
        secrets=["new-secret", "old-secret"],
    )


def test_a_delivery_connects_to_the_address_it_checked() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    async def deliver() -> str | None:
        resolver = _Flipping()
        deliverer = delivery.Deliverer(
            None,  # type: ignore[arg-type]  # send() does not touch the database
            delivery.Settings(),
            resolve=resolver,
        )
        await deliverer.client.aclose()
        deliverer.client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        try:
            error = await deliverer.send(_event("https://events.bank.example:8443/in?x=1"))
        finally:
            await deliverer.client.aclose()
        assert resolver.calls == 1  # resolved once: the address checked is the one used
        return error

    assert asyncio.run(deliver()) is None
    (request,) = seen
    assert request.url.host == "93.184.216.34"
    assert request.url.port == 8443
    assert request.url.raw_path == b"/in?x=1"
    assert request.headers["host"] == "events.bank.example:8443"
    assert request.extensions["sni_hostname"] == "events.bank.example"


def test_a_name_that_resolves_inside_is_not_called() -> None:
    async def check() -> None:
        async def inside(host: str) -> list[str]:
            return ["93.184.216.34", "2002:7f00:1::"]

        with pytest.raises(delivery.UnsafeAddress, match="not public"):
            await delivery.check_destination(
                "https://events.bank.example/", allow_private=False, resolve=inside
            )

    asyncio.run(check())


def test_during_an_overlap_events_carry_a_signature_with_each_secret() -> None:
    body = b'{"id":"evt_1"}'
    headers = signed_headers(["new-secret", "old-secret"], body, "evt_1", 1_800_000_000)
    signature = headers["X-Rewards-Signature"]
    assert signature.count("v1=") == 2
    for secret in ("new-secret", "old-secret"):
        verify_hook_signature(signature, body, [secret], now=1_800_000_000)
    with pytest.raises(Unauthenticated):
        verify_hook_signature(signature, body, ["hook-secret"], now=1_800_000_000)
