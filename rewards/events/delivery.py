"""The delivery loop every serving process runs, off the request path.

It leases due events (``FOR UPDATE SKIP LOCKED``: workers and hosts share the outbox),
POSTs each to its tenant's ``webhook_url`` signed with the tenant's event signing secrets,
and records the outcome: delivered on a 2xx, due again after an exponential, jittered delay
otherwise, failed once 72 hours are over. A worker that dies mid-delivery leaves its leases
to run out; the events are then sent again (at least once — receivers deduplicate by
``id``).

Three rules keep one receiver from hurting anyone else:

- every delivery has a total deadline (connect, send, answer — a receiver that trickles
  its answer a byte at a time is cut off there), and an event's lease is always longer than
  that deadline, so the same event is never in flight twice at once;
- each tenant with something due gets a slot of its own, whatever other tenants hold; only
  its further parallel deliveries come from a shared pool, up to ``per_tenant``;
- a tenant whose last delivery failed (a receiver down, hanging or trickling) gets its own
  slot only, until a delivery to it succeeds again.

The address a webhook's host resolves to is checked and then connected to (with the host
name kept for TLS and the ``Host`` header), so a name that resolves to a public address
once and to a private one the next time cannot steer a delivery inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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
#: How much longer than a delivery's deadline its lease lasts (time to record the outcome).
LEASE_MARGIN_SECONDS = 5.0

#: Answers the addresses a host name resolves to (a test may answer differently each time).
Resolver = Callable[[str], Awaitable[list[str]]]


class Settings(msgspec.Struct, frozen=True):
    allow_private: bool = False
    retry_base_seconds: float = 10.0
    timeout_seconds: float = 10.0  # connect, and each read or write
    deadline_seconds: float = 30.0  # the whole delivery
    lease_seconds: float = 60.0  # raised to deadline_seconds + LEASE_MARGIN_SECONDS if lower
    batch: int = 100
    shared_slots: int = 64  # deliveries beyond each tenant's own first one
    max_tenants: int = 1024  # tenants with a delivery in flight at once
    per_tenant: int = 8
    poll_seconds: float = 0.5
    flush_seconds: float = 0.05


class UnsafeAddress(Exception):
    """The webhook's host resolves to an address that may not be called."""


