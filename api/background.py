"""Background loops of a serving process, kept alive whatever happens to them.

A loop that raises (a driver in a state it cannot leave after an outage, a bug) is logged,
counted on ``/metrics`` (``rewards_background_restarts_total``) and started again after an
exponential, jittered pause; a loop that ran for a while before it failed starts again at
the shortest pause. Cancellation (the process shutting down) ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping

from db.pool import create_pool
from rewards import metrics
from rewards.core.events import retry_delay
from rewards.jobs import service as jobs

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


class JobThread:
    """A serving process's worker of background jobs: a thread with an event loop and a
    small pool of its own, so that a job's computing (a replay plans millions of
    transactions) never holds up the requests the process serves on its own loop."""

    def __init__(
        self,
        dsn: str,
        handlers: Mapping[str, jobs.Handler],
        *,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        self.dsn = dsn
        self.handlers = handlers
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: jobs.Runner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="rewards-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step of the current job (the job goes back at once)."""
        loop, runner = self._loop, self._runner
        if loop is not None and runner is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(runner.stop.set)
        self._thread.join(timeout)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        pool = await create_pool(self.dsn, min_size=1, max_size=3)
        runner = self._runner = jobs.Runner(
            pool,
            self.handlers,
            lease_seconds=self.lease_seconds,
            poll_seconds=self.poll_seconds,
            dsn=self.dsn,
        )
        self._ready.set()
        failures = 0
        try:
            while not runner.stop.is_set():
                try:
                    await runner.run()
                except Exception:
                    _log.exception("the jobs loop failed; starting it again")
                    metrics.BACKGROUND_RESTARTS.labels("jobs").inc()
                    failures += 1
                    pause = min(retry_delay(failures, 0.5).total_seconds(), 30.0)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(runner.stop.wait(), pause)
        finally:
            await pool.close()
