"""The lucky draw of every swipe: deterministic, committed in advance, recomputable."""

from __future__ import annotations

import hashlib
import hmac

import msgspec


class Prize(msgspec.Struct, frozen=True):
    multiplier: int
    weight: int


def commitment_of(secret: bytes) -> str:
    """What a campaign publishes at creation: sha256(secret) in hex."""
    return hashlib.sha256(secret).hexdigest()


def draw_proof(secret: bytes, campaign_id: str, transaction_id: str) -> bytes:
    """h = HMAC-SHA256(secret, "<campaign id>:<transaction id>")."""
    return hmac.new(secret, f"{campaign_id}:{transaction_id}".encode(), hashlib.sha256).digest()


def prize_index(proof: bytes, prizes: list[Prize]) -> int:
    """The first prize whose cumulative weight exceeds u × total weight, with
    u = int(h[:8]) / 2^64. Compared in exact integers: cumulative × 2^64 > int(h[:8]) × total.
    """
    x = int.from_bytes(proof[:8], "big")
    total = sum(p.weight for p in prizes)
    cumulative = 0
    for index, prize in enumerate(prizes):
        cumulative += prize.weight
        if cumulative << 64 > x * total:
            return index
    return len(prizes) - 1  # unreachable while weights are positive


def affordable_multiplier(prizes: list[Prize], drawn: int, base: int, room: int | None) -> int:
    """The drawn multiplier if its bonus fits the budget left, else the largest listed prize
    below it that fits, at worst 1 (no bonus)."""
    best = 1
    for prize in prizes:
        bonus = base * (prize.multiplier - 1)
        if prize.multiplier <= drawn and (room is None or bonus <= room):
            best = max(best, prize.multiplier)
    return best
