"""Why a purchase got (or did not get) each offer of its merchant (pure): the same checks,
in the same order, as card-linked matching (``offers.core.matching``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from offers.core.matching import OfferUse
from offers.core.offers import OfferState, reward_of, value_of
from offers.core.replay import MATCHING, OfferVersion
from rewards.core.conditions import Facts
from rewards.core.explanations import MatchOutcome, why_not
from rewards.core.transactions import CardTransaction


def explain_offers(
    tx: CardTransaction,
    facts: Facts,
    merchant_id: str | None,
    versions: Sequence[OfferVersion],
    uses: Mapping[str, OfferUse],
    applied: Mapping[str, tuple[int, int]],
    base: int,
) -> list[MatchOutcome]:
    """Each offer (as it stood then) against the purchase; ``uses``: the member's standing
    with each before it; ``applied``: what the answer says each paid."""
    found = []
    best = max((value_of(money, points) for money, points in applied.values()), default=None)
    for v in sorted(versions, key=lambda v: v.offer_id):
        standing = uses.get(v.offer_id, OfferUse(False, 0))
        claimed = standing.claimed

        def out(
            outcome: str,
            detail: str,
            failed: str | None = None,
            *,
            v: OfferVersion = v,
            claimed: bool = claimed,
        ) -> MatchOutcome:
            return MatchOutcome(v.offer_id, v.offer.title, outcome, failed, detail, 0, 0, claimed)

        if v.offer_id in applied:
            money, points = applied[v.offer_id]
            found.append(
                MatchOutcome(
                    v.offer_id, v.offer.title, "applied", None, "applied", money, points, claimed
                )
            )
            continue
        state = OfferState(v.offer, v.merchant_id, frozenset(v.offer.store_ids), 0, 0)
        offer = v.offer
        if v.status not in MATCHING:
            found.append(out("not_active", f"the offer was {v.status}"))
        elif not state.at(tx.store_id, merchant_id):
            found.append(out("other_store", "valid at other stores of the merchant"))
        elif not state.in_schedule(facts):
            found.append(out("out_of_schedule", "outside the offer's schedule"))
        elif tx.amount_minor < offer.min_spend_minor:
            found.append(out("min_spend", f"spend below the minimum of {offer.min_spend_minor}"))
        elif (failed := state.matcher.first_failure(facts)) is not None:
            found.append(out("not_targeted", why_not(failed, offer.targeting, facts), failed))
        elif offer.activation == "claim" and not claimed:
            found.append(out("not_claimed", "the member had not claimed it"))
        elif offer.per_member_limit is not None and standing.uses >= offer.per_member_limit:
            found.append(out("limit_reached", f"used {standing.uses} of {offer.per_member_limit}"))
        else:
            money, points = reward_of(offer, tx.amount_minor, base)
            if best is not None and value_of(money, points) <= best:
                found.append(out("outranked", "another offer of the merchant paid more"))
            else:
                found.append(out("budget_exhausted", "the offer's budget had run out"))
    return found
