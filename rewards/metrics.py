"""Business counters a card center watches, exposed on ``/metrics`` (Prometheus).

Workers of one ``rewards serve`` share their counts through prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, which ``rewards serve`` sets to a fresh
folder of its own): whichever worker answers a scrape, the figures are those of every worker
added up, so they never go backwards between scrapes. Only what was committed is counted:
a repeated delivery answered from the stored answer, a refused item and a simulation count
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
from prometheus_client import Counter, Gauge, Histogram

from rewards.core.planner import Answer

AWARDS = Counter(
    "rewards_awards",
    "Card transactions awarded (purchases) or clawed back (refunds, reversals), by kind.",
    ["kind"],
)
POINTS_AWARDED = Counter(
    "rewards_points_awarded",
    "Points awarded by purchases, by where they came from (base, rules, draw, offers).",
    ["kind"],
)
POINTS_CLAWED_BACK = Counter(
    "rewards_points_clawed_back",
    "Points taken back by refunds and reversals, by where they had come from.",
    ["kind"],
)
DRAWS = Counter(
    "rewards_draws", "Lucky draws on purchases, by the multiplier paid.", ["multiplier"]
)
REPLICA_READS = Counter(
    "rewards_replica_reads",
    "Lag-tolerant reads, by the server that answered them (replica, or primary when the "
    "replica was behind, away or not configured).",
    ["served_by"],
)
OFFER_MATCHES = Counter(
    "rewards_offer_matches", "Merchant offers applied to purchases (card-linked matches)."
)
OFFER_REWARD_MINOR = Counter(
    "rewards_offer_reward_minor", "Money off paid by merchant offers, in minor units."
)
REDEMPTIONS = Counter(
    "rewards_redemptions",
    "Catalog redemptions by outcome: created, or the problem type that refused them.",
    ["outcome"],
)
HOOK_GATHERED = Histogram(
    "rewards_hook_gathered",
    "Single hooks written together in one database transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
HOOK_SIGNATURE_FAILURES = Counter(
    "rewards_hook_signature_failures",
    "Hook requests refused for a missing, stale or wrong signature or an unknown tenant.",
)

_KINDS = ("base", "rules", "draw", "offers")


def record_awards(kinds: Iterable[str], answers: Iterable[Answer]) -> None:
    """Count committed hook answers (each with the kind of its transaction)."""
    for kind, answer in zip(kinds, answers, strict=True):
        AWARDS.labels(kind).inc()
        points = msgspec.structs.asdict(answer.points)
        if kind == "purchase":
            for source in _KINDS:
                if points[source] > 0:
                    POINTS_AWARDED.labels(source).inc(points[source])
            for draw in answer.draws:
                DRAWS.labels(str(draw.multiplier)).inc()
            for offer in answer.offers_applied:
                OFFER_MATCHES.inc()
                if offer.reward_minor > 0:
                    OFFER_REWARD_MINOR.inc(offer.reward_minor)
        else:
            for source in _KINDS:
                if points[source] < 0:
                    POINTS_CLAWED_BACK.labels(source).inc(-points[source])


def record_redemption(outcome: str) -> None:
    """Count one redemption request that was decided (not a replay of a stored answer)."""
    REDEMPTIONS.labels(outcome).inc()


EVENT_DELIVERIES = Counter(
    "rewards_event_deliveries",
    "Attempts to deliver outbound events, by outcome: delivered, retry (to be sent again "
    "later), failed (72 hours without success).",
    ["outcome"],
)
# Read from the shared outbox by every worker: the most recent reading is the answer.
OUTBOX_PENDING = Gauge(
    "rewards_outbox_pending",
    "Outbound events waiting to be delivered.",
    multiprocess_mode="livemostrecent",
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "rewards_outbox_oldest_pending_seconds",
    "Age of the oldest outbound event waiting to be delivered, in seconds.",
    multiprocess_mode="livemostrecent",
)
BACKGROUND_RESTARTS = Counter(
    "rewards_background_restarts",
    "Background loops (event delivery, expiry) started again after they failed, by loop.",
    ["loop"],
)
