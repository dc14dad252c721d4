"""Outbound events (pure): types, envelopes, signatures, retry timing, which webhook URLs
may be called."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from rewards.core.credentials import hook_signature
from rewards.core.errors import ValidationFailed

EventType = Literal[
    "points.awarded",
    "points.clawed_back",
    "points.expiring",
    "offer.redeemed",
    "redemption.created",
    "redemption.cancelled",
    "tier.changed",
    "referral.rewarded",
    "risk.flagged",
    "statement.closed",
    "grant.completed",
    "import.completed",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


RETRY_FOR = timedelta(hours=72)
MAX_DELAY = timedelta(hours=1)


class NewEvent(msgspec.Struct, frozen=True):
    """An event to write with the change it reports: its ``data``, or the hook answer of
    ``transaction_id`` (stored once, with the transaction)."""

    type: str
    member_id: str | None
    data: Any = None
    transaction_id: str | None = None


#: The event that announces a background job of this kind done, and which of its
#: parameters it repeats.
COMPLETED: dict[str, tuple[EventType, tuple[str, ...]]] = {
    "grant": ("grant.completed", ("grant_id",)),
    "import": ("import.completed", ("format",)),
}


def completed(
    kind: str, job_id: str, params: dict[str, Any], counts: dict[str, Any] | None
) -> NewEvent | None:
    """The event announcing a job of this kind done (None: its kind announces nothing)."""
    found = COMPLETED.get(kind)
    if found is None:
        return None
    type, repeated = found
    data = {"job_id": job_id, **{k: params[k] for k in repeated if k in params}}
    return NewEvent(type, None, data | {"counts": counts or {}})


def event_id(sequence: int) -> str:
    """An event's id: unique across tenants, as its number is."""
    return f"evt_{sequence}"


def sequence_of(event_id: str) -> int | None:
    """The number an event id stands for (None: not an event id)."""
    prefix, _, number = event_id.partition("_")
    if prefix != "evt" or not number.isdigit() or len(number) > 18:
        return None
    return int(number)


class Envelope(msgspec.Struct, frozen=True):
    """What a receiver gets: the body of the POST."""

    id: str
    type: str
    tenant_id: str
    sequence: int
    occurred_at: datetime
    data: Any


def signed_headers(secrets: Sequence[str], body: bytes, event_id: str, now: int) -> dict[str, str]:
    """The headers of a delivery: signed as the processor signs hooks, with the tenant's
    event signing secrets (one ``v1`` each: the current one first, then any still in a
    rotation's overlap)."""
    return {
        "Content-Type": "application/json",
        "X-Rewards-Signature": hook_signature(secrets, now, body),
        "X-Rewards-Event-Id": event_id,
        "User-Agent": "rewards-engine-webhooks/1",
    }


def retry_delay(attempts: int, base: float, rng: random.Random | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: exponential from ``base``
    seconds, at most an hour, with full jitter in its upper half (so that a receiver that
    comes back is not hit by every event at once)."""
    pick = (rng or random).uniform(0.5, 1.0)
    seconds = min(base * 2 ** max(attempts - 1, 0), MAX_DELAY.total_seconds())
    return timedelta(seconds=seconds * pick)


def next_attempt(
    attempts: int, now: datetime, give_up_at: datetime, base: float
) -> datetime | None:
    """When to try again, or None when the 72 hours are over (the event is failed)."""
    when = now + retry_delay(attempts, base)
    return None if when > give_up_at else when


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """The host to resolve; refuses what may never be called (422). Addresses the host
    resolves to are checked with :func:`address_allowed` before each delivery."""
    parts = urlsplit(url)
    errors = []
    if parts.scheme not in (("https", "http") if allow_private else ("https",)):
        errors.append(("webhook_url", "must be an https URL"))
    if not parts.hostname:
        errors.append(("webhook_url", "needs a host"))
    if parts.username or parts.password:
        errors.append(("webhook_url", "must not carry credentials"))
    if len(url) > 2000:
        errors.append(("webhook_url", "at most 2000 characters"))
    if errors:
        raise ValidationFailed("webhook_url: " + "; ".join(m for _, m in errors), errors=errors)
    host = parts.hostname or ""
    if not allow_private:
        literal = _literal_address(host)
        if (literal is not None and not address_allowed(literal)) or host in _LOCAL_NAMES:
            raise ValidationFailed(
                "webhook_url must not point at a private, loopback, link-local or metadata address",
                errors=[("webhook_url", "not a public address")],
            )
    return host


_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "metadata.google.internal"})


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and would reach: IPv4-mapped, 6to4
    (2002::/16), Teredo (2001::/32: its server and its client) and NAT64 (64:ff9b::/96,
    64:ff9b:1::/48)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in net for net in _NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """Only public unicast addresses: not private, loopback, link-local (cloud metadata at
    169.254.169.254 included), multicast, reserved or unspecified. An IPv6 address that
    carries an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by what it carries too."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        carried = embedded_ipv4(ip)
        if carried:
            return all(_public(v4) for v4 in carried)
    return _public(ip)


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
