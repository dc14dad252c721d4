"""The composition root of the domain: what ``rewards`` is given of ``offers``.

``rewards`` imports nothing of ``offers``. The hook matches purchases against merchant
offers through the ``CardLinked`` port of ``rewards.core.card_linked``, and the periodic job
runs the offers' upkeep beside its own, replays read offers over time through the
``CardLinkedHistory`` port, and the background jobs' handlers are named here; all are handed
over by every process that serves or runs jobs (``api/app.py``, ``api/cli.py``).
"""

from __future__ import annotations

import functools
import sys

from api.settings import Settings
from offers.nearby import service as nearby
from offers.publishing.service import CardLinkedOffers
from offers.settlement import service as settlement
from rewards.exclusions import service as exclusions
from rewards.grants import service as grants
from rewards.hook import service as hook
from rewards.housekeeping.service import Upkeep
from rewards.imports import service as imports
from rewards.jobs.service import Handler
from rewards.replays import service as replays
from rewards.segments import service as segments
from rewards.statuses import service as statuses

#: What the periodic job runs beside expiry, tiers and pruning.
UPKEEP: tuple[Upkeep, ...] = (nearby.upkeep,)


def jobs(settings: Settings) -> dict[str, Handler]:
    """The background jobs a serving process (or the command line) works on, by kind."""
    return {
        replays.KIND: functools.partial(
            replays.run, chunk=settings.replay_chunk, processes=settings.replay_processes
        ),
        imports.KIND: functools.partial(imports.run, chunk=settings.bulk_chunk),
        segments.KIND: functools.partial(segments.run, chunk=settings.bulk_chunk),
        exclusions.KIND: functools.partial(exclusions.run, chunk=settings.bulk_chunk),
        grants.KIND: functools.partial(grants.run, chunk=settings.bulk_chunk),
        statuses.KIND: statuses.run,
        settlement.KIND: functools.partial(settlement.run, chunk=settings.bulk_chunk),
    }


#: The command that does a replay's draft run in a process of its own (api/replay_run.py).
DRAFT_RUN = [sys.executable, "-m", "api.replay_run"]


def wire() -> None:
    """Give the hook and replays their merchant offers, and replays the process their
    draft runs in (idempotent)."""
    offers = CardLinkedOffers()
    hook.use_card_linked(offers)
    replays.use_offer_history(offers)
    replays.use_draft_process(DRAFT_RUN)
    grants.use_offer_grants(offers)
