"""The draw: the published formula, its distribution, and what a budget lets it pay."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from rewards.core.draw import Prize, affordable_multiplier, commitment_of, draw_proof, prize_index

PRIZES = [Prize(1, 700), Prize(2, 200), Prize(5, 80), Prize(10, 20)]
SECRET = bytes(range(32))


def by_the_book(secret: bytes, campaign_id: str, tx_id: str, prizes: list[Prize]) -> int:
    """API.md's formula, written as plainly as it reads."""
    h = hmac.new(secret, f"{campaign_id}:{tx_id}".encode(), hashlib.sha256).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    total = sum(p.weight for p in prizes)
    cumulative = 0
    for prize in prizes:
        cumulative += prize.weight
        if cumulative > u * total:
            return prize.multiplier
    return prizes[-1].multiplier


@given(st.text(min_size=1, max_size=64), st.binary(min_size=32, max_size=32))
def test_the_draw_is_the_published_formula(tx_id: str, secret: bytes) -> None:
    proof = draw_proof(secret, "every-swipe", tx_id)
    assert proof == hmac.new(secret, f"every-swipe:{tx_id}".encode(), hashlib.sha256).digest()
    assert PRIZES[prize_index(proof, PRIZES)].multiplier == by_the_book(
        secret, "every-swipe", tx_id, PRIZES
    )


def test_the_commitment_is_the_sha256_of_the_secret() -> None:
    assert commitment_of(SECRET) == hashlib.sha256(SECRET).hexdigest()


def test_prizes_over_100000_ids_follow_the_weights() -> None:
    counts = [0] * len(PRIZES)
    n = 100_000
    for i in range(n):
        counts[prize_index(draw_proof(SECRET, "every-swipe", f"txn-{i}"), PRIZES)] += 1
    total = sum(p.weight for p in PRIZES)
    expected = [n * p.weight / total for p in PRIZES]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True))
    # 3 degrees of freedom: the 0.1 % critical value is 16.27. The ids are fixed, so this
    # cannot flake; a biased draw (say, floats losing the low bits) would blow far past it.
    assert chi2 < 16.27, (counts, chi2)


def test_a_single_prize_always_wins() -> None:
    for i in range(100):
        assert prize_index(draw_proof(SECRET, "c", str(i)), [Prize(3, 1)]) == 0


def test_a_budget_that_cannot_pay_the_drawn_prize_pays_the_largest_that_fits() -> None:
    assert affordable_multiplier(PRIZES, 10, 100, None) == 10
    assert affordable_multiplier(PRIZES, 10, 100, 900) == 10
    assert affordable_multiplier(PRIZES, 10, 100, 899) == 5
    assert affordable_multiplier(PRIZES, 10, 100, 399) == 2
    assert affordable_multiplier(PRIZES, 10, 100, 99) == 1
    assert affordable_multiplier(PRIZES, 2, 100, 10_000) == 2  # never more than drawn
    assert affordable_multiplier(PRIZES, 5, 0, 0) == 5  # a zero base costs nothing


@given(
    st.sampled_from([1, 2, 5, 10]),
    st.integers(min_value=0, max_value=10**6),
    st.one_of(st.none(), st.integers(min_value=0, max_value=10**7)),
)
def test_the_paid_prize_never_exceeds_the_budget_or_the_draw(
    drawn: int, base: int, room: int | None
) -> None:
    paid = affordable_multiplier(PRIZES, drawn, base, room)
    assert 1 <= paid <= drawn
    if room is not None:
        assert base * (paid - 1) <= room
