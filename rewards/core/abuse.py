"""Abuse limits (pure): device hashes, the refusals they make, risk events."""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta
from typing import Any, ClassVar

import msgspec

from rewards.core.errors import Forbidden, RewardsError

CLAIM_WINDOW = timedelta(hours=1)

# Reasons a risk event names.
DEVICE_LIMIT = "device_limit"
CLAIM_RATE = "claim_rate"
DAILY_POINTS_CAP = "daily_points_cap"
REFERRAL_RING = "referral_ring"
REASONS = (DEVICE_LIMIT, CLAIM_RATE, DAILY_POINTS_CAP, REFERRAL_RING)


def device_hash(key: bytes, device_id: str) -> bytes:
    """How a device is kept: HMAC-SHA256 with the tenant's device key, never the id itself."""
    return hmac.new(key, device_id.encode(), hashlib.sha256).digest()


class DeviceLimit(Forbidden):
    type = "device_limit"
    title = "Too many members on this device"


class RateLimited(RewardsError):
    """Too many claims in the last hour; ``retry_after`` says when one more fits."""

    status = 429
    type = "rate_limited"
    title = "Too many claims"
    #: A refusal of the moment: not kept as an Idempotency-Key's answer, so that the same
    #: request may be sent again with the same key once the window has moved on.
    transient: ClassVar[bool] = True

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RiskRecord(msgspec.Struct, frozen=True):
    """A risk event to write with the refusal or cap that made it."""

    member_id: str
    device: bytes | None
    reason: str
    detail: dict[str, Any]


class DeviceSighting(msgspec.Struct, frozen=True):
    """A device as a request named it: its hash, and the member's place among the members
    seen on it (1 for the first)."""

    device: bytes
    seq: int


def device_refusal(
    member_id: str, sighting: DeviceSighting | None, limit: int | None, action: str
) -> tuple[DeviceLimit, RiskRecord] | None:
    """A claim or redemption from a device that ``limit`` other members used first."""
    if limit is None or sighting is None or sighting.seq <= limit:
        return None
    return (
        DeviceLimit(
            f"this device has been used by {limit} other member(s); {action} from it is not allowed"
        ),
        RiskRecord(
            member_id,
            sighting.device,
            DEVICE_LIMIT,
            {"action": action, "limit": limit, "member_number": sighting.seq},
        ),
    )


def claim_rate_refusal(
    member_id: str,
    device: bytes | None,
    recent: list[datetime],
    limit: int | None,
    now: datetime,
    offer_id: str,
) -> tuple[RateLimited, RiskRecord] | None:
    """The claim after ``limit`` claims in the last hour; ``recent`` are the times of the
    member's claims within the window."""
    if limit is None or len(recent) < limit:
        return None
    # One more fits once the oldest claims that make the count reach the limit leave.
    oldest_needed = sorted(recent)[len(recent) - limit]
    wait = max(1, math.ceil((oldest_needed + CLAIM_WINDOW - now).total_seconds()))
    return (
        RateLimited(f"at most {limit} claim(s) per hour; try again in {wait} s", retry_after=wait),
        RiskRecord(
            member_id,
            device,
            CLAIM_RATE,
            {"offer_id": offer_id, "limit": limit, "claims_in_last_hour": len(recent)},
        ),
    )
