"""Outbound events' pure parts: ids, retry timing, which webhook URLs may be called."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rewards.core.errors import ValidationFailed
from rewards.core.events import (
    MAX_DELAY,
    RETRY_FOR,
    check_webhook_url,
    event_id,
    next_attempt,
    retry_delay,
    sequence_of,
)

NOW = datetime.now(UTC)


@given(st.integers(1, 10**18 - 1))
def test_an_event_id_stands_for_its_number(sequence: int) -> None:
    assert sequence_of(event_id(sequence)) == sequence


@pytest.mark.parametrize("text", ["evt_", "evt_x", "ev_1", "evt_-1", "1", "evt_" + "9" * 19])
def test_other_text_is_no_event_id(text: str) -> None:
    assert sequence_of(text) is None


@given(attempts=st.integers(1, 40), base=st.floats(0.1, 60), seed=st.integers(0, 10**6))
def test_retries_back_off_exponentially_with_jitter_at_most_an_hour(
    attempts: int, base: float, seed: int
) -> None:
    delay = retry_delay(attempts, base, random.Random(seed))
    full = min(base * 2 ** (attempts - 1), MAX_DELAY.total_seconds())
    assert full / 2 - 1e-9 <= delay.total_seconds() <= full + 1e-9


def test_an_event_fails_once_its_72_hours_are_over() -> None:
    give_up = NOW + RETRY_FOR
    assert next_attempt(1, NOW, give_up, 10) is not None
    assert next_attempt(30, give_up - timedelta(seconds=1), give_up, 10) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://events.bank.example/in",
        "https://user:pw@events.bank.example/in",
        "https:///nohost",
        "https://localhost/in",
        "https://127.0.0.1/in",
        "https://[::1]/in",
        "https://[2002:7f00:1::]/in",
        "https://169.254.169.254/latest",
        "https://metadata.google.internal/",
        "https://events.bank.example/" + "x" * 2000,
    ],
)
def test_webhook_urls_that_may_not_be_called_are_refused(url: str) -> None:
    with pytest.raises(ValidationFailed):
        check_webhook_url(url, allow_private=False)


def test_a_public_https_url_names_its_host() -> None:
    assert check_webhook_url("https://events.bank.example:8443/in", allow_private=False) == (
        "events.bank.example"
    )
    assert check_webhook_url("http://127.0.0.1:9000/in", allow_private=True) == "127.0.0.1"
