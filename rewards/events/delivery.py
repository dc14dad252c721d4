"""The delivery loop every serving process runs, off the request path.

It leases due events (``FOR UPDATE SKIP LOCKED``: workers and hosts share the outbox and
never send one event twice at once), POSTs each to its tenant's ``webhook_url`` signed as
hooks are, and records the outcome: delivered on a 2xx, due again after an exponential,
jittered delay otherwise, failed once 72 hours are over. A worker that dies mid-delivery
leaves its leases to run out; the events are then sent again (at least once — receivers
deduplicate by ``id``). Each tenant has a bounded number of deliveries in flight per
process, so a receiver that hangs delays only its own tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec

from db.pool import acquire
from rewards import metrics
from rewards.core.errors import ValidationFailed
from rewards.core.events import (
    Envelope,
    address_allowed,
    check_webhook_url,
    next_attempt,
    signed_headers,
)
from rewards.events import repository as events_db
from rewards.events.repository import Leased, Outcome
from rewards.events.service import depth

_log = logging.getLogger("rewards.events")

#: How much of a receiver's answer is read (into ``last_error`` when it is not a 2xx).
ANSWER_LIMIT = 1024


class Settings(msgspec.Struct, frozen=True):
    allow_private: bool = False
    retry_base_seconds: float = 10.0
    timeout_seconds: float = 10.0
    lease_seconds: float = 60.0
    batch: int = 100
    max_in_flight: int = 64
    per_tenant: int = 8
    poll_seconds: float = 0.5
    flush_seconds: float = 0.05


class UnsafeAddress(Exception):
    """The webhook's host resolves to an address that may not be called."""


