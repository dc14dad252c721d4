"""Wire types of the operations endpoints."""

from __future__ import annotations

from typing import Literal

from api.dto.common import (
    Output,
)


class Health(Output):
    status: Literal["ok"]


class Readiness(Output):
    status: Literal["ready", "not_ready"]
    database: bool
    migrations_current: bool