async def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` resolves to (a literal address: itself)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, None)
    return [str(sockaddr[0]) for *_, sockaddr in found]


class Destination(msgspec.Struct, frozen=True):
    """Where one delivery goes: the URL to connect to and what keeps the host's name."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


async def check_destination(
    url: str, *, allow_private: bool, resolve: Resolver = resolve_host
) -> Destination:
    """Refuse a URL that is not https or whose host resolves to a private, loopback,
    link-local or metadata address (unless private addresses are allowed); otherwise the
    checked address to connect to, with the host name for TLS (SNI and the certificate
    check) and for the ``Host`` header."""
    host = check_webhook_url(url, allow_private=allow_private)
    if allow_private:
        return Destination(url, {}, {})
    try:
        addresses = await resolve(host)
    except OSError as exc:
        raise UnsafeAddress(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise UnsafeAddress(f"{host} does not resolve")
    for address in addresses:
        if not address_allowed(ipaddress.ip_address(address)):
            raise UnsafeAddress(f"{host} resolves to {address}, which is not public")
    target = httpx.URL(url)
    pinned = target.copy_with(host=addresses[0])
    return Destination(
        str(pinned),
        {"Host": target.netloc.decode("ascii")},
        {"sni_hostname": host} if target.scheme == "https" else {},
    )


#: Outcomes kept for the next try when they cannot be written (the database is away); past
#: this many the oldest are dropped and their events go out again once their leases end.
MAX_UNWRITTEN_OUTCOMES = 10_000


class Deliverer:
    """One process's share of the delivery work. Run it under
    :func:`api.background.supervise`: whatever it raises, a new one takes over."""

    def __init__(
        self, pool: asyncpg.Pool, settings: Settings, *, resolve: Resolver = resolve_host
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.resolve = resolve
        self.lease_seconds = max(
            settings.lease_seconds, settings.deadline_seconds + LEASE_MARGIN_SECONDS
        )
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds),
            # Bounded by the slots below, not by the client: a pool limit here would let
            # the tenants holding it delay every other tenant's delivery.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            follow_redirects=False,
            trust_env=False,
        )
        self.in_flight: dict[str, int] = {}
        self.struggling: set[str] = set()  # tenants whose last delivery failed
        self.tasks: set[asyncio.Task[None]] = set()
        self.outcomes: list[Outcome] = []
        self.flush_soon = asyncio.Event()
        self.slot_freed = asyncio.Event()
        self._depth_checked = 0.0

    async def run(self) -> None:
        """Deliver until cancelled; raise what it cannot handle (the supervisor restarts)."""
        flusher = asyncio.create_task(self._flush_outcomes())
        try:
            while True:
                if flusher.done():
                    flusher.result()  # raises what ended it
                    raise RuntimeError("the outcome writer ended")
                try:
                    await self._gauge()  # first: nothing may come between a lease and a send
                    leased = await self._lease()
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

    def rooms(self) -> tuple[list[str], list[int], int]:
        """How many more events each tenant may have leased now: the tenants this worker
        knows (in flight or struggling) with theirs, and the room of every other tenant."""
        s = self.settings
        shared_free = max(s.shared_slots - sum(n - 1 for n in self.in_flight.values()), 0)
        extra = min(s.per_tenant - 1, shared_free)
        tenants: list[str] = []
        rooms: list[int] = []
        for tenant in self.in_flight.keys() | self.struggling:
            held = self.in_flight.get(tenant, 0)
            if tenant in self.struggling:
                room = 1 if held == 0 else 0
            elif held == 0:
                room = 1 + extra
            else:
                room = max(min(s.per_tenant - held, shared_free), 0)
            tenants.append(tenant)
            rooms.append(room)
        default = 0 if len(self.in_flight) >= s.max_tenants else 1 + extra
        return tenants, rooms, default

    async def _lease(self) -> list[Leased]:
        tenants, rooms, default = self.rooms()
        if default == 0 and not any(rooms):
            return []
        async with acquire(self.pool) as conn:
            return await events_db.lease(
                conn, self.settings.batch, tenants, rooms, default, self.lease_seconds
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
            try:
                async with asyncio.timeout(self.settings.deadline_seconds):
                    error = await self.send(event)
            except TimeoutError:
                error = f"no answer within the deadline of {self.settings.deadline_seconds:g} s"
            except Exception as exc:  # a fault of this attempt must not lose its outcome
                _log.exception("delivering %s failed", event.event_id)
                error = f"{type(exc).__name__}: {exc}"[:ANSWER_LIMIT]
            if error is None:
                self.struggling.discard(event.tenant_id)
            else:
                self.struggling.add(event.tenant_id)
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
        """Write what deliveries came to, many in one statement. Outcomes that cannot be
        written now are tried again with the next ones; those never written (the process
        dies first) leave their events leased, to be sent again once the lease runs out."""
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
            except Exception as exc:
                _log.warning("could not record %d delivery outcomes (%s)", len(done), exc)
                self.outcomes = (done + self.outcomes)[-MAX_UNWRITTEN_OUTCOMES:]
                await asyncio.sleep(1)
                self.flush_soon.set()

    async def send(self, event: Leased) -> str | None:
        """POST the event; None when the receiver acknowledged it, else what went wrong."""
        if event.url is None:
            return "the program has no webhook_url"
        try:
            where = await check_destination(
                event.url, allow_private=self.settings.allow_private, resolve=self.resolve
            )
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
        headers = signed_headers(event.secrets, body, event.event_id, int(time.time()))
        try:
            async with self.client.stream(
                "POST",
                where.url,
                content=body,
                headers=headers | where.headers,
                extensions=where.extensions,
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