async def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse a URL that is not https or whose host resolves to a private, loopback,
    link-local or metadata address (unless private addresses are allowed)."""
    host = check_webhook_url(url, allow_private=allow_private)
    if allow_private:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError as exc:
        raise UnsafeAddress(f"{host} does not resolve: {exc}") from None
    for *_, sockaddr in found:
        if not address_allowed(ipaddress.ip_address(sockaddr[0])):
            raise UnsafeAddress(f"{host} resolves to {sockaddr[0]}, which is not public")


class Deliverer:
    """One process's share of the delivery work."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(
                max_connections=settings.max_in_flight, max_keepalive_connections=16
            ),
            follow_redirects=False,
            trust_env=False,
        )
        self.in_flight: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.outcomes: list[Outcome] = []
        self.flush_soon = asyncio.Event()
        self.slot_freed = asyncio.Event()
        self._depth_checked = 0.0

    async def run(self) -> None:
        """Deliver until cancelled."""
        flusher = asyncio.create_task(self._flush_outcomes())
        try:
            while True:
                try:
                    leased = await self._lease()
                    await self._gauge()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    _log.warning("the outbox is out of reach (%s); trying again in 1 s", exc)
                    await asyncio.sleep(1)
                    continue
                for event in leased:
                    self.in_flight[event.tenant_id] = self.in_flight.get(event.tenant_id, 0) + 1
                    task = asyncio.create_task(self._deliver(event))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
                if leased:
                    await asyncio.sleep(0)
                elif self.tasks:
                    # No room, or nothing due but for busy tenants: look again as soon as a
                    # delivery ends.
                    self.slot_freed.clear()
                    # Not asyncio.wait_for: on Python 3.11 it can lose a cancellation that
                    # arrives as the wait ends, and the loop would never stop.
                    waiter = asyncio.ensure_future(self.slot_freed.wait())
                    try:
                        await asyncio.wait({waiter}, timeout=self.settings.poll_seconds)
                    finally:
                        waiter.cancel()
                else:
                    await asyncio.sleep(self.settings.poll_seconds)
        finally:
            # Deliveries in flight are abandoned (their events stay leased and are sent
            # again later); a receiver that hangs must not hold up the process's shutdown.
            pending = {*self.tasks, flusher}
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait(pending, timeout=1)
                # Not wait_for: it would wait for a shielded close it cannot cancel.
                await asyncio.wait({asyncio.ensure_future(self.client.aclose())}, timeout=1)

    async def _lease(self) -> list[Leased]:
        room = self.settings.max_in_flight - len(self.tasks)
        if room <= 0:
            return []
        busy = [t for t, n in self.in_flight.items() if n >= self.settings.per_tenant]
        async with acquire(self.pool) as conn:
            return await events_db.lease(
                conn,
                min(room, self.settings.batch),
                busy,
                self.settings.lease_seconds,
                self.settings.per_tenant,
            )

    async def _gauge(self) -> None:
        now = time.monotonic()
        if now - self._depth_checked < 5:
            return
        self._depth_checked = now
        async with acquire(self.pool) as conn:
            pending, oldest = await depth(conn)
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST_SECONDS.set(oldest)

    async def _deliver(self, event: Leased) -> None:
        try:
            error = await self.send(event)
            self.outcomes.append(self._outcome(event, error))
            self.flush_soon.set()
        finally:
            left = self.in_flight.get(event.tenant_id, 1) - 1
            if left > 0:
                self.in_flight[event.tenant_id] = left
            else:
                self.in_flight.pop(event.tenant_id, None)
            self.slot_freed.set()

    def _outcome(self, event: Leased, error: str | None) -> Outcome:
        if error is None:
            metrics.EVENT_DELIVERIES.labels("delivered").inc()
            return Outcome(event.tenant_id, event.sequence, "delivered", None, None)
        when = next_attempt(
            event.attempts, datetime.now(UTC), event.give_up_at, self.settings.retry_base_seconds
        )
        if when is None:
            metrics.EVENT_DELIVERIES.labels("failed").inc()
            return Outcome(event.tenant_id, event.sequence, "failed", None, error)
        metrics.EVENT_DELIVERIES.labels("retry").inc()
        return Outcome(event.tenant_id, event.sequence, "pending", when, error)

    async def _flush_outcomes(self) -> None:
        """Write what deliveries came to, many in one statement. Outcomes not written (the
        process dies first, the database is away) leave their events leased: they are sent
        again once the lease runs out."""
        while True:
            await self.flush_soon.wait()
            await asyncio.sleep(self.settings.flush_seconds)  # let a few gather
            self.flush_soon.clear()
            done, self.outcomes = self.outcomes, []
            if not done:
                continue
            try:
                async with acquire(self.pool) as conn:
                    await events_db.record_outcomes(conn, done)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                _log.warning("could not record %d delivery outcomes", len(done))

    async def send(self, event: Leased) -> str | None:
        """POST the event; None when the receiver acknowledged it, else what went wrong."""
        if event.url is None:
            return "the program has no webhook_url"
        try:
            await check_destination(event.url, allow_private=self.settings.allow_private)
        except (ValidationFailed, UnsafeAddress) as exc:
            return str(exc.detail if isinstance(exc, ValidationFailed) else exc)
        data = event.answer if event.data is None else msgspec.json.encode(event.data)
        body = msgspec.json.encode(
            Envelope(
                event.event_id,
                event.type,
                event.tenant_id,
                event.sequence,
                event.occurred_at,
                msgspec.Raw(data or b"null"),
            )
        )
        headers = signed_headers(event.secret, body, event.event_id, int(time.time()))
        try:
            async with self.client.stream(
                "POST", event.url, content=body, headers=headers
            ) as response:
                if 200 <= response.status_code < 300:
                    return None
                answer = b""
                async for chunk in response.aiter_bytes():
                    answer += chunk
                    if len(answer) >= ANSWER_LIMIT:
                        break
                text = answer[:ANSWER_LIMIT].decode("utf-8", "replace")
                return f"HTTP {response.status_code}: {text}".strip()
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:ANSWER_LIMIT]
