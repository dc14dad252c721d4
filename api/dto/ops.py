"""Wire types of the operations endpoints."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, UnsetType

from api.dto.common import (
    Output,
)


class Health(Output):
    status: Literal["ok"]


class ReplicaOut(Output):
    """The streaming replica (DATABASE_REPLICA_URL): ``streaming`` with its lag,
    ``unreachable``, or ``not_a_standby`` (promoted: reads go to the primary)."""

    state: Literal["streaming", "unreachable", "not_a_standby"]
    lag_seconds: float | None = None
    lag_bytes: int | None = None


class Readiness(Output):
    status: Literal["ready", "not_ready"]
    database: bool
    migrations_current: bool
    # Present only when DATABASE_REPLICA_URL is set.
    replica: ReplicaOut | UnsetType = UNSET
