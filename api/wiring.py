"""The composition root of the domain: what ``rewards`` is given of ``offers``.

``rewards`` imports nothing of ``offers``. The hook matches purchases against merchant
offers through the ``CardLinked`` port of ``rewards.core.card_linked``, and the periodic job
runs the offers' upkeep beside its own; both are handed over here, by every process that
serves or runs the job (``api/app.py``, ``api/cli.py``).
"""

from __future__ import annotations

from offers.nearby import service as nearby
from offers.publishing.service import CardLinkedOffers
from rewards.hook import service as hook
from rewards.housekeeping.service import Upkeep

#: What the periodic job runs beside expiry, tiers and pruning.
UPKEEP: tuple[Upkeep, ...] = (nearby.upkeep,)


def wire() -> None:
    """Give the hook its merchant offers (idempotent)."""
    hook.use_card_linked(CardLinkedOffers())
