"""Outbound events (pure): types, envelopes, signatures, retry timing, which webhook URLs
may be called."""

from __future__ import annotations

import ipaddress
import random
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


def signed_headers(secret: str, body: bytes, event_id: str, now: int) -> dict[str, str]:
    """The headers of a delivery: signed exactly as the processor signs hooks."""
    return {
        "Content-Type": "application/json",
        "X-Rewards-Signature": hook_signature(secret, now, body),
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


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """Only public unicast addresses: not private, loopback, link-local (cloud metadata at
    169.254.169.254 included), multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
