"""Group commit for single hooks: concurrent single transactions of one tenant, arriving at
one worker, are written together as one set-based batch in one database transaction.

The batch path already answers each item as if it had been posted alone (its own answer,
its own problem, idempotency by id, budgets and caps exact), so gathering changes only how
many commits, round trips and plans the work takes, not what any caller is answered.

When nothing of the tenant is being written, a hook goes at once: a lone hook on an idle
server waits no window. While batches are being written, hooks that arrive wait for at
most ``window`` seconds, or until ``max_items`` have gathered, or until a batch finishes,
whichever comes first; at most ``parallel`` batches of one tenant are written at a time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import asyncpg

from db.pool import CONNECTION_LOST, acquire
from rewards import metrics
from rewards.core.errors import RewardsError
from rewards.hook.service import CardTransaction, process, process_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    window: float = 0.002  # seconds a hook may wait for others while batches are written
    max_items: int = 64  # most hooks in one batch; 1 turns gathering off
    parallel: int = 1  # most batches of one tenant written at a time by one worker


@dataclass
class _Waiting:
    tx: CardTransaction
    answer: asyncio.Future[bytes]


@dataclass
class _Tenant:
    waiting: list[_Waiting] = field(default_factory=list)
    writing: int = 0
    timer: asyncio.TimerHandle | None = None


class Gatherer:
    """Gathers one worker's concurrent single hooks into batches (see the module)."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self._pool = pool
        self._settings = settings
        self._tenants: dict[str, _Tenant] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def process(self, tenant_id: str, tx: CardTransaction) -> bytes:
        """The transaction's answer, as ``rewards.hook.service.process`` gives it.

        Raises:
            RewardsError: the transaction cannot be processed (nothing of it is written).
        """
        if self._settings.max_items <= 1:
            metrics.HOOK_GATHERED.observe(1)
            async with acquire(self._pool) as conn:
                return await process(conn, tenant_id, tx)
        state = self._tenants.setdefault(tenant_id, _Tenant())
        waiting = _Waiting(tx, asyncio.get_running_loop().create_future())
        state.waiting.append(waiting)
        if state.writing == 0 or len(state.waiting) >= self._settings.max_items:
            self._flush(tenant_id)
        elif state.timer is None:
            state.timer = asyncio.get_running_loop().call_later(
                self._settings.window, self._flush, tenant_id
            )
        return await waiting.answer

    def _flush(self, tenant_id: str) -> None:
        """Start writing what waits, unless as many batches as allowed are being written (the
        first to finish starts the next)."""
        state = self._tenants[tenant_id]
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None
        if not state.waiting or state.writing >= self._settings.parallel:
            return
        batch = state.waiting[: self._settings.max_items]
        del state.waiting[: self._settings.max_items]
        state.writing += 1
        task = asyncio.get_running_loop().create_task(self._write(tenant_id, batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, tenant_id: str, batch: list[_Waiting]) -> None:
        state = self._tenants[tenant_id]
        try:
            await self._answer(tenant_id, batch)
        except BaseException as exc:  # cancelled: no caller is left waiting for ever
            _fail(batch, exc)
            raise
        finally:
            state.writing -= 1
            if state.waiting:
                self._flush(tenant_id)
            elif state.writing == 0 and state.timer is None:
                del self._tenants[tenant_id]

    async def _answer(self, tenant_id: str, batch: list[_Waiting]) -> None:
        """Write one batch and hand each caller its own answer or problem. An unexpected
        error of a batch of several is not charged to all: each is tried again alone."""
        try:
            async with acquire(self._pool) as conn:
                results = await process_batch(conn, tenant_id, [w.tx for w in batch])
        except CONNECTION_LOST as exc:
            _fail(batch, exc)
            return
        except Exception as exc:  # budget contention, or anything unexpected
            if len(batch) == 1:
                _fail(batch, exc)
                return
            log.warning(
                "a gathered batch of %d hooks failed (%s); each is tried alone",
                len(batch),
                type(exc).__name__,
            )
            for one in batch:
                await self._answer(tenant_id, [one])
            return
        metrics.HOOK_GATHERED.observe(len(batch))
        for waiting, result in zip(batch, results, strict=True):
            if waiting.answer.done():  # its caller went away; the result stands
                continue
            if isinstance(result, RewardsError):
                waiting.answer.set_exception(result)
            else:
                waiting.answer.set_result(result)

    async def close(self) -> None:
        """Wait for the batches being written."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _fail(batch: list[_Waiting], exc: BaseException) -> None:
    for waiting in batch:
        if not waiting.answer.done():
            waiting.answer.set_exception(exc)
