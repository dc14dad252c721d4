"""Wire types of the risk office's controls: holds and approvals (/v1/admin/…)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api.dto.common import Output


class HoldOut(Output):
    transaction_id: str
    member_id: str
    points: int
    remaining: int
    score: int
    source: str | None
    status: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


class HoldPage(Output):
    items: list[HoldOut]
    next_cursor: str | None


class ApprovalOut(Output):
    approval_id: str
    kind: str
    status: str
    summary: dict[str, Any]
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    result: Any


class ApprovalPending(Output):
    """A change that waits for a second admin key (202)."""

    approval_id: str
    status: str


class ApprovalPage(Output):
    items: list[ApprovalOut]
    next_cursor: str | None
