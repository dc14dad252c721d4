"""The ledger's one write statement takes each part as a JSON array of rows named by the
fields of the type that plans it: a field added to a type reaches the statement, or this
test says which part lost it. No named query numbers its parameters past $16."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec

from db.queries import Queries
from rewards.core.budgets import Reservation
from rewards.core.events import NewEvent
from rewards.core.ledger import LotWrite, MemberWrite, TransferPlan
from rewards.core.planner import DrawRecord, SpendRow, UsageWrite
from rewards.ledger import repository as ledger_db

ROOT = Path(__file__).resolve().parents[4]
SQL = Queries(ROOT / "rewards" / "ledger" / "queries.sql")("ledger_write")
AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

#: Which type's rows each JSON parameter carries.
PARTS: dict[int, type[msgspec.Struct]] = {
    2: TransferPlan,
    3: LotWrite,
    4: MemberWrite,
    5: ledger_db.Learned,
    6: UsageWrite,
    7: DrawRecord,
    8: ledger_db.RefundState,
    9: SpendRow,
    10: Reservation,
    11: NewEvent,
    12: ledger_db._RecordedRow,
}


def _columns(parameter: int) -> list[str]:
    """The columns the statement reads from JSON parameter ``parameter``."""
    match = re.search(
        rf"jsonb_to_recordset\(\${parameter}::jsonb\)\s*AS\s*\w*\s*\((?P<cols>[^)]*)\)", SQL
    )
    assert match, f"${parameter} is not read as rows"
    return [c.split()[0] for c in match["cols"].replace("\n", " ").split(",")]


def test_every_field_of_each_part_is_a_column_of_the_statement() -> None:
    for parameter, kind in PARTS.items():
        assert sorted(_columns(parameter)) == sorted(kind.__struct_fields__), kind.__name__


def _writes() -> ledger_db.Writes:
    return ledger_db.Writes(
        transfers=[TransferPlan("program", "member:m-1", 5, "earn", "m-1", "t-1", {"base": 5})],
        lots=[LotWrite("m-1", None, 5, 5, AT, AT), LotWrite("m-1", 7, 9, 4, None, AT)],
        members=[MemberWrite("m-1", 9, 12)],
        learned=[("m-1", "car-owner")],
        usage=[UsageWrite("m-1", "fuel-3x", "m:2030-01", 10)],
        draws=[DrawRecord("every-swipe", "t-1", "m-1", 5, 2, 5, "ab", date(2030, 1, 2))],
        refunds=[ledger_db.RefundState("t-0", 100, True)],
        spend=[SpendRow("m-1", date(2030, 1, 1), 35000)],
        reservations=[
            Reservation("rule", "fuel-3x", 10),
            Reservation("campaign", "every-swipe", 5),
            Reservation("campaign_day", "every-swipe", 5, 0, date(2030, 1, 2)),
            Reservation("offer", "fuel-88", 1, 4200),
        ],
        events=[NewEvent("points.awarded", "m-1", None, "t-1")],
        recorded=[
            ledger_db.Recorded(
                "t-1",
                b"hash",
                "purchase",
                "m-1",
                None,
                35000,
                "CNY",
                AT,
                {"mcc": "5541"},
                b'{"answer":1}',
                0,
                False,
            )
        ],
        config_version=7,
    )


def test_every_value_of_the_plan_reaches_a_parameter() -> None:
    params = ledger_db.write_parameters("tn-1", _writes())
    assert params[0] == "tn-1"
    assert len(params) == 15
    assert params[14] == 7  # the program version the batch was planned under
    for parameter, kind in PARTS.items():
        rows = msgspec.json.decode(msgspec.json.encode(params[parameter - 1]))
        assert rows, kind.__name__
        for row in rows:
            assert set(row) == set(kind.__struct_fields__), kind.__name__
    reservations = msgspec.json.decode(msgspec.json.encode(params[9]))
    assert {(r["budget"], r["key"], r["amount"], r["amount2"]) for r in reservations} == {
        ("rule", "fuel-3x", 10, 0),
        ("campaign", "every-swipe", 5, 0),
        ("campaign_day", "every-swipe", 5, 0),
        ("offer", "fuel-88", 1, 4200),
    }
    assert params[12] == [b"hash"]
    assert params[13] == [b'{"answer":1}']


def test_no_named_query_numbers_a_parameter_past_16() -> None:
    for sql_file in sorted([*ROOT.glob("*/**/*.sql")]):
        if ".venv" in sql_file.parts or "migrations" in sql_file.parts:
            continue
        for number in re.findall(r"\$(\d+)", sql_file.read_text()):
            assert int(number) <= 16, (sql_file, number)


def test_times_reach_the_statement_in_utc_whatever_their_offset() -> None:
    """PostgreSQL reads offsets only up to ±15:59 from text; RFC 3339 allows any."""
    odd = datetime.fromisoformat("3159-09-03T20:38:38.5-21:52")
    writes = msgspec.structs.replace(
        _writes(),
        lots=[LotWrite("m-1", None, 5, 5, odd, odd)],
        recorded=[msgspec.structs.replace(_writes().recorded[0], occurred_at=odd)],
    )
    params = ledger_db.write_parameters("tn-1", writes)
    for part in (params[2], params[11]):
        text = msgspec.json.encode(part).decode()
        assert "-21:52" not in text
        assert "3159-09-04T18:30:38.500000Z" in text
