"""The operator's program and earn-rule endpoints: round trips, validation, audit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dates import days_ago, iso
from tests.integration.conftest import Tenant
from tests.integration.test_points_hook import FUEL_3X, PROGRAM


async def test_the_program_round_trips_and_is_audited(tenant: Tenant) -> None:
    before = (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json()
    assert before["currency"] == "CNY"
    put = await tenant.client.put("/v1/admin/program", json=PROGRAM, headers=tenant.admin)
    assert put.status_code == 200
    got = (await tenant.client.get("/v1/admin/program", headers=tenant.admin)).json()
    assert got["mcc_rates"] == {"5541": "0.5"}
    log = (await tenant.client.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    assert log[0]["action"] == "program.put"
    assert log[0]["after"]["mcc_rates"] == {"5541": "0.5"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"base_rate": "abc"}, "base_rate"),
        ({"base_rate": 1.5}, "base_rate"),
        ({"base_rate": "1e3"}, "base_rate"),
        ({"mcc_rates": {"55": "1"}}, "mcc_rates"),
        ({"expiry_months": 0}, "expiry_months"),
        ({"pending_days": -1}, "pending_days"),
        ({"refund_policy": "sometimes"}, "refund_policy"),
        (
            {
                "tiers": [
                    {"name": "gold", "min_spend_minor_12m": 1},
                    {"name": "gold", "min_spend_minor_12m": 2},
                ]
            },
            "tiers",
        ),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_program_that_makes_no_sense_is_a_422(
    tenant: Tenant, change: dict[str, Any], field: str
) -> None:
    response = await tenant.client.put(
        "/v1/admin/program", json=PROGRAM | change, headers=tenant.admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].startswith(field)


async def test_earn_rules_are_created_listed_changed_and_deleted(tenant: Tenant) -> None:
    c = tenant.client
    created = await c.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    assert created.status_code == 201
    assert created.json()["budget_used"] == 0
    assert (
        await c.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    ).status_code == 409
    patched = await c.patch(
        "/v1/admin/earn-rules/fuel-3x",
        json={"stacking": False, "caps": {"per_transaction": 9}},
        headers=tenant.admin,
    )
    assert patched.json()["stacking"] is False
    assert patched.json()["caps"] == {"per_transaction": 9}
    listed = (await c.get("/v1/admin/earn-rules", headers=tenant.admin)).json()["items"]
    assert [r["id"] for r in listed] == ["fuel-3x"]
    assert (await c.delete("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)).status_code == 204
    assert (await c.get("/v1/admin/earn-rules/fuel-3x", headers=tenant.admin)).status_code == 404
    assert (
        await c.post("/v1/admin/earn-rules", json=FUEL_3X, headers=tenant.admin)
    ).status_code == 201
    actions = [
        e["action"]
        for e in (await c.get("/v1/admin/audit-log", headers=tenant.admin)).json()["items"]
    ]
    assert actions[:4] == [
        "earn_rule.create",
        "earn_rule.delete",
        "earn_rule.update",
        "earn_rule.create",
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"effect": {"kind": "multiplier", "value": "0.5"}},
        {"effect": {"kind": "multiplier", "value": 3}},
        {"effect": {"kind": "fixed", "value": "10"}},
        {"effect": {"kind": "bonus", "value": 1}},
        {"conditions": {"mcc_in": []}},
        {"conditions": {"days_of_week": [0]}},
        {"conditions": {"local_time": {"from": "25:00", "to": "26:00"}}},
        {"conditions": {"h3_cells": ["8a2a1072b59ffff0"]}},
        {"conditions": {"starts_at": iso(days_ago(-365)), "ends_at": iso(days_ago(0))}},
        {"caps": {"per_transaction": -1}},
        {"id": "has space"},
    ],
)
async def test_an_earn_rule_that_cannot_apply_is_a_422(
    tenant: Tenant, change: dict[str, Any]
) -> None:
    response = await tenant.client.post(
        "/v1/admin/earn-rules", json=FUEL_3X | change, headers=tenant.admin
    )
    assert response.status_code == 422, response.text
