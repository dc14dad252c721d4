"""The abuse limits' pure refusals: a device past its members, a claim past its hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rewards.core.abuse import (
    CLAIM_WINDOW,
    DeviceLimit,
    DeviceSighting,
    RateLimited,
    claim_rate_refusal,
    device_refusal,
)

NOW = datetime.now(UTC)


@given(seq=st.integers(1, 20), limit=st.none() | st.integers(1, 10))
def test_a_device_refuses_exactly_the_members_beyond_its_limit(seq: int, limit: int | None) -> None:
    found = device_refusal("m-1", DeviceSighting(b"\x01", seq), limit, "claim")
    assert (found is not None) == (limit is not None and seq > limit)
    if found is not None:
        error, risk = found
        assert isinstance(error, DeviceLimit)
        assert risk.reason == "device_limit"
        assert risk.device == b"\x01"
        assert risk.detail == {"action": "claim", "limit": limit, "member_number": seq}


def test_no_device_no_refusal() -> None:
    assert device_refusal("m-1", None, 1, "redemption") is None


@given(
    ages=st.lists(st.integers(0, 3599), max_size=12),
    limit=st.none() | st.integers(1, 10),
)
def test_a_claim_waits_until_the_oldest_needed_claim_leaves_the_hour(
    ages: list[int], limit: int | None
) -> None:
    recent = [NOW - timedelta(seconds=a) for a in ages]
    found = claim_rate_refusal("m-1", None, recent, limit, NOW, "fuel-88")
    assert (found is not None) == (limit is not None and len(recent) >= limit)
    if found is not None and limit is not None:
        error, risk = found
        assert isinstance(error, RateLimited)
        assert risk.reason == "claim_rate"
        # After the wait, fewer than `limit` claims are left in the window.
        later = NOW + timedelta(seconds=error.retry_after)
        assert sum(1 for t in recent if t + CLAIM_WINDOW > later) < limit
        assert error.retry_after >= 1
