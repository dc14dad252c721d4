"""Background loops of a serving process, kept alive whatever happens to them.

A loop that raises (a driver in a state it cannot leave after an outage, a bug) is logged,
counted on ``/metrics`` (``rewards_background_restarts_total``) and started again after an
exponential, jittered pause; a loop that ran for a while before it failed starts again at
the shortest pause. Cancellation (the process shutting down) ends it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from rewards import metrics
from rewards.core.events import retry_delay

_log = logging.getLogger("rewards.background")

#: A run that lasted this long was healthy: the next failure pauses the shortest time again.
HEALTHY_SECONDS = 60.0


async def supervise(
    name: str,
    start: Callable[[], Awaitable[None]],
    *,
    base_seconds: float = 0.5,
    max_seconds: float = 30.0,
) -> None:
    """Run ``start()`` until cancelled, starting it again whenever it ends or raises."""
    failures = 0
    while True:
        began = time.monotonic()
        try:
            await start()
            _log.error("the %s loop ended by itself; starting it again", name)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("the %s loop failed; starting it again", name)
        metrics.BACKGROUND_RESTARTS.labels(name).inc()
        failures = 1 if time.monotonic() - began >= HEALTHY_SECONDS else failures + 1
        pause = min(retry_delay(failures, base_seconds).total_seconds(), max_seconds)
        await asyncio.sleep(pause)
