"""Wire types of statements and settlement (/v1/merchant/statements, /v1/admin/settlements)
and of the breakage report."""

from __future__ import annotations

from datetime import datetime

from api.dto.common import Output


class StatementOut(Output):
    """A merchant's statement of a calendar month in the program's time zone. The merchant
    owes ``merchant_due_minor`` plus ``fees_minor``; the program pays ``program_due_minor``
    (the two dues make ``reward_minor``). ``sha256`` is that of the lines' CSV: on a closed
    statement it never changes; an open one's moves as lines come."""

    period: str
    merchant_id: str
    status: str
    lines: int
    reward_minor: int
    merchant_due_minor: int
    program_due_minor: int
    fees_minor: int
    sha256: str | None
    closed_at: datetime | None


class StatementList(Output):
    items: list[StatementOut]


class SettlementsOut(Output):
    """Every merchant's statement of a period (``status``: open, closing or closed)."""

    period: str
    status: str
    items: list[StatementOut]
    next_cursor: str | None


class BreakageCohortOut(Output):
    cohort: str
    issued: int
    redeemed: int
    expired: int
    outstanding: int
    projected_redemption: int


class BacktestOut(Output):
    holdout_months: int
    mape: float | None


class BreakageOut(Output):
    """Points by the month they were earned, and what of them will never be redeemed."""

    as_of: str
    through: str | None
    cohorts: list[BreakageCohortOut]
    development_factors: list[float]
    ultimate_redemption_rate: float | None
    breakage_rate: float | None
    outstanding: int
    #: Of the outstanding points, those expected to be redeemed still.
    expected_redemptions: int
    #: The share of the outstanding points expected never to be redeemed.
    outstanding_breakage_rate: float | None
    value_per_point_minor: int
    #: expected_redemptions × value_per_point_minor = outstanding × (1 − outstanding
    #: breakage) × value.
    liability_minor: int
    backtest: BacktestOut
